// SwiftF0 (lars76/swift-f0): a small network f0 estimator, 16 kHz in, one frame per 256 samples.
// Used as a neural f0 method and, in tests, as a measure independent of the built-in YIN.
import { float32Tensor, loadSession, type LoadedSession } from '../runtime.js';

export const SWIFTF0_RATE = 16000;
export const SWIFTF0_HOP = 256;

export interface F0Frames {
  /** Hz per frame, 0 where the frame is unvoiced (confidence below the threshold). */
  hz: Float32Array;
  confidence: Float32Array;
  /** Seconds between frames. */
  hopSec: number;
}

export class SwiftF0 {
  private constructor(private readonly s: LoadedSession) {}

  static async load(file: string, threads = 1): Promise<SwiftF0> {
    return new SwiftF0(await loadSession(file, { threads }));
  }

  /** Whole-signal track of 16 kHz audio (analysis and tests; allocates). */
  async track(audio16k: Float32Array, confidenceThreshold = 0.9): Promise<F0Frames> {
    const out = await this.s.run({ [this.s.inputNames[0]!]: float32Tensor(audio16k, [1, audio16k.length]) });
    const pitch = out['pitch_hz']!.data as Float32Array;
    const conf = out['confidence']!.data as Float32Array;
    const hz = new Float32Array(pitch.length);
    for (let i = 0; i < hz.length; i++) hz[i] = conf[i]! >= confidenceThreshold ? pitch[i]! : 0;
    return { hz, confidence: Float32Array.from(conf), hopSec: SWIFTF0_HOP / SWIFTF0_RATE };
  }

  release(): Promise<void> {
    return this.s.release();
  }
}
