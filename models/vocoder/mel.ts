// The mel front end of openvpi's NSF-HiFiGAN vocoder (the 44.1 kHz release so-vits-svc 4.1's shallow diffusion
// uses), and the mel contract between Resona's stages.
//
// CONTRACT (what the vocoder takes and what the diffusion denoiser reads and writes):
//   mel  float32 [1, 128, T], row-major (band-major: mel[b·T + t]), 44 100 Hz audio, hop 512 samples per frame,
//        natural-log magnitude mel: ln(max(mel_filters · |STFT|, 1e-5)), so the floor is ln(1e-5) ≈ −11.513.
//   Frame t covers samples [512·t − 768, 512·t + 1280) of the signal (a 2048-sample window centred on
//   512·t + 256); a signal of N samples (N ≥ 769) has ⌊N / 512⌋ frames, and the vocoder turns T frames back
//   into T·512 samples. The diffusion model's own [−1, 1] scaling ((x − (−12)) / (2 − (−12)) · 2 − 1) is
//   its business: it takes and returns this natural-log mel.
//
// How it is computed (openvpi's nvSTFT.get_mel with center=False): reflect-pad the signal by (n_fft − hop)/2 = 768
// on each side, STFT with n_fft = win = 2048 and a periodic Hann window (torch.hann_window), hop 512, no
// centring; magnitude sqrt(re² + im² + 1e-9); librosa.filters.mel(sr 44100, n_fft 2048, 128 mels, 40–16000 Hz)
// with librosa's defaults (Slaney mel scale, Slaney area normalisation); ln(max(·, 1e-5)).
import { LogMel, type MelSpec } from '../f0/mel.js';
import { UserError } from '../../protocol/errors.js';

export const VOCODER_MEL: MelSpec = {
  rate: 44100,
  nFft: 2048,
  hop: 512,
  bands: 128,
  fmin: 40,
  fmax: 16000,
  scale: 'slaney',
  clamp: 1e-5,
  powerEps: 1e-9,
};

/** Reflect padding on each side, (n_fft − hop) / 2. */
export const VOCODER_MEL_PAD = (VOCODER_MEL.nFft - VOCODER_MEL.hop) / 2;
/** ln(1e-5): the value of a silent band. */
export const VOCODER_MEL_FLOOR = Math.log(VOCODER_MEL.clamp);

/** Frames of a signal of n samples. */
export function vocoderMelFrames(n: number): number {
  return Math.floor((n + 2 * VOCODER_MEL_PAD - VOCODER_MEL.nFft) / VOCODER_MEL.hop) + 1;
}

/** The sample frame t's window is centred on. */
export function vocoderFrameCentre(t: number): number {
  return VOCODER_MEL.hop * t + VOCODER_MEL.nFft / 2 - VOCODER_MEL_PAD;
}

/** Allocation-free after construction: the per-block path (streaming callers pass audio that covers every window). */
export class VocoderMel {
  private readonly mel = new LogMel(VOCODER_MEL);

  /**
   * Writes `count` frames, frame i being frame (first + i) of the signal x holds (x[0] = signal sample
   * `offset`), into out[band · stride + i]. Windows reaching outside x are reflected at x's edges, as the
   * whole-signal padding does at the signal's.
   */
  frames(x: Float32Array, first: number, count: number, out: Float32Array, stride = count, offset = 0): void {
    this.mel.compute(x, vocoderFrameCentre(first) - offset, count, out, stride);
  }
}

/** The whole signal's mel, [128, T] with T = ⌊N/512⌋, as openvpi's get_mel(y, center=False) computes it (allocates). */
export function vocoderMelSpectrogram(x: Float32Array): { mel: Float32Array; frames: number } {
  // torch's reflect padding needs the pad to be shorter than the signal.
  if (x.length <= VOCODER_MEL_PAD) {
    throw new UserError(`audio of ${x.length} samples is too short for the vocoder's mel: it needs more than ${VOCODER_MEL_PAD} samples (17.4 ms at 44.1 kHz)`, 'file');
  }
  const frames = vocoderMelFrames(x.length);
  const mel = new Float32Array(VOCODER_MEL.bands * frames);
  new VocoderMel().frames(x, 0, frames, mel);
  return { mel, frames };
}
