// One so-vits-svc synthesizer session behind its ONNX form: inputs live in tensors sized once for the largest
// window; each block fills T frames of them and runs. Output is the newest `render` frames' audio at the
// model's rate with the kept-region form (skip_head = T − render), all T frames' with the export forms.
import { type LoadedSession, ReusableTensor, type Tensor } from '../../runtime.js';
import { fillNormal } from './frames.js';
import type { SovitsForm } from './forms.js';

export class SovitsSynth {
  /** Content frames, time-major [T_src × C]: the encoder writes here directly. */
  c!: Float32Array;
  f0!: Float32Array;
  uv!: Float32Array;
  vol!: Float32Array;
  mel2ph!: BigInt64Array;
  private cT!: ReusableTensor<Float32Array>;
  private f0T!: ReusableTensor<Float32Array>;
  private uvT!: ReusableTensor<Float32Array>;
  private volT!: ReusableTensor<Float32Array>;
  private melT!: ReusableTensor<BigInt64Array>;
  private noiseT!: ReusableTensor<Float32Array>;
  private sidT!: ReusableTensor<BigInt64Array>;
  private mixT!: ReusableTensor<Float32Array>;
  private readonly skipT = new ReusableTensor('int64', 1);
  private readonly lengthT = new ReusableTensor('int64', 1);
  private capacity = { src: 0, frames: 0 };
  private seed = 52468;

  constructor(
    readonly session: LoadedSession,
    readonly form: SovitsForm,
    readonly channels: number,
    /** Speakers the mix weights have a column for (1 with an id input). */
    readonly mixSpeakers: number,
  ) {}

  /** Sizes every input for up to maxSrc content frames and maxFrames model frames. */
  configure(maxSrc: number, maxFrames: number): void {
    if (maxSrc <= this.capacity.src && maxFrames <= this.capacity.frames) return;
    this.capacity = { src: Math.max(maxSrc, this.capacity.src), frames: Math.max(maxFrames, this.capacity.frames) };
    const { src, frames } = this.capacity;
    this.cT = new ReusableTensor('float32', src * this.channels);
    this.c = this.cT.data;
    this.f0T = new ReusableTensor('float32', frames);
    this.f0 = this.f0T.data;
    this.uvT = new ReusableTensor('float32', frames);
    this.uv = this.uvT.data;
    this.volT = new ReusableTensor('float32', frames);
    this.vol = this.volT.data;
    this.melT = new ReusableTensor('int64', frames);
    this.mel2ph = this.melT.data;
    this.noiseT = new ReusableTensor('float32', this.form.noiseChannels * frames);
    this.sidT = new ReusableTensor('int64', 1);
    if (this.form.speakerInput === 'mix') this.mixT = new ReusableTensor('float32', frames * this.mixSpeakers);
  }

  /** c, f0, mel2ph, uv (and vol when the form takes it) over T frames: what the F0 decoder reads too. */
  frameFeeds(tSrc: number, T: number): Record<string, Tensor> {
    const feeds: Record<string, Tensor> = {
      c: this.cT.view([1, tSrc, this.channels]),
      f0: this.f0T.view([1, T]),
      mel2ph: this.melT.view([1, T]),
      uv: this.uvT.view([1, T]),
    };
    if (this.form.vol) feeds.vol = this.volT.view([1, T]);
    return feeds;
  }

  /**
   * Frames the model draws when the caller needs the newest `wanted` to be what a render of all T would give:
   * with the kept-region form those plus the decoder's context (its left reach: the decoder zero-pads where
   * the full window has real frames), at most T; with an export form all T.
   */
  renderFrames(T: number, wanted: number): number {
    return this.form.keep ? Math.min(T, wanted + this.form.decoderContext) : T;
  }

  /**
   * Runs T frames over tSrc content frames (c, f0, uv, mel2ph and vol filled by the caller); the audio is that
   * of the newest `render` frames (renderFrames), render·hop samples ending at frame T.
   */
  async run(tSrc: number, T: number, speaker: number, noiseScale: number, render = T): Promise<Float32Array> {
    const f = this.form;
    this.seed = fillNormal(this.noiseT.data, f.noiseChannels * T, noiseScale, this.seed);
    const feeds = this.frameFeeds(tSrc, T);
    feeds.noise = this.noiseT.view([1, f.noiseChannels, T]);
    if (f.speakerInput === 'mix') {
      // One speaker, chosen by the knob: a one-hot weight row per frame.
      const n = this.mixSpeakers;
      const w = this.mixT.data;
      w.fill(0, 0, T * n);
      for (let i = 0; i < T; i++) w[i * n + speaker] = 1;
      feeds.sid = this.mixT.view([T, n]);
    } else {
      this.sidT.data[0] = BigInt(speaker);
      feeds.sid = this.sidT.view([1]);
    }
    if (f.keep) {
      this.skipT.data[0] = BigInt(T - render);
      this.lengthT.data[0] = BigInt(render);
      feeds.skip_head = this.skipT.view([]);
      feeds.return_length = this.lengthT.view([]);
    }
    const out = await this.session.run(feeds);
    return out[this.session.outputNames[0]!]!.data as Float32Array;
  }

  /** Output samples per frame, measured by rendering `frames` frames of a steady tone's inputs. */
  async measureHop(frames = 16): Promise<number> {
    this.configure(frames, frames);
    this.c.fill(0.1, 0, frames * this.channels);
    for (let i = 0; i < frames; i++) this.mel2ph[i] = BigInt(i + 1);
    this.f0.fill(200, 0, frames);
    this.uv.fill(1, 0, frames);
    this.vol.fill(0.1, 0, frames);
    const audio = await this.run(frames, frames, 0, 0.4);
    return audio.length / frames;
  }
}
