// Records what goes in and what comes out to WAV, keeping time: a recording has the session's length, so an
// input and an output recording line up with each other and with a video of the same session. The record
// rings carry what the devices moved; wherever a device moved nothing (an output stalled or reopened, a
// device lost, the rings overflowing) the gap is written as silence, measured on the wall clock.
import type { SharedBuffers } from '../../protocol/rings.js';
import { CTRL } from '../../protocol/rings.js';
import { fadeIn, fadeOut } from '../../native-audio/fades.js';
import { AudioRing, type Control } from '../../native-audio/rings.js';
import { WavWriter } from './wav-writer.js';

/**
 * A gap shorter than this is device jitter (buffers still in flight, a burst after a short stall), not
 * missing audio: only a longer silence from a device (a stall that reopened the stream, a device lost) is
 * filled.
 */
const GAP_SLACK_SEC = 0.5;
const DRAIN_MS = 50;
/** Padding is faded in and out (5 ms), so the recorder never adds a click of its own at a gap's edges. */
const FADE_SEC = 0.005;

class Track {
  private readonly startedAt: number;
  private readonly zeros: Float32Array;
  /** The newest few ms, held back so they can be faded out if a gap follows them. */
  private readonly tail: Float32Array;
  private tailLen = 0;
  private fadeInNext = false;

  constructor(
    readonly ring: AudioRing,
    readonly writer: WavWriter,
    private readonly buf: Float32Array,
  ) {
    this.zeros = new Float32Array(Math.round(writer.rate * 0.1));
    this.tail = new Float32Array(Math.max(1, Math.round(writer.rate * FADE_SEC)));
    this.startedAt = performance.now();
  }

  /** Frames in the file once the held-back tail is written. */
  get frames(): number {
    return this.writer.frames + this.tailLen;
  }

  private append(x: Float32Array): void {
    const w = this.writer;
    const F = this.tail.length;
    if (this.fadeInNext) {
      fadeIn(x, Math.min(F, x.length));
      this.fadeInNext = false;
    }
    w.append(this.tail.subarray(0, this.tailLen));
    if (x.length > F) {
      w.append(x.subarray(0, x.length - F));
      this.tail.set(x.subarray(x.length - F));
      this.tailLen = F;
    } else {
      this.tail.set(x);
      this.tailLen = x.length;
    }
  }

  /** `final`: the recording ends now, so nothing is in flight any more and the file is padded to the end. */
  drain(final = false): void {
    const w = this.writer;
    for (;;) {
      const n = this.ring.pop(this.buf, this.buf.length);
      if (n === 0) break;
      this.append(this.buf.subarray(0, n));
    }
    // Keep time: what the wall clock says should be there, less the slack for buffers still in flight.
    const elapsed = (performance.now() - this.startedAt) / 1000;
    const due = (final ? elapsed : elapsed - GAP_SLACK_SEC) * w.rate;
    if (this.frames < due) {
      const k = this.tailLen;
      fadeOut(this.tail, k);
      w.append(this.tail.subarray(0, k));
      this.tailLen = 0;
      while (w.frames < due) w.append(this.zeros.subarray(0, Math.min(this.zeros.length, Math.ceil(due - w.frames))));
      this.fadeInNext = true;
    }
    if (final) {
      w.append(this.tail.subarray(0, this.tailLen));
      this.tailLen = 0;
    }
  }
}

export class Recorder {
  private tracks: Track[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly recIn: AudioRing;
  private readonly recOut: AudioRing;
  private readonly buf: Float32Array;
  private output: Track | null = null;

  constructor(
    buffers: SharedBuffers,
    private readonly ctl: Control,
    private readonly inputRate: number,
    private readonly outputRate: number,
  ) {
    this.recIn = new AudioRing(buffers.recordIn);
    this.recOut = new AudioRing(buffers.recordOut);
    this.buf = new Float32Array(Math.max(inputRate, outputRate));
  }

  get active(): boolean {
    return this.tracks.length > 0;
  }

  async start(inPath?: string, outPath?: string): Promise<void> {
    await this.stop();
    this.recIn.discard();
    this.recOut.discard();
    if (inPath) this.tracks.push(new Track(this.recIn, await WavWriter.create(inPath, this.inputRate), this.buf));
    if (outPath) {
      this.output = new Track(this.recOut, await WavWriter.create(outPath, this.outputRate), this.buf);
      this.tracks.push(this.output);
    }
    if (!this.tracks.length) return;
    this.ctl.set(CTRL.RECORD, 1);
    this.timer = setInterval(() => this.drain(), DRAIN_MS);
    this.timer.unref();
  }

  private drain(): void {
    for (const t of this.tracks) t.drain();
  }

  /** Frames of output recorded so far (tests line the recording up with events through this). */
  outputFrames(): number {
    this.drain();
    return this.output?.frames ?? 0;
  }

  async flush(): Promise<void> {
    this.drain();
    for (const t of this.tracks) await t.writer.flush();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.ctl.set(CTRL.RECORD, 0);
    for (const t of this.tracks) t.drain(true);
    const tracks = this.tracks;
    this.tracks = [];
    this.output = null;
    for (const t of tracks) await t.writer.close();
  }
}
