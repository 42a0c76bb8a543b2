// YIN f0 estimator (de Cheveigné & Kawahara 2002): cumulative-mean-normalised difference, absolute
// threshold, parabolic refinement. Chosen as the built-in method because it needs no model file, is
// accurate to a few cents on clean voiced speech, and costs ~0.1 ms per 10 ms frame in plain JS.
import { F0_MAX_HZ, F0_MIN_HZ } from '../pitch.js';
import { F0_HOP, F0_RATE, type F0Estimator } from './estimator.js';

export interface YinOptions {
  rate?: number;
  fmin?: number;
  fmax?: number;
  /** Integration window, seconds. */
  windowSec?: number;
  /** CMND threshold: lower is stricter about voicing. */
  threshold?: number;
  /** How much shallower than the deepest dip an earlier (higher-pitched) dip may be and still win. */
  octaveTolerance?: number;
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
  private readonly octaveTolerance: number;
  private readonly silencePower: number;
  private readonly d: Float32Array;

  constructor(o: YinOptions = {}) {
    this.rate = o.rate ?? 16000;
    this.tauMin = Math.max(2, Math.floor(this.rate / (o.fmax ?? F0_MAX_HZ)));
    this.tauMax = Math.ceil(this.rate / (o.fmin ?? F0_MIN_HZ));
    this.window = Math.round(this.rate * (o.windowSec ?? 0.025));
    this.frameLength = this.window + this.tauMax + 1;
    // 0.3 rather than the paper's 0.1–0.15, with the octave guard below: on the ten LibriSpeech clips it
    // finds 1150 of SwiftF0's 1600 voiced frames (0.15: 755) and agrees with it within 50 cents on 91.5 %.
    this.threshold = o.threshold ?? 0.3;
    this.octaveTolerance = o.octaveTolerance ?? 0.05;
    this.silencePower = Math.pow(10, (o.silenceDb ?? -60) / 10);
    this.d = new Float32Array(this.tauMax + 2);
  }

  /** f0 in Hz of x[offset, offset + frameLength), or 0 when unvoiced. */
  estimate(x: Float32Array, offset: number): number {
    const W = this.window;
    const d = this.d;
    let power = 0;
    const c0 = offset + ((this.tauMax + 1) >> 1); // the power window, centred on the frame too
    for (let j = 0; j < W; j++) power += x[c0 + j]! * x[c0 + j]!;
    if (power / W < this.silencePower) return 0;
    const tauEnd = this.tauMax + 1;
    // Each lag's pair of windows is centred on the frame (offset + frameLength/2): the textbook form, with
    // both windows starting at `offset`, describes a point τ/2 − (tauMax+1)/2 samples early, 3–7 ms for speech.
    for (let tau = 1; tau <= tauEnd; tau++) {
      let s = 0;
      const o1 = offset + ((tauEnd - tau) >> 1);
      const o2 = o1 + tau;
      for (let j = 0; j < W; j++) {
        const diff = x[o1 + j]! - x[o2 + j]!;
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
    // Among the dips under the threshold take the first that is nearly as deep as the deepest: the
    // plain "first dip" rule of YIN jumps an octave up whenever a half-period dip just crosses the line.
    let deepest = Infinity;
    for (let t = this.tauMin; t <= this.tauMax; t++) {
      if (d[t]! < this.threshold && d[t]! <= d[t - 1]! && d[t]! <= d[t + 1]! && d[t]! < deepest) deepest = d[t]!;
    }
    let tau = -1;
    if (deepest < Infinity) {
      for (let t = this.tauMin; t <= this.tauMax; t++) {
        if (d[t]! <= deepest + this.octaveTolerance && d[t]! <= d[t - 1]! && d[t]! <= d[t + 1]!) {
          tau = t;
          break;
        }
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

/** YIN on the tracker's 10 ms grid: the default f0 method, needing no model file. */
export class YinEstimator implements F0Estimator {
  readonly id = 'yin';
  private readonly yin: Yin;
  readonly contextBefore: number;
  readonly contextAfter: number;

  constructor(o: YinOptions = {}) {
    this.yin = new Yin({ ...o, rate: F0_RATE });
    this.contextBefore = this.yin.frameLength >> 1;
    this.contextAfter = this.yin.frameLength - this.contextBefore;
  }

  estimate(audio: Float32Array, audioStart: number, first: number, count: number, out: Float32Array): void {
    for (let i = 0; i < count; i++) {
      const offset = (first + i) * F0_HOP - this.contextBefore - audioStart;
      out[i] = offset >= 0 ? this.yin.estimate(audio, offset) : 0;
    }
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
