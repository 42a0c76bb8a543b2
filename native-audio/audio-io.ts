// The host's handle on the audio worker: starts it, sends it requests, and stops it safely (streams quit
// before the thread ends; terminating a thread with a live PortAudio stream crashes the process).
import { SHARE_ENV, Worker } from 'node:worker_threads';
import type { AudioDeviceInfo } from '../protocol/devices.js';
import type { SharedBuffers } from '../protocol/rings.js';
import type { AudioReply, AudioRequest, MeasureResult, OpenRequest, StreamErrorEvent, StreamRole } from './messages.js';
import { UserError } from '../protocol/errors.js';

export class AudioWorkerError extends UserError {
  override name = 'AudioWorkerError';
  constructor(message: string) {
    super(message, 'device');
  }
}

/** Longest a stop waits for the streams to quit (5 streams × 1.5 s watchdog, plus slack), then for the thread. */
const STOP_QUIT_MS = 9000;
const STOP_TERMINATE_MS = 3000;

function withinMs<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]).finally(() => clearTimeout(timer));
}

export class AudioIO {
  private nextId = 1;
  private readonly pending = new Map<number, (r: AudioReply) => void>();
  private exited = false;
  private streamErrorHandler: (e: StreamErrorEvent) => void = () => undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: AudioReply | StreamErrorEvent) => {
      if ('event' in m) {
        this.streamErrorHandler(m);
        return;
      }
      const cb = this.pending.get(m.id);
      this.pending.delete(m.id);
      cb?.(m);
    });
    const fail = (why: string) => {
      this.exited = true;
      for (const [id, cb] of this.pending) cb({ id, ok: false, error: why });
      this.pending.clear();
    };
    worker.on('error', (e) => fail(`the audio worker failed: ${e.message}`));
    worker.on('exit', (code) => fail(`the audio worker exited (code ${code})`));
  }

  static start(): AudioIO {
    // SHARE_ENV: the worker sets PULSE_SINK / PULSE_SOURCE around a stream's creation, and PulseAudio's
    // client library reads the real process environment.
    const w = new Worker(new URL('./audio-worker.js', import.meta.url), { env: SHARE_ENV });
    w.unref();
    return new AudioIO(w);
  }

  onStreamError(cb: (e: StreamErrorEvent) => void): void {
    this.streamErrorHandler = cb;
  }

  private request(req: AudioRequest): Promise<AudioReply & { ok: true }> {
    if (this.exited) return Promise.reject(new AudioWorkerError('the audio worker is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (r) => (r.ok ? resolve(r) : reject(new AudioWorkerError(r.error))));
      this.worker.postMessage({ id, req });
    });
  }

  async init(buffers: SharedBuffers, inputRate: number, outputRate: number, maxBufferFrames: number): Promise<void> {
    await this.request({ kind: 'init', buffers, inputRate, outputRate, maxBufferFrames });
  }
  async listDevices(): Promise<AudioDeviceInfo[]> {
    return (await this.request({ kind: 'list' })).devices ?? [];
  }
  /** Opens (or reopens) the stream of a role; returns the backend's nominal latency, seconds. */
  async open(o: OpenRequest): Promise<number> {
    return (await this.request({ kind: 'open', open: o })).latencySec ?? 0;
  }
  async close(role: StreamRole): Promise<void> {
    await this.request({ kind: 'close', role });
  }
  async measure(clicks: number, intervalMs: number, emit: boolean): Promise<MeasureResult> {
    return (await this.request({ kind: 'measure', clicks, intervalMs, emit })).measure!;
  }
  /**
   * Quits every stream, then ends the thread, within a bounded time: each stream's close has its own 1.5 s
   * watchdog in the worker, and a worker that still does not answer (PortAudio blocked in a driver) is
   * terminated anyway rather than hang the host.
   */
  async stop(): Promise<void> {
    if (!this.exited) {
      await withinMs(this.request({ kind: 'quit' }).catch(() => undefined), STOP_QUIT_MS);
      await withinMs(this.worker.terminate(), STOP_TERMINATE_MS);
    }
  }
}
