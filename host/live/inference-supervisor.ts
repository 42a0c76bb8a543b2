// Starts the inference worker, restarts it when it dies or hangs, and switches the audio worker to
// passthrough meanwhile (the user keeps being heard; the voice returns once the new worker is ready).
import { Worker } from 'node:worker_threads';
import { Control, wallMs } from '../../native-audio/rings.js';
import { CTRL, STATS } from '../../protocol/rings.js';
import type { FromInference, InferenceInit, ToInference } from './inference-messages.js';

type Ready = Extract<FromInference, { kind: 'ready' }>;

export interface SupervisorEvents {
  onReady(r: Ready, restart: boolean): void;
  onCrash(message: string): void;
  onMessage(m: FromInference): void;
}

const READY_TIMEOUT_MS = 60_000;

export class InferenceSupervisor {
  private worker: Worker | null = null;
  private stopping = false;
  private restarts = 0;
  private backoffMs = 100;
  private watchdog: NodeJS.Timeout | null = null;
  private lastBlocks = 0;
  private lastProgressAt = wallMs();
  private readyAt = 0;
  /** Settings sent since start, replayed into a restarted worker. */
  private init: InferenceInit;

  constructor(
    init: InferenceInit,
    private readonly ctl: Control,
    private readonly ev: SupervisorEvents,
  ) {
    this.init = { ...init };
  }

  get restartCount(): number {
    return this.restarts;
  }

  /** Starts the first worker and resolves when it is ready (rejects if it cannot start at all). */
  start(): Promise<Ready> {
    return new Promise((resolve, reject) => {
      this.spawn(false, resolve, reject);
      this.watchdog = setInterval(() => this.checkAlive(), 100);
      this.watchdog.unref();
    });
  }

  private spawn(restart: boolean, resolve?: (r: Ready) => void, reject?: (e: Error) => void): void {
    this.ctl.set(CTRL.STOP, 0);
    const w = new Worker(new URL('./inference-worker.js', import.meta.url), { workerData: this.init });
    this.worker = w;
    let ready = false;
    const timer = setTimeout(() => {
      if (!ready) void w.terminate();
    }, READY_TIMEOUT_MS);
    w.on('message', (m: FromInference) => {
      if (m.kind === 'ready') {
        ready = true;
        clearTimeout(timer);
        this.readyAt = wallMs();
        this.lastProgressAt = wallMs();
        this.lastBlocks = this.ctl.get(CTRL.BLOCKS);
        this.ctl.set(CTRL.PASSTHROUGH, 0);
        this.ev.onReady(m, restart);
        resolve?.(m);
      } else {
        this.ev.onMessage(m);
      }
    });
    let reported = false;
    const down = (why: string) => {
      clearTimeout(timer);
      if (this.worker !== w || reported) return;
      reported = true;
      this.worker = null;
      if (this.stopping) return;
      if (!ready && !restart) {
        reject?.(new Error(why));
        return;
      }
      // Passthrough first (the audio worker sees it within a device buffer), then restart.
      this.ctl.set(CTRL.PASSTHROUGH, 1);
      this.ev.onCrash(why);
      // A worker that keeps dying young backs off; one that ran for a while restarts at once.
      this.backoffMs = wallMs() - this.readyAt > 10_000 ? 100 : Math.min(this.backoffMs * 2, 5000);
      setTimeout(() => {
        if (this.stopping) return;
        this.restarts++;
        this.spawn(true);
      }, this.backoffMs);
    };
    w.on('error', (e) => down(`the inference worker crashed: ${e.message}`));
    w.on('exit', (code) => down(`the inference worker exited (code ${code})`));
  }

  /** A worker that stops converting while input flows is hung: end it, and the exit handler restarts it. */
  private checkAlive(): void {
    if (!this.worker || this.stopping) return;
    const blocks = this.ctl.get(CTRL.BLOCKS);
    const now = wallMs();
    if (blocks !== this.lastBlocks) {
      this.lastBlocks = blocks;
      this.lastProgressAt = now;
      return;
    }
    const blockMs = (this.ctl.stats[STATS.BLOCK_FRAMES]! / this.init.streamRate) * 1000;
    const inputFlowing = now - this.lastProgressAt > 0 && this.ctl.stats[STATS.INPUT_FRAMES]! > 0;
    if (this.readyAt > 0 && inputFlowing && now - this.lastProgressAt > Math.max(2000, 10 * blockMs)) {
      this.lastProgressAt = now;
      void this.worker.terminate();
    }
  }

  post(m: ToInference): void {
    if (m.kind === 'update') this.init = { ...this.init, settings: { ...this.init.settings, ...m.settings } };
    if (m.kind === 'noise') this.init = { ...this.init, noiseSuppression: m.on };
    this.worker?.postMessage(m);
  }

  /** Test hook: end the worker abruptly, as a crash would. */
  kill(): void {
    void this.worker?.terminate();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.ctl.set(CTRL.STOP, 1);
    this.ctl.signalInput();
    const w = this.worker;
    this.worker = null;
    if (w) {
      const exited = new Promise((r) => w.once('exit', r));
      await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
      await w.terminate();
    }
  }
}
