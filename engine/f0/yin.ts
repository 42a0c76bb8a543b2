// YIN f0 estimator (de Cheveigné & Kawahara 2002): cumulative-mean-normalised difference, absolute
// threshold, parabolic refinement. Chosen as the built-in method because it needs no model file, is
// accurate to a few cents on clean voiced speech, and costs ~0.1 ms per 10 ms frame in plain JS.
import { F0_MAX_HZ, F0_MIN_HZ } from '../pitch.js';

export interface YinOptions {
  rate?: number;
  fmin?: number;
  fmax?: number;
  /** Integration window, seconds. */
  windowSec?: number;
  /** CMND threshold: lower is stricter about voicing. */
  threshold?: number;
  /** Frames quieter than this RMS (dBFS) are unvoiced. */
  silenceDb?: number;
}

export class Yin {
  readonly rate: number;
  readonly tauMin: number;
  readonly tauMax: number;
  readonly window: number;
  /** Samples one estimate reads: window + tauMax, centred on the frame time. */
  readonly frameLength: number;
  private readonly threshold: number;
  private readonly silencePower: number;
  private readonly d: Float32Array;

  constructor(o: YinOptions = {}) {
    this.rate = o.rate ?? 16000;
    this.tauMin = Math.max(2, Math.floor(this.rate / (o.fmax ?? F0_MAX_HZ)));
    this.tauMax = Math.ceil(this.rate / (o.fmin ?? F0_MIN_HZ));
    this.window = Math.round(this.rate * (o.windowSec ?? 0.025));
    this.frameLength = this.window + this.tauMax + 1;
    this.threshold = o.threshold ?? 0.15;
    this.silencePower = Math.pow(10, (o.silenceDb ?? -50) / 10);
    this.d = new Float32Array(this.tauMax + 2);
  }

  /** f0 in Hz of x[offset, offset + frameLength), or 0 when unvoiced. */
  estimate(x: Float32Array, offset: number): number {
    const W = this.window;
    const d = this.d;
    let power = 0;
    for (let j = 0; j < W; j++) power += x[offset + j]! * x[offset + j]!;
    if (power / W < this.silencePower) return 0;
    const tauEnd = this.tauMax + 1;
    for (let tau = 1; tau <= tauEnd; tau++) {
      let s = 0;
      const o2 = offset + tau;
      for (let j = 0; j < W; j++) {
        const diff = x[offset + j]! - x[o2 + j]!;
        s += diff * diff;
      }
      d[tau] = s;
    }
    // Cumulative-mean normalisation in place.
    d[0] = 1;
    let running = 0;
    for (let tau = 1; tau <= tauEnd; tau++) {
      running += d[tau]!;
      d[tau] = running > 0 ? (d[tau]! * tau) / running : 1;
    }
    let tau = -1;
    for (let t = this.tauMin; t <= this.tauMax; t++) {
      if (d[t]! < this.threshold) {
        while (t + 1 <= this.tauMax && d[t + 1]! < d[t]!) t++;
        tau = t;
        break;
      }
    }
    if (tau < 0) return 0;
    const a = d[tau - 1]!;
    const b = d[tau]!;
    const c = d[tau + 1]!;
    const den = a - 2 * b + c;
    const shift = den > 0 ? (0.5 * (a - c)) / den : 0;
    return this.rate / (tau + Math.max(-0.5, Math.min(0.5, shift)));
  }
}

/** Whole-signal f0 track at `hop` seconds per frame (analysis and tests; allocates). */
export function yinTrack(x: Float32Array, rate: number, hopSec = 0.01, o: YinOptions = {}): Float32Array {
  const yin = new Yin({ ...o, rate });
  const hop = Math.round(rate * hopSec);
  const half = yin.frameLength >> 1;
  const frames = Math.floor(x.length / hop) + 1;
  const out = new Float32Array(frames);
  const padded = new Float32Array(x.length + yin.frameLength + hop);
  padded.set(x, half);
  for (let f = 0; f < frames; f++) out[f] = yin.estimate(padded, f * hop);
  return out;
}
