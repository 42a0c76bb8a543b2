// The NSF-HiFiGAN vocoder's mel front end against PyTorch (test/fixtures/torch/make-vocoder-reference.py:
// torch.stft(center=False) after reflect padding, a mel basis built there from librosa's formulas), and the
// variants a wrong port would compute (the HTK scale, a centred STFT, no area normalisation, log10), each of
// which the comparison must reject.
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { LogMel, melFilterbank, type MelSpec } from '../../../models/f0/mel.js';
import {
  VOCODER_MEL, VOCODER_MEL_FLOOR, VocoderMel, vocoderFrameCentre, vocoderMelFrames, vocoderMelSpectrogram,
} from '../../../models/vocoder/mel.js';
import { UserError } from '../../../protocol/errors.js';
import { type BlobRef, readBlobArray, readBlobFixture, ROOT } from '../../helpers.js';

const DIR = path.join(ROOT, 'test', 'fixtures', 'torch', 'vocoder');
const { fx, bin } = readBlobFixture<{ samples: number; frames: number; signal: BlobRef; mel: BlobRef; basisRowSums: number[] }>(DIR, 'mel');
const f32 = (r: BlobRef) => readBlobArray(bin, r) as Float32Array;
const signal = f32(fx.signal);
const want = f32(fx.mel);

/**
 * PyTorch's float32 STFT against this float64 one: the log-mel values agree to ~5e-6 (measured); at the clamp
 * both are exactly ln(1e-5). 1e-4 leaves room for float32 rounding in faint bands (the log magnifies it there)
 * and is far below what any of the mistakes below shifts (≥ 0.1).
 */
const TOLERANCE = 1e-4;

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('the log-mel matches PyTorch within 1e-4: 24 frames of 128 bands, the clamp reached in the silent stretch', () => {
  const { mel, frames } = vocoderMelSpectrogram(signal);
  assert.equal(frames, fx.frames);
  assert.equal(frames, Math.floor(fx.samples / 512));
  const d = maxDiff(mel, want);
  assert.ok(d < TOLERANCE, `max |Δ| ${d}`);
  console.log(`# vocoder mel vs PyTorch: max |Δ| ${d.toExponential(2)}`);
  // The fixture reaches both the clamp (silence) and real energy, so both ends of the log are exercised.
  assert.ok(want.some((v) => v === Math.fround(VOCODER_MEL_FLOOR)) && mel.some((v) => v === Math.fround(VOCODER_MEL_FLOOR)));
  assert.ok(Math.max(...want) > 0);
});

test("the filterbank is librosa's default (Slaney scale and area norm): row sums as the script's basis", () => {
  const bank = melFilterbank(VOCODER_MEL);
  const rows = [0, 40, 127].map((b) => bank.weights[b]!.reduce((s, w) => s + w, 0));
  rows.forEach((r, i) => assert.ok(Math.abs(r - fx.basisRowSums[i]!) < 1e-6 * Math.max(1, fx.basisRowSums[i]!), `row ${[0, 40, 127][i]}: ${r} vs ${fx.basisRowSums[i]}`));
  // On the Slaney scale the bands below 1 kHz are evenly spaced in Hz.
  const c = bank.centres;
  assert.ok(Math.abs((c[2]! - c[1]!) - (c[1]! - c[0]!)) < 1e-9);
});

/** The mel of `x` under a deliberately wrong spec or padding. */
function broken(spec: Partial<MelSpec>, centreOf: (t: number) => number = vocoderFrameCentre, post: (v: number) => number = (v) => v): Float32Array {
  const m = new LogMel({ ...VOCODER_MEL, ...spec });
  const out = new Float32Array(128 * fx.frames);
  for (let t = 0; t < fx.frames; t++) m.compute(signal, centreOf(t), 1, out, fx.frames, t);
  return out.map(post);
}

test('a wrong normalisation or padding fails the comparison', () => {
  const cases: [string, Float32Array][] = [
    ['HTK mel scale', broken({ scale: 'htk' })],
    ['centred STFT (frames on 512·t, not 512·t + 256)', broken({}, (t) => 512 * t)],
    ['no reflect padding shift (frames start at sample 0)', broken({}, (t) => 512 * t + 1024)],
    ['power instead of magnitude', broken({}, vocoderFrameCentre, (v) => 2 * v)],
    ['log10 instead of ln', broken({}, vocoderFrameCentre, (v) => v / Math.LN10)],
    ['fmax 8000', broken({ fmax: 8000 })],
  ];
  for (const [what, mel] of cases) {
    const d = maxDiff(mel, want);
    assert.ok(d > 50 * TOLERANCE, `${what}: max |Δ| ${d} should fail the ${TOLERANCE} tolerance`);
  }
  // And without the area normalisation (peak-1 triangles), the values shift by ln(2/(f2 − f0)) per band.
  const bank = melFilterbank(VOCODER_MEL);
  assert.ok(Math.max(...bank.weights[64]!) < 0.1, `peak weight ${Math.max(...bank.weights[64]!)}`);
});

test('streaming frames equal the whole-signal frames where their windows lie inside the given audio', () => {
  const { mel } = vocoderMelSpectrogram(signal);
  const m = new VocoderMel();
  // Frames 4..11 from a slice that covers their windows: [512·4 − 768, 512·11 + 1280).
  const from = 512 * 4 - 768;
  const slice = signal.subarray(from, 512 * 11 + 1280);
  const out = new Float32Array(128 * 8);
  m.frames(slice, 4, 8, out, 8, from);
  for (let b = 0; b < 128; b++) for (let i = 0; i < 8; i++) assert.equal(out[b * 8 + i], mel[b * fx.frames + 4 + i]);
});

test('frame count ⌊N/512⌋, and audio shorter than the padding is refused with a clear error', () => {
  for (const n of [769, 1023, 1024, 1536, 44100]) assert.equal(vocoderMelFrames(n), Math.floor(n / 512));
  assert.throws(() => vocoderMelSpectrogram(new Float32Array(768)), (e: unknown) => e instanceof UserError && /too short/.test((e as Error).message));
});
