// YIN's probabilistic (pYIN) voicing on signals whose truth is known: pure tones stay voiced at their pitch,
// silence and noise stay unvoiced, the quiet edges of a breathy vowel are voiced where a single threshold
// misses them, the look-ahead it costs is declared, and a stream equals a whole-signal run with the same lag.
// Its figures on real speech are asserted in test/models/f0/accuracy.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamingEngine } from '../../engine/engine.js';
import { YinEstimator, yinTrack } from '../../engine/f0/yin.js';
import { createBuiltinVoice } from '../../engine/voices/builtin.js';
import { PYIN_VOICING, PyinDecoder } from '../../engine/f0/yin-pyin.js';
import { sine } from '../helpers.js';
import { cents, streamRun, wholeRun } from '../models/f0/helpers.js';
import { breathyVowel, noiseLevels } from './breathy-vowel.js';

const voiced = (y: Float32Array) => y.filter((v) => v > 0).length;

test('pure sines 80–1000 Hz stay voiced on every inner frame, within 5 cents', { timeout: 60000 }, async () => {
  for (const hz of [80, 110, 200, 330, 523, 1000]) {
    const est = new YinEstimator({ pyin: PYIN_VOICING });
    const x = sine(hz, 16000, 1);
    const y = await wholeRun(est, x);
    // Frames whose analysis lies wholly inside the tone (the first and last read the silence around it).
    for (let f = 3; f < y.length - 3; f++) {
      assert.ok(y[f]! > 0, `${hz} Hz: frame ${f} unvoiced`);
      assert.ok(Math.abs(cents(y[f]!, hz)) < 5, `${hz} Hz: frame ${f} at ${y[f]} Hz`);
    }
  }
});

test('silence and white noise at every level are unvoiced', { timeout: 60000 }, () => {
  assert.equal(voiced(yinTrack(new Float32Array(16000), 16000, 0.01, { pyin: PYIN_VOICING })), 0);
  for (const { amp, x } of noiseLevels()) {
    assert.equal(voiced(yinTrack(x, 16000, 0.01, { pyin: PYIN_VOICING })), 0, `white noise at amplitude ${amp}`);
  }
});

test('voices more of a ramped, breathy vowel than the frame-by-frame threshold, at its pitch, and not the noise around it', { timeout: 60000 }, () => {
  const x = breathyVowel();
  const plain = yinTrack(x, 16000, 0.01, { threshold: 0.3, continuityFrames: 0 });
  const p = yinTrack(x, 16000, 0.01, { pyin: PYIN_VOICING });
  assert.ok(voiced(p) > voiced(plain), `pYIN ${voiced(p)} frames, plain ${voiced(plain)}`);
  for (let f = 0; f < p.length; f++) if (p[f]! > 0) assert.ok(Math.abs(cents(p[f]!, 150)) < 50, `frame ${f}: ${p[f]} Hz`);
  for (let f = 0; f < 15; f++) assert.equal(p[f], 0, `frame ${f}`);
  for (let f = 86; f < p.length; f++) assert.equal(p[f], 0, `frame ${f}`);
});

test('the lag is declared as f0 look-ahead (10 ms a frame), and a bad lag is refused', { timeout: 10000 }, () => {
  const plain = new YinEstimator();
  for (const lagFrames of [0, 2, 5]) {
    const est = new YinEstimator({ pyin: { ...PYIN_VOICING, lagFrames } });
    assert.equal(est.contextAfter - plain.contextAfter, 160 * lagFrames);
    assert.equal(est.contextBefore, plain.contextBefore);
  }
  assert.throws(() => new PyinDecoder(14, 320, { lagFrames: 1.5 }), /lagFrames must be an integer/);
  assert.throws(() => new PyinDecoder(14, 320, { priorMean: 1.2 }), /prior mean/);
});

test('streamed through F0Tracker in blocks of 100, 20 and 5 ms, pYIN gives exactly the whole-signal frames, for lags 0, 1, 2 and 4', { timeout: 60000 }, async () => {
  const x = breathyVowel();
  for (const lagFrames of [0, 1, 2, 4]) {
    const o = { pyin: { ...PYIN_VOICING, lagFrames } };
    const est = new YinEstimator(o);
    const whole = await wholeRun(est, x);
    assert.deepEqual(whole, yinTrack(x, 16000, 0.01, o), `lag ${lagFrames}: the estimator and yinTrack agree`);
    // The same estimator serves every run: each new stream must start its decoder afresh.
    for (const block of [100, 20, 5]) assert.deepEqual(await streamRun(est, x, block), whole, `lag ${lagFrames}, ${block} ms blocks`);
    assert.deepEqual(await wholeRun(est, x), whole, `lag ${lagFrames}: a second whole run`);
  }
});

test('a built-in voice (pitch −5) streaming with pyin: output independent of how the input is split, and a 220 Hz pulse train comes out 5 semitones down within 10 cents', { timeout: 60000 }, async () => {
  const rate = 48000;
  const x = new Float32Array(rate * 2);
  for (let i = 0; i < x.length; i++) {
    const ph = ((i * 220) / rate) % 1;
    x[i] = 0.3 * (Math.exp(-ph * 12) - 0.08);
  }
  const outputs: Float32Array[] = [];
  for (const quanta of [7, 64]) {
    const engine = await StreamingEngine.create({ streamRate: rate, voice: createBuiltinVoice('deeper'), f0: new YinEstimator({ pyin: PYIN_VOICING }), settings: { pitch: -5 } });
    try {
      assert.ok(engine.streaming);
      assert.equal(engine.f0Method, 'pyin');
      const q = engine.blockSize;
      const y = new Float32Array(x.length - (x.length % q));
      const out = new Float32Array(engine.maxOutput);
      for (let p = 0; p < y.length; ) {
        const n = Math.min(quanta * q, y.length - p);
        assert.equal(await engine.processBlock(x.subarray(p, p + n), out), n);
        y.set(out.subarray(0, n), p);
        p += n;
      }
      outputs.push(y);
    } finally {
      engine.destroy();
    }
  }
  assert.deepEqual(outputs[0], outputs[1], 'calls of 7 and 64 quanta give the same output');
  const f = Array.from(yinTrack(outputs[0]!.subarray(rate / 2), rate)).filter((v) => v > 0).sort((a, b) => a - b);
  assert.ok(f.length > 50, `only ${f.length} voiced frames`);
  const expected = 220 * 2 ** (-5 / 12);
  assert.ok(Math.abs(cents(f[f.length >> 1]!, expected)) <= 10, `median ${f[f.length >> 1]} Hz against ${expected}`);
});
