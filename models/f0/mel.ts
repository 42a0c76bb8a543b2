// RMVPE's log-mel front end, matched to the one every RMVPE export was trained with (RVC's rmvpe.py
// `MelSpectrogram(128, 16000, 1024, 160, fmin 30, fmax 8000)`): a centred STFT with a 1024-point periodic
// Hann window (torch.hann_window, scipy get_window(fftbins=True)), hop 160; the MAGNITUDE spectrum (not
// power); librosa's mel filters with htk=True and librosa's default Slaney area normalisation (each
// triangle divided by half its width in Hz); then log(max(x, 1e-5)). Frame t is centred on sample 160·t,
// so a signal of N samples has ⌊N/160⌋ + 1 frames, the outer ones reading reflected samples.
// The same code serves the NSF-HiFiGAN vocoder's front end (models/vocoder/mel.ts) through a MelSpec: one STFT,
// one filterbank, one reflect rule in the project.
import FFT from 'fft.js';

export const MEL_RATE = 16000;
export const MEL_NFFT = 1024;
export const MEL_HOP = 160;
export const MEL_BANDS = 128;
export const MEL_FMIN = 30;
export const MEL_FMAX = 8000;
export const MEL_CLAMP = 1e-5;

/**
 * One log-mel front end: the STFT (periodic Hann window of n_fft samples, hop), librosa's mel filters on the
 * HTK or Slaney mel scale with Slaney area normalisation, the magnitude sqrt(re² + im² + powerEps), then
 * ln(max(x, clamp)). RMVPE's and the NSF-HiFiGAN vocoder's (models/vocoder/mel.ts) differ only in these values.
 */
export interface MelSpec {
  rate: number;
  nFft: number;
  hop: number;
  bands: number;
  fmin: number;
  fmax: number;
  scale: 'htk' | 'slaney';
  clamp: number;
  /** Added to the power before the square root (openvpi's STFT adds 1e-9; RMVPE adds nothing). */
  powerEps: number;
}

export const RMVPE_MEL: MelSpec = {
  rate: MEL_RATE, nFft: MEL_NFFT, hop: MEL_HOP, bands: MEL_BANDS, fmin: MEL_FMIN, fmax: MEL_FMAX, scale: 'htk', clamp: MEL_CLAMP, powerEps: 0,
};

export function hzToHtkMel(hz: number): number {
  return 2595 * Math.log10(1 + hz / 700);
}

export function htkMelToHz(mel: number): number {
  return 700 * (Math.pow(10, mel / 2595) - 1);
}

// librosa's default (htk=False) Slaney scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above with
// 27 mels per factor 6.4.
const SLANEY_STEP = 200 / 3;
const SLANEY_KNEE_HZ = 1000;
const SLANEY_KNEE_MEL = SLANEY_KNEE_HZ / SLANEY_STEP;
const SLANEY_LOGSTEP = Math.log(6.4) / 27;

export function hzToSlaneyMel(hz: number): number {
  return hz < SLANEY_KNEE_HZ ? hz / SLANEY_STEP : SLANEY_KNEE_MEL + Math.log(hz / SLANEY_KNEE_HZ) / SLANEY_LOGSTEP;
}

export function slaneyMelToHz(mel: number): number {
  return mel < SLANEY_KNEE_MEL ? mel * SLANEY_STEP : SLANEY_KNEE_HZ * Math.exp(SLANEY_LOGSTEP * (mel - SLANEY_KNEE_MEL));
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

/** librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk = spec.scale === 'htk', norm='slaney'). */
export function melFilterbank(spec: MelSpec): MelFilterbank {
  const toMel = spec.scale === 'htk' ? hzToHtkMel : hzToSlaneyMel;
  const toHz = spec.scale === 'htk' ? htkMelToHz : slaneyMelToHz;
  const lo = toMel(spec.fmin);
  const hi = toMel(spec.fmax);
  const bands = spec.bands;
  const bins = spec.nFft / 2 + 1;
  // n_mels + 2 points evenly spaced in mel: band b rises from point b, peaks at b + 1, falls to b + 2.
  const points = Float64Array.from({ length: bands + 2 }, (_, i) => toHz(lo + ((hi - lo) * i) / (bands + 1)));
  const centres = points.slice(1, bands + 1);
  const start = new Int32Array(bands);
  const weights: Float32Array[] = [];
  for (let b = 0; b < bands; b++) {
    const [f0, f1, f2] = [points[b]!, points[b + 1]!, points[b + 2]!];
    const norm = 2 / (f2 - f0);
    const row: number[] = [];
    let first = -1;
    for (let k = 0; k < bins; k++) {
      const f = (k * spec.rate) / spec.nFft;
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

/** librosa.filters.mel(sr=16000, n_fft=1024, n_mels=128, fmin=30, fmax=8000, htk=True, norm='slaney'). */
export function rmvpeFilterbank(): MelFilterbank {
  return melFilterbank(RMVPE_MEL);
}

/** Computes log-mel frames into caller-owned buffers; allocation-free after construction. */
export class LogMel {
  readonly bank: MelFilterbank;
  private readonly fft: FFT;
  private readonly window: Float64Array;
  private readonly frame: Float64Array;
  private readonly spectrum: number[];
  private readonly magnitude: Float64Array;

  constructor(readonly spec: MelSpec = RMVPE_MEL) {
    const n = spec.nFft;
    this.bank = melFilterbank(spec);
    this.fft = new FFT(n);
    this.window = new Float64Array(n);
    this.frame = new Float64Array(n);
    this.magnitude = new Float64Array(n / 2 + 1);
    // Periodic Hann, as torch.hann_window(n) by default.
    for (let i = 0; i < n; i++) this.window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
    this.spectrum = this.fft.createComplexArray() as number[];
  }

  /**
   * Writes `count` frames, the first centred on sample `centre` of x (x-relative; frames step by the hop), into
   * out[band · stride + outOffset + i]: the [bands, T] layout the networks take, with row length `stride`.
   * Samples outside x[lo, hi) are reflected at those edges as torch's reflect padding does; a streaming caller
   * passes audio that covers every window, so nothing is reflected there.
   */
  compute(x: Float32Array, centre: number, count: number, out: Float32Array, stride: number, outOffset = 0, lo = 0, hi = x.length): void {
    const { start, weights } = this.bank;
    const { nFft, hop, bands, clamp, powerEps } = this.spec;
    const half = nFft / 2;
    const bins = half + 1;
    for (let i = 0; i < count; i++) {
      const from = centre + i * hop - half;
      for (let j = 0; j < nFft; j++) {
        let p = from + j;
        if (p < lo || p >= hi) p = reflect(p, lo, hi);
        this.frame[j] = x[p]! * this.window[j]!;
      }
      this.fft.realTransform(this.spectrum, this.frame);
      const s = this.spectrum;
      for (let k = 0; k < bins; k++) this.magnitude[k] = Math.sqrt(s[2 * k]! * s[2 * k]! + s[2 * k + 1]! * s[2 * k + 1]! + powerEps);
      for (let b = 0; b < bands; b++) {
        const w = weights[b]!;
        const k0 = start[b]!;
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k]! * this.magnitude[k0 + k]!;
        out[b * stride + outOffset + i] = Math.log(Math.max(acc, clamp));
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
