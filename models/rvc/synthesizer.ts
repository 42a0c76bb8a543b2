// One RVC synthesizer session behind the contract it was exported with. Inputs live in tensors sized once
// for the largest window; each block writes frames into them and runs. Output comes back at the model's
// rate: with skip_head/return_length only the frames asked for, otherwise the whole window.
import type { Tensor } from '../runtime.js';
import { type LoadedSession, ReusableTensor, toHalf } from '../runtime.js';
import type { SynthContract } from './contracts.js';

// RVC's noise scale is applied inside the graph: the WebUI export and Resona's own build want plain N(0, 1)
// noise from us (the flow's, and for Resona's build the NSF source's too).

/**
 * NSF noise is drawn for the largest RVC rate's hop (48 kHz: 480 samples per frame); the graph uses the first
 * return_length · hop of it. So the probe that measures a model's true rate (a voice.json may be wrong) feeds
 * enough whatever the rate is.
 */
const MAX_HOP = 480;

export interface SynthRequest {
  /** Frames (10 ms) in the window; features and f0 for all of them are in the buffers. */
  frames: number;
  /** Frames at the start not to render (skip_head), and frames to render after them. */
  skip: number;
  render: number;
  /** Decoder frames after the formant stretch (formant_length); equals `render` when formant is 0. */
  formantFrames: number;
  speaker: number;
}

export class Synthesizer {
  /** Features of every frame, frames × channels, float32 (converted when the model wants float16). */
  feats!: Float32Array;
  /** f0 of every frame in Hz, already shifted; 0 = unvoiced. */
  pitchf!: Float32Array;
  /** RVC's coarse pitch (1..255) of every frame. */
  pitch!: BigInt64Array;
  private featsT!: ReusableTensor;
  private pitchT!: ReusableTensor<BigInt64Array>;
  private pitchfT!: ReusableTensor<Float32Array>;
  private noiseT!: ReusableTensor<Float32Array>;
  private nsfNoiseT!: ReusableTensor<Float32Array>;
  private readonly scalars = new Map<string, ReusableTensor<BigInt64Array>>();
  private capacity = 0;
  private seed = 0x2545f491;

  constructor(
    readonly session: LoadedSession,
    readonly contract: SynthContract,
    readonly rate: number,
    readonly channels: number,
  ) {}

  get hop(): number {
    return this.rate / 100;
  }

  /** Sizes every input for windows of up to maxFrames. */
  configure(maxFrames: number): void {
    if (maxFrames <= this.capacity) return;
    this.capacity = maxFrames;
    const C = this.channels;
    this.featsT = new ReusableTensor(this.contract.featType, maxFrames * C);
    this.feats = this.contract.featType === 'float32' ? (this.featsT.data as Float32Array) : new Float32Array(maxFrames * C);
    this.pitchT = new ReusableTensor('int64', maxFrames);
    this.pitch = this.pitchT.data;
    this.pitchfT = new ReusableTensor('float32', maxFrames);
    this.pitchf = this.pitchfT.data;
    if (this.contract.noise) this.noiseT = new ReusableTensor('float32', this.contract.noiseChannels * maxFrames);
    if (this.contract.nsfNoise) this.nsfNoiseT = new ReusableTensor('float32', this.contract.nsfChannels * maxFrames * MAX_HOP);
  }

  private scalar(name: string, value: number, rank: number): Tensor {
    let t = this.scalars.get(name);
    if (!t) {
      t = new ReusableTensor('int64', 1);
      this.scalars.set(name, t);
    }
    t.data[0] = BigInt(value);
    return t.view(rank === 0 ? [] : [1]);
  }

  /** Runs the model; returns its audio (owned by onnxruntime, valid until the next call). */
  async run(r: SynthRequest): Promise<Float32Array> {
    const c = this.contract;
    const T = r.frames;
    const C = this.channels;
    if (c.featType === 'float16') {
      const half = this.featsT.data as Uint16Array;
      for (let i = 0; i < T * C; i++) half[i] = toHalf(this.feats[i]!);
    }
    const feeds: Record<string, Tensor> = {
      [c.feats]: this.featsT.view([1, T, C]),
      [c.length]: this.scalar(c.length, T, 1),
      [c.speaker]: this.scalar(c.speaker, r.speaker, 1),
    };
    if (c.pitch && c.pitchf) {
      feeds[c.pitch] = this.pitchT.view([1, T]);
      feeds[c.pitchf] = this.pitchfT.view([1, T]);
    }
    if (c.noise) {
      this.fillNoise(this.noiseT.data, c.noiseChannels * T);
      feeds[c.noise] = this.noiseT.view([1, c.noiseChannels, T]);
    }
    if (c.nsfNoise) {
      const S = r.render * MAX_HOP;
      this.fillNoise(this.nsfNoiseT.data, S * c.nsfChannels);
      feeds[c.nsfNoise] = this.nsfNoiseT.view([1, S, c.nsfChannels]);
    }
    if (c.skipHead && c.returnLength && c.formantLength) {
      feeds[c.skipHead] = this.scalar(c.skipHead, r.skip, c.scalarRank);
      feeds[c.returnLength] = this.scalar(c.returnLength, r.render, c.scalarRank);
      feeds[c.formantLength] = this.scalar(c.formantLength, r.formantFrames, c.scalarRank);
    }
    const out = await this.session.run(feeds);
    return out[this.session.outputNames[0]!]!.data as Float32Array;
  }

  /** Standard normal noise (Box–Muller over a xorshift generator): no allocation, reproducible. */
  private fillNoise(d: Float32Array, n: number): void {
    let s = this.seed;
    for (let i = 0; i < n; i += 2) {
      s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
      const u1 = ((s >>> 0) + 1) / 4294967297;
      s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
      const u2 = (s >>> 0) / 4294967296;
      const r = Math.sqrt(-2 * Math.log(u1));
      d[i] = r * Math.cos(2 * Math.PI * u2);
      if (i + 1 < n) d[i + 1] = r * Math.sin(2 * Math.PI * u2);
    }
    this.seed = s;
  }

  /** Output rate measured by rendering `frames` frames: L / frames × 100 (catches a wrong voice.json). */
  async measureRate(frames = 20): Promise<number> {
    this.configure(frames);
    this.feats.fill(0.1, 0, frames * this.channels);
    this.pitchf.fill(200, 0, frames);
    this.pitch.fill(100n, 0, frames);
    const audio = await this.run({ frames, skip: 0, render: frames, formantFrames: frames, speaker: 0 });
    return Math.round((audio.length / frames) * 100);
  }
}
