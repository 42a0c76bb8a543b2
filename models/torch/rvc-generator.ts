// RVC's decoder: GeneratorNSF (with f0: an NSF harmonic source fed into every upsampling stage) or Generator
// (no-f0 voices), with the formant stretch RVC's infer applies first (n_res = return_length2): z and the
// NSF source waveform, not f0, are linearly resampled (F.interpolate, mode "linear", align_corners False) to
// n frames and n·upp samples.
//
// The NSF-HiFiGAN part (the harmonic source and the upsampling stack) is shared with openvpi's standalone
// NSF-HiFiGAN vocoder (models/vocoder/nsf-hifigan.ts): the same modules under other names (no `dec.` prefix),
// fed by a mel through a weight-normed conv_pre instead of z, with no speaker condition and a conv_post bias.
import type { GraphBuilder } from '../onnx/graph-builder.js';
import { conv1d, convTranspose1d, dimOf, leakyRelu, linear, type Weight } from '../onnx/layers.js';
import { RVC, type RvcNetConfig, sampleRateOf } from './rvc-spec.js';
import type { WeightSource } from './rvc-weights.js';

/** The upsampling stack's hyper-parameters (HiFi-GAN's config fields, as RVC and openvpi both name them). */
export type HifiganShape = Pick<RvcNetConfig, 'resblock' | 'resblock_kernel_sizes' | 'resblock_dilation_sizes' | 'upsample_rates' | 'upsample_initial_channel' | 'upsample_kernel_sizes'>;

/** A generator weight by its name inside the generator module (`ups.0.weight`, `m_source.l_linear.bias`, …). */
export type GeneratorWeights = (name: string) => Weight;

/** SineGen's constants (RVC's: sine_amp 0.1, noise_std 0.003, voiced above 0 Hz). */
export interface NsfSourceOptions {
  sampleRate: number;
  sineAmp: number;
  noiseStd: number;
  /** f0 above this (Hz) is voiced. */
  voicedThreshold: number;
  /**
   * The harmonics' random initial phases: a function that declares a graph input of [1, 1, dim] U[0, 1) values
   * and returns its name; absent, RandomUniformLike draws them in the graph (a CPU-only node on WebGPU).
   */
  initialPhase?: (dim: number) => string;
}

/**
 * F.interpolate(x, size=n, mode='linear') on [1, C, L], in PyTorch's float32 arithmetic: scale = L / n,
 * src = max(0, scale·(i + 0.5) − 0.5), i0 = ⌊src⌋, λ = src − i0, y = x[i0]·(1 − λ) + x[min(i0 + 1, L − 1)]·λ.
 * When n = L it is the identity, exactly, so it needs no branch.
 */
export function resizeLinear(g: GraphBuilder, x: string, n1: string): string {
  const L1 = dimOf(g, x, 2);
  const last = g.op('Sub', [L1, g.i64([1])]);
  const scale = g.op('Div', [g.op('Cast', [L1], { to: 1 }), g.op('Cast', [n1], { to: 1 })]);
  const n = g.op('Squeeze', [n1, g.i64([0])]);
  const dst = g.op('Cast', [g.op('Range', [g.i64([0], []), n, g.i64([1], [])])], { to: 1 });
  const src = g.op('Max', [g.op('Sub', [g.op('Mul', [scale, g.op('Add', [dst, g.f32([0.5])])]), g.f32([0.5])]), g.f32([0])]);
  const i0 = g.op('Min', [g.op('Cast', [g.op('Floor', [src])], { to: 7 }), last]);
  const lambda = g.op('Clip', [g.op('Sub', [src, g.op('Cast', [i0], { to: 1 })]), g.f32([0], []), g.f32([1], [])]);
  const i1 = g.op('Min', [g.op('Add', [i0, g.i64([1])]), last]);
  const a = g.op('Gather', [x, i0], { axis: 2 });
  const b = g.op('Gather', [x, i1], { axis: 2 });
  return g.op('Add', [g.op('Mul', [a, g.op('Sub', [g.f32([1]), lambda])]), g.op('Mul', [b, lambda])]);
}

/**
 * SourceModuleHnNSF (RVC ≥ Nov 2024 SineGen formulation; the older one differs only by whole cycles of
 * phase): per-sample phase = f0_k/sr · (i + 1) within frame k plus the wrapped sum of whole earlier frames,
 * harmonics h·phase, sin × 0.1 where voiced, noise (0.003 voiced, 0.1/3 unvoiced), merged by l_linear + tanh.
 * f0 is [1, L] in Hz; returns [1, 1, L·upp].
 */
export function nsfSource(g: GraphBuilder, w: GeneratorWeights, f0: string, o: NsfSourceOptions, upp: number, noise: NsfNoise, keep: FrameSpan | null = null): string {
  const deterministic = noise === null;
  const sr = o.sampleRate;
  const lin = w('m_source.l_linear.weight');
  const dim = lin.shape[1]!;
  let f = g.op('Unsqueeze', [f0, g.i64([2])]); // [1, L, 1]
  // Phase in cycles: f_k·(i + 1)/sr within frame k, plus the wrapped sum of whole earlier frames' advances.
  // Float32 loses this unless each product and the running sum are kept exact: at 2.5 cycles a frame a
  // rounded product is off by 1e-7 cycles, the sum of a few hundred of them by 1e-6, and the 9th harmonic of
  // so-vits-svc's source multiplies that by 9. So f is split (Veltkamp) into a 12-bit head and a tail, and
  // each constant (i + 1)/sr into a 12-bit head and a tail: head × head is exact, the rest is tiny.
  const split = (x: number): [number, number] => {
    const scale = 2 ** (11 - Math.floor(Math.log2(x)));
    const hi = Math.round(x * scale) / scale;
    return [hi, Math.fround(x - hi)];
  };
  const steps = Array.from({ length: upp }, (_, i) => split((i + 1) / sr));
  const cHi = g.f32(steps.map((c) => c[0]));
  const cLo = g.f32(steps.map((c) => c[1]));
  const t = g.op('Mul', [f, g.f32([4097])]);
  let fHi = g.op('Sub', [t, g.op('Sub', [t, f])]);
  let fLo = g.op('Sub', [f, fHi]);
  // A frame's whole advance is its last sample's phase: (fHi, fLo) times the last constant, [1, L, 1].
  const [lastHi, lastLo] = steps[upp - 1]!;
  const cHiL = g.f32([lastHi]);
  const cLoL = g.f32([lastLo]);
  // "Wrapped" is x − ⌊x⌋ (or x − ⌊x + ½⌋) rather than fmod: the sine cannot tell whole cycles apart, and Floor
  // runs on every GPU provider, while float Mod is CPU-only in onnxruntime's WebGPU provider, where each CPU
  // node in the middle of the graph costs a copy of its input back from the GPU on every block.
  const frac = (x: string) => g.op('Sub', [x, g.op('Floor', [x])]);
  const nearest = (x: string) => g.op('Floor', [g.op('Add', [x, g.f32([0.5])])]);
  const butLast = (x: string) => g.op('Slice', [x, g.i64([0]), g.i64([-1]), g.i64([1])]); // whole frames but the last
  const incHi = butLast(g.op('Mul', [fHi, cHiL]));
  const incLo = butLast(g.op('Add', [g.op('Mul', [fHi, cLoL]), g.op('Mul', [fLo, g.op('Add', [cHiL, cLoL])])]));
  const wHi = g.op('Sub', [incHi, nearest(incHi)]); // exact, in [−½, ½]
  // The sum: a part on a 1/4096 grid, whose float32 sum is exact below 4096 cycles, and a remainder small
  // enough that its sum keeps full precision.
  const coarse = g.op('Div', [nearest(g.op('Mul', [wHi, g.f32([4096])])), g.f32([4096])]);
  const fine = g.op('Add', [g.op('Sub', [wHi, coarse]), incLo]);
  const cum = (x: string) => g.op('CumSum', [x, g.i64([1], [])]);
  const acc = frac(g.op('Add', [frac(cum(coarse)), cum(fine)]));
  let start = g.op('Pad', [acc, g.i64([0, 1, 0, 0, 0, 0])]);
  if (keep) {
    // Only frames [from, to) are drawn, but their phase starts where the whole f0 left it, so the kept frames'
    // source is the one a render of every frame has there (the sums above are [1, L, 1]: cheap).
    const span = (x: string) => g.op('Slice', [x, keep.from, keep.to, g.i64([1])]);
    [fHi, fLo, start, f] = [span(fHi), span(fLo), span(start), span(f)];
  }
  const radHi = g.op('Mul', [fHi, cHi]); // [1, L, upp], exact
  const radLo = g.op('Add', [g.op('Mul', [fHi, cLo]), g.op('Mul', [fLo, g.op('Add', [cHi, cLo])])]);
  let phase = frac(g.op('Add', [g.op('Add', [frac(radHi), radLo]), start]));
  phase = g.op('Reshape', [phase, g.i64([1, -1, 1])]); // [1, L·upp, 1], in [0, 1)
  if (dim > 1) phase = g.op('Mul', [phase, g.f32(Array.from({ length: dim }, (_, h) => h + 1), [1, 1, dim])]);
  if (dim > 1 && !deterministic) {
    // A random initial phase per harmonic, none for the fundamental.
    const u = o.initialPhase ? o.initialPhase(dim) : g.op('RandomUniformLike', [g.f32(new Array(dim).fill(0), [1, 1, dim])], { dtype: 1 });
    phase = g.op('Add', [phase, g.op('Mul', [u, g.f32([0, ...new Array(dim - 1).fill(1)], [1, 1, dim])])]);
  }
  let sine = g.op('Mul', [g.op('Sin', [g.op('Mul', [phase, g.f32([2 * Math.PI])])]), g.f32([o.sineAmp])]);
  // Voicing per frame, repeated upp times.
  const uvFrames = g.op('Cast', [g.op('Greater', [f, g.f32([o.voicedThreshold])])], { to: 1 }); // [1, L, 1]
  const uv = g.op('Reshape', [g.op('Expand', [uvFrames, g.i64([1, 1, upp])]), g.i64([1, -1, 1])]);
  sine = g.op('Mul', [sine, uv]);
  if (!deterministic) {
    const amp = g.op('Add', [g.op('Mul', [uv, g.f32([o.noiseStd])]), g.op('Mul', [g.op('Sub', [g.f32([1]), uv]), g.f32([o.sineAmp / 3])])]);
    // N(0, 1) noise of the sine's shape, fed in by the caller (see NsfNoise) or drawn in the graph.
    // A fed input may be longer than the sine (the caller need not know the model's exact rate): its first
    // L·upp samples are used.
    const n = noise === 'draw' ? g.op('RandomNormalLike', [sine], { dtype: 1 }) : g.op('Slice', [noise(dim), g.i64([0]), dimOf(g, sine, 1), g.i64([1])]);
    sine = g.op('Add', [sine, g.op('Mul', [amp, n])]);
  }
  const merged = g.op('Tanh', [linear(g, sine, lin, w('m_source.l_linear.bias'))]);
  return g.op('Transpose', [merged], { perm: [0, 2, 1] });
}

function resblock(g: GraphBuilder, w: GeneratorWeights, c: DecoderConfig, r: number, x: string, k: number, dil: number[]): string {
  const p = `resblocks.${r}`;
  const conv = (h: string, n: string, d: number) =>
    conv1d(g, h, w(`${p}.${n}.weight`), w(`${p}.${n}.bias`), { dilation: d, padding: (k * d - d) >> 1 });
  for (let j = 0; j < (c.resblock === '1' ? 3 : 2); j++) {
    let xt = leakyRelu(g, x, RVC.lreluSlope);
    if (c.resblock === '1') {
      xt = leakyRelu(g, conv(xt, `convs1.${j}`, dil[j]!), RVC.lreluSlope);
      xt = conv(xt, `convs2.${j}`, 1);
    } else {
      xt = conv(xt, `convs.${j}`, dil[j]!);
    }
    x = g.op('Add', [xt, x]);
  }
  return x;
}

/** Frames [from, to) of a longer sequence, as 1-element int64 tensors. */
export interface FrameSpan {
  from: string;
  to: string;
}

export interface DecoderInputs {
  /** z · x_mask, [1, inter, L]. */
  z: string;
  /** f0 in Hz of the L frames, [1, L]; null for no-f0 voices. */
  f0: string | null;
  /** g = emb_g(sid), [1, gin, 1]. */
  spk: string;
  /** Frames to draw after the formant stretch (return_length2), 1-element int64; null: z's own frames (no stretch). */
  frames: string | null;
  /** f0 covers more frames than z: z's are these of f0's (the source's phase then starts as f0's whole history left it). */
  f0Span?: FrameSpan;
}

/** The decoder's part of a synthesizer config (RVC's positional list and so-vits-svc's config.json share these names). */
export type DecoderConfig = Omit<HifiganShape, 'upsample_initial_channel'>;

/**
 * The NSF source's noise: null = none (the deterministic reference path); 'draw' = RandomNormalLike in the graph;
 * or a function that declares a graph input of [1, ≥ L·upp, dim] N(0, 1) values and returns its name.
 */
export type NsfNoise = null | 'draw' | ((dim: number) => string);

/**
 * HiFi-GAN's upsampling stack from the output of conv_pre (x, [1, upsample_initial_channel, L]) to audio
 * [1, 1, L · upp]: per stage leaky ReLU, transposed conv, the NSF source brought to that stage's rate by its
 * noise conv (when there is a source), the mean of the resblocks; then leaky ReLU (slope 0.01), conv_post, tanh.
 */
export function upsampleStack(g: GraphBuilder, w: GeneratorWeights, c: DecoderConfig, x: string, source: string | null, postBias: Weight | null): string {
  const rates = c.upsample_rates;
  const nk = c.resblock_kernel_sizes.length;
  rates.forEach((u, i) => {
    const k = c.upsample_kernel_sizes[i]!;
    x = convTranspose1d(g, leakyRelu(g, x, RVC.lreluSlope), w(`ups.${i}.weight`), w(`ups.${i}.bias`), { stride: u, padding: (k - u) >> 1 });
    if (source) {
      const s = rates.slice(i + 1).reduce((a, b) => a * b, 1);
      const opts = i + 1 < rates.length ? { stride: s, padding: s >> 1 } : {};
      x = g.op('Add', [x, conv1d(g, source, w(`noise_convs.${i}.weight`), w(`noise_convs.${i}.bias`), opts)]);
    }
    let sum: string | null = null;
    c.resblock_kernel_sizes.forEach((rk, j) => {
      const y = resblock(g, w, c, i * nk + j, x, rk, c.resblock_dilation_sizes[j]!);
      sum = sum ? g.op('Add', [sum, y]) : y;
    });
    x = g.op('Div', [sum!, g.f32([nk])]);
  });
  // The last activation is F.leaky_relu's default slope, 0.01, not LRELU_SLOPE.
  x = conv1d(g, leakyRelu(g, x, 0.01), w('conv_post.weight'), postBias, { padding: 3 });
  return g.op('Tanh', [x]);
}

/**
 * How far left, in frames, the decoder's output depends on its input (z, and the source through the noise
 * convs): what a render of only the newest frames must draw before the frames it keeps for them to equal a
 * render of the whole window. Summed from the layers, each reach in its own stage's samples over that stage's
 * samples per frame: conv_pre (k7: 3 frames); per stage the transposed conv ((k − 1 − padding)/u input
 * samples), the source's noise conv (padding s/2 final-rate samples) and the widest resblock (Σ dilation ·
 * (k − 1)/2 over its convs, type 1 adding a dilation-1 conv after each); conv_post (k7). For so-vits-svc's
 * template (resblock 1, k 3/7/11, dilations 1/3/5, rates 8/8/2/2/2) it is 14 frames,
 * most of it the 8×-rate resblocks' 60 samples.
 */
export function decoderLeftReach(c: DecoderConfig): number {
  const upp = c.upsample_rates.reduce((a, b) => a * b, 1);
  let frames = 3; // conv_pre
  let rate = 1;
  c.upsample_rates.forEach((u, i) => {
    const k = c.upsample_kernel_sizes[i]!;
    frames += (k - 1 - ((k - u) >> 1)) / u / rate;
    rate *= u;
    const s = upp / rate;
    frames += (s >> 1) / upp;
    const widest = Math.max(...c.resblock_kernel_sizes.map((rk, j) => {
      const r = (rk - 1) >> 1;
      return c.resblock_dilation_sizes[j]!.reduce((a, d) => a + d * r + (c.resblock === '1' ? r : 0), 0);
    }));
    frames += widest / rate;
  });
  frames += 3 / upp; // conv_post
  return Math.ceil(frames);
}

/**
 * Audio [1, 1, frames · upp]. The same NSF-HiFiGAN serves RVC and so-vits-svc; what differs is read from the
 * weights (the source's harmonics from m_source.l_linear, conv_post's bias: RVC has none) or passed in
 * (so-vits-svc renders at 44.1 kHz, a rate RVC's configs never name).
 */
export function decoder(g: GraphBuilder, ws: WeightSource, c: DecoderConfig & Partial<Pick<RvcNetConfig, 'sr'>>, d: DecoderInputs, noise: NsfNoise, sampleRate?: number): string {
  const w: GeneratorWeights = (name) => ws.get(`dec.${name}`);
  const upp = c.upsample_rates.reduce((a, b) => a * b, 1);
  let source: string | null = null;
  if (d.f0) {
    const o = { sampleRate: sampleRate ?? sampleRateOf(c as RvcNetConfig), sineAmp: RVC.sineAmp, noiseStd: RVC.noiseStd, voicedThreshold: 0 };
    const raw = nsfSource(g, w, d.f0, o, upp, noise, d.f0Span ?? null);
    source = d.frames ? resizeLinear(g, raw, g.op('Mul', [d.frames, g.i64([upp])])) : raw;
  }
  let x = d.frames ? resizeLinear(g, d.z, d.frames) : d.z;
  x = conv1d(g, x, w('conv_pre.weight'), w('conv_pre.bias'), { padding: 3 });
  x = g.op('Add', [x, conv1d(g, d.spk, w('cond.weight'), w('cond.bias'))]);
  const postBias = ws.has('dec.conv_post.bias') ? ws.get('dec.conv_post.bias') : null;
  return upsampleStack(g, w, c, x, source, postBias);
}
