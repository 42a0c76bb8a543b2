// Content encoders (HuBERT / ContentVec) in their two ONNX styles:
//   'vec':   one float32 input [1, 1, N] of 16 kHz audio → [1, T, C] (the vec-768-layer-12.onnx family);
//   'units': `audio` [1, N] → named outputs, `units9` (v1: layer 9 + final projection, 256-d) and
//            `unit12` (v2: layer 12, 768-d); the voice's metadata picks one.
// Frames are 20 ms (320 samples) with HuBERT's 400-sample receptive field, so N samples give
// floor((N − 400) / 320) + 1 frames; the caller asks for a whole number of frames and the missing last
// frame is repeated, as RVC does.
import { ModelLoadError, type LoadedSession, loadSession, ReusableTensor, type SessionOptions } from '../runtime.js';

export const ENCODER_RATE = 16000;
export const ENCODER_HOP = 320;

export interface EncoderChoice {
  /** Feature size the voice was trained on (256 for v1, 768 for v2). */
  channels: number;
  /** Transformer layer the voice was trained on (9 for v1, 12 for v2). */
  layer: number;
}

export class ContentEncoder {
  private input!: ReusableTensor<Float32Array>;
  private constructor(
    private readonly s: LoadedSession,
    readonly style: 'vec' | 'units',
    private readonly outputName: string,
    readonly channels: number,
  ) {}

  static async load(source: string | Uint8Array, choice: EncoderChoice, o: SessionOptions = {}): Promise<ContentEncoder> {
    const s = await loadSession(source, { ...o, threads: o.threads ?? 2 });
    const name = s.name;
    const fail = (why: string) => {
      void s.release();
      return new ModelLoadError(`${name}: ${why}`);
    };
    const inputs = s.inputs;
    const found = inputs.map((i) => `${i.name} ${i.type}[${i.dims.join(',')}]`).join(', ');
    if (inputs.length !== 1 || inputs[0]!.type !== 'float32') {
      throw fail(`not a content encoder: inputs are ${found}; expected one float32 audio input ([1,1,N] or "audio" [1,N])`);
    }
    const rank = inputs[0]!.dims.length;
    if (rank === 3) {
      const out = s.outputNames[0]!;
      return ContentEncoder.checked(new ContentEncoder(s, 'vec', out, choice.channels), choice, fail);
    }
    if (rank === 2) {
      const wanted = choice.layer === 9 ? 'units9' : choice.layer === 12 ? 'unit12' : null;
      if (!wanted || !s.outputNames.includes(wanted)) {
        throw fail(`has outputs ${s.outputNames.join(', ')}, but the voice needs layer ${choice.layer} (${choice.channels}-d): ` +
          'use an encoder with a units9 (v1) or unit12 (v2) output, or a vec-256-layer-9 / vec-768-layer-12 model');
      }
      return ContentEncoder.checked(new ContentEncoder(s, 'units', wanted, choice.channels), choice, fail);
    }
    throw fail(`not a content encoder: inputs are ${found}; expected [1,1,N] or [1,N] audio`);
  }

  /** Runs once on a second of silence: the feature size must be the voice's, whatever the file claims. */
  private static async checked(e: ContentEncoder, choice: EncoderChoice, fail: (why: string) => Error): Promise<ContentEncoder> {
    e.configure(ENCODER_RATE);
    const got = await e.run(new Float32Array(ENCODER_RATE));
    const c = got.dims[2];
    if (got.dims.length !== 3 || c !== choice.channels) {
      throw fail(`gives features of shape [${got.dims.join(',')}], but the voice needs ${choice.channels}-d features (layer ${choice.layer}): ` +
        (choice.channels === 768 ? 'use a 768-d layer-12 encoder (vec-768-layer-12 / HuBERT base, unit12)' : 'use a 256-d layer-9 encoder with the final projection (vec-256-layer-9, units9)'));
    }
    return e;
  }

  /** Where the encoder runs, and why not where it was asked to (null when it is). */
  get provider() {
    return this.s.provider;
  }
  get providerNote() {
    return this.s.providerNote;
  }
  get placementNote() {
    return this.s.placementNote;
  }

  /** Sizes the input tensor for windows of up to maxSamples. */
  configure(maxSamples: number): void {
    if (!this.input || this.input.data.length < maxSamples) this.input = new ReusableTensor('float32', maxSamples);
  }

  private async run(audio: Float32Array) {
    const n = audio.length;
    this.input.data.set(audio);
    const dims = this.style === 'vec' ? [1, 1, n] : [1, n];
    const feeds = { [this.s.inputNames[0]!]: this.input.view(dims) };
    return (await this.s.run(feeds))[this.outputName]!;
  }

  /**
   * Encodes `audio` (16 kHz, a multiple of 320 samples long) into exactly audio.length / 320 frames of
   * `channels` values in `out`, oldest first.
   */
  async encode(audio: Float32Array, out: Float32Array): Promise<number> {
    const frames = audio.length / ENCODER_HOP;
    const t = await this.run(audio);
    const data = t.data as Float32Array;
    const got = Math.min(t.dims[1] as number, frames);
    const C = this.channels;
    out.set(data.subarray(0, got * C));
    // HuBERT's receptive field leaves the last frame short: repeat the newest one.
    for (let f = got; f < frames; f++) out.copyWithin(f * C, (got - 1) * C, got * C);
    return frames;
  }

  release(): Promise<void> {
    return this.s.release();
  }
}
