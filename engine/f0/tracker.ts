// Streaming f0 on the 16 kHz analysis stream. Frames sit on a fixed grid in absolute time (one every
// 10 ms), each computed once when its estimator's context has arrived and cached, so a block costs only its
// new frames. Frames not yet computable (the newest few) read as the last computed value.
import { SlidingWindow } from '../sliding-window.js';
import { F0_FPS, F0_HOP, type F0Estimator } from './estimator.js';
import { YinEstimator } from './yin.js';

export { F0_FPS, F0_HOP, F0_RATE } from './estimator.js';
/**
 * Newest frames are held from the last computed one before reading unvoiced: at least this long, and always
 * past the estimator's own look-ahead, or the frames a voice renders last would read as unvoiced.
 */
const MIN_HOLD_FRAMES = 12;

export interface F0Source {
  /** f0 (Hz, 0 = unvoiced) at absolute stream time t in seconds. */
  hzAt(t: number): number;
  /** Time (s) up to which f0 is measured; later readings are held guesses that the next block revises. */
  readonly knownUntilSec: number;
}

export class F0Tracker implements F0Source {
  private audio: SlidingWindow;
  private readonly frames: Float32Array;
  private readonly fresh: Float32Array;
  private nextFrame = 0;
  private readonly holdFrames: number;

  /**
   * historySec: how far back frames stay readable; maxPush: the most 16 kHz samples one push brings.
   * The estimator defaults to the built-in YIN.
   */
  constructor(historySec: number, maxPush: number, readonly estimator: F0Estimator = new YinEstimator()) {
    const span = estimator.contextBefore + estimator.contextAfter;
    this.audio = new SlidingWindow(span + maxPush + 2 * F0_HOP, 0);
    this.frames = new Float32Array(Math.ceil(historySec * F0_FPS) + 16);
    this.fresh = new Float32Array(Math.ceil(maxPush / F0_HOP) + 4);
    this.holdFrames = Math.max(MIN_HOLD_FRAMES, Math.ceil(estimator.contextAfter / F0_HOP) + 4);
  }

  /**
   * Appends samples[0, n) of new 16 kHz audio and estimates every frame whose context is now complete.
   * Returns a promise only when the estimator answered with one (a network); the built-in YIN finishes here
   * and then, so the streaming path neither waits nor allocates for it.
   */
  push(samples: Float32Array, n = samples.length): void | Promise<void> {
    this.audio.push(samples, n);
    const e = this.estimator;
    const first = this.nextFrame;
    // Frame f can be estimated once sample f·hop + contextAfter has arrived.
    const last = Math.floor((this.audio.endIndex - e.contextAfter) / F0_HOP);
    const count = Math.min(last - first + 1, this.fresh.length);
    if (count <= 0) return;
    // The whole window goes, with its own start: every sample a frame reads lies in it (no view per frame).
    const pending = e.estimate(this.audio.data, this.audio.startIndex, first, count, this.fresh);
    if (pending) return pending.then(() => this.store(first, count));
    this.store(first, count);
  }

  private store(first: number, count: number): void {
    for (let i = 0; i < count; i++) this.frames[(first + i) % this.frames.length] = this.fresh[i]!;
    this.nextFrame = first + count;
  }

  /** Number of frames computed so far (frame f is centred at f / 100 s). */
  get computedFrames(): number {
    return this.nextFrame;
  }

  get knownUntilSec(): number {
    // Readings interpolate between two frames, so only times before the newest frame are final.
    return (this.nextFrame - 2) / F0_FPS;
  }

  frameHz(f: number): number {
    if (f < 0) return 0;
    if (f >= this.nextFrame) {
      if (this.nextFrame === 0 || f - (this.nextFrame - 1) > this.holdFrames) return 0;
      f = this.nextFrame - 1;
    }
    if (this.nextFrame - f > this.frames.length) return 0;
    return this.frames[f % this.frames.length]!;
  }

  hzAt(t: number): number {
    const pos = t * F0_FPS;
    const f = Math.floor(pos);
    const a = this.frameHz(f);
    const b = this.frameHz(f + 1);
    if (a > 0 && b > 0) {
      const w = pos - f;
      return Math.exp(Math.log(a) * (1 - w) + Math.log(b) * w);
    }
    return pos - f < 0.5 ? a : b;
  }

  /** Forgets the stream: a new one starts at absolute time 0. */
  reset(): void {
    this.nextFrame = 0;
    this.frames.fill(0);
    this.audio = new SlidingWindow(this.audio.capacity, 0);
  }
}
