// Streaming f0 on the 16 kHz analysis stream. Frames sit on a fixed grid in absolute time (one every
// 10 ms), each computed once when its analysis window is complete and cached, so a block costs only its
// new frames. Frames not yet computable (the newest ~25 ms) read as the last computed value.
import { SlidingWindow } from '../sliding-window.js';
import { Yin } from './yin.js';

export const F0_RATE = 16000;
export const F0_HOP = 160; // 10 ms
export const F0_FPS = F0_RATE / F0_HOP;
/** Newest frames are held from the last computed one for this long before reading unvoiced. */
const HOLD_FRAMES = 12;

export interface F0Source {
  /** f0 (Hz, 0 = unvoiced) at absolute stream time t in seconds. */
  hzAt(t: number): number;
  /** Time (s) up to which f0 is measured; later readings are held guesses that the next block revises. */
  readonly knownUntilSec: number;
}

export class F0Tracker implements F0Source {
  private readonly yin = new Yin({ rate: F0_RATE });
  private audio: SlidingWindow;
  private readonly frames: Float32Array;
  private nextFrame = 0;

  constructor(historySec: number, maxPush: number) {
    this.audio = new SlidingWindow(this.yin.frameLength + maxPush + F0_HOP, 0);
    this.frames = new Float32Array(Math.ceil(historySec * F0_FPS) + 16);
  }

  get lookahead(): number {
    return this.yin.frameLength - (this.yin.frameLength >> 1);
  }

  /** Appends new 16 kHz samples and computes every frame whose window is now complete. */
  push(samples: Float32Array): void {
    this.audio.push(samples);
    const half = this.yin.frameLength >> 1;
    const end = this.audio.endIndex;
    for (;;) {
      const start = this.nextFrame * F0_HOP - half;
      if (start + this.yin.frameLength > end) break;
      const offset = start - this.audio.startIndex;
      this.frames[this.nextFrame % this.frames.length] = offset >= 0 ? this.yin.estimate(this.audio.data, offset) : 0;
      this.nextFrame++;
    }
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
      if (this.nextFrame === 0 || f - (this.nextFrame - 1) > HOLD_FRAMES) return 0;
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
