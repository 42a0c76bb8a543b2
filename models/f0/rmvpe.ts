// RMVPE (Wei et al. 2023), the f0 network RVC uses by default, in the three ONNX forms users have, told
// apart from the session's inputs and outputs (names differ between exporters; ranks do not):
//   waveform:     `waveform` [1, N] + `threshold` → f0 Hz [1, T] (+ `uv`), mel and decode in the graph.
//                 yxlllc/RMVPE export.py (outputs f0, uv), the VC Client's rmvpe_20231006.onnx; later VC
//                 Client builds name the output `pitchf`.
//   mel-hz:       `mel` [1, 128, T] + `threshold` (a 0-d float) → `pitchf` [1, T] Hz: deiteris' voice-changer
//                 (server/utils/rmvpe_onnx.py). Its in-graph decode compares the threshold with the cents,
//                 not the salience, so it reports a pitch on nearly every frame: voicing cannot be had from it.
//   mel-salience: log-mel [1, 128, T] → salience [1, T, 360], decoded here: RVC WebUI's rmvpe.onnx (its own
//                 code feeds "the first input" and reads "the first output", so names are not relied on).
// The mel forms take RVC's log-mel (./mel.ts) with T padded to a multiple of 32 (the U-Net pools 2×2 five
// times); RVC pads by reflection in older releases and with zeros in newer ones, the exports in-graph by
// reflection. Here the padded frames lie beyond the right margin, so which padding hardly matters.
//
// Streaming: the network is a U-Net plus a bidirectional GRU, so every output frame depends on the whole
// input. Each block therefore re-runs a window: the new frames, `marginBefore` frames of real left context
// (rounded down to the absolute 32-frame grid, so the U-Net's pooling cells fall where a whole-signal run
// puts them) and `marginAfter` frames of look-ahead. Only the new frames are kept.
import { F0_MAX_HZ, F0_MIN_HZ } from '../../engine/pitch.js';
import { F0_HOP, type F0Estimator } from '../../engine/f0/estimator.js';
import { float32Tensor, loadSession, type LoadedSession } from '../runtime.js';
import { LogMel, MEL_BANDS, MEL_NFFT } from './mel.js';
import { RMVPE_THRESHOLD, SALIENCE_BINS, decodeSalience } from './salience.js';

export type RmvpeForm = 'waveform' | 'mel-hz' | 'mel-salience';

export const RMVPE_FORMS: Readonly<Record<RmvpeForm, string>> = {
  waveform: 'waveform [1, N] float32 + threshold → f0 Hz [1, T] (yxlllc/RMVPE and VC Client exports: waveform, threshold → f0, uv or pitchf)',
  'mel-hz': 'log-mel [1, 128, T] float32 (+ threshold) → f0 Hz [1, T] (deiteris voice-changer export: mel, threshold → pitchf)',
  'mel-salience': 'log-mel [1, 128, T] float32 → salience [1, T, 360] (RVC WebUI rmvpe.onnx)',
};

/** The U-Net halves time five times: mel windows are whole multiples of this. */
export const RMVPE_FRAME_MULTIPLE = 32;
/**
 * Left context in frames (before rounding down to the 32-frame grid, which adds up to 31 more). RVC's own
 * realtime GUI gives RMVPE its whole `extra` context (0.25–2.5 s) every block; 32 frames is one cell of the
 * deepest pooling level, and left context costs compute only, never latency.
 */
export const RMVPE_MARGIN_BEFORE = 32;
/**
 * Look-ahead in frames. Every frame of it delays f0 by 10 ms (plus the mel window's 32 ms); RVC's realtime
 * GUI uses none (the newest frame sits at the window edge). 4 keeps the newest kept frame out of the
 * edge frames whose mel windows and U-Net padding see past the audio.
 */
export const RMVPE_MARGIN_AFTER = 4;

export interface RmvpeIo {
  form: RmvpeForm;
  /** The waveform or mel input. */
  signal: string;
  threshold?: { name: string; dims: number[] };
  /** Hz output (waveform, mel-hz) or salience output (mel-salience). */
  output: string;
  /** Boolean unvoiced mask (yxlllc export). */
  uv?: string;
}

type Meta = LoadedSession['session']['inputMetadata'][number];

function shape(m: Meta): readonly (number | string)[] | undefined {
  // onnxruntime reports an undeclared shape as [] too; only a 0-d threshold has a meaningful [] here.
  return m.isTensor ? m.shape : undefined;
}

/** "name type [dims]; …" of a session's inputs and outputs, for error messages. */
export function describeSessionIo(s: LoadedSession): string {
  return `inputs found: ${describe(s.session.inputMetadata)}; outputs: ${describe(s.session.outputMetadata)}`;
}

function describe(ms: readonly Meta[]): string {
  return ms.map((m) => (m.isTensor ? `${m.name} ${m.type} [${m.shape.join(', ')}]` : `${m.name} (not a tensor)`)).join('; ') || 'none';
}

function knownForms(): string {
  return Object.entries(RMVPE_FORMS).map(([k, v]) => `${k}: ${v}`).join('; ');
}

/** Tells the RMVPE form of a session from its inputs and outputs, or says why it is none of them. */
export function detectRmvpeIo(s: LoadedSession, file: string): RmvpeIo {
  const inputs = s.session.inputMetadata;
  const outputs = s.session.outputMetadata;
  const fail = (why: string): never => {
    throw new Error(`${file}: ${why}. ${describeSessionIo(s)}. Known RMVPE forms: ${knownForms()}`);
  };
  // The threshold by name, else the 0-d one beside a real tensor (an undeclared shape also reads as 0-d).
  const thr =
    inputs.find((m) => /thr/i.test(m.name)) ??
    (inputs.length === 2 ? inputs.find((m, i) => shape(m)?.length === 0 && (shape(inputs[1 - i]!)?.length ?? 0) >= 2) : undefined);
  const signals = inputs.filter((m) => m !== thr);
  if (signals.length !== 1) fail(`expected one waveform or mel input${thr ? ` besides "${thr.name}"` : ''}, found ${signals.length}`);
  const sig = signals[0]!;
  if (!sig.isTensor || sig.type !== 'float32') fail(`input "${sig.name}" is ${sig.isTensor ? sig.type : 'not a tensor'}; only float32 exports are supported (re-export without fp16 conversion)`);
  const rank = shape(sig)!.length;
  const byName = /wave|audio/i.test(sig.name) ? 2 : /mel|^input$/i.test(sig.name) ? 3 : 0;
  const r = rank || byName;
  if (r === 3 && shape(sig)![1] !== MEL_BANDS && typeof shape(sig)![1] === 'number') fail(`input "${sig.name}" has ${shape(sig)![1]} mel bands, RMVPE takes ${MEL_BANDS}`);
  if (r !== 2 && r !== 3) fail(`input "${sig.name}" is neither a waveform [1, N] nor a log-mel [1, 128, T]`);
  const threshold = thr ? { name: thr.name, dims: shape(thr)?.length === 0 ? [] : [1] } : undefined;
  const floatOut = outputs.filter((m) => m.isTensor && m.type === 'float32');
  const uv = outputs.find((m) => /^uv$/i.test(m.name))?.name;
  if (r === 3) {
    const sal = floatOut.find((m) => shape(m)!.length === 3 || shape(m)![2] === SALIENCE_BINS);
    if (sal) return { form: 'mel-salience', signal: sig.name, threshold, output: sal.name };
    // An undeclared output shape with no Hz-like name: RVC's own loader reads "the first output" as salience.
    const only = floatOut.length === 1 ? floatOut[0]! : undefined;
    if (only && shape(only)!.length === 0 && !/^(f0|pitchf|pitch|pitch_hz)$/i.test(only.name)) return { form: 'mel-salience', signal: sig.name, threshold, output: only.name };
  }
  const hz = floatOut.find((m) => /^(f0|pitchf|pitch|pitch_hz)$/i.test(m.name)) ?? floatOut.find((m) => (shape(m)!.length || 2) <= 2);
  if (!hz) return fail('no float32 f0 or salience output');
  if (r === 2 && !threshold) fail(`the waveform form takes a threshold input besides "${sig.name}"`);
  return { form: r === 2 ? 'waveform' : 'mel-hz', signal: sig.name, threshold, output: hz.name, uv };
}

export interface RmvpeEstimatorOptions {
  threads?: number;
  /** Peak salience at or below which a frame is unvoiced (RVC: 0.03). */
  threshold?: number;
  marginBefore?: number;
  marginAfter?: number;
  /** Largest frame count one call will ask for; buffers grow once if a call asks for more. */
  maxFrames?: number;
}

export class RmvpeEstimator implements F0Estimator {
  readonly id = 'rmvpe';
  readonly contextBefore: number;
  readonly contextAfter: number;
  readonly form: RmvpeForm;
  private readonly before: number;
  private readonly after: number;
  private readonly threshold: number;
  private readonly thresholdFeed: ReturnType<typeof float32Tensor> | undefined;
  private readonly mel = new LogMel();
  private buffer: Float32Array;

  static async load(file: string, o: RmvpeEstimatorOptions = {}): Promise<RmvpeEstimator> {
    const s = await loadSession(file, { threads: o.threads ?? 1 });
    try {
      return new RmvpeEstimator(s, detectRmvpeIo(s, file), o);
    } catch (e) {
      await s.release();
      throw e;
    }
  }

  constructor(private readonly s: LoadedSession, private readonly io: RmvpeIo, o: RmvpeEstimatorOptions = {}) {
    this.form = io.form;
    this.before = Math.round(o.marginBefore ?? RMVPE_MARGIN_BEFORE);
    this.after = Math.round(o.marginAfter ?? RMVPE_MARGIN_AFTER);
    if (!(this.before >= 0 && this.after >= 0)) throw new RangeError(`RMVPE margins must be ≥ 0 frames, got ${o.marginBefore}, ${o.marginAfter}`);
    this.threshold = o.threshold ?? RMVPE_THRESHOLD;
    this.thresholdFeed = io.threshold ? float32Tensor(Float32Array.of(this.threshold), io.threshold.dims) : undefined;
    const melHalf = io.form === 'waveform' ? 0 : MEL_NFFT / 2;
    // Up to 31 extra frames on the left from rounding the window start down to the 32-frame grid.
    this.contextBefore = F0_HOP * (this.before + RMVPE_FRAME_MULTIPLE - 1) + melHalf;
    // The waveform window ends on the last margin frame's centre sample, inclusive.
    this.contextAfter = F0_HOP * this.after + (io.form === 'waveform' ? 1 : melHalf);
    this.buffer = new Float32Array(this.bufferLength(o.maxFrames ?? 32));
  }

  private bufferLength(count: number): number {
    const frames = Math.ceil((this.before + RMVPE_FRAME_MULTIPLE - 1 + count + this.after) / RMVPE_FRAME_MULTIPLE) * RMVPE_FRAME_MULTIPLE;
    return this.form === 'waveform' ? F0_HOP * frames + 1 : MEL_BANDS * frames;
  }

  async estimate(audio: Float32Array, audioStart: number, first: number, count: number, out: Float32Array, confidence?: Float32Array): Promise<void> {
    const M = RMVPE_FRAME_MULTIPLE;
    const fs = Math.floor((first - this.before) / M) * M;
    const fe = first + count - 1 + this.after;
    const T = fe - fs + 1;
    const Tp = Math.ceil(T / M) * M;
    const need = this.bufferLength(count);
    if (need > this.buffer.length) this.buffer = new Float32Array(need);
    const feeds: Record<string, ReturnType<typeof float32Tensor>> = {};
    if (this.io.threshold && this.thresholdFeed) feeds[this.io.threshold.name] = this.thresholdFeed;
    if (this.form === 'waveform') {
      // T frames centred on samples 160·fs … 160·fe: the graph centres and reflects its own STFT.
      const n = F0_HOP * (T - 1) + 1;
      const from = F0_HOP * fs - audioStart;
      for (let i = 0; i < n; i++) {
        const p = from + i;
        this.buffer[i] = p >= 0 && p < audio.length ? audio[p]! : 0;
      }
      feeds[this.io.signal] = float32Tensor(this.buffer.subarray(0, n), [1, n]);
    } else {
      const mel = this.buffer;
      this.mel.compute(audio, F0_HOP * fs - audioStart, T, mel, Tp);
      // Pad to the 32-frame multiple by reflection in time, as F.pad(mode='reflect') on the mel does.
      for (let b = 0; b < MEL_BANDS; b++) {
        const row = b * Tp;
        for (let k = 0; T + k < Tp; k++) mel[row + T + k] = mel[row + Math.max(0, T - 2 - k)]!;
      }
      feeds[this.io.signal] = float32Tensor(mel.subarray(0, MEL_BANDS * Tp), [1, MEL_BANDS, Tp]);
    }
    const res = await this.s.run(feeds);
    const result = res[this.io.output]!;
    const data = result.data as Float32Array;
    const skip = first - fs;
    // Exporters that leave output shapes undeclared are told apart by what actually comes back.
    if (this.form === 'mel-salience' || (this.form === 'mel-hz' && result.dims.length === 3 && result.dims[2] === SALIENCE_BINS)) {
      decodeSalience(data, skip * SALIENCE_BINS, count, out, { threshold: this.threshold }, confidence);
    } else {
      const uv = this.io.uv ? (res[this.io.uv]!.data as ArrayLike<unknown>) : undefined;
      for (let i = 0; i < count; i++) out[i] = uv && uv[skip + i] ? 0 : data[skip + i]!;
    }
    // The grid reaches 2005 Hz; outside the product's f0 range a reading is an error, not a voice.
    for (let i = 0; i < count; i++) if (!(out[i]! >= F0_MIN_HZ && out[i]! <= F0_MAX_HZ)) out[i] = 0;
  }

  dispose(): Promise<void> {
    return this.s.release();
  }
}
