// The seam between the f0 tracker and any pitch estimator: the built-in YIN here, neural networks in
// models/. Estimators fill frames of the fixed 10 ms grid; the tracker decides which frames are new, so a
// block costs only its new audio plus each estimator's own context.
import type { Provider } from '../../protocol/runtime.js';

/** Frame f of the grid is centred on absolute 16 kHz sample f × F0_HOP. */
export const F0_RATE = 16000;
export const F0_HOP = 160;
export const F0_FPS = F0_RATE / F0_HOP;

export interface F0Estimator {
  readonly id: string;
  /** 16 kHz samples the estimate of a frame reads before its centre. */
  readonly contextBefore: number;
  /** 16 kHz samples it reads after its centre: a frame is computed once these have arrived. */
  readonly contextAfter: number;
  /**
   * Fills out[0 .. count) with f0 in Hz (0 = unvoiced) for frames first .. first + count − 1.
   * `audio[0]` is absolute sample `audioStart`; it covers every sample those frames read (zeros before the
   * stream began). Called once per block with the block's new frames; must not allocate per call.
   * `confidence`, when given, receives each frame's voicing confidence in 0 … 1 (the estimator's own
   * measure: YIN's periodicity, a network's confidence or peak probability); estimators with no such
   * measure leave it untouched.
   */
  estimate(audio: Float32Array, audioStart: number, first: number, count: number, out: Float32Array, confidence?: Float32Array): void | Promise<void>;
  /** Where its network runs, set by the factory that made it; absent for the built-in YIN (no network). */
  placement?: { provider: Provider; note: string | null; warning: string | null };
  /** Releases native resources (network sessions). */
  dispose?(): Promise<void> | void;
}
