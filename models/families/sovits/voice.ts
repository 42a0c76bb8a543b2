// A so-vits-svc voice as a VoiceStage: the engine hands it the 16 kHz context window and an f0 source; it
// runs the content encoder (50 fps), maps those frames onto the model's hop grid with mel2ph, fills f0/uv
// (unvoiced interpolated), loudness and noise, runs the synthesizer at the model's rate and returns the tail
// the engine asked for.
//
// Frame grid: the window is cut to whole 20 ms encoder frames ending at the newest sample (n samples), and
// the model renders T = floor(n·rate/16000 / hop) frames whose last one ends exactly at the newest sample, so
// content frame floor(i·T_src/T) lines up with model frame i at the newest end, where the kept region is.
// The grid moves with the window by the engine's block; a block that is not a whole number of hops moves it
// by part of a hop, and SOLA hides that seam as it hides the restarted sine phase of each call.
import { semitonesToRatio } from '../../../engine/pitch.js';
import { stageTimings, type VoiceBlock, type VoiceConfig, type VoiceStage } from '../../../engine/voices/voice-stage.js';
import { SettingError } from '../../../protocol/settings.js';
import { DIFFUSION_STAGE, VOCODER_STAGE } from '../../../protocol/stage-preview.js';
import { ENCODER_HOP, ENCODER_RATE, type ContentEncoder } from '../../rvc/content-encoder.js';
import { fillMel2ph, frameRms, interpolateF0 } from './frames.js';
import type { FeatureIndex } from '../../index/feature-index.js';
import type { SovitsF0Predictor } from './f0-predictor.js';
import type { SovitsSynth } from './synthesizer.js';
import { refinePasses, type SovitsRefiner } from './refiner.js';

export interface SovitsVoiceParts {
  id: string;
  encoder: ContentEncoder;
  synth: SovitsSynth;
  rate: number;
  hop: number;
  speakers: number;
  /** Cluster centres or training features per speaker id, when the voice came with a retrieval file. */
  retrieval: { kind: 'cluster' | 'index'; indexes: FeatureIndex[] } | null;
  /** Shallow diffusion + vocoder after the synthesizer (./refiner.ts), when the voice has both; else null. */
  refiner?: SovitsRefiner | null;
  /** The F0 decoder, when the voice was trained with use_automatic_f0_prediction (the autoF0 switch runs it). */
  f0Predictor?: SovitsF0Predictor | null;
}

/** Content frames blended beyond those the kept region covers: the synthesizer's convolutions look that far. */
const RETRIEVAL_MARGIN = 2;

export class SovitsVoice implements VoiceStage {
  readonly id: string;
  readonly inputRate = ENCODER_RATE;
  readonly outputRate: number;
  readonly lookaheadSec = 0;
  readonly formantSupported = false;
  private config!: VoiceConfig;
  /** ms spent in each part of the last render. */
  readonly times = { encoder: 0, retrieval: 0, synth: 0, diffusion: 0, vocoder: 0 };
  /**
   * The network stages as the engine and telemetry see them (named as the voice's placement names them): with
   * a refiner, diffusion (calls = denoiser passes) and vocoder too, listed even while diffusion is off (0 ms),
   * so the list a running voice reports never changes length.
   */
  readonly stages;
  /** Denoiser passes per block at the current settings; 0 with diffusion off or absent. */
  private passes = 0;

  constructor(private readonly parts: SovitsVoiceParts) {
    this.id = parts.id;
    this.outputRate = parts.rate;
    this.stages = parts.refiner ? stageTimings('content encoder', 'synthesizer', DIFFUSION_STAGE, VOCODER_STAGE) : stageTimings('content encoder', 'synthesizer');
  }

  /** Model frames over n 16 kHz samples. */
  framesFor(n: number): number {
    return Math.floor((n * this.parts.rate) / (ENCODER_RATE * this.parts.hop));
  }

  configure(c: VoiceConfig): void {
    const { speakers } = this.parts;
    if (c.speaker >= speakers) {
      throw new SettingError('speaker', `speaker ${c.speaker} does not exist: this voice has ${speakers} speaker${speakers === 1 ? '' : 's'} (0–${speakers - 1})`);
    }
    this.config = c;
    const src = Math.floor(c.maxWindow / ENCODER_HOP);
    this.parts.encoder.configure(src * ENCODER_HOP);
    this.parts.synth.configure(src, this.framesFor(src * ENCODER_HOP));
    for (const index of this.parts.retrieval?.indexes ?? []) index.reserve(src);
    const refiner = this.parts.refiner;
    this.passes = 0;
    if (refiner) {
      refiner.configure(this.framesFor(src * ENCODER_HOP));
      // Checked here, where a setting change arrives, so a k_step the model cannot run is refused by name.
      if (c.diffusion === 1) this.passes = refinePasses(refiner.diffusion.model, { kStep: c.kStep, speedup: c.speedup, method: c.diffusionMethod });
      this.stages[2]!.calls = this.passes;
    }
  }

  /**
   * Content frames the retrieval blend touches: those under the region the engine keeps, plus a margin. The
   * blend is per frame and mel2ph only picks frames, so blending before the mapping equals so-vits-svc's
   * blend after it, and the frames left alone are context the kept region does not sound.
   */
  retrievalFrames(tSrc: number, region: number): number {
    const covered = Math.ceil((region * ENCODER_RATE) / (this.parts.rate * ENCODER_HOP));
    return Math.min(tSrc, covered + RETRIEVAL_MARGIN);
  }

  reset(): void {}

  async render(b: VoiceBlock, out: Float32Array): Promise<void> {
    const { encoder, synth, rate, hop, retrieval } = this.parts;
    const c = this.config;
    const W = b.audio.length;
    const tSrc = Math.floor(W / ENCODER_HOP);
    const n = tSrc * ENCODER_HOP;
    const T = this.framesFor(n);
    if (T < 1) {
      out.fill(0);
      return;
    }
    let t = performance.now();
    await encoder.encode(b.audio.subarray(W - n), synth.c);
    const t1 = performance.now();
    this.times.encoder = t1 - t;
    t = t1;
    const ratio = c.clusterInferRatio;
    if (retrieval && ratio > 0) {
      // so-vits-svc keys retrieval by speaker: the running speaker's centres or features.
      const index = retrieval.indexes[c.speaker]!;
      const C = synth.channels;
      const n = this.retrievalFrames(tSrc, out.length);
      const rows = synth.c.subarray((tSrc - n) * C, tSrc * C);
      if (retrieval.kind === 'cluster') index.blendNearest(rows, n, ratio);
      else index.blend(rows, n, ratio, 0.5, null); // protect 0.5 = off: so-vits-svc has no protect
    }
    const t2 = performance.now();
    this.times.retrieval = t2 - t;
    t = t2;

    fillMel2ph(synth.mel2ph, T, tSrc);
    // The model's frames in 16 kHz samples: frame i covers [first + i·len, first + (i+1)·len) of the window.
    const len = (hop * ENCODER_RATE) / rate;
    const first = W - T * len;
    const f0 = synth.f0;
    for (let i = 0; i < T; i++) f0[i] = b.f0.hzAt((b.startIndex + first + (i + 0.5) * len) / ENCODER_RATE);
    interpolateF0(f0, synth.uv, T);
    const shift = semitonesToRatio(c.pitch);
    if (shift !== 1) for (let i = 0; i < T; i++) f0[i] = f0[i]! * shift;
    const refiner = c.diffusion === 1 ? this.parts.refiner : null;
    // The diffusion condition takes loudness per frame whether or not the synthesizer does.
    if (synth.form.vol || refiner) frameRms(b.audio, first, len, T, synth.vol);
    if (c.autoF0 >= 0.5 && this.parts.f0Predictor) await this.parts.f0Predictor.predict(synth, tSrc, T, c.speaker);

    // A kept-region synthesizer draws only the newest frames someone reads (the refiner reads more than the
    // engine keeps: its mel's context), plus its decoder's context; an export form draws all T.
    const wanted = refiner ? refiner.audioFrames(T, out.length) : Math.ceil(out.length / hop);
    let audio = await synth.run(tSrc, T, c.speaker, c.noiseScale, synth.renderFrames(T, wanted));
    this.times.synth = performance.now() - t;
    this.stages[0]!.ms = this.times.encoder;
    this.stages[1]!.ms = this.times.synth;
    if (refiner) {
      audio = await refiner.render(
        { audio, frames: T, f0, volume: synth.vol, c: synth.c, mel2ph: synth.mel2ph, channels: synth.channels, speaker: c.speaker, region: out.length },
        { kStep: c.kStep, speedup: c.speedup, method: c.diffusionMethod },
      );
      this.times.diffusion = refiner.times.diffusion;
      this.times.vocoder = refiner.times.vocoder;
    } else {
      this.times.diffusion = this.times.vocoder = 0;
    }
    if (this.stages.length > 2) {
      this.stages[2]!.ms = this.times.diffusion;
      this.stages[3]!.ms = this.times.vocoder;
    }
    // The rendered audio ends at the newest input sample: the region is its tail.
    const take = Math.min(out.length, audio.length);
    out.fill(0, 0, out.length - take);
    out.set(audio.subarray(audio.length - take), out.length - take);
  }
}
