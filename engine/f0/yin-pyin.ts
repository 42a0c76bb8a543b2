// Probabilistic voicing for YIN after pYIN (Mauch & Dixon 2014), decoded with a fixed lag so that it streams.
//
// Why: one CMND threshold per frame trades the edges of voiced sounds against false voicing (figures below),
// and the continuity rule (yin-voicing.ts) spreads voicing by a fixed number of frames whatever the evidence.
// pYIN instead asks every threshold at once: with a prior over thresholds, each dip of a frame's CMND row gets
// the probability that YIN at a threshold drawn from that prior would pick it (the plain "first dip under the
// threshold" rule, so octave-up dips become candidates of their own; part of the mass then goes back to YIN's
// octave-guarded pick, see guardShare). A hidden
// Markov model over (pitch bin × voiced/unvoiced) then decodes voicing and pitch together: a voiced track keeps
// to small pitch steps and pays for every voiced↔unvoiced switch, so a weak frame beside a voiced run is voiced
// when its dip continues that run's pitch, and an isolated weak dip in noise is not.
//
// Streaming: full-signal Viterbi needs the whole signal, so this decodes with a fixed lag L: after frame t is
// observed, the most likely path is traced back L frames and frame t − L is decided, once and for all. The
// forward state carries over from call to call, so a stream and a whole-signal run of the same frames give the
// same track; the price is L × 10 ms of f0 look-ahead (YinEstimator.contextAfter grows by it; the tracker holds
// the newest frames, so the audio's own latency does not change). Everything is allocated in the constructor.
//
// Measured on the 20 shared speech clips against CREPE (bench/f0-accuracy.ts; CREPE's voiced frames YIN voices /
// frames both networks leave unvoiced that YIN voices / agreement within 50 cents on the frames both voice):
//   one threshold per frame: 0.3 (YIN's default) 83.8 / 7.8 / 94.6; 0.5: 93.5 / 22.2; 0.6: 96.0 / 33.4
//   continuity EDGE_VOICING (yin-voicing.ts):   95.2 / 21.7 / 91.2 at 30 ms of added look-ahead
//   PYIN_VOICING, lag 1:                         95.2 / 22.9 / 89.8 at 10 ms   (lag 2: 95.2 / 22.3 / 90.4 at 20 ms)
// What the decoder buys is look-ahead, not a better trade: over ~250 settings (prior mean 0.15–0.5, strength
// 4–20, trust, switch probability, pitch step, unvoiced weight, lag 0–5) none voiced ≥ 95 % under 21.5 % extra;
// the frames CREPE voices and YIN misses are as periodic as the frames it would add (README). Lag 0
// (forward-only: the switch cost acts as hysteresis) tops out near 92.6 % at 21.6 %, since it cannot voice the
// onset frames before the evidence arrives; lags 3–5 lower extra voicing by at most 1.2 points (22.0–21.7 %)
// for 20–40 ms more.
// Pure first-dip sharing (pYIN's) picked dips 50–300 cents off CREPE on edge frames (agreement 89.0); giving
// the whole probability to YIN's octave-guarded pick lost recall (93.2 / 18.8: no alternatives to continue a
// track through); moving 60 % of it to the guarded pick (guardShare) keeps both. pYIN's small mass for the
// deepest dip when no threshold reaches it (absentProb) voiced white noise (4 of 200 frames at amplitude 0.03)
// and cost false voicing for the same recall: off.
import { refineDip } from './dip.js';

/**
 * The measured setting: 1 frame of lag (10 ms of f0 look-ahead, the least that reaches 95 %), a wide prior
 * (mean 0.25, α + β = 8: YIN's textbook 0.1–0.15 voices too little of speech against CREPE), a per-bin unvoiced
 * weight of 0.0002, a voiced ↔ unvoiced switch of 0.003 per frame, 90 % of a frame's candidate probability
 * trusted, 60 % of it on the octave-guarded pick, no absent mass.
 */
export const PYIN_VOICING: PyinOptions = {
  lagFrames: 1,
  priorMean: 0.25,
  priorStrength: 8,
  unvoicedWeight: 0.0002,
  switchProb: 0.003,
  trust: 0.9,
  absentProb: 0,
  guardShare: 0.6,
};

export interface PyinOptions {
  /** Frames decided behind the newest one (each is 10 ms of f0 look-ahead). 0 = forward-only. */
  lagFrames?: number;
  /** Mean and strength (α + β) of the beta prior over CMND thresholds. */
  priorMean?: number;
  priorStrength?: number;
  /** Share of a frame's candidate probability the HMM believes (pYIN's "YIN trust"). */
  trust?: number;
  /** Per-bin weight of the unvoiced state against a voiced candidate (pYIN: 1 / number of bins). */
  unvoicedWeight?: number;
  /** Probability per frame of switching between voiced and unvoiced. */
  switchProb?: number;
  /** Largest pitch step between consecutive frames, cents (triangular weights up to it). */
  maxStepCents?: number;
  /** Probability mass (× the thresholds' share) a frame's deepest dip gets when no dip is under a threshold. */
  absentProb?: number;
  /**
   * Share of a frame's voiced probability moved to YIN's octave-guarded pick (the first dip within
   * `guardTolerance` of the deepest, as Yin.period picks) from the dips the first-dip rule shares it among.
   */
  guardShare?: number;
  guardTolerance?: number;
}

const BIN_CENTS = 20;
const MAX_CANDIDATES = 48;
const CDF_STEPS = 1000;

export class PyinDecoder {
  readonly lag: number;
  private readonly bins: number;
  private readonly states: number;
  private readonly width: number;
  private readonly step: Float64Array;
  private readonly cdf: Float64Array;
  private readonly trust: number;
  private readonly unvoicedWeight: number;
  private readonly switchProb: number;
  private readonly absentProb: number;
  private readonly logMinLag: number;
  private readonly guardShare: number;
  private readonly guardTolerance: number;
  private delta: Float64Array;
  private next: Float64Array;
  private readonly obs: Float64Array;
  private readonly psi: Int16Array;
  // Ring of the last lag + 1 frames: their candidates (refined period, bin, integer lag, probability, CMND
  // depth) and deepest dip.
  private readonly cPeriod: Float64Array;
  private readonly cBin: Int16Array;
  private readonly cLag: Int16Array;
  private readonly cProb: Float64Array;
  private readonly cDepth: Float32Array;
  private readonly cCount: Int32Array;
  private readonly fMin: Float32Array;
  private t = 0;
  /** After push(): the period (samples, 0 = unvoiced) and CMND depth of frame `decidedFrame`. */
  period = 0;
  depth = 1;
  decidedFrame = -1;

  constructor(
    private readonly tauMin: number,
    private readonly tauMax: number,
    o: PyinOptions = {},
  ) {
    this.lag = o.lagFrames ?? 0;
    if (!(Number.isInteger(this.lag) && this.lag >= 0 && this.lag <= 50)) throw new RangeError(`lagFrames must be an integer 0…50, got ${o.lagFrames}`);
    this.trust = o.trust ?? 0.5;
    this.switchProb = o.switchProb ?? 0.01;
    this.absentProb = o.absentProb ?? 0.01;
    this.guardShare = o.guardShare ?? 0;
    this.guardTolerance = o.guardTolerance ?? 0.05;
    // Bins run from the lowest pitch (longest lag) up; lag τ lies 1200·log2(tauMax/τ) cents above it.
    this.logMinLag = Math.log2(tauMax + 1);
    this.bins = Math.ceil((1200 * (this.logMinLag - Math.log2(tauMin - 1))) / BIN_CENTS) + 1;
    this.states = 2 * this.bins;
    this.unvoicedWeight = o.unvoicedWeight ?? 1 / this.bins;
    this.width = Math.max(1, Math.round((o.maxStepCents ?? 200) / BIN_CENTS));
    this.step = new Float64Array(2 * this.width + 1);
    let sum = 0;
    for (let k = -this.width; k <= this.width; k++) sum += this.step[k + this.width] = this.width + 1 - Math.abs(k);
    for (let k = 0; k < this.step.length; k++) this.step[k]! /= sum;
    this.cdf = betaCdf(o.priorMean ?? 0.3, o.priorStrength ?? 20);
    this.delta = new Float64Array(this.states);
    this.next = new Float64Array(this.states);
    this.obs = new Float64Array(this.states);
    const ring = this.lag + 1;
    this.psi = new Int16Array(ring * this.states);
    this.cPeriod = new Float64Array(ring * MAX_CANDIDATES);
    this.cBin = new Int16Array(ring * MAX_CANDIDATES);
    this.cLag = new Int16Array(ring * MAX_CANDIDATES);
    this.cProb = new Float64Array(ring * MAX_CANDIDATES);
    this.cDepth = new Float32Array(ring * MAX_CANDIDATES);
    this.cCount = new Int32Array(ring);
    this.fMin = new Float32Array(ring);
  }

  reset(): void {
    this.t = 0;
    this.decidedFrame = -1;
  }

  /** Frames observed since the last reset. */
  get frames(): number {
    return this.t;
  }

  private binOf(tau: number): number {
    return Math.round((1200 * (this.logMinLag - Math.log2(tau))) / BIN_CENTS);
  }

  /** Share of the threshold prior below CMND value v. */
  private below(v: number): number {
    if (v <= 0) return 0;
    if (v >= 1) return 1;
    const x = v * CDF_STEPS;
    const i = Math.floor(x);
    return this.cdf[i]! + (x - i) * (this.cdf[i + 1]! - this.cdf[i]!);
  }

  /**
   * Observes the next frame: its CMND row d[base …] (lags 0 … tauMax + 1), or `silent` (no candidates at all:
   * the silence floor is not the model's to overrule). Then decides frame frames − 1 − lag when there is one
   * (decidedFrame ≥ 0), leaving its period and depth in `period` / `depth`.
   */
  push(d: Float32Array, base: number, silent: boolean): void {
    const slot = this.t % (this.lag + 1);
    const c0 = slot * MAX_CANDIDATES;
    let n = 0;
    let voicedP = 0;
    let deepest = Infinity;
    let deepestT = 0;
    if (!silent) {
      // Dips in lag order. The first dip under threshold s is the first one deeper than every dip before it,
      // so dip k is YIN's pick for s in (d_k, min of earlier dips]: its probability is the prior's mass there.
      let prefix = Infinity;
      for (let t = this.tauMin; t <= this.tauMax; t++) {
        const v = d[base + t]!;
        if (!(v <= d[base + t - 1]! && v <= d[base + t + 1]!)) continue;
        if (v < deepest) {
          deepest = v;
          deepestT = t;
        }
        if (v >= prefix || n >= MAX_CANDIDATES) continue;
        const p = this.below(prefix) - this.below(v);
        prefix = v;
        if (p <= 0) continue;
        this.addCandidate(c0 + n++, d, base, t, v, p);
        voicedP += p;
      }
      if (this.guardShare > 0 && n > 0) {
        // The first-dip rule gives a shallow dip before the true period (a formant's, or half the period) the
        // mass of every threshold above it; YIN's octave guard would have passed it over.
        let t = this.tauMin;
        while (!(d[base + t]! <= deepest + this.guardTolerance && d[base + t]! <= d[base + t - 1]! && d[base + t]! <= d[base + t + 1]!)) t++;
        let k = 0;
        for (let j = 0; j < n; j++) {
          this.cProb[c0 + j]! *= 1 - this.guardShare;
          if (this.cLag[c0 + j] === t) k = j + 1;
        }
        if (k > 0) this.cProb[c0 + k - 1]! += this.guardShare * voicedP;
        else if (n < MAX_CANDIDATES) this.addCandidate(c0 + n++, d, base, t, d[base + t]!, this.guardShare * voicedP);
      }
      // Thresholds under every dip: pYIN still gives the deepest dip a little of their mass.
      if (deepestT > 0 && this.absentProb > 0) {
        const p = this.absentProb * this.below(deepest);
        let k = 0;
        while (k < n && this.cLag[c0 + k] !== deepestT) k++;
        if (k < n) this.cProb[c0 + k]! += p;
        else if (n < MAX_CANDIDATES) this.addCandidate(c0 + n++, d, base, deepestT, deepest, p);
        voicedP += p;
      }
    }
    this.cCount[slot] = n;
    this.fMin[slot] = deepest;

    // Observation: a voiced bin gets its candidates' probability; each unvoiced bin what is left.
    const B = this.bins;
    const obs = this.obs;
    obs.fill(0, 0, B);
    for (let k = 0; k < n; k++) obs[this.cBin[c0 + k]!]! += this.trust * this.cProb[c0 + k]!;
    obs.fill((1 - this.trust * voicedP) * this.unvoicedWeight, B, 2 * B);

    const delta = this.delta;
    const next = this.next;
    const psi = this.psi;
    const p0 = slot * this.states;
    if (this.t === 0) {
      for (let s = 0; s < this.states; s++) {
        next[s] = obs[s]!;
        psi[p0 + s] = s;
      }
    } else {
      const W = this.width;
      const stay = 1 - this.switchProb;
      const sw = this.switchProb;
      for (let j = 0; j < B; j++) {
        const lo = Math.max(0, j - W);
        const hi = Math.min(B - 1, j + W);
        // Into voiced j (only worth it where j has a candidate) and into unvoiced j, from either state.
        let bv = -1;
        let av = 0;
        let bu = -1;
        let au = 0;
        const ov = obs[j]!;
        for (let i = lo; i <= hi; i++) {
          const w = this.step[i - j + W]!;
          const fromV = delta[i]! * w;
          const fromU = delta[B + i]! * w;
          if (ov > 0) {
            if (fromV * stay > bv) { bv = fromV * stay; av = i; }
            if (fromU * sw > bv) { bv = fromU * sw; av = B + i; }
          }
          if (fromU * stay > bu) { bu = fromU * stay; au = B + i; }
          if (fromV * sw > bu) { bu = fromV * sw; au = i; }
        }
        next[j] = ov > 0 ? bv * ov : 0;
        psi[p0 + j] = ov > 0 ? av : j;
        next[B + j] = bu * obs[B + j]!;
        psi[p0 + B + j] = au;
      }
    }
    // Rescaled so the best state is 1: products of probabilities would underflow within seconds.
    let best = 0;
    let arg = 0;
    for (let s = 0; s < this.states; s++) {
      if (next[s]! > best) {
        best = next[s]!;
        arg = s;
      }
    }
    const inv = best > 0 ? 1 / best : 1;
    for (let s = 0; s < this.states; s++) next[s]! *= inv;
    this.delta = next;
    this.next = delta;
    this.t++;

    if (this.t <= this.lag) {
      this.decidedFrame = -1;
      return;
    }
    // Trace the best path back `lag` frames: the state it passes through there is that frame's decision.
    let s = arg;
    for (let k = 0; k < this.lag; k++) s = psi[((this.t - 1 - k) % (this.lag + 1)) * this.states + s]!;
    const f = this.t - 1 - this.lag;
    const fs = f % (this.lag + 1);
    this.decidedFrame = f;
    this.period = 0;
    this.depth = this.fMin[fs]!;
    if (s >= B) return;
    // Voiced in bin s: the most probable candidate of that frame in that bin.
    const b0 = fs * MAX_CANDIDATES;
    let pBest = -1;
    for (let k = 0; k < this.cCount[fs]!; k++) {
      if (this.cBin[b0 + k] === s && this.cProb[b0 + k]! > pBest) {
        pBest = this.cProb[b0 + k]!;
        this.period = this.cPeriod[b0 + k]!;
        this.depth = this.cDepth[b0 + k]!;
      }
    }
  }

  private addCandidate(i: number, d: Float32Array, base: number, t: number, v: number, p: number): void {
    const tau = refineDip(d, base, t);
    this.cPeriod[i] = tau;
    this.cLag[i] = t;
    this.cBin[i] = this.binOf(tau);
    this.cProb[i] = p;
    this.cDepth[i] = v;
  }
}

/** Cumulative beta(α, β) with mean `mean` and α + β = `strength`, tabulated on [0, 1] (CDF_STEPS + 1 points). */
function betaCdf(mean: number, strength: number): Float64Array {
  if (!(mean > 0 && mean < 1 && strength > 0)) throw new RangeError(`prior mean must lie in (0, 1) and strength be > 0, got ${mean}, ${strength}`);
  const a = mean * strength;
  const b = (1 - mean) * strength;
  const cdf = new Float64Array(CDF_STEPS + 1);
  // Midpoint rule on the density's logarithm (no gamma function needed: the table is normalised at the end).
  let sum = 0;
  for (let i = 0; i < CDF_STEPS; i++) {
    const x = (i + 0.5) / CDF_STEPS;
    sum += Math.exp((a - 1) * Math.log(x) + (b - 1) * Math.log(1 - x));
    cdf[i + 1] = sum;
  }
  for (let i = 1; i <= CDF_STEPS; i++) cdf[i]! /= sum;
  return cdf;
}
