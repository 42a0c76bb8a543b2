// Measuring f0 methods against known truth, shared by the accuracy tests and bench/f0-accuracy.ts:
// pure sines (the truth is the sine), CREPE's test sweep (the truth read from its own zero crossings) and
// voicing on real speech against a reference track.
import type { F0Estimator } from '../../../engine/f0/estimator.js';
import { sine } from '../../helpers.js';
import { cents, wholeRun } from './helpers.js';

export const SINE_HZ = [80, 110, 150, 200, 262, 330, 440, 523, 700, 1000] as const;
/** The sweep is judged up to here: the product's f0 range ends at 1100 Hz and the sweep goes on to 2 kHz. */
export const SWEEP_MAX_HZ = 1000;

export interface CentsStats {
  /** Frames judged (whole context inside the signal, and the truth in range). */
  frames: number;
  /** Share of them voiced, %. */
  voicedPct: number;
  /** Signed median error of the voiced ones, cents. */
  median: number;
  /** Median and 95th percentile of |error|, cents. */
  absMedian: number;
  absP95: number;
}

export function quantile(v: number[], q: number): number {
  if (v.length === 0) return NaN;
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** Error statistics of a track against a truth per frame (NaN truth: frame not judged). */
export function centsStats(track: Float32Array, truth: (f: number) => number, from: number, to: number): CentsStats {
  const err: number[] = [];
  let frames = 0;
  for (let f = from; f < to; f++) {
    const t = truth(f);
    if (!(t > 0)) continue;
    frames++;
    if (track[f]! > 0) err.push(cents(track[f]!, t));
  }
  const abs = err.map(Math.abs);
  return { frames, voicedPct: (100 * err.length) / frames, median: quantile(err, 0.5), absMedian: quantile(abs, 0.5), absP95: quantile(abs, 0.95) };
}

/** Frames of an n-sample clip whose estimator context lies wholly inside it. */
function innerFrames(est: F0Estimator, n: number): [number, number] {
  return [Math.ceil(est.contextBefore / 160), Math.floor((n - est.contextAfter) / 160) + 1];
}

/** A one-second sine at `hz` (amplitude 0.5, 16 kHz) through the estimator. */
export async function sineAccuracy(est: F0Estimator, hz: number): Promise<CentsStats> {
  const x = sine(hz, 16000, 1.5);
  const track = await wholeRun(est, x);
  const [from, to] = innerFrames(est, x.length);
  return centsStats(track, () => hz, from, to);
}

/**
 * The sweep's true frequency at each 10 ms frame, from its upward zero crossings (interpolated to a
 * fraction of a sample): a pure sine's crossings give its period exactly, whatever law the sweep follows.
 */
export function sweepTruth(x: Float32Array): Float64Array {
  const times: number[] = [];
  for (let i = 1; i < x.length; i++) if (x[i - 1]! < 0 && x[i]! >= 0) times.push(i - 1 + -x[i - 1]! / (x[i]! - x[i - 1]!));
  const frames = Math.floor(x.length / 160) + 1;
  const truth = new Float64Array(frames);
  let k = 1;
  for (let f = 0; f < frames; f++) {
    const t = 160 * f;
    while (k < times.length - 1 && times[k]! < t) k++;
    // The period between the crossings around t, judged only where t lies between two crossings.
    truth[f] = k > 0 && times[k - 1]! <= t && times[k]! >= t ? 16000 / (times[k]! - times[k - 1]!) : NaN;
  }
  return truth;
}

export async function sweepAccuracy(est: F0Estimator, x: Float32Array): Promise<CentsStats> {
  const truth = sweepTruth(x);
  const track = await wholeRun(est, x);
  const [from, to] = innerFrames(est, x.length);
  return centsStats(track, (f) => (truth[f]! <= SWEEP_MAX_HZ ? truth[f]! : NaN), from, to);
}

export interface Voicing {
  /** Frames the reference voices. */
  refVoiced: number;
  /** Of those, % the track voices too. */
  recallPct: number;
  /** Of those voiced by both, % within 50 cents. */
  agreePct: number;
  /** Frames the reference leaves unvoiced, and % of them the track voices. */
  refUnvoiced: number;
  extraPct: number;
}

/** Pools tracks against reference tracks (same grid). `exclude` frames (e.g. voiced by another reference) are not counted as unvoiced. */
export function voicing(pairs: { track: Float32Array; ref: Float32Array; other?: Float32Array }[]): Voicing {
  let rv = 0;
  let both = 0;
  let agree = 0;
  let ru = 0;
  let extra = 0;
  for (const { track, ref, other } of pairs) {
    for (let f = 0; f < Math.min(track.length, ref.length); f++) {
      if (ref[f]! > 0) {
        rv++;
        if (track[f]! > 0) {
          both++;
          if (Math.abs(cents(track[f]!, ref[f]!)) <= 50) agree++;
        }
      } else if (!(other && other[f]! > 0)) {
        ru++;
        if (track[f]! > 0) extra++;
      }
    }
  }
  return { refVoiced: rv, recallPct: (100 * both) / rv, agreePct: (100 * agree) / both, refUnvoiced: ru, extraPct: (100 * extra) / ru };
}
