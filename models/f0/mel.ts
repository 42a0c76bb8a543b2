// RMVPE's log-mel front end, matched to the one every RMVPE export was trained with (RVC's rmvpe.py
// `MelSpectrogram(128, 16000, 1024, 160, fmin 30, fmax 8000)`): a centred STFT with a 1024-point periodic
// Hann window (torch.hann_window, scipy get_window(fftbins=True)), hop 160; the MAGNITUDE spectrum (not
// power); librosa's mel filters with htk=True and librosa's default Slaney area normalisation (each
// triangle divided by half its width in Hz); then log(max(x, 1e-5)). Frame t is centred on sample 160·t,
// so a signal of N samples has ⌊N/160⌋ + 1 frames, the outer ones reading reflected samples.
import FFT from 'fft.js';

export const MEL_RATE = 16000;
export const MEL_NFFT = 1024;
export const MEL_HOP = 160;
export const MEL_BANDS = 128;
export const MEL_FMIN = 30;
export const MEL_FMAX = 8000;
export const MEL_CLAMP = 1e-5;
const BINS = MEL_NFFT / 2 + 1;
const HALF = MEL_NFFT / 2;

export function hzToHtkMel(hz: number): number {
  return 2595 * Math.log10(1 + hz / 700);
}

export function htkMelToHz(mel: number): number {
  return 700 * (Math.pow(10, mel / 2595) - 1);
}

/** Frames of a whole signal of n samples (centred STFT). */
export function melFrameCount(n: number): number {
  return Math.floor(n / MEL_HOP) + 1;
}

export interface MelFilterbank {
  /** Centre frequency (Hz) of each band: the apex of its triangle. */
  centres: Float64Array;
  /** Band b's non-zero weights cover FFT bins start[b] … start[b] + length − 1. */
  start: Int32Array;
  weights: Float32Array[];
}

/** librosa.filters.mel(sr=16000, n_fft=1024, n_mels=128, fmin=30, fmax=8000, htk=True, norm='slaney'). */
export function rmvpeFilterbank(): MelFilterbank {
  const lo = hzToHtkMel(MEL_FMIN);
  const hi = hzToHtkMel(MEL_FMAX);
  // n_mels + 2 points evenly spaced in mel: band b rises from point b, peaks at b + 1, falls to b + 2.
  const points = Float64Array.from({ length: MEL_BANDS + 2 }, (_, i) => htkMelToHz(lo + ((hi - lo) * i) / (MEL_BANDS + 1)));
  const centres = points.slice(1, MEL_BANDS + 1);
  const start = new Int32Array(MEL_BANDS);
  const weights: Float32Array[] = [];
  for (let b = 0; b < MEL_BANDS; b++) {
    const [f0, f1, f2] = [points[b]!, points[b + 1]!, points[b + 2]!];
    const norm = 2 / (f2 - f0);
    const row: number[] = [];
    let first = -1;
    for (let k = 0; k < BINS; k++) {
      const f = (k * MEL_RATE) / MEL_NFFT;
      const w = Math.max(0, Math.min((f - f0) / (f1 - f0), (f2 - f) / (f2 - f1)));
      // A triangle's non-zero weights are contiguous, so a start index and a short row describe it.
      if (w > 0) {
        if (first < 0) first = k;
        row.push(w * norm);
      }
    }
    start[b] = Math.max(0, first);
    weights.push(Float32Array.from(row));
  }
  return { centres, start, weights };
}

/** Computes log-mel frames into caller-owned buffers; allocation-free after construction. */
export class LogMel {
  readonly bank = rmvpeFilterbank();
  private readonly fft = new FFT(MEL_NFFT);
  private readonly window = new Float64Array(MEL_NFFT);
  private readonly frame = new Float64Array(MEL_NFFT);
  private readonly spectrum: number[];
  private readonly magnitude = new Float64Array(BINS);

  constructor() {
    // Periodic Hann, as torch.hann_window(1024) by default.
    for (let i = 0; i < MEL_NFFT; i++) this.window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / MEL_NFFT);
    this.spectrum = this.fft.createComplexArray() as number[];
  }

  /**
   * Writes `count` frames, the first centred on sample `centre` of x (x-relative; frames step by 160), into
   * out[band · stride + outOffset + i]: the [128, T] layout RMVPE takes, with row length `stride`.
   * Samples outside x[lo, hi) are reflected at those edges as torch's centred STFT does; a streaming caller
   * passes audio that covers every window, so nothing is reflected there.
   */
  compute(x: Float32Array, centre: number, count: number, out: Float32Array, stride: number, outOffset = 0, lo = 0, hi = x.length): void {
    const { start, weights } = this.bank;
    for (let i = 0; i < count; i++) {
      const from = centre + i * MEL_HOP - HALF;
      for (let j = 0; j < MEL_NFFT; j++) {
        let p = from + j;
        if (p < lo || p >= hi) p = reflect(p, lo, hi);
        this.frame[j] = x[p]! * this.window[j]!;
      }
      this.fft.realTransform(this.spectrum, this.frame);
      const s = this.spectrum;
      for (let k = 0; k < BINS; k++) this.magnitude[k] = Math.sqrt(s[2 * k]! * s[2 * k]! + s[2 * k + 1]! * s[2 * k + 1]!);
      for (let b = 0; b < MEL_BANDS; b++) {
        const w = weights[b]!;
        const k0 = start[b]!;
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k]! * this.magnitude[k0 + k]!;
        out[b * stride + outOffset + i] = Math.log(Math.max(acc, MEL_CLAMP));
      }
    }
  }
}

/** torch/numpy "reflect" padding: the edge sample is not repeated. */
function reflect(p: number, lo: number, hi: number): number {
  const n = hi - lo;
  if (n <= 1) return lo;
  const period = 2 * (n - 1);
  let q = (p - lo) % period;
  if (q < 0) q += period;
  return lo + (q < n ? q : period - q);
}

/** Whole-signal log-mel [128, T] with T = ⌊N/160⌋ + 1, as RVC computes it (analysis and tests; allocates). */
export function logMelSpectrogram(x: Float32Array): { mel: Float32Array; frames: number } {
  const frames = melFrameCount(x.length);
  const mel = new Float32Array(MEL_BANDS * frames);
  new LogMel().compute(x, 0, frames, mel, frames);
  return { mel, frames };
}
