// Analysis helpers for the live tests: speech input, alignment of a recording with what was played, pitch.
import { yinTrack } from '../../engine/f0/yin.js';
import { StreamResampler } from '../../engine/resampler.js';
import { pairedMedianCents, readClip } from '../helpers.js';

/** `seconds` of real speech (LJ Speech clips back to back) at `rate`. */
export async function speech(seconds: number, rate: number): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  let total = 0;
  for (let i = 1; total < seconds * rate && i <= 10; i++) {
    const { x, rate: r } = await readClip('ljspeech', `LJ001-${String(i).padStart(4, '0')}.wav`);
    const rs = await StreamResampler.create(r, rate, x.length);
    const y = Float32Array.from(rs.process(x));
    rs.destroy();
    parts.push(y);
    total += y.length;
  }
  const out = new Float32Array(Math.round(seconds * rate));
  let off = 0;
  for (const p of parts) {
    if (off >= out.length) break;
    out.set(p.subarray(0, out.length - off), off);
    off += p.length;
  }
  return out;
}

/** Log energy per 10 ms frame. */
function envelope(x: Float32Array, rate: number): Float32Array {
  const hop = Math.round(rate / 100);
  const e = new Float32Array(Math.floor(x.length / hop));
  for (let f = 0; f < e.length; f++) {
    let s = 0;
    for (let i = 0; i < hop; i++) s += x[f * hop + i]! ** 2;
    e[f] = Math.log10(s / hop + 1e-8);
  }
  return e;
}

/** Lag (in 10 ms frames) of y behind x that best matches their energy envelopes, searched up to maxLagSec. */
export function envelopeLag(x: Float32Array, y: Float32Array, rate: number, maxLagSec: number): number {
  const ex = envelope(x, rate);
  const ey = envelope(y, rate);
  const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
  const mx = mean(ex);
  const my = mean(ey);
  let best = 0;
  let bestScore = -Infinity;
  for (let lag = 0; lag <= maxLagSec * 100; lag++) {
    let s = 0;
    const n = Math.min(ex.length, ey.length - lag);
    for (let i = 0; i < n; i++) s += (ex[i]! - mx) * (ey[i + lag]! - my);
    s /= Math.max(1, n);
    if (s > bestScore) {
      bestScore = s;
      best = lag;
    }
  }
  return best;
}

/** Median pitch ratio (cents) of y over x on frames voiced in both, after aligning y by its lag. */
export function alignedCents(x: Float32Array, y: Float32Array, rate: number, maxLagSec = 2): { cents: number; paired: number; lagMs: number } {
  const lag = envelopeLag(x, y, rate, maxLagSec);
  const fx = yinTrack(x, rate);
  const fy = yinTrack(y, rate).subarray(lag);
  const r = pairedMedianCents(fx, fy);
  return { ...r, lagMs: lag * 10 };
}

/** The largest sample-to-sample step: a hard cut in a quiet-sloped signal shows up here. */
export function maxStep(x: Float32Array, from = 0, to = x.length): number {
  let m = 0;
  for (let i = Math.max(1, from); i < to; i++) m = Math.max(m, Math.abs(x[i]! - x[i - 1]!));
  return m;
}

/** f0 track (Hz per 10 ms frame) of a recording. */
export function f0Track(x: Float32Array, rate: number): Float32Array {
  return yinTrack(x, rate);
}
