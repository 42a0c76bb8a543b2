// An RVC voice as a VoiceStage: the engine hands it the 16 kHz context window and an f0 source; it runs
// content encoder → (index blend) → synthesizer and returns the region ending at the newest input.
//
// Frame grid: the window is cut to a whole number of 20 ms encoder frames ending exactly at the newest
// sample, so every 10 ms synthesizer frame (two per encoder frame, as RVC repeats them) ends on a known
// sample and the model's output ends where the input does. The grid moves with the window; SOLA hides that.
import { coarsePitch, semitonesToRatio } from '../../engine/pitch.js';
import { stageTimings, type VoiceBlock, type VoiceConfig, type VoiceStage } from '../../engine/voices/voice-stage.js';
import { ENCODER_HOP, ENCODER_RATE, type ContentEncoder } from './content-encoder.js';
import type { Synthesizer } from './synthesizer.js';
import { SettingError } from '../../protocol/settings.js';

/** The index's blend, as the voice needs it (models/index provides it). */
export interface FeatureBlender {
  readonly d: number;
  blend(feats: Float32Array, frames: number, ratio: number, protect: number, f0: Float32Array | null): void;
}

export interface RvcVoiceParts {
  id: string;
  encoder: ContentEncoder;
  synth: Synthesizer;
  index: FeatureBlender | null;
  speakers: number;
}

const SYNTH_HOP_16K = 160;

export class RvcVoice implements VoiceStage {
  readonly id: string;
  readonly inputRate = ENCODER_RATE;
  readonly outputRate: number;
  readonly lookaheadSec = 0;
  private config!: VoiceConfig;
  private encoded = new Float32Array(0); // encoder frames × C
  private f0At50 = new Float32Array(0);
  private stretched = new Float32Array(0);
  /** ms spent in each part of the last render (telemetry and benchmarks). */
  readonly times = { encoder: 0, index: 0, synth: 0 };
  /** The network stages as the engine and telemetry see them (named as the voice's placement names them). */
  readonly stages = stageTimings('content encoder', 'synthesizer');

  constructor(private readonly parts: RvcVoiceParts) {
    this.id = parts.id;
    this.outputRate = parts.synth.rate;
  }

  /** Whether formant shift reaches the model (only the skip_head contract has formant_length). */
  get formantSupported(): boolean {
    return this.parts.synth.contract.formantLength !== null;
  }

  configure(c: VoiceConfig): void {
    if (c.speaker >= this.parts.speakers) {
      throw new SettingError('speaker', `speaker ${c.speaker} does not exist: this voice has ${this.parts.speakers} speaker${this.parts.speakers === 1 ? '' : 's'} (0–${this.parts.speakers - 1})`);
    }
    this.config = c;
    const encFrames = Math.floor(c.maxWindow / ENCODER_HOP);
    const C = this.parts.synth.channels;
    this.parts.encoder.configure(encFrames * ENCODER_HOP);
    this.parts.synth.configure(2 * encFrames);
    if (this.encoded.length < encFrames * C) {
      this.encoded = new Float32Array(encFrames * C);
      this.f0At50 = new Float32Array(encFrames);
    }
    const maxFormantOut = Math.ceil(c.maxRender * semitonesToRatio(12)) + 2 * this.parts.synth.hop;
    if (this.stretched.length < maxFormantOut) this.stretched = new Float32Array(maxFormantOut);
  }

  reset(): void {}

  async render(b: VoiceBlock, out: Float32Array): Promise<void> {
    const { encoder, synth, index } = this.parts;
    const c = this.config;
    const C = synth.channels;
    const W = b.audio.length;
    const encFrames = Math.floor(W / ENCODER_HOP);
    const n = encFrames * ENCODER_HOP;
    const segStart = b.startIndex + W - n;
    const frames = 2 * encFrames;
    const hop = synth.hop;
    const render = Math.min(frames, Math.ceil(out.length / hop));
    const skip = frames - render;

    let t = performance.now();
    await encoder.encode(b.audio.subarray(W - n), this.encoded);
    let t1 = performance.now();
    this.times.encoder = t1 - t;
    t = t1;

    // Formant (RVC's scheme): the decoder draws the block stretched by 2^(formant/12) and it is squeezed
    // back, which raises formants and f0 alike; f0 goes in lowered by the stretch actually used (whole
    // frames), so the pitch comes out exactly as asked.
    const formant = this.formantSupported ? c.formant : 0;
    const formantFrames = formant === 0 ? render : Math.max(1, Math.ceil(render * semitonesToRatio(formant)));
    const ratio = (semitonesToRatio(c.pitch) * render) / formantFrames;
    const pitchf = synth.pitchf;
    for (let j = 0; j < frames; j++) {
      const hz = b.f0.hzAt((segStart + j * SYNTH_HOP_16K + SYNTH_HOP_16K / 2) / ENCODER_RATE);
      const f = hz > 0 ? hz * ratio : 0;
      pitchf[j] = f;
      synth.pitch[j] = BigInt(coarsePitch(f));
    }

    if (index && c.indexRatio > 0) {
      // RVC retrieves only the frames it renders (from skip_head / 2 on): the cost follows the block.
      const from = Math.floor(skip / 2);
      for (let k = from; k < encFrames; k++) this.f0At50[k - from] = pitchf[2 * k]!;
      index.blend(this.encoded.subarray(from * C, encFrames * C), encFrames - from, c.indexRatio, c.protect, synth.contract.f0 ? this.f0At50 : null);
    }
    t1 = performance.now();
    this.times.index = t1 - t;
    t = t1;
    // 50 → 100 frames per second: each encoder frame twice.
    const feats = synth.feats;
    for (let k = 0; k < encFrames; k++) {
      const src = this.encoded.subarray(k * C, (k + 1) * C);
      feats.set(src, 2 * k * C);
      feats.set(src, (2 * k + 1) * C);
    }

    const audio = await synth.run({ frames, skip, render, formantFrames, speaker: c.speaker });
    this.times.synth = performance.now() - t;
    this.stages[0]!.ms = this.times.encoder;
    this.stages[1]!.ms = this.times.synth;
    let src = audio;
    if (formantFrames !== render) {
      const want = render * hop;
      src = this.stretched.subarray(0, want);
      resampleLinear(audio, src);
    }
    // The rendered audio ends at the newest input sample: the region is its tail.
    const take = Math.min(out.length, src.length);
    out.fill(0, 0, out.length - take);
    out.set(src.subarray(src.length - take), out.length - take);
  }
}

function resampleLinear(src: Float32Array, dst: Float32Array): void {
  const step = src.length / dst.length;
  for (let i = 0; i < dst.length; i++) {
    const pos = (i + 0.5) * step - 0.5;
    const k = Math.max(0, Math.floor(pos));
    const f = Math.max(0, pos - k);
    const a = src[Math.min(k, src.length - 1)]!;
    const b = src[Math.min(k + 1, src.length - 1)]!;
    dst[i] = a + (b - a) * f;
  }
}
