// Starts the inference worker, switches its voice, pauses and resumes it, and restarts it when it dies or
// hangs. While it is down the output carries silence (or the dry input, if the user chose that fallback):
// the audio worker sees PASSTHROUGH within a device buffer. A restarted worker runs the voice that was running.
import { Worker } from 'node:worker_threads';
import { Control, wallMs } from '../../native-audio/rings.js';
import { fromWire, UserError } from '../../protocol/errors.js';
import { CTRL, STATS } from '../../protocol/rings.js';
import type { FromInference, InferenceInit, ToInference, VoiceReady } from './inference-messages.js';
import type { VoiceChoice } from './loaded-voice.js';

export interface SupervisorEvents {
  onReady(r: VoiceReady, restart: boolean): void;
  onCrash(message: string): void;
  onMessage(m: FromInference): void;
}

const READY_TIMEOUT_MS = 60_000;
const SWITCH_TIMEOUT_MS = 120_000;

interface PendingSwitch {
  id: number;
  choice: VoiceChoice;
  resolve: (r: VoiceReady) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class InferenceSupervisor {
  private worker: Worker | null = null;
  private stopping = false;
  private restarts = 0;
  private backoffMs = 100;
  private watchdog: NodeJS.Timeout | null = null;
  private lastBlocks = 0;
  /** Input frame count when a block was last converted (-1: not yet seen since a (re)start). */
  private inputAtProgress = -1;
  private readyAt = 0;
  private nextSwitchId = 1;
  private pending: PendingSwitch | null = null;
  /** What a restarted worker starts with: the running voice, its settings since, noise, paused. */
  private init: InferenceInit;

  constructor(
    init: InferenceInit,
    private readonly ctl: Control,
    private readonly ev: SupervisorEvents,
  ) {
    this.init = { ...init, choice: { ...init.choice, settings: { ...init.choice.settings } } };
  }

  get restartCount(): number {
    return this.restarts;
  }

  /** Starts the first worker and resolves when it is ready; rejects with the load's own error otherwise. */
  start(): Promise<VoiceReady> {
    return new Promise((resolve, reject) => {
      this.spawn(false, resolve, reject);
      this.watchdog = setInterval(() => this.checkAlive(), 100);
      this.watchdog.unref();
    });
  }

  private spawn(restart: boolean, resolve?: (r: VoiceReady) => void, reject?: (e: Error) => void): void {
    this.ctl.set(CTRL.STOP, 0);
    const w = new Worker(new URL('./inference-worker.js', import.meta.url), { workerData: this.init });
    this.worker = w;
    let ready = false;
    let failure: Error | null = null;
    const timer = setTimeout(() => {
      if (!ready) {
        failure = new UserError(`the voice "${this.init.choice.voice}" did not load within ${READY_TIMEOUT_MS / 1000} s`, 'voice');
        void w.terminate();
      }
    }, READY_TIMEOUT_MS);
    w.on('message', (m: FromInference) => {
      if (m.kind === 'ready') {
        ready = true;
        clearTimeout(timer);
        this.readyAt = wallMs();
        this.inputAtProgress = -1;
        this.lastBlocks = this.ctl.get(CTRL.BLOCKS);
        this.ctl.set(CTRL.PASSTHROUGH, 0);
        this.ev.onReady(m, restart);
        resolve?.(m);
      } else if (m.kind === 'failed') {
        failure = fromWire(m.error);
      } else if (m.kind === 'switched' || m.kind === 'switch-failed') {
        const p = this.pending;
        if (!p || p.id !== m.id) return;
        this.pending = null;
        clearTimeout(p.timer);
        if (m.kind === 'switched') {
          this.init = { ...this.init, choice: p.choice };
          p.resolve(m);
        } else {
          p.reject(fromWire(m.error));
        }
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
      // A switch in flight dies with the worker; the restarted worker runs the voice that was running.
      this.failPending(new UserError('the voice switch was interrupted (the inference worker restarted); the previous voice is back', 'voice'));
      if (this.stopping) return;
      if (!ready && !restart) {
        reject?.(failure ?? new Error(why));
        return;
      }
      // Silence (or the chosen dry fallback) first: the audio worker sees it within a device buffer.
      this.ctl.set(CTRL.PASSTHROUGH, 1);
      this.ev.onCrash(failure ? `${why}: ${failure.message}` : why);
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

  private failPending(e: Error): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    clearTimeout(p.timer);
    p.reject(e);
  }

  /**
   * Loads a voice beside the running one; resolves when it has taken over, rejects with the load's error (the
   * running voice is untouched then).
   */
  switchVoice(choice: VoiceChoice): Promise<VoiceReady> {
    if (!this.worker) return Promise.reject(new UserError('the voice engine is restarting; try again in a moment', 'voice'));
    this.failPending(new UserError('superseded by a newer voice choice', 'voice'));
    const id = this.nextSwitchId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.failPending(new UserError(`the voice "${choice.voice}" did not load within ${SWITCH_TIMEOUT_MS / 1000} s; the running voice continues`, 'voice')), SWITCH_TIMEOUT_MS);
      this.pending = { id, choice, resolve, reject, timer };
      this.worker!.postMessage({ kind: 'switch', id, choice } satisfies ToInference);
    });
  }

  /**
   * A worker that stops converting while input flows is hung: end it, and the exit handler restarts it.
   * "Input flows" is judged by the input's own frame count since the last converted block, not by the wall
   * clock: right after start the devices take seconds to deliver their first audio, and a starved machine
   * delays everything; neither is a hang. Only two seconds of input (and at least ten blocks) arriving with
   * no block converted is.
   */
  private checkAlive(): void {
    if (!this.worker || this.stopping || this.init.paused || this.readyAt === 0) return;
    const blocks = this.ctl.get(CTRL.BLOCKS);
    const input = this.ctl.stats[STATS.INPUT_FRAMES]!;
    if (blocks !== this.lastBlocks || this.inputAtProgress < 0) {
      this.lastBlocks = blocks;
      this.inputAtProgress = input;
      return;
    }
    const rate = this.init.streamRate;
    const waiting = input - this.inputAtProgress;
    if (waiting > Math.max(2 * rate, 10 * this.ctl.stats[STATS.BLOCK_FRAMES]!)) {
      this.inputAtProgress = -1;
      void this.worker.terminate();
    }
  }

  post(m: ToInference): void {
    if (m.kind === 'update') this.init = { ...this.init, choice: { ...this.init.choice, settings: { ...this.init.choice.settings, ...m.settings } } };
    if (m.kind === 'noise') this.init = { ...this.init, noiseSuppression: m.on };
    if (m.kind === 'pause' || m.kind === 'resume') {
      this.init = { ...this.init, paused: m.kind === 'pause' };
      this.inputAtProgress = -1;
    }
    this.worker?.postMessage(m);
  }

  /** Test hook: end the worker abruptly, as a crash would. */
  kill(): void {
    void this.worker?.terminate();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.failPending(new UserError('the session stopped', 'voice'));
    this.ctl.set(CTRL.STOP, 1);
    this.ctl.signalInput();
    const w = this.worker;
    this.worker = null;
    if (w) {
      const exited = new Promise((r) => w.once('exit', r));
      await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
      await Promise.race([w.terminate(), new Promise((r) => setTimeout(r, 2000))]);
    }
  }
}
