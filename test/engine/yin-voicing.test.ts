// YIN's continuity voicing on signals whose truth is known: it voices the quiet edges of a voiced sound
// that plain YIN misses, never silence or noise, and streamed frames equal a whole-signal run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { YinEstimator, yinTrack } from '../../engine/f0/yin.js';
import { EDGE_VOICING } from '../../engine/f0/yin-voicing.js';
import { cents, streamRun, wholeRun } from '../models/f0/helpers.js';
import { breathyVowel, noiseLevels } from './breathy-vowel.js';

test('continuity voices more of a ramped, breathy vowel than a frame-by-frame threshold, at its pitch', { timeout: 60000 }, () => {
  const x = breathyVowel();
  const plain = yinTrack(x, 16000, 0.01, { threshold: 0.3, continuityFrames: 0 });
  const cont = yinTrack(x, 16000, 0.01, EDGE_VOICING);
  const voiced = (y: Float32Array) => y.filter((v) => v > 0).length;
  assert.ok(voiced(cont) > voiced(plain), `continuity ${voiced(cont)} frames, plain ${voiced(plain)}`);
  for (let f = 0; f < cont.length; f++) if (cont[f]! > 0) assert.ok(Math.abs(cents(cont[f]!, 150)) < 50, `frame ${f}: ${cont[f]} Hz`);
  // Before the ramp and after it there is only the breath noise: never voiced.
  for (let f = 0; f < 15; f++) assert.equal(cont[f], 0, `frame ${f}`);
  for (let f = 86; f < cont.length; f++) assert.equal(cont[f], 0, `frame ${f}`);
});

test('silence, white noise and noise at every level are unvoiced', { timeout: 60000 }, () => {
  assert.ok(yinTrack(new Float32Array(16000), 16000).every((v) => v === 0));
  for (const { amp, x } of noiseLevels()) {
    const y = yinTrack(x, 16000, 0.01, EDGE_VOICING);
    assert.equal(y.filter((v) => v > 0).length, 0, `white noise at amplitude ${amp}`);
  }
});

test('streamed through F0Tracker in blocks of 100 and 20 ms, YIN gives exactly the whole-signal frames', { timeout: 60000 }, async () => {
  const x = breathyVowel();
  const est = new YinEstimator(EDGE_VOICING);
  const whole = await wholeRun(est, x);
  assert.deepEqual(whole, yinTrack(x, 16000, 0.01, EDGE_VOICING), 'the estimator and yinTrack agree');
  for (const block of [100, 20]) assert.deepEqual(await streamRun(est, x, block), whole, `${block} ms blocks`);
});
