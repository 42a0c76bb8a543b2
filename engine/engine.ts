// The streaming engine: one block in, one block out, exactly as the live inference worker will run it.
//
//   input (stream rate) → silence gate → ┬→ 16 kHz → f0 tracker ─────────────┐
//                                        └→ voice input rate → context window → voice.render(region)
//   → SOLA (voice output rate) → loudness follow → stream rate → output
//
// Voices that declare `streaming` (the built-in DSP voices) take the streaming path instead: the input is cut
// into the voice's fixed quanta, and per quantum the gate, the f0 tracker and the window advance and the voice
// renders that quantum's output once, look-ahead behind the input. No block wait, no SOLA, no crossfade: the
// algorithmic latency is one quantum plus the look-ahead, and the output is the same however calls split it.
//
// Settings changes are queued and applied between blocks; buffers are sized then, never per block.
import { DEFAULT_SETTINGS, type EngineSettings, mergeSettings, SETTING_RANGES } from '../protocol/settings.js';
import type { F0Estimator } from './f0/estimator.js';
import { F0_RATE, F0Tracker } from './f0/tracker.js';
import { type LatencyReport, latencyReport } from './latency.js';
import { LoudnessFollow } from './loudness.js';
import { StreamResampler } from './resampler.js';
import { SilenceGate } from './silence-gate.js';
import { SlidingWindow } from './sliding-window.js';
import { Sola } from './sola.js';
import { type StageTiming, STREAM_RATE, type VoiceBlock, type VoiceStage, voiceKnobs } from './voices/voice-stage.js';

export const MIN_STREAM_RATE = 8000;
const NO_STAGES: readonly StageTiming[] = [];
export const MAX_STREAM_RATE = 192000;
/** Context the DSP voices need before the render region: two periods at 40 Hz plus interpolation taps. */
const VOICE_MARGIN_SEC = 0.06;
/**
 * Streaming path: output muted for this long after the stream (re)starts, then faded in over START_FADE_SEC.
 * Until a streaming voice has heard enough of the stream to find a period (its look-ahead and f0 span), it
 * copies the input at the speaker's own pitch: after an inference worker restart mid-sentence that was the
 * real voice on the virtual microphone for ~25 ms (live-stress counted a dry frame).
 */
const START_MUTE_SEC = 0.03;
// (Also after live mode's warm-up, via restartOutput(): the warm-up's synthetic audio is not what follows.)
const START_FADE_SEC = 0.005;
/**
 * Streaming path: quanta per f0-branch step (5 ms at 1 ms quanta). Ten (one tracker frame) made the tracker's
 * frames, which pitch marks fall back on, trail by 5 ms more: an octave down on one test clip went from 11.6 to
 * 12.2 cents off; five kept it at 11.2 and still cut the resampler's per-call garbage fivefold.
 */
const F0_GROUP = 5;
/** Streaming path: stage times are read on one quantum in this many (7: prime to the f0 tracker's 10 ms frames). */
const STAGE_STRIDE = 7;

export interface EngineOptions {
  /** The stream's rate: the file's in `convert`, the device's live. */
  streamRate: number;
  voice: VoiceStage;
  /** Pitch estimator; the built-in YIN when absent. The engine owns it from here (destroy() disposes it). */
  f0?: F0Estimator;
  settings?: Partial<EngineSettings>;
  /**
   * Which path a voice that can stream takes: 'streaming' (the default: what live mode runs) or 'block' (its
   * context-window render joined by SOLA; a reference for tests and benchmarks). Other voices always take 'block'.
   */
  path?: 'block' | 'streaming';
}

/** Per-stage time of the last block, ms (telemetry and benchmarks). */
export interface StageTimes {
  gate: number;
  resampleIn: number;
  f0: number;
  voice: number;
  sola: number;
  resampleOut: number;
}

interface Geometry {
  block: number; // stream samples per block
  crossfade: number; // voice-output samples
  search: number; // voice-output samples
  windowCapacity: number; // voice-input samples
  maxEmit: number; // voice-output samples per block, upper bound
}

export class StreamingEngine {
  readonly streamRate: number;
  readonly voiceInRate: number;
  readonly voiceOutRate: number;
  private settings: EngineSettings;
  private pending: EngineSettings | null = null;
  private geo!: Geometry;
  private window!: SlidingWindow;
  private sola: Sola | null = null;
  private region!: Float32Array;
  private emitted!: Float32Array;
  private loudness!: LoudnessFollow;
  private readonly gated: Float32Array;
  /** Streaming path: the silence gate's gain per sample of the current quantum. */
  private readonly gains: Float32Array;
  private readonly gate: SilenceGate;
  private readonly f0: F0Tracker;
  private readonly block: { audio: Float32Array; startIndex: number; newSamples: number; f0: F0Tracker };
  private emittedEnd = 0; // absolute voice-output index one past the last emitted sample
  private muteFrom = 0; // streaming: output index where the start mute began (see START_MUTE_SEC)
  private silentRun = 0; // voice-input samples of fully gated input in a row
  readonly times: StageTimes = { gate: 0, resampleIn: 0, f0: 0, voice: 0, sola: 0, resampleOut: 0 };
  /** Streaming path: the voice's quantum and look-ahead in stream samples (0 on the block path). */
  private readonly quantum: number;
  private readonly lookahead: number;
  /** Streaming path: gate, f0, voice and loudness time of the current call, summed over its quanta. */
  private readonly streamTimes = new Float64Array(4);
  /** Streaming path: the current quantum's input, exactly one quantum long (so nothing needs a view of it). */
  private readonly gatedQ: Float32Array;
  /** Streaming path: input gathered for the f0 branch (F0_GROUP quanta), and how many quanta it holds. */
  private readonly f0Stage: Float32Array;
  private f0Staged = 0;
  /** Streaming path: quanta converted, for sampling stage times. */
  private quantumCount = 0;
  /** Streaming path: whether the gate passed the quantum in progress. */
  private quantumPassed = false;
  /** Streaming path: the voice's one-quantum region, a view made once (per settings change), not per quantum. */
  private regionQ: Float32Array = new Float32Array(0);

  private constructor(
    o: EngineOptions,
    private readonly voice: VoiceStage,
    private readonly toF0: StreamResampler,
    private readonly toVoice: StreamResampler | null,
    private readonly fromVoice: StreamResampler,
  ) {
    this.streamRate = o.streamRate;
    this.voiceInRate = voice.inputRate === STREAM_RATE ? o.streamRate : voice.inputRate;
    this.voiceOutRate = voice.outputRate === STREAM_RATE ? o.streamRate : voice.outputRate;
    this.settings = mergeSettings(DEFAULT_SETTINGS, o.settings ?? {});
    const st = voice.streaming && voice.renderStream && o.path !== 'block' ? voice.streaming : null;
    this.quantum = st ? Math.max(1, Math.round(st.quantumSec * o.streamRate)) : 0;
    this.lookahead = st ? Math.round(st.lookaheadSec * o.streamRate) : 0;
    const maxBlock = StreamingEngine.blockSamples(SETTING_RANGES.blockMs.max, o.streamRate);
    this.gated = new Float32Array(maxBlock);
    this.gains = new Float32Array(Math.max(1, this.quantum));
    this.gatedQ = new Float32Array(Math.max(1, this.quantum));
    this.f0Stage = new Float32Array(Math.max(1, this.quantum) * F0_GROUP);
    this.gate = new SilenceGate(o.streamRate);
    const historySec = (SETTING_RANGES.extraMs.max + SETTING_RANGES.blockMs.max + 400) / 1000;
    this.f0 = new F0Tracker(historySec, Math.ceil((maxBlock * F0_RATE) / o.streamRate) + 64, o.f0);
    this.block = { audio: new Float32Array(0), startIndex: 0, newSamples: 0, f0: this.f0 };
    this.applySettings(this.settings, true);
  }

  static async create(o: EngineOptions): Promise<StreamingEngine> {
    const rate = o.streamRate;
    if (!Number.isInteger(rate) || rate < MIN_STREAM_RATE || rate > MAX_STREAM_RATE) {
      throw new RangeError(`sample rate ${rate} Hz is not supported: use ${MIN_STREAM_RATE} to ${MAX_STREAM_RATE} Hz`);
    }
    const v = o.voice;
    const vin = v.inputRate === STREAM_RATE ? rate : v.inputRate;
    const vout = v.outputRate === STREAM_RATE ? rate : v.outputRate;
    if (v.streaming && o.path !== 'block' && (vin !== rate || vout !== rate)) {
      throw new Error(`voice "${v.id}": a streaming voice runs at the stream's own rate (it asked for ${vin}/${vout} Hz)`);
    }
    const maxBlock = StreamingEngine.blockSamples(SETTING_RANGES.blockMs.max, rate);
    const toF0 = await StreamResampler.create(rate, F0_RATE, maxBlock);
    const toVoice = vin === F0_RATE ? null : await StreamResampler.create(rate, vin, maxBlock);
    const fromVoice = await StreamResampler.create(vout, rate, Math.ceil((maxBlock * vout) / rate) + 64);
    return new StreamingEngine(o, v, toF0, toVoice, fromVoice);
  }

  private static blockSamples(blockMs: number, rate: number): number {
    const ms = Math.max(10, Math.round(blockMs / 10) * 10);
    return Math.round((ms * rate) / 1000);
  }

  /** Stream samples the next processBlock() call takes. */
  get blockSize(): number {
    return (this.pending ? this.geometry(this.pending) : this.geo).block;
  }

  /** True when the voice runs on the streaming path: processBlock takes any whole number of quanta. */
  get streaming(): boolean {
    return this.quantum > 0;
  }

  /** Most stream samples one processBlock() call may take (streaming path; the block path takes blockSize). */
  get maxInput(): number {
    return this.streaming ? this.gated.length - (this.gated.length % this.quantum) : this.blockSize;
  }

  /** Upper bound of the samples one processBlock() call writes. */
  get maxOutput(): number {
    return Math.ceil((this.gated.length * 1.02) + 256);
  }

  get currentSettings(): Readonly<EngineSettings> {
    return this.pending ?? this.settings;
  }

  /** Queues a settings change (checked now, applied before the next block). */
  update(partial: Partial<Record<string, unknown>>): EngineSettings {
    this.pending = mergeSettings(this.currentSettings, partial);
    return this.pending;
  }

  latency(settings: Readonly<EngineSettings> = this.currentSettings): LatencyReport {
    const g = this.geometry(settings);
    return latencyReport({
      streamRate: this.streamRate,
      voiceOutRate: this.voiceOutRate,
      voiceInRate: this.voiceInRate,
      block: g.block,
      crossfade: g.crossfade,
      search: g.search,
      resampleInDelay: this.toVoice ? this.toVoice.delay : this.voiceInRate === F0_RATE ? this.toF0.delay : 0,
      resampleOutDelay: this.fromVoice.delay,
      voiceLookaheadSec: this.streaming ? this.lookahead / this.streamRate : this.voice.lookaheadSec,
      voiceStages: this.stages,
    });
  }

  /** The voice's network stages with the last block's time of each (part of times.voice); empty for DSP voices. */
  get stages(): readonly StageTiming[] {
    return this.voice.stages ?? NO_STAGES;
  }

  /** Lag SOLA chose for the last block, in voice-output samples. */
  get lastSolaLag(): number {
    return this.sola?.lastLag ?? 0;
  }

  private geometry(s: Readonly<EngineSettings>): Geometry {
    if (this.streaming) {
      // One quantum per step; the window holds the look-ahead, the quantum and the grains' reach behind it.
      const q = this.quantum;
      const windowCapacity = this.lookahead + q + Math.ceil(VOICE_MARGIN_SEC * this.voiceInRate);
      return { block: q, crossfade: 0, search: 0, windowCapacity, maxEmit: q };
    }
    const block = StreamingEngine.blockSamples(s.blockMs, this.streamRate);
    const blockOut = Math.floor((block * this.voiceOutRate) / this.streamRate);
    const crossfade = Math.max(1, Math.min(Math.round((s.crossfadeMs * this.voiceOutRate) / 1000), blockOut));
    const search = Math.round((s.searchMs * this.voiceOutRate) / 1000);
    const maxEmit = blockOut + 8;
    const renderSec = (maxEmit + crossfade + search) / this.voiceOutRate;
    const windowCapacity = Math.ceil((s.extraMs / 1000 + renderSec + VOICE_MARGIN_SEC) * this.voiceInRate);
    return { block, crossfade, search, windowCapacity, maxEmit };
  }

  private applySettings(s: EngineSettings, first = false): void {
    const g = this.geometry(s);
    const old = first ? null : this.geo;
    this.geo = g;
    this.settings = s;
    this.window = old ? this.window.resized(g.windowCapacity) : new SlidingWindow(g.windowCapacity, 0);
    if (!this.streaming && (!old || old.crossfade !== g.crossfade || old.search !== g.search)) {
      this.sola = new Sola(g.crossfade, g.search);
    }
    const regionMax = g.maxEmit + g.crossfade + g.search;
    if (!old || this.region.length < regionMax) this.region = new Float32Array(regionMax);
    if (this.streaming) this.regionQ = this.region.subarray(0, this.quantum);
    if (!old || this.emitted.length < g.maxEmit) {
      this.emitted = new Float32Array(g.maxEmit);
      this.loudness = new LoudnessFollow(g.maxEmit, this.voiceOutRate);
    }
    this.gate.configure(s.silenceDb);
    this.voice.configure({
      inputRate: this.voiceInRate,
      outputRate: this.voiceOutRate,
      maxWindow: g.windowCapacity,
      maxRender: regionMax,
      ...voiceKnobs(s),
    });
  }

  /**
   * Converts one block. `input` must hold exactly `blockSize` samples; returns how many samples were
   * written to `out` (about one block; the output resampler's phase makes it vary by a sample or two).
   * Asynchronous because network inference is; calls must not overlap.
   */
  async processBlock(input: Float32Array, out: Float32Array): Promise<number> {
    return this.process(input, out);
  }

  /**
   * processBlock for the real-time caller: `length` samples of `input` (all of it by default), and a plain
   * number back, not a promise, whenever nothing had to wait. On the streaming path with the built-in YIN
   * that is every call, so a device buffer's conversion allocates nothing at all (an async call allocates its
   * promise and resumes in a microtask); a network estimator makes it a promise.
   */
  process(input: Float32Array, out: Float32Array, length = input.length): number | Promise<number> {
    if (this.pending) {
      this.applySettings(this.pending);
      this.pending = null;
    }
    if (this.streaming) {
      const q = this.quantum;
      if (length === 0 || length % q !== 0 || length > this.maxInput || length > input.length) {
        return Promise.reject(
          new RangeError(`processBlock on the streaming path needs a whole number of ${q}-sample quanta up to ${this.maxInput}, got ${length}`),
        );
      }
      this.streamTimes.fill(0);
      return this.processStream(input, out, length, 0);
    }
    return this.processBlockPath(length === input.length ? input : input.subarray(0, length), out);
  }

  private async processBlockPath(input: Float32Array, out: Float32Array): Promise<number> {
    const g = this.geo;
    if (input.length !== g.block) {
      throw new RangeError(`processBlock needs ${g.block} samples, got ${input.length}`);
    }
    let t = performance.now();
    const gated = this.gated.subarray(0, g.block);
    gated.set(input);
    const passed = this.gate.process(gated);
    let t1 = performance.now();
    this.times.gate = t1 - t;
    t = t1;

    const x16 = this.toF0.process(gated);
    const xin = this.toVoice ? this.toVoice.process(gated) : x16;
    t1 = performance.now();
    this.times.resampleIn = t1 - t;
    t = t1;
    await this.f0.push(x16);
    t1 = performance.now();
    this.times.f0 = t1 - t;
    t = t1;

    this.window.push(xin);
    this.silentRun = passed ? 0 : this.silentRun + xin.length;
    const endIndex = this.window.endIndex;
    const emitEnd = Math.round((endIndex * this.voiceOutRate) / this.voiceInRate);
    const n = Math.min(g.maxEmit, emitEnd - this.emittedEnd);
    this.emittedEnd += n;
    const regionLength = this.sola!.regionLength(n);
    const region = this.region.subarray(0, regionLength);
    const regionInSamples = (regionLength * this.voiceInRate) / this.voiceOutRate;
    if (this.silentRun > regionInSamples + VOICE_MARGIN_SEC * this.voiceInRate) {
      region.fill(0); // fully gated: skip the voice, SOLA fades whatever was sounding
      for (const s of this.stages) s.ms = 0;
    } else {
      this.block.audio = this.window.data;
      this.block.startIndex = this.window.startIndex;
      this.block.newSamples = xin.length;
      await this.voice.render(this.block as VoiceBlock, region);
    }
    t1 = performance.now();
    this.times.voice = t1 - t;
    t = t1;

    const emitted = this.emitted.subarray(0, n);
    const sola = this.sola!;
    sola.process(region, n, emitted);
    if (this.settings.loudnessMix < 1) {
      const startSec = (this.emittedEnd - n - sola.crossfade - sola.search + sola.lastLag) / this.voiceOutRate;
      const refStart = Math.round(startSec * this.voiceInRate) - this.window.startIndex;
      this.loudness.apply(emitted, n, this.voiceOutRate, this.window.data, refStart, this.voiceInRate, this.settings.loudnessMix);
    }
    t1 = performance.now();
    this.times.sola = t1 - t;
    t = t1;

    const y = this.fromVoice.process(emitted);
    out.set(y);
    this.times.resampleOut = performance.now() - t;
    return y.length;
  }

  /**
   * The streaming path: quantum by quantum, so every decision (gate frame, f0 frame, pitch mark) falls on the
   * same sample whatever the call sizes are. Output for the quantum ending at input E is the voice's render of
   * [E − look-ahead − quantum, E − look-ahead): as many samples out as in. Runs synchronously from quantum `s`
   * on; only an f0 estimator that answers with a promise (a network) makes the rest of the call wait for it.
   * Everything it touches per quantum was allocated in advance: no views, closures or promises are made here.
   */
  private processStream(input: Float32Array, out: Float32Array, length: number, s: number): number | Promise<number> {
    const q = this.quantum;
    const gated = this.gatedQ;
    const tm = this.streamTimes;
    for (; s < length; s += q) {
      // Stage times are sampled on one quantum in STAGE_STRIDE (and scaled): each clock reading returns a
      // boxed number, and five per quantum were a fifth of what the path allocated.
      const timed = ++this.quantumCount % STAGE_STRIDE === 0;
      const t = timed ? performance.now() : 0;
      for (let i = 0; i < q; i++) gated[i] = input[s + i]!;
      // The gate decides on the newest quantum but scales the output quantum, which is the look-ahead older:
      // it opens before a sound. Gating the input instead ramped over a sound's first 5 ms: a click came out at
      // 0.4–8 % of its level, too weak for the latency probe to hear (the block path decides per 10 ms frame).
      this.quantumPassed = this.gate.gainsFor(gated, this.gains, q);
      const t1 = timed ? performance.now() : 0;
      if (timed) tm[0] += STAGE_STRIDE * (t1 - t);
      // The f0 branch takes its input F0_GROUP quanta at a time (on a grid fixed in stream time, so the output
      // still does not depend on how calls split the input): libsamplerate's JavaScript glue allocates on every
      // call, and per quantum that was nearly half of what the streaming path allocated. YIN's frames are 10 ms
      // apart anyway; the pitch marks take their period from the voice's own causal estimate.
      const g = this.f0Staged;
      for (let i = 0; i < q; i++) this.f0Stage[g * q + i] = gated[i]!;
      this.f0Staged = g + 1 === F0_GROUP ? 0 : g + 1;
      const pending = g + 1 === F0_GROUP ? this.f0.push(this.toF0.output, this.toF0.processInto(this.f0Stage)) : undefined;
      if (timed) tm[1] += STAGE_STRIDE * (performance.now() - t1);
      if (pending) return this.resumeStream(pending, input, out, length, s);
      this.finishQuantum(out, s, timed);
    }
    return this.endStream(length);
  }

  private async resumeStream(pending: Promise<void>, input: Float32Array, out: Float32Array, length: number, s: number): Promise<number> {
    const t = performance.now();
    await pending;
    this.streamTimes[1] += performance.now() - t;
    this.finishQuantum(out, s, false);
    return this.processStream(input, out, length, s + this.quantum);
  }

  /** The rest of quantum `s` once its f0 is in: window, voice, loudness, start mute, gate. */
  private finishQuantum(out: Float32Array, s: number, timed: boolean): void {
    const q = this.quantum;
    const gated = this.gatedQ;
    const region = this.region;
    const gains = this.gains;
    const tm = this.streamTimes;
    let t = timed ? performance.now() : 0;
    this.window.push(gated, q);
    this.silentRun = this.quantumPassed ? 0 : this.silentRun + q;
    if (this.silentRun > q + this.lookahead + VOICE_MARGIN_SEC * this.voiceInRate) {
      region.fill(0, 0, q); // fully gated for longer than any grain reaches: nothing can sound
    } else {
      this.block.audio = this.window.data;
      this.block.startIndex = this.window.startIndex;
      this.block.newSamples = q;
      this.voice.renderStream!(this.block as VoiceBlock, this.regionQ);
    }
    let t1 = timed ? performance.now() : 0;
    if (timed) tm[2] += STAGE_STRIDE * (t1 - t);
    t = t1;
    if (this.settings.loudnessMix < 1) {
      // The input that this quantum's output was made from: look-ahead behind the newest quantum.
      const refStart = this.window.capacity - this.lookahead - q;
      this.loudness.apply(region, q, this.voiceOutRate, this.window.data, refStart, this.voiceInRate, this.settings.loudnessMix);
    }
    if (timed) tm[3] += STAGE_STRIDE * (performance.now() - t);
    const muteEnd = Math.round(START_MUTE_SEC * this.streamRate);
    const fadeLen = Math.max(1, Math.round(START_FADE_SEC * this.streamRate));
    const at = this.emittedEnd + s - this.muteFrom; // output index of this quantum since the (re)start
    if (at < muteEnd + fadeLen) {
      for (let i = 0; i < q; i++) gains[i] = gains[i]! * Math.min(1, Math.max(0, (at + i - muteEnd) / fadeLen));
    }
    for (let i = 0; i < q; i++) out[s + i] = region[i]! * gains[i]!;
  }

  private endStream(length: number): number {
    this.emittedEnd += length;
    const times = this.times;
    const tm = this.streamTimes;
    times.gate = tm[0]!;
    times.resampleIn = 0;
    times.f0 = tm[1]!;
    times.voice = tm[2]!;
    times.sola = tm[3]!;
    times.resampleOut = 0;
    return length;
  }

  /**
   * Streaming path: treat the next input as a fresh start of sound: the output is muted for START_MUTE_SEC and
   * faded in (live mode calls it after the warm-up and whenever conversion resumes, where real audio follows
   * synthetic audio or a gap). No effect on the block path.
   */
  restartOutput(): void {
    this.muteFrom = this.emittedEnd;
  }

  /** The active pitch estimator's id ('yin' unless one was given). */
  get f0Method(): string {
    return this.f0.estimator.id;
  }

  destroy(): void {
    void this.f0.estimator.dispose?.();
    this.toF0.destroy();
    this.toVoice?.destroy();
    this.fromVoice.destroy();
  }
}
