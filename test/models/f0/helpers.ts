// Helpers shared by the f0-network tests: running an estimator over a whole clip in one call, streaming it
// through the real F0Tracker, comparing tracks, and writing tiny ONNX networks to disk for loadSession.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { F0Estimator } from '../../../engine/f0/estimator.js';
import { F0Tracker } from '../../../engine/f0/tracker.js';
import { MEL_BANDS, rmvpeFilterbank } from '../../../models/f0/mel.js';
import { SALIENCE_BINS, hzToBin } from '../../../models/f0/salience.js';
import { GraphBuilder } from '../../../models/onnx/graph-builder.js';

export const SWIFTF0_FILE = ['models', 'f0', 'swiftf0.onnx'] as const;
export const CREPE_FILE = ['models', 'f0', 'crepe_tiny.onnx'] as const;

export const LJ_CLIPS = Array.from({ length: 10 }, (_, i) => ['ljspeech', `LJ001-${String(i + 1).padStart(4, '0')}.wav`] as const);
export const LIBRI_CLIPS = [
  '174-50561-0000', '1919-142785-0000', '2086-149214-0000', '2412-153947-0000', '2902-9006-0000',
  '5895-34615-0000', '652-129742-0000', '777-126732-0000', '7850-73752-0000', '8842-302196-0000',
].map((n) => ['librispeech', `${n}.wav`] as const);

/** Frames on the 10 ms grid for n samples (frame f centred on sample 160f, the last at or before the end). */
export function gridFrames(n: number): number {
  return Math.floor(n / 160) + 1;
}

/** Every frame of a clip in one estimate call, with silence before and after it (the "whole-clip run"). */
export async function wholeRun(est: F0Estimator, x: Float32Array): Promise<Float32Array> {
  const n = gridFrames(x.length);
  const padded = new Float32Array(est.contextBefore + x.length + est.contextAfter + 160);
  padded.set(x, est.contextBefore);
  const out = new Float32Array(n);
  await est.estimate(padded, -est.contextBefore, 0, n, out);
  return out;
}

/** The clip pushed through F0Tracker in blocks of blockMs, then silence until every frame is computed. */
export async function streamRun(est: F0Estimator, x: Float32Array, blockMs: number): Promise<Float32Array> {
  const block = 16 * blockMs;
  const n = gridFrames(x.length);
  const tracker = new F0Tracker(x.length / 16000 + 2, block, est);
  const padded = new Float32Array(Math.ceil((x.length + est.contextAfter + block) / block) * block);
  padded.set(x);
  for (let p = 0; p < padded.length; p += block) await tracker.push(padded.subarray(p, p + block));
  const out = new Float32Array(n);
  for (let f = 0; f < n; f++) out[f] = tracker.frameHz(f);
  return out;
}

export function cents(a: number, b: number): number {
  return 1200 * Math.log2(a / b);
}

/** Frames both tracks call voiced, and how many of those agree within `tol` cents. */
export function agreement(a: Float32Array, b: Float32Array, tol = 50): { both: number; agree: number; pct: number } {
  let both = 0;
  let agree = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i]! > 0 && b[i]! > 0) {
      both++;
      if (Math.abs(cents(a[i]!, b[i]!)) <= tol) agree++;
    }
  }
  return { both, agree, pct: both ? (100 * agree) / both : NaN };
}

/** Share of frames where two runs give the same voicing and, when voiced, pitches within `tol` cents. */
export function sameFrames(a: Float32Array, b: Float32Array, tol: number): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) {
    const va = a[i]! > 0;
    if (va === b[i]! > 0 && (!va || Math.abs(cents(a[i]!, b[i]!)) <= tol)) same++;
  }
  return (100 * same) / a.length;
}

export function writeModel(dir: string, name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

// Tiny RMVPE stand-ins with the real I/O contracts and a behaviour known in advance:
//   mel-salience: a MatMul sends each mel band to the salience bin nearest its centre, so a tone comes out
//                 at the centre of its loudest band (within half a band of the tone).
//   mel-hz:       the same, with an argmax decode and the threshold in the graph.
//   waveform:     f0 = 1000 × mean |x| over the 160 samples centred on each frame, uv where that is below
//                 the threshold: a slow ramp gives a known f0 on every frame.
/** Scales mel magnitudes of a 0.5-amplitude tone to a salience near 1; silence (1e-5) stays far below 0.03. */
const SCALE = 0.1;

function salienceFromMel(g: GraphBuilder, mel: string): string {
  const bank = rmvpeFilterbank();
  const w = new Float32Array(MEL_BANDS * SALIENCE_BINS);
  for (let b = 0; b < MEL_BANDS; b++) {
    const bin = Math.round(hzToBin(bank.centres[b]!));
    if (bin >= 0 && bin < SALIENCE_BINS) w[b * SALIENCE_BINS + bin] = 1;
  }
  const magnitude = g.op('Exp', [mel]);
  const byFrame = g.op('Transpose', [magnitude], { perm: [0, 2, 1] });
  const sal = g.op('MatMul', [byFrame, g.f32(w, [MEL_BANDS, SALIENCE_BINS])]);
  return g.op('Mul', [sal, g.f32([SCALE], [])]);
}

export function melSalienceNet(): Uint8Array {
  const g = new GraphBuilder('tiny-rmvpe-salience');
  const mel = g.input('input', 'float32', [1, MEL_BANDS, 'T']);
  g.op('Identity', [salienceFromMel(g, mel)], {}, 'output');
  g.output('output', 'float32', [1, 'T', SALIENCE_BINS]);
  return g.toBytes();
}

export function melHzNet(): Uint8Array {
  const g = new GraphBuilder('tiny-rmvpe-hz');
  const mel = g.input('mel', 'float32', [1, MEL_BANDS, 'T']);
  const thr = g.input('threshold', 'float32', []);
  const sal = salienceFromMel(g, mel);
  const peak = g.op('ReduceMax', [sal], { axes: [2], keepdims: 0 });
  const bin = g.op('Cast', [g.op('ArgMax', [sal], { axis: 2, keepdims: 0 })], { to: 1 });
  const centsAbove10 = g.op('Add', [g.op('Mul', [bin, g.f32([20], [])]), g.f32([1997.3794084376191], [])]);
  const hz = g.op('Mul', [g.op('Pow', [g.f32([2], []), g.op('Div', [centsAbove10, g.f32([1200], [])])]), g.f32([10], [])]);
  const voiced = g.op('Cast', [g.op('Greater', [peak, thr])], { to: 1 });
  g.op('Mul', [hz, voiced], {}, 'pitchf');
  g.output('pitchf', 'float32', [1, 'T']);
  return g.toBytes();
}

export function waveformNet(): Uint8Array {
  const g = new GraphBuilder('tiny-rmvpe-waveform');
  const x = g.input('waveform', 'float32', [1, 'N']);
  const thr = g.input('threshold', 'float32', [1]);
  const padded = g.op('Pad', [x, g.i64([0, 80, 0, 80])]);
  // T = ⌊N/160⌋ + 1 frames of 160 samples, frame i covering [160i − 80, 160i + 80).
  const n = g.op('Gather', [g.op('Shape', [x]), g.i64([1])]);
  const length = g.op('Mul', [g.op('Add', [g.op('Div', [n, g.i64([160])]), g.i64([1])]), g.i64([160])]);
  const cut = g.op('Slice', [padded, g.i64([0]), length, g.i64([1])]);
  const frames = g.op('Reshape', [cut, g.i64([1, -1, 160])]);
  const level = g.op('ReduceMean', [g.op('Abs', [frames])], { axes: [2], keepdims: 0 });
  const uv = g.op('Less', [level, thr], {}, 'uv');
  const voiced = g.op('Cast', [g.op('Not', [uv])], { to: 1 });
  g.op('Mul', [g.op('Mul', [level, g.f32([1000], [])]), voiced], {}, 'f0');
  g.output('f0', 'float32', [1, 'T']);
  g.output('uv', 'bool', [1, 'T']);
  return g.toBytes();
}

