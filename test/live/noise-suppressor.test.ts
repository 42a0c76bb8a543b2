// RNNoise input suppression, without devices: steady noise is attenuated at 48 kHz and at a rate that
// needs resampling, speech passes, and blocks keep their length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NoiseSuppressor } from '../../host/live/noise-suppressor.js';
import { speech } from './live-analysis.js';

const rms = (x: Float32Array, from = 0) => Math.sqrt(x.subarray(from).reduce((s, v) => s + v * v, 0) / Math.max(1, x.length - from));
const db = (r: number) => 20 * Math.log10(r);

for (const rate of [48000, 44100]) {
  test(`${rate} Hz: noise alone is cut by more than 15 dB, speech keeps most of its level`, async () => {
    const N = Math.round(rate / 10); // 100 ms blocks
    const ns = await NoiseSuppressor.create(rate, N * 15);
    let seed = 1;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) * 2 - 1;
    const noise = new Float32Array(rate * 3).map(() => 0.05 * rnd());
    const y = Float32Array.from(noise);
    for (let off = 0; off + N <= y.length; off += N) ns.process(y.subarray(off, off + N));
    const cut = db(rms(noise, rate)) - db(rms(y, rate));
    const x = await speech(3, rate);
    const z = Float32Array.from(x);
    for (let off = 0; off + N <= z.length; off += N) ns.process(z.subarray(off, off + N));
    const kept = db(rms(z, rate)) - db(rms(x, rate));
    ns.destroy();
    assert.ok(cut > 15, `noise cut by ${cut.toFixed(1)} dB`);
    assert.ok(kept > -6, `speech level changed by ${kept.toFixed(1)} dB`);
    assert.ok(ns.delaySec > 0 && ns.delaySec < 0.05, `delay ${ns.delaySec}`);
  });
}
