// Records what goes in and what comes out to WAV, keeping time: a recording has the session's length, so an
// input and an output recording line up with each other and with a video of the same session. The record
// rings carry what the devices moved; wherever a device moved nothing (an output stalled or reopened, a
// device lost, the rings overflowing) the gap is written as silence, measured on the wall clock.
import type { SharedBuffers } from '../../protocol/rings.js';
import { CTRL } from '../../protocol/rings.js';
import { AudioRing, type Control } from '../../native-audio/rings.js';
import { WavWriter } from './wav-writer.js';

/** A gap shorter than this is device jitter (buffers still in flight), not missing audio. */
const GAP_SLACK_SEC = 0.25;
const DRAIN_MS = 50;

class Track {
  private startedAt = 0;
  private readonly zeros: Float32Array;

  constructor(
    readonly ring: AudioRing,
    readonly writer: WavWriter,
    private readonly buf: Float32Array,
  ) {
    this.zeros = new Float32Array(Math.round(writer.rate * 0.1));
    this.startedAt = performance.now();
  }

  drain(): void {
    const w = this.writer;
    for (;;) {
      const n = this.ring.pop(this.buf, this.buf.length);
      if (n === 0) break;
      w.append(this.buf.subarray(0, n));
    }
    // Keep time: what the wall clock says should be there, less a little for buffers still in flight.
    const due = ((performance.now() - this.startedAt) / 1000 - GAP_SLACK_SEC) * w.rate;
    while (w.frames < due) w.append(this.zeros.subarray(0, Math.min(this.zeros.length, Math.ceil(due - w.frames))));
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
    return this.output?.writer.frames ?? 0;
  }

  async flush(): Promise<void> {
    this.drain();
    for (const t of this.tracks) await t.writer.flush();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.ctl.set(CTRL.RECORD, 0);
    this.drain();
    const tracks = this.tracks;
    this.tracks = [];
    this.output = null;
    for (const t of tracks) await t.writer.close();
  }
}
