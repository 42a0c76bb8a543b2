// RMVPE's log-mel front end on its own: the HTK band centres, librosa's Slaney area normalisation, the frame
// count of a centred STFT, the magnitude (not power) spectrum, the clamp, and where a sine's energy lands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LogMel, MEL_BANDS, MEL_CLAMP, MEL_HOP, htkMelToHz, hzToHtkMel, logMelSpectrogram, melFrameCount, rmvpeFilterbank,
} from '../../../models/f0/mel.js';
import { sine } from '../../helpers.js';

const bank = rmvpeFilterbank();

test('band centres lie on the HTK mel scale, 130 points evenly spaced from 30 to 8000 Hz', () => {
  // Written out independently of the module: mel = 2595·log10(1 + f/700).
  const mel = (f: number) => 2595 * Math.log10(1 + f / 700);
  const hz = (m: number) => 700 * (10 ** (m / 2595) - 1);
  const step = (mel(8000) - mel(30)) / 129;
  for (const b of [0, 1, 20, 63, 100, 127]) {
    const want = hz(mel(30) + (b + 1) * step);
    assert.ok(Math.abs(bank.centres[b]! - want) < 1e-6, `band ${b}: ${bank.centres[b]} vs ${want}`);
  }
  // Spot values; the Slaney scale (linear below 1 kHz) would put band 20 at 516 Hz instead of 393.
  assert.ok(Math.abs(bank.centres[0]! - 44.16) < 0.01, `${bank.centres[0]}`);
  assert.ok(Math.abs(bank.centres[20]! - 392.74) < 0.01, `${bank.centres[20]}`);
  assert.ok(Math.abs(bank.centres[127]! - 7834.47) < 0.01, `${bank.centres[127]}`);
  assert.ok(Math.abs(htkMelToHz(hzToHtkMel(1234.5)) - 1234.5) < 1e-9);
});

test("filters carry librosa's Slaney area normalisation: each triangle integrates to 1 over Hz", () => {
  const binHz = 16000 / 1024;
  let sum = 0;
  let n = 0;
  for (let b = 0; b < MEL_BANDS; b++) {
    // Low triangles span only 2–5 FFT bins, so their sampled sums scatter around 1; wide ones are close.
    if (bank.centres[b]! < 300) continue;
    const area = bank.weights[b]!.reduce((s, w) => s + w, 0) * binHz;
    const tol = bank.centres[b]! < 1500 ? 0.1 : 0.03;
    assert.ok(Math.abs(area - 1) < tol, `band ${b} (${bank.centres[b]!.toFixed(0)} Hz): area ${area}`);
    sum += area;
    n++;
  }
  assert.ok(Math.abs(sum / n - 1) < 0.01, `mean area ${sum / n}`);
  // Unnormalised (peak 1) triangles would have peaks near 1; Slaney's are 2/(f2 − f0), far below at 1 kHz.
  const b1k = bank.centres.findIndex((c) => c > 1000);
  assert.ok(Math.max(...bank.weights[b1k]!) < 0.03, `peak weight ${Math.max(...bank.weights[b1k]!)}`);
});

test('frame count of a centred STFT: ⌊N/160⌋ + 1', () => {
  for (const n of [1000, 16000, 16159, 16160, 16161]) {
    const { frames, mel } = logMelSpectrogram(new Float32Array(n).fill(0.1));
    assert.equal(frames, Math.floor(n / MEL_HOP) + 1);
    assert.equal(frames, melFrameCount(n));
    assert.equal(mel.length, MEL_BANDS * frames);
  }
});

test("a sine's energy lands in the band whose centre is nearest", () => {
  for (const f of [110, 220, 330, 1000, 2500, 6000]) {
    const { mel, frames } = logMelSpectrogram(sine(f, 16000, 0.5));
    const t = frames >> 1;
    let best = 0;
    for (let b = 1; b < MEL_BANDS; b++) if (mel[b * frames + t]! > mel[best * frames + t]!) best = b;
    let nearest = 0;
    for (let b = 1; b < MEL_BANDS; b++) if (Math.abs(bank.centres[b]! - f) < Math.abs(bank.centres[nearest]! - f)) nearest = b;
    assert.equal(best, nearest, `${f} Hz: loudest band ${best} (${bank.centres[best]!.toFixed(1)} Hz), nearest centre ${nearest} (${bank.centres[nearest]!.toFixed(1)} Hz)`);
  }
});

test('magnitude, not power: doubling the amplitude adds ln 2 to every loud band', () => {
  const a = logMelSpectrogram(sine(330, 16000, 0.3, 0.2));
  const b = logMelSpectrogram(sine(330, 16000, 0.3, 0.4));
  const t = a.frames >> 1;
  let checked = 0;
  for (let band = 0; band < MEL_BANDS; band++) {
    const va = a.mel[band * a.frames + t]!;
    if (va < 0) continue; // bands near the clamp do not scale
    assert.ok(Math.abs(b.mel[band * a.frames + t]! - va - Math.LN2) < 1e-3, `band ${band}: ${b.mel[band * a.frames + t]! - va}`);
    checked++;
  }
  assert.ok(checked >= 2);
});

test('silence reads log(1e-5), the clamp', () => {
  const { mel } = logMelSpectrogram(new Float32Array(3200));
  for (const v of mel) assert.ok(Math.abs(v - Math.log(MEL_CLAMP)) < 1e-6);
});

test('the outer frames read reflected samples, as torch.stft(center=True) pads', () => {
  const x = sine(440, 16000, 0.2, 0.5).map((v, i) => v * (1 + i / 3200));
  const whole = logMelSpectrogram(x);
  // Frame 0 of the whole signal equals a frame centred on sample 512 of an explicitly reflected copy.
  const reflected = new Float32Array(512 + x.length);
  for (let i = 0; i < 512; i++) reflected[i] = x[512 - i]!;
  reflected.set(x, 512);
  const out = new Float32Array(MEL_BANDS);
  new LogMel().compute(reflected, 512, 1, out, 1);
  for (let b = 0; b < MEL_BANDS; b++) assert.ok(Math.abs(out[b]! - whole.mel[b * whole.frames]!) < 1e-5, `band ${b}`);
});
