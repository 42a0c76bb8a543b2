// The stages after a so-vits-svc synthesizer when the voice has a shallow-diffusion model and a vocoder
// (SOVITS-NOTES §5): the synthesizer's audio → its vocoder mel (../../vocoder/mel.ts) → refineMel (k_step,
// speedup, sampler) → NSF-HiFiGAN(mel, f0) → audio, per block, over only the newest frames of the window.
//
// Context, in mel frames (one frame = one synthesizer frame = 512 samples at 44.1 kHz):
//   - the denoiser: each of its n_layers residual blocks is a k3, dilation-1 convolution, so one pass sees
//     n_layers frames either side (20 for so-vits-svc's template: 41 frames). k/speedup passes chain, and
//     strictly the edge's influence grows by that much per pass; each pass moves x only a step, so Resona
//     refines two receptive radii (40 frames, 0.46 s) left of the frames the vocoder renders, where the
//     window's left edge no longer changes what is kept (the seam test checks it);
//   - the vocoder: its first conv is k7 at the frame rate and the upsampling stack adds under a frame, so
//     VOCODER_CONTEXT = 8 frames left of the kept region (as bench/vocoder.ts measures).
// The window's right edge is the newest sample: nothing lies beyond it, as in the synthesizer.
import type { DiffusionShape as DiffusionModel } from '../../diffusion/diffusion.js';
import { type DiffusionSessions, refineMel } from '../../diffusion/diffusion.js';
import { denoiserPasses, checkRun } from '../../diffusion/samplers.js';
import { VoiceFormatError } from '../../voices/manifest-fields.js';
import { VOCODER_MEL, VOCODER_MEL_PAD, VocoderMel } from '../../vocoder/mel.js';
import type { Vocoder } from '../../vocoder/vocoder.js';
import { DIFFUSION_METHODS, SettingError } from '../../../protocol/settings.js';
import type { UserError } from '../../../protocol/errors.js';

/** Mel frames left of the kept region that the vocoder re-renders. */
export const VOCODER_CONTEXT = 8;

/** Mel frames of left context the denoiser gets beyond the vocoder's: two receptive radii (n_layers each). */
export function denoiserContext(model: DiffusionModel): number {
  return 2 * model.config.layers;
}

/** The voice and the diffusion model agree: units, speakers, rate and hop; a mismatch is said with both values. */
export function checkDiffusionFits(model: DiffusionModel, voice: { featureSize: number; speakers: number; sampleRate: number; hop: number }, where: string): void {
  const c = model.config;
  const bad = (why: string) => new VoiceFormatError(`${where}: ${why}; it belongs to another voice (so-vits-svc trains the diffusion model on the same features and speakers as the voice)`);
  // The blocks' left context is n_layers frames per pass (denoiserContext): a set whose graphs do not name their
  // residual layers needs its diffusion.yaml to say it.
  if (c.layers < 1) throw new VoiceFormatError(`${where}: the exported graphs do not show how many residual layers the denoiser has, which sets the context each block needs; give the model's diffusion.yaml with it (--diffusion-config)`);
  if (c.units !== voice.featureSize) throw bad(`the diffusion model takes ${c.units}-d units (${c.encoder}), the voice ${voice.featureSize}-d features`);
  if (c.speakers > 1 && c.speakers !== voice.speakers) throw bad(`the diffusion model has n_spk ${c.speakers}, the voice ${voice.speakers} speaker${voice.speakers === 1 ? '' : 's'}`);
  if (c.sampleRate !== voice.sampleRate || c.hop !== voice.hop) throw bad(`the diffusion model works at ${c.sampleRate} Hz, hop ${c.hop}; the voice at ${voice.sampleRate} Hz, hop ${voice.hop}`);
}

/** The vocoder renders the diffusion model's mel: same rate, hop and band count. */
export function checkVocoderFits(model: DiffusionModel, vocoder: Vocoder, rate: number, where: string): void {
  const c = model.config;
  if (vocoder.contract.bands !== model.mels || vocoder.hop !== c.hop || rate !== c.sampleRate) {
    throw new VoiceFormatError(`${where}: the vocoder takes ${vocoder.contract.bands} mel bands at ${rate} Hz, hop ${vocoder.hop}, but the diffusion model makes ${model.mels} bands at ${c.sampleRate} Hz, hop ${c.hop}; use the NSF-HiFiGAN the diffusion model was trained for`);
  }
}

export interface RefineSettings {
  kStep: number;
  speedup: number;
  method: number;
}

/** Denoiser passes per block for these settings, or a SettingError saying what the model allows. */
export function refinePasses(model: DiffusionModel, s: RefineSettings): number {
  const method = DIFFUSION_METHODS[s.method];
  if (!method) throw new SettingError('diffusionMethod', `diffusion sampler ${s.method} does not exist: 0–${DIFFUSION_METHODS.length - 1} (${DIFFUSION_METHODS.join(', ')})`);
  try {
    checkRun(method, s.kStep, s.speedup, model.config.kStepMax);
  } catch (e) {
    const key = /k_step/.test((e as Error).message) ? 'kStep' : 'speedup';
    throw new SettingError(key, (e as UserError).message);
  }
  return denoiserPasses(method, s.kStep, s.speedup);
}

/** Frames left of a mel frame its window reaches: it starts VOCODER_MEL_PAD = 1.5 frames before the frame. */
const MEL_REACH = Math.ceil(VOCODER_MEL_PAD / VOCODER_MEL.hop);

export interface RefineInputs {
  /**
   * The synthesizer's audio of its newest frames (a whole number of hops), ending at the newest sample: all T
   * frames, or at least audioFrames(T, region) of them (a kept-region synthesizer draws only those).
   */
  audio: Float32Array;
  frames: number;
  /** Per model frame, T values: f0 (Hz, interpolated, shifted), loudness. */
  f0: Float32Array;
  volume: Float32Array;
  /** Content frames [T_src × C] and the 1-based mel2ph that maps model frames onto them. */
  c: Float32Array;
  mel2ph: BigInt64Array;
  channels: number;
  speaker: number;
  /** Output samples the engine keeps (the tail). */
  region: number;
}

export class SovitsRefiner {
  private readonly front = new VocoderMel();
  private mel = new Float32Array(0);
  private units = new Float32Array(0);
  private spk: Float32Array;
  private vmel = new Float32Array(0);
  private seed = 0x5eed;
  /** ms of the last render: the mel front end and diffusion together, then the vocoder. */
  readonly times = { diffusion: 0, vocoder: 0 };

  constructor(
    readonly diffusion: DiffusionSessions,
    readonly vocoder: Vocoder,
  ) {
    this.spk = new Float32Array(Math.max(1, diffusion.model.config.speakers));
  }

  get hop(): number {
    return this.vocoder.hop;
  }

  /** Frames refined and vocoded for a kept region of `region` samples out of a T-frame window. */
  spans(T: number, region: number): { refine: number; vocode: number } {
    const kept = Math.ceil(region / this.hop) + 1;
    const vocode = Math.min(T, kept + VOCODER_CONTEXT);
    return { refine: Math.min(T, vocode + denoiserContext(this.diffusion.model)), vocode };
  }

  /**
   * Newest synthesizer frames the refiner reads for a kept region of `region` samples: the refined frames and
   * the left reach of the first one's mel window (so no window reaches past the audio's left edge, where the
   * mel would reflect instead of seeing the signal).
   */
  audioFrames(T: number, region: number): number {
    return Math.min(T, this.spans(T, region).refine + MEL_REACH);
  }

  /** Sizes the buffers for windows of up to maxFrames frames (configure time, not per block). */
  configure(maxFrames: number): void {
    const M = this.diffusion.model.mels;
    if (this.mel.length < M * maxFrames) {
      this.mel = new Float32Array(M * maxFrames);
      this.vmel = new Float32Array(M * maxFrames);
      this.units = new Float32Array(this.diffusion.model.config.units * maxFrames);
    }
    this.vocoder.configure(maxFrames);
  }

  private noise = (n: number): Float32Array => {
    // N(0, 1) per value (Box–Muller over xorshift32), a fresh draw every block as upstream's torch.randn.
    const out = new Float32Array(n);
    let s = this.seed;
    for (let i = 0; i < n; i += 2) {
      s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
      const u1 = ((s >>> 0) + 1) / 4294967297;
      s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
      const r = Math.sqrt(-2 * Math.log(u1));
      const a = (2 * Math.PI * (s >>> 0)) / 4294967296;
      out[i] = r * Math.cos(a);
      if (i + 1 < n) out[i + 1] = r * Math.sin(a);
    }
    this.seed = s;
    return out;
  };

  /** The refined and vocoded audio of the newest `vocode` frames (vocode·hop samples). */
  async render(inp: RefineInputs, s: RefineSettings): Promise<Float32Array> {
    const { model } = this.diffusion;
    const M = model.mels;
    const T = inp.frames;
    const { refine: D, vocode: V } = this.spans(T, inp.region);
    const first = T - D;
    let t = performance.now();
    const mel = this.mel.subarray(0, M * D);
    // The audio may hold only the newest frames: its sample 0 is then frame T − audio/hop's first sample.
    const offset = (T - inp.audio.length / this.hop) * this.hop;
    this.front.frames(inp.audio, first, D, mel, D, offset);
    const U = model.config.units;
    const units = this.units.subarray(0, U * D);
    for (let i = 0; i < D; i++) {
      const src = Number(inp.mel2ph[first + i]!) - 1;
      units.set(inp.c.subarray(src * U, (src + 1) * U), i * U);
    }
    this.spk.fill(0);
    this.spk[Math.min(inp.speaker, this.spk.length - 1)] = 1;
    const refined = await refineMel(
      this.diffusion,
      {
        frames: D,
        mel,
        f0: inp.f0.subarray(first, T),
        volume: inp.volume.subarray(first, T),
        units,
        ...(model.config.speakers > 1 ? { speaker: this.spk } : {}),
      },
      { method: DIFFUSION_METHODS[s.method]!, kStep: s.kStep, speedup: s.speedup, mode: 'shallow' },
      this.noise,
    );
    const t1 = performance.now();
    this.times.diffusion = t1 - t;
    t = t1;
    // The vocoder's frames: the last V of the D refined ones, band-major.
    const vmel = this.vmel.subarray(0, M * V);
    for (let b = 0; b < M; b++) vmel.set(refined.subarray(b * D + D - V, b * D + D), b * V);
    const audio = await this.vocoder.run(vmel, inp.f0.subarray(T - V, T), V);
    this.times.vocoder = performance.now() - t;
    return audio;
  }

  async release(): Promise<void> {
    await this.diffusion.release();
    await this.vocoder.release();
  }
}
