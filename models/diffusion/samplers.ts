// The samplers of so-vits-svc 4.1's GaussianDiffusion.forward, in TypeScript around one denoiser call
// (eps = f(x, t)). Each starts from x at step k (already noised, ./diffusion.ts) and walks the chain down:
//
//   dpm-solver++ / dpm-solver: DPM-Solver (Lu et al.) on the discrete schedule betas[:k]: multistep, order 2,
//     time-uniform steps from t = 1 to 1/N, N = len(betas[:k]) (after the solver's λ ≥ −5.1 clip), k/speedup
//     steps, the first one first-order and, with fewer than 10 steps, the last ones at lower order. The model
//     is called at the continuous time (t − 1/N)·N, which is fractional: the denoiser takes a float step.
//   ddim:  for i = k−speedup′ … 0 (Python's reversed(range(0, k, speedup))): x ← √ᾱ_p (x/√ᾱ_i + (√((1−ᾱ_p)/ᾱ_p) − √((1−ᾱ_i)/ᾱ_i)) eps),
//          p = max(i − speedup, 0).
//   pndm:  the same steps with PLMS: the first step is a Runge-Kutta-like warm-up (a second denoiser call at
//          p on the provisional x, the two eps averaged), then Adams–Bashforth on the last 1–3 eps with
//          weights (3, −1)/2, (23, −16, 5)/12, (55, −59, 37, −9)/24; the update is
//          x + (ᾱ_p − ᾱ_i)(x / (√ᾱ_i (√ᾱ_i + √ᾱ_p)) − eps / (√ᾱ_i (√((1−ᾱ_p)ᾱ_i) + √((1−ᾱ_i)ᾱ_p)))).
//   unipc: UniPC (Zhao et al.) as upstream's uni_pc.py runs it: variant bh2 (B(h) = e^h − 1), data prediction,
//     multistep order 2 on the same time-uniform grid as DPM-Solver but without its λ clip, k/speedup steps.
//     Each step is a predictor (order 2 uses ρ = ½ on the divided difference D1 = (m_{i−2} − m_{i−1}) / r) and a
//     corrector whose weights solve [[1, 1], [r, 1]]·ρ = b (order 1: ρ = ½); the model value the corrector
//     evaluates at the predicted x is the one the next step reuses, so a run costs k/speedup passes. The first
//     and the last step are first order (lower_order_final), and the last has no corrector.
//   ddpm:  speedup 1 (upstream ignores the method then): ancestral sampling, x0 clamped to [−1, 1], fresh
//          noise at every step but the last.
// For ddim and pndm the step at i = 0 has p = i, so its update is exactly x: it is skipped here (one denoiser
// call saved per block; upstream's PNDM would even fail there when it is the only step).
// Arithmetic is float64 per element, stored as float32 between steps as PyTorch holds it.
import { badSetting } from './errors.js';
import type { SamplerName } from './config.js';
import type { Schedule } from './schedule.js';
import { diffusionPasses, diffusionRunProblem } from '../../protocol/stage-preview.js';

/** One denoiser pass: eps for x at step t (t may be fractional). */
export type Denoise = (x: Float32Array, t: number) => Promise<Float32Array>;
/** n values of N(0, 1). */
export type NoiseSource = (n: number) => Float32Array;

export interface SamplerRun {
  method: SamplerName;
  /** Steps of the chain the sample starts at (k_step; x is at step k − 1). */
  k: number;
  speedup: number;
  /** Called with every (x, t) handed to the denoiser: the trajectory, for tests and tracing. */
  observe?: (x: Float32Array, t: number) => void;
  /** PNDM's x-update from step i to p done elsewhere (an exported set's _pred); the TypeScript one otherwise. */
  plmsUpdate?: PlmsUpdate;
}

/** x at step p from x at step i and the (combined) noise estimate eps. */
export type PlmsUpdate = (x: Float32Array, eps: Float32Array, i: number, p: number) => Promise<Float32Array>;

/** How many denoiser passes a run costs (what a block's diffusion time scales with): counted in protocol/, where the UI's cost preview reads it too. */
export function denoiserPasses(method: SamplerName, k: number, speedup: number): number {
  return diffusionPasses(method, k, speedup);
}

export function checkRun(method: string, k: number, speedup: number, kMax: number): void {
  const p = diffusionRunProblem(method, k, speedup, kMax);
  if (p) throw badSetting(p.field, p.value, p.expected);
}

/** Python's reversed(range(0, k, s)). */
function stepsDown(k: number, s: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < k; i += s) out.push(i);
  return out.reverse();
}

export async function sample(x: Float32Array, run: SamplerRun, schedule: Schedule, denoise: Denoise, noise: NoiseSource): Promise<Float32Array> {
  const call: Denoise = async (xx, t) => {
    run.observe?.(xx, t);
    return denoise(xx, t);
  };
  if (run.speedup <= 1) return ddpm(x, run.k, schedule, call, noise);
  switch (run.method) {
    case 'ddim': return ddim(x, run.k, run.speedup, schedule, call);
    case 'pndm': return plms(x, run.k, run.speedup, schedule, call, run.plmsUpdate);
    case 'unipc': return uniPc(x, run.k, run.speedup, schedule, call);
    default: return dpmSolver(x, run.k, run.speedup, run.method === 'dpm-solver++', schedule, call);
  }
}

async function ddim(x: Float32Array, k: number, s: number, sc: Schedule, f: Denoise): Promise<Float32Array> {
  const a = sc.alphasCumprod;
  for (const i of stepsDown(k, s)) {
    if (i === 0) continue;
    const at = a[i]!;
    const ap = a[Math.max(i - s, 0)]!;
    const eps = await f(x, i);
    const c = Math.sqrt((1 - ap) / ap) - Math.sqrt((1 - at) / at);
    const y = new Float32Array(x.length);
    for (let j = 0; j < x.length; j++) y[j] = Math.sqrt(ap) * (x[j]! / Math.sqrt(at) + c * eps[j]!);
    x = y;
  }
  return x;
}

function plmsUpdate(x: Float32Array, eps: ArrayLike<number>, at: number, ap: number): Float32Array {
  const sa = Math.sqrt(at);
  const sp = Math.sqrt(ap);
  const cx = (ap - at) / (sa * (sa + sp));
  const ce = (ap - at) / (sa * (Math.sqrt((1 - ap) * at) + Math.sqrt((1 - at) * ap)));
  const y = new Float32Array(x.length);
  for (let j = 0; j < x.length; j++) y[j] = x[j]! + (cx * x[j]! - ce * eps[j]!);
  return y;
}

async function plms(x: Float32Array, k: number, s: number, sc: Schedule, f: Denoise, other?: PlmsUpdate): Promise<Float32Array> {
  const a = sc.alphasCumprod;
  const update = other ?? (async (xx: Float32Array, e: Float32Array, i: number, p: number) => plmsUpdate(xx, e, a[i]!, a[p]!));
  const history: Float32Array[] = []; // the last three eps, newest last
  for (const i of stepsDown(k, s)) {
    if (i === 0) continue;
    const p = Math.max(i - s, 0);
    const eps = await f(x, i);
    const prime = new Float32Array(x.length);
    const n = history.length;
    if (n === 0) {
      const epsPrev = await f(await update(x, eps, i, p), p);
      for (let j = 0; j < x.length; j++) prime[j] = (eps[j]! + epsPrev[j]!) / 2;
    } else if (n === 1) {
      const e1 = history[0]!;
      for (let j = 0; j < x.length; j++) prime[j] = (3 * eps[j]! - e1[j]!) / 2;
    } else if (n === 2) {
      const [e2, e1] = history as [Float32Array, Float32Array];
      for (let j = 0; j < x.length; j++) prime[j] = (23 * eps[j]! - 16 * e1[j]! + 5 * e2[j]!) / 12;
    } else {
      const [e3, e2, e1] = history as [Float32Array, Float32Array, Float32Array];
      for (let j = 0; j < x.length; j++) prime[j] = (55 * eps[j]! - 59 * e1[j]! + 37 * e2[j]! - 9 * e3[j]!) / 24;
    }
    x = await update(x, prime, i, p);
    history.push(eps);
    if (history.length > 3) history.shift();
  }
  return x;
}

async function ddpm(x: Float32Array, k: number, sc: Schedule, f: Denoise, noise: NoiseSource): Promise<Float32Array> {
  for (let i = k - 1; i >= 0; i--) {
    const acp = sc.alphasCumprod[i]!;
    const prev = i > 0 ? sc.alphasCumprod[i - 1]! : 1;
    const beta = sc.betas[i]!;
    const c1 = (beta * Math.sqrt(prev)) / (1 - acp);
    const c2 = ((1 - prev) * Math.sqrt(1 - beta)) / (1 - acp);
    const sd = Math.exp(0.5 * Math.log(Math.max((beta * (1 - prev)) / (1 - acp), 1e-20)));
    const eps = await f(x, i);
    const z = i > 0 ? noise(x.length) : null;
    const y = new Float32Array(x.length);
    for (let j = 0; j < x.length; j++) {
      const x0 = Math.min(1, Math.max(-1, Math.sqrt(1 / acp) * x[j]! - Math.sqrt(1 / acp - 1) * eps[j]!));
      y[j] = c1 * x0 + c2 * x[j]! + (z ? sd * z[j]! : 0);
    }
    x = y;
  }
  return x;
}

/** DPM-Solver's NoiseScheduleVP('discrete', betas[:k]): log α at the grid t_j = (j+1)/N, linearly interpolated. */
class VpSchedule {
  readonly logAlpha: Float64Array;
  readonly n: number;

  /** clip: DPM-Solver's schedule drops the λ < −5.1 tail; UniPC's keeps every step. */
  constructor(betas: Float64Array, k: number, clip = true) {
    let la = new Float64Array(k);
    let acc = 0;
    for (let j = 0; j < k; j++) la[j] = 0.5 * (acc += Math.log(1 - betas[j]!));
    // The solver drops the tail whose λ = log α − log σ falls below −5.1 (numerical_clip_alpha).
    let below = 0;
    if (clip) for (let j = 0; j < k; j++) if (la[j]! - 0.5 * Math.log(1 - Math.exp(2 * la[j]!)) < -5.1) below++;
    if (below > 0) la = la.slice(0, k - below);
    this.logAlpha = la;
    this.n = la.length;
  }

  /** Piecewise-linear in t over the grid, extended linearly past both ends (interpolate_fn). */
  logMean(t: number): number {
    const n = this.n;
    if (n === 1) return this.logAlpha[0]!;
    const pos = t * n - 1; // grid index of t
    const j = Math.min(Math.max(Math.floor(pos), 0), n - 2);
    const t0 = (j + 1) / n;
    const t1 = (j + 2) / n;
    return this.logAlpha[j]! + ((t - t0) * (this.logAlpha[j + 1]! - this.logAlpha[j]!)) / (t1 - t0);
  }

  sigma(t: number): number {
    return Math.sqrt(1 - Math.exp(2 * this.logMean(t)));
  }

  lambda(t: number): number {
    const l = this.logMean(t);
    return l - 0.5 * Math.log(1 - Math.exp(2 * l));
  }
}

/** The continuous-time grid DPM-Solver and UniPC step over: k_step/speedup steps of torch.linspace(1, 1/N,
 *  steps + 1) in float32, on the VP schedule of the first k betas (clipped as DPM-Solver clips it, or not). */
function timeGrid(sc: Schedule, k: number, s: number, clip: boolean) {
  const ns = new VpSchedule(sc.betas, k, clip);
  const N = ns.n;
  const steps = Math.floor(k / s);
  const tEnd = 1 / N;
  const times = Array.from({ length: steps + 1 }, (_, i) => Math.fround(1 + ((tEnd - 1) * i) / steps));
  return { ns, N, steps, tEnd, times };
}

async function dpmSolver(x: Float32Array, k: number, s: number, plus: boolean, sc: Schedule, f: Denoise): Promise<Float32Array> {
  const { ns, N, steps, tEnd, times } = timeGrid(sc, k, s, true);
  // The model value: data prediction x0 for DPM-Solver++, the noise itself for DPM-Solver.
  const model = async (xx: Float32Array, t: number): Promise<Float32Array> => {
    const eps = await f(xx, Math.fround((t - tEnd) * N));
    if (!plus) return eps;
    const alpha = Math.exp(ns.logMean(t));
    const sigma = ns.sigma(t);
    const x0 = new Float32Array(xx.length);
    for (let j = 0; j < xx.length; j++) x0[j] = (xx[j]! - sigma * eps[j]!) / alpha;
    return x0;
  };
  const firstOrder = (xx: Float32Array, m: Float32Array, tPrev: number, t: number): Float32Array => {
    const h = ns.lambda(t) - ns.lambda(tPrev);
    const y = new Float32Array(xx.length);
    if (plus) {
      const cx = ns.sigma(t) / ns.sigma(tPrev);
      const cm = Math.exp(ns.logMean(t)) * Math.expm1(-h);
      for (let j = 0; j < xx.length; j++) y[j] = cx * xx[j]! - cm * m[j]!;
    } else {
      const cx = Math.exp(ns.logMean(t) - ns.logMean(tPrev));
      const cm = ns.sigma(t) * Math.expm1(h);
      for (let j = 0; j < xx.length; j++) y[j] = cx * xx[j]! - cm * m[j]!;
    }
    return y;
  };
  const secondOrder = (xx: Float32Array, m1: Float32Array, m0: Float32Array, t1: number, t0: number, t: number): Float32Array => {
    const l1 = ns.lambda(t1);
    const l0 = ns.lambda(t0);
    const lt = ns.lambda(t);
    const h = lt - l0;
    const r0 = (l0 - l1) / h;
    const y = new Float32Array(xx.length);
    if (plus) {
      const cx = ns.sigma(t) / ns.sigma(t0);
      const c = Math.exp(ns.logMean(t)) * Math.expm1(-h);
      for (let j = 0; j < xx.length; j++) y[j] = cx * xx[j]! - c * m0[j]! - 0.5 * c * ((m0[j]! - m1[j]!) / r0);
    } else {
      const cx = Math.exp(ns.logMean(t) - ns.logMean(t0));
      const c = ns.sigma(t) * Math.expm1(h);
      for (let j = 0; j < xx.length; j++) y[j] = cx * xx[j]! - c * m0[j]! - 0.5 * c * ((m0[j]! - m1[j]!) / r0);
    }
    return y;
  };

  let tPrev = [times[0]!];
  let mPrev = [await model(x, times[0]!)];
  x = firstOrder(x, mPrev[0]!, times[0]!, times[1]!);
  tPrev.push(times[1]!);
  mPrev.push(await model(x, times[1]!));
  for (let step = 2; step <= steps; step++) {
    const t = times[step]!;
    const order = steps < 10 ? Math.min(2, steps + 1 - step) : 2;
    x = order === 1 ? firstOrder(x, mPrev[1]!, tPrev[1]!, t) : secondOrder(x, mPrev[0]!, mPrev[1]!, tPrev[0]!, tPrev[1]!, t);
    tPrev = [tPrev[1]!, t];
    mPrev = [mPrev[1]!, step < steps ? await model(x, t) : mPrev[1]!];
  }
  return x;
}


async function uniPc(x: Float32Array, k: number, s: number, sc: Schedule, f: Denoise): Promise<Float32Array> {
  const { ns, N, steps, tEnd, times } = timeGrid(sc, k, s, false);
  // Data prediction: x0 = (x − σ_t·eps) / α_t.
  const model = async (xx: Float32Array, t: number): Promise<Float32Array> => {
    const eps = await f(xx, Math.fround((t - tEnd) * N));
    const alpha = Math.exp(ns.logMean(t));
    const sigma = ns.sigma(t);
    const x0 = new Float32Array(xx.length);
    for (let j = 0; j < xx.length; j++) x0[j] = (xx[j]! - sigma * eps[j]!) / alpha;
    return x0;
  };
  /** One bh2 step from tPrev[last] to t; returns the corrected x and the model value at the predicted x (null without corrector). */
  const update = async (xx: Float32Array, ms: Float32Array[], ts: number[], t: number, order: number, corrector: boolean): Promise<[Float32Array, Float32Array | null]> => {
    const t0 = ts[ts.length - 1]!;
    const m0 = ms[ms.length - 1]!;
    const l0 = ns.lambda(t0);
    const h = ns.lambda(t) - l0;
    const hh = -h;
    const hPhi1 = Math.expm1(hh);
    const bh = hPhi1; // bh2
    const b1 = (hPhi1 / hh - 1) / bh;
    const cx = ns.sigma(t) / ns.sigma(t0);
    const alphaT = Math.exp(ns.logMean(t));
    // x_t_ = σ_t/σ_0·x − α_t·hφ1·m0, the first-order part both predictor and corrector start from.
    const base = new Float32Array(xx.length);
    for (let j = 0; j < xx.length; j++) base[j] = cx * xx[j]! - alphaT * hPhi1 * m0[j]!;
    let d1: Float32Array | null = null;
    let rhoC: number[];
    if (order === 2) {
      const r = (ns.lambda(ts[ts.length - 2]!) - l0) / h;
      const m1 = ms[ms.length - 2]!;
      d1 = new Float32Array(xx.length);
      for (let j = 0; j < xx.length; j++) d1[j] = (m1[j]! - m0[j]!) / r;
      const b2 = (((hPhi1 / hh - 1) / hh - 0.5) * 2) / bh;
      // [[1, 1], [r, 1]]·ρ = [b1, b2].
      const rho0 = (b1 - b2) / (1 - r);
      rhoC = [rho0, b1 - rho0];
    } else rhoC = [0.5];
    const pred = new Float32Array(xx.length);
    for (let j = 0; j < xx.length; j++) pred[j] = base[j]! - (d1 ? alphaT * bh * 0.5 * d1[j]! : 0);
    if (!corrector) return [pred, null];
    const mt = await model(pred, t);
    const cLast = rhoC[rhoC.length - 1]!;
    const out = new Float32Array(xx.length);
    for (let j = 0; j < xx.length; j++) {
      const corr = d1 ? rhoC[0]! * d1[j]! : 0;
      out[j] = base[j]! - alphaT * bh * (corr + cLast * (mt[j]! - m0[j]!));
    }
    return [out, mt];
  };

  const ts = [times[0]!];
  const ms = [await model(x, times[0]!)];
  let mx: Float32Array | null;
  [x, mx] = await update(x, ms, ts, times[1]!, 1, true);
  ts.push(times[1]!);
  ms.push(mx!);
  for (let step = 2; step <= steps; step++) {
    const t = times[step]!;
    const order = Math.min(2, steps + 1 - step);
    [x, mx] = await update(x, ms, ts, t, order, step < steps);
    ts.shift();
    ms.shift();
    ts.push(t);
    ms.push(step < steps ? mx! : ms[ms.length - 1]!);
  }
  return x;
}
