// The built-in voices on the streaming path: the output does not depend on how the input is split into calls,
// a click comes out exactly the reported latency later (quantum + look-ahead), the latency report says so, and
// each preset lands on its pitch.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { convertSamples } from '../../host/convert.js';
import { StreamingEngine } from '../../engine/engine.js';
import { createBuiltinVoice } from '../../engine/voices/builtin.js';
import { STREAM_LOOKAHEAD_SEC, STREAM_QUANTUM_SEC } from '../../engine/voices/psola.js';
import { readClip, rng } from '../helpers.js';

/** Runs a clip through a fresh engine, cutting the input into calls of the sizes `sizes` returns (in quanta). */
async function run(voice: string, x: Float32Array, rate: number, sizes: () => number, settings = {}): Promise<Float32Array> {
  const engine = await StreamingEngine.create({ streamRate: rate, voice: createBuiltinVoice(voice), settings });
  try {
    assert.ok(engine.streaming, 'a built-in voice takes the streaming path');
    const q = engine.blockSize;
    const y = new Float32Array(x.length - (x.length % q));
    const out = new Float32Array(engine.maxOutput);
    for (let p = 0; p < y.length; ) {
      const n = Math.min(sizes() * q, y.length - p);
      const got = await engine.processBlock(x.subarray(p, p + n), out);
      assert.equal(got, n, 'as many samples out as in');
      y.set(out.subarray(0, n), p);
      p += n;
    }
    return y;
  } finally {
    engine.destroy();
  }
}

describe('continuity across call boundaries', () => {
  for (const voice of ['deeper', 'chipmunk', 'robot', 'giant']) {
    test(`${voice}: the output is sample-identical whether calls are 1 quantum, 5.3 ms, 100 ms or random`, { timeout: 120_000 }, async () => {
      const { x: full, rate } = await readClip('librispeech', '8842-302196-0000.wav');
      const x = full.subarray(0, Math.round(rate * 4));
      const r = rng(7);
      const ref = await run(voice, x, rate, () => 1);
      let peak = 0;
      for (const v of ref) peak = Math.max(peak, Math.abs(v));
      assert.ok(peak > 0.01, 'the voice is not silent');
      const q = Math.round(rate * STREAM_QUANTUM_SEC);
      for (const [name, sizes] of [
        ['one device buffer (256 frames, rounded to quanta)', () => Math.max(1, Math.round(256 / q))],
        ['100 ms', () => Math.round(0.1 / STREAM_QUANTUM_SEC)],
        ['random 1..40 quanta', () => 1 + Math.floor(r() * 40)],
      ] as const) {
        const y = await run(voice, x, rate, sizes);
        let firstDiff = -1;
        for (let i = 0; i < y.length && firstDiff < 0; i++) if (y[i] !== ref[i]) firstDiff = i;
        assert.equal(firstDiff, -1, `${name}: differs from one-quantum calls first at sample ${firstDiff}`);
      }
    });
  }
});

describe('exact latency: a click through convert --keep-latency', () => {
  for (const rate of [16000, 44100, 48000]) {
    test(`${rate} Hz: the click comes out exactly quantum + look-ahead later, as reported`, { timeout: 60_000 }, async () => {
      const x = new Float32Array(Math.round(rate * 1.2));
      const at = Math.round(rate * 0.61);
      x[at] = 0.9;
      const settings = { pitch: 0, formant: 0, silenceDb: -100 };
      const live = await convertSamples(x, rate, { voice: 'natural', settings, keepLatency: true });
      const expected = Math.round(rate * STREAM_QUANTUM_SEC) + Math.round(rate * STREAM_LOOKAHEAD_SEC);
      assert.equal(live.latency.totalSamples, expected, 'reported latency = quantum + look-ahead');
      assert.equal(live.latency.crossfadeMs, 0);
      assert.equal(live.latency.searchMs, 0);
      assert.ok(Math.abs(live.latency.voiceMs - STREAM_LOOKAHEAD_SEC * 1000) < 0.05, `look-ahead reported as ${live.latency.voiceMs} ms`);
      assert.equal(live.output.length, x.length);
      // At pitch 0 an unvoiced click is copied grain by grain: it comes out at exactly one sample.
      let peakAt = 0;
      for (let i = 1; i < live.output.length; i++) if (Math.abs(live.output[i]!) > Math.abs(live.output[peakAt]!)) peakAt = i;
      assert.equal(peakAt - at, expected, `click delayed ${peakAt - at} samples, reported ${expected}`);
      // The gate opens the look-ahead before the click, so it comes out whole (input gating ramped it to < 8 %).
      assert.ok(Math.abs(live.output[peakAt]! - 0.9) < 1e-3, `click amplitude ${live.output[peakAt]}`);
      const aligned = await convertSamples(x, rate, { voice: 'natural', settings });
      let alignedAt = 0;
      for (let i = 1; i < aligned.output.length; i++) if (Math.abs(aligned.output[i]!) > Math.abs(aligned.output[alignedAt]!)) alignedAt = i;
      assert.equal(alignedAt, at, 'compensated output lines up with the input');
    });
  }
});

describe('latency report of a streaming voice', () => {
  test('algorithmic latency is the look-ahead plus one quantum, whatever block, crossfade and search say', { timeout: 30_000 }, async () => {
    const engine = await StreamingEngine.create({ streamRate: 48000, voice: createBuiltinVoice('deeper'), settings: { blockMs: 250, crossfadeMs: 80, searchMs: 30 } });
    try {
      const l = engine.latency();
      assert.ok(Math.abs(l.totalMs - (STREAM_LOOKAHEAD_SEC + STREAM_QUANTUM_SEC) * 1000) < 1e-6, `total ${l.totalMs} ms`);
      assert.equal(l.blockMs, STREAM_QUANTUM_SEC * 1000);
      assert.equal(engine.blockSize, 48);
      await assert.rejects(engine.processBlock(new Float32Array(50), new Float32Array(engine.maxOutput)), /whole number of 48-sample quanta/);
    } finally {
      engine.destroy();
    }
    const block = await StreamingEngine.create({ streamRate: 48000, voice: createBuiltinVoice('deeper'), path: 'block', settings: { blockMs: 20 } });
    try {
      assert.equal(block.streaming, false);
      assert.ok(Math.abs(block.latency().totalMs - 50) < 1e-6, 'the block path keeps block + crossfade + search');
    } finally {
      block.destroy();
    }
  });
});

describe('pitch on a steady voice', () => {
  for (const [voice, hz, expected] of [
    ['natural', 150, 150],
    ['higher', 150, 150 * 2 ** (5 / 12)],
    ['deeper', 220, 220 * 2 ** (-5 / 12)],
    ['giant', 220, 220 * 2 ** (-9 / 12)],
    ['chipmunk', 150, 150 * 2 ** (9 / 12)],
    ['robot', 180, 110],
  ] as const) {
    test(`${voice}: a ${hz} Hz pulse train comes out at ${expected.toFixed(1)} Hz within 10 cents`, { timeout: 60_000 }, async () => {
      const rate = 48000;
      const x = new Float32Array(rate * 2);
      for (let i = 0; i < x.length; i++) {
        const ph = ((i * hz) / rate) % 1;
        x[i] = 0.3 * (Math.exp(-ph * 12) - 0.08);
      }
      const r = await convertSamples(x, rate, { voice });
      const { yinTrack } = await import('../../engine/f0/yin.js');
      const f = Array.from(yinTrack(r.output.subarray(rate / 2), rate)).filter((v) => v > 0).sort((a, b) => a - b);
      assert.ok(f.length > 50, `only ${f.length} voiced frames`);
      const med = f[f.length >> 1]!;
      const cents = 1200 * Math.log2(med / expected);
      assert.ok(Math.abs(cents) <= 10, `median ${med.toFixed(2)} Hz, ${cents.toFixed(1)} cents from ${expected.toFixed(2)}`);
    });
  }
});
