// The 360-bin salience decode shared by CREPE and RMVPE: the cents grid, the 9-bin local average, the
// threshold, and the edges of the grid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BIN0_CENTS, SALIENCE_BINS, binToHz, decodeSalience, hzToBin } from '../../../models/f0/salience.js';
import { cents } from './helpers.js';

/** One frame of salience: a Gaussian bump of the given height centred on a fractional bin. */
function bump(centre: number, height: number, widthBins = 1.2): Float32Array {
  const s = new Float32Array(SALIENCE_BINS);
  for (let i = 0; i < SALIENCE_BINS; i++) s[i] = height * Math.exp(-0.5 * ((i - centre) / widthBins) ** 2);
  return s;
}

test('the grid: bin 0 is 1997.38 cents above 10 Hz (31.70 Hz), 20 cents per bin, up to 2005.5 Hz', () => {
  assert.ok(Math.abs(binToHz(0) - 10 * 2 ** (BIN0_CENTS / 1200)) < 1e-9);
  assert.ok(Math.abs(binToHz(0) - 31.7) < 0.01, `${binToHz(0)}`);
  assert.ok(Math.abs(binToHz(359) - 2005.5) < 0.01, `${binToHz(359)}`);
  assert.ok(Math.abs(cents(binToHz(101), binToHz(100)) - 20) < 1e-9);
  assert.ok(Math.abs(hzToBin(binToHz(123.4)) - 123.4) < 1e-9);
});

test('a symmetric bump between bins decodes to its centre within a cent', () => {
  const out = new Float32Array(1);
  for (const hz of [55, 110, 220, 233.3, 441, 1000]) {
    decodeSalience(bump(hzToBin(hz), 0.9), 0, 1, out, { threshold: 0.03 });
    assert.ok(Math.abs(cents(out[0]!, hz)) < 1, `${hz} Hz decoded as ${out[0]} Hz`);
  }
});

test('the threshold: peak ≤ threshold is unvoiced; the peak is reported', () => {
  const out = new Float32Array(2);
  const peak = new Float32Array(2);
  const two = new Float32Array(2 * SALIENCE_BINS);
  two.set(bump(100, 0.03), 0);
  two.set(bump(100, 0.031), SALIENCE_BINS);
  decodeSalience(two, 0, 2, out, { threshold: 0.03 }, peak);
  assert.equal(out[0], 0);
  assert.ok(out[1]! > 0);
  assert.ok(Math.abs(peak[1]! - 0.031) < 1e-6);
});

test('only the 9 bins around the peak count: a second, weaker peak 5 bins away does not pull the estimate', () => {
  const s = bump(200, 0.8, 0.8);
  const far = bump(205, 0.5, 0.3);
  for (let i = 0; i < s.length; i++) s[i] = Math.max(s[i]!, far[i]!);
  const out = new Float32Array(1);
  decodeSalience(s, 0, 1, out, { threshold: 0.03 });
  // Bin 205 lies outside 196…204, but its shoulder at 204 is inside: a few cents, not the 50 of a blend.
  assert.ok(Math.abs(cents(out[0]!, binToHz(200))) < 5, `${cents(out[0]!, binToHz(200))} cents`);
});

test('peaks at the ends of the grid decode without reading outside it; minBin/maxBin limit the search', () => {
  const out = new Float32Array(1);
  decodeSalience(bump(0, 0.9), 0, 1, out, { threshold: 0.03 });
  assert.ok(out[0]! > binToHz(0) && out[0]! < binToHz(1), `${out[0]}`);
  decodeSalience(bump(359, 0.9), 0, 1, out, { threshold: 0.03 });
  assert.ok(out[0]! < binToHz(359) && out[0]! > binToHz(358), `${out[0]}`);
  const s = bump(300, 0.9);
  s.set(bump(100, 0.5).subarray(80, 120), 80);
  decodeSalience(s, 0, 1, out, { threshold: 0.03, maxBin: 200 });
  assert.ok(Math.abs(cents(out[0]!, binToHz(100))) < 1, `${out[0]}`);
});

test('frames are read at an offset and written at an offset', () => {
  const rows = new Float32Array(3 * SALIENCE_BINS);
  rows.set(bump(50, 0.9), 0);
  rows.set(bump(150, 0.9), SALIENCE_BINS);
  rows.set(bump(250, 0.9), 2 * SALIENCE_BINS);
  const out = new Float32Array(4);
  decodeSalience(rows, SALIENCE_BINS, 2, out, { threshold: 0.03 }, undefined, 1);
  assert.equal(out[0], 0);
  assert.ok(Math.abs(cents(out[1]!, binToHz(150))) < 1);
  assert.ok(Math.abs(cents(out[2]!, binToHz(250))) < 1);
  assert.equal(out[3], 0);
});
