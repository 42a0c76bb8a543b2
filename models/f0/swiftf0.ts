// SwiftF0 (lars76/swift-f0): a small network f0 estimator, 16 kHz in, one frame per 256 samples.
// `SwiftF0.track` is the whole-signal form (analysis, and tests that measure pitch independently of YIN);
// `SwiftF0Estimator` is the streaming f0 method on the tracker's 10 ms grid.
//
// Facts measured on the network in ../shared/models/f0/swiftf0.onnx (input `input_audio` [1, N], outputs
// `pitch_hz`, `confidence`, ⌊N/256⌋ frames):
// - Frame j's STFT window is samples [256j − 384, 256j + 640) (periodic Hann, so sample 256j − 384 has zero
//   weight): found by perturbing one input sample and seeing which frames change. Its geometric centre is
//   256j + 128 (the package says 127.5).
// - Each output frame also reads 10 STFT frames either side (same experiment), so a frame is exactly
//   reproducible from [256(j − 10) − 384, 256(j + 10) + 640). Left context costs only compute, so all 10
//   are kept; right context is latency. Streamed through F0Tracker (5 clips, 100 and 20 ms blocks), the
//   share of 10 ms frames with the whole-clip voicing and pitch (±3 cents) was, by right-context frames:
//   4: 94.5 %, 5: 97.1 %, 6: 99.1 %, 7: 99.8 %, 8: 99.9 % (the rest are confidence flips at the threshold).
// - The time a frame describes is NOT its window centre. Against YIN (corrected for its own lag) on the
//   twenty real clips, frame j best matches time 256j − 40 (broad minimum, −56 … −24); against CREPE,
//   256j − 56. On synthetic chirps and vibrato the answer scatters from 256j − 110 to 256j + 220, so the
//   speech figure, rounded to 256j − 48, is what is used: it is the signal the product runs on.
import { F0_MAX_HZ, F0_MIN_HZ } from '../../engine/pitch.js';
import { F0_HOP, type F0Estimator } from '../../engine/f0/estimator.js';
import { float32Tensor, loadSession, type LoadedSession } from '../runtime.js';

export const SWIFTF0_RATE = 16000;
export const SWIFTF0_HOP = 256;
/** Sample (relative to 256·j) that frame j's estimate describes, measured on speech (see above). */
export const SWIFTF0_FRAME_TIME = -48;
/** Network frames of context either side of an output frame: its receptive field beyond the STFT. */
export const SWIFTF0_RECEPTIVE_FRAMES = 10;
/** Frame j's STFT window starts here relative to 256·j and is 1024 samples long. */
const WINDOW_START = -384;
const WINDOW_LENGTH = 1024;
/**
 * Voicing threshold on SwiftF0's confidence: the package's own default, and on the 20 real clips the point
 * where the frames at the margin still agree with CREPE (at 0.5) within 50 cents 80–90 % of the time (those
 * between 0.8 and 0.9: 80 %, between 0.9 and 0.95: 90 %, between 0.7 and 0.8: 70 %). It calls 49 % of the
 * frames voiced, as YIN and CREPE do.
 */
export const SWIFTF0_CONFIDENCE = 0.9;
/** Right context by default: the smallest that reproduced the whole-signal frames (see above). */
export const SWIFTF0_LOOKAHEAD_FRAMES = 8;

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
  async track(audio16k: Float32Array, confidenceThreshold = SWIFTF0_CONFIDENCE): Promise<F0Frames> {
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

export interface SwiftF0EstimatorOptions {
  threads?: number;
  /** Voicing threshold on the network's confidence. */
  confidence?: number;
  /**
   * Network frames of right context, 0 … 10. Each costs 16 ms of f0 latency (the tracker computes a frame
   * only once its context has arrived); fewer than 8 lets streamed frames differ from a whole-signal run.
   */
  lookaheadFrames?: number;
  /** Largest frame count one call will ask for; buffers grow once if a call asks for more. */
  maxFrames?: number;
}

/** True when a session has SwiftF0's contract (used to recognise a user's .onnx file). */
export function isSwiftF0Session(s: LoadedSession): boolean {
  return s.inputNames.length === 1 && s.outputNames.includes('pitch_hz') && s.outputNames.includes('confidence');
}

/** SwiftF0 on the 10 ms grid: runs on the new frames plus the network's own context, nothing more. */
export class SwiftF0Estimator implements F0Estimator {
  readonly id = 'swiftf0';
  readonly contextBefore: number;
  readonly contextAfter: number;
  private readonly lookahead: number;
  private readonly threshold: number;
  private input: Float32Array;

  static async load(file: string, o: SwiftF0EstimatorOptions = {}): Promise<SwiftF0Estimator> {
    return new SwiftF0Estimator(await loadSession(file, { threads: o.threads ?? 1 }), o);
  }

  constructor(private readonly s: LoadedSession, o: SwiftF0EstimatorOptions = {}) {
    if (!isSwiftF0Session(s)) {
      throw new Error(`not a SwiftF0 network: inputs ${s.inputNames.join(', ')}, outputs ${s.outputNames.join(', ')} (SwiftF0 has one audio input and outputs pitch_hz, confidence)`);
    }
    this.lookahead = Math.round(o.lookaheadFrames ?? SWIFTF0_LOOKAHEAD_FRAMES);
    if (!(this.lookahead >= 0 && this.lookahead <= SWIFTF0_RECEPTIVE_FRAMES)) {
      throw new RangeError(`lookaheadFrames must be 0…${SWIFTF0_RECEPTIVE_FRAMES}, got ${o.lookaheadFrames}`);
    }
    this.threshold = o.confidence ?? SWIFTF0_CONFIDENCE;
    // The 10 ms and 16 ms grids meet every 8 frames (1280 samples), so 8 phases give the worst case.
    let before = 0;
    let after = 0;
    for (let f = 0; f < 8; f++) {
      const { start, end } = this.span(f, 1);
      before = Math.max(before, f * F0_HOP - start);
      after = Math.max(after, end - f * F0_HOP);
    }
    this.contextBefore = before;
    this.contextAfter = after;
    this.input = new Float32Array(this.span(0, o.maxFrames ?? 32).end - this.span(0, 1).start);
  }

  /**
   * Network input for 10 ms frames first … first + count − 1. It starts on the absolute 256-sample grid, so
   * a frame comes out of the same network frames whichever block it falls in (what makes streaming match a
   * whole-signal run), and reaches the receptive field on the left (compute only) and `lookahead` on the right.
   */
  private span(first: number, count: number): { m: number; start: number; end: number } {
    const jlo = Math.floor((first * F0_HOP - SWIFTF0_FRAME_TIME) / SWIFTF0_HOP);
    const jhi = Math.floor(((first + count - 1) * F0_HOP - SWIFTF0_FRAME_TIME) / SWIFTF0_HOP) + 1;
    // Two frames more on the left than the receptive field: their windows reach 384 samples further back.
    const m = jlo - SWIFTF0_RECEPTIVE_FRAMES - 2;
    const end = SWIFTF0_HOP * (jhi + this.lookahead) + WINDOW_START + WINDOW_LENGTH;
    return { m, start: SWIFTF0_HOP * m, end };
  }

  async estimate(audio: Float32Array, audioStart: number, first: number, count: number, out: Float32Array, confidence?: Float32Array): Promise<void> {
    const { m, start, end } = this.span(first, count);
    const n = end - start;
    if (n > this.input.length) this.input = new Float32Array(n);
    const input = this.input;
    // The tracker supplies every sample the contexts name; anything outside `audio` is read as silence.
    const from = start - audioStart;
    const a = Math.max(0, -from);
    const b = Math.min(n, audio.length - from);
    input.fill(0, 0, a);
    if (b > a) input.set(audio.subarray(from + a, from + b), a);
    input.fill(0, Math.max(a, b), n);
    const res = await this.s.run({ [this.s.inputNames[0]!]: float32Tensor(input.subarray(0, n), [1, n]) });
    const pitch = res['pitch_hz']!.data as Float32Array;
    const conf = res['confidence']!.data as Float32Array;
    for (let i = 0; i < count; i++) {
      // Position of this 10 ms frame among the network's frames, which describe samples 256k − 48.
      const u = ((first + i) * F0_HOP - SWIFTF0_FRAME_TIME) / SWIFTF0_HOP - m;
      const k = Math.floor(u);
      const w = u - k;
      const p = this.voiced(pitch, conf, k);
      const q = this.voiced(pitch, conf, k + 1);
      // Interpolate in log-f0 only between two voiced frames; at a voicing edge take the nearer frame.
      out[i] = p > 0 && q > 0 ? Math.exp(Math.log(p) * (1 - w) + Math.log(q) * w) : w < 0.5 ? p : q;
      if (confidence) confidence[i] = conf[k]! * (1 - w) + conf[k + 1]! * w;
    }
  }

  private voiced(pitch: Float32Array, conf: Float32Array, k: number): number {
    const p = pitch[k]!;
    return conf[k]! >= this.threshold && p >= F0_MIN_HZ && p <= F0_MAX_HZ ? p : 0;
  }

  dispose(): Promise<void> {
    return this.s.release();
  }
}
