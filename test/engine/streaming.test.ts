// The streaming path itself: seams, lengths, latency, and settings changed between blocks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { convertSamples } from '../../host/convert.js';
import { StreamingEngine } from '../../engine/engine.js';
import { createBuiltinVoice } from '../../engine/voices/builtin.js';
import { clickDelay, seamStats, sine } from '../helpers.js';

describe('no seams on a steady sine through a pitch-only voice', () => {
  for (const blockMs of [20, 50, 100, 250, 500]) {
    for (const rate of [16000, 48000]) {
      test(`block ${blockMs} ms at ${rate} Hz, pitch +3`, async () => {
        const x = sine(220, rate, 4);
        const r = await convertSamples(x, rate, { voice: 'natural', settings: { pitch: 3, blockMs }, keepLatency: true });
        const y = r.output;
        const N = Math.round((blockMs * rate) / 1000);
        const from = Math.round(rate * 0.5); // past the start-up
        const to = y.length - N;
        const boundaries: number[] = [];
        for (let b = N; b < y.length; b += N) boundaries.push(b);
        const win = Math.round(rate * 0.005);
        const s = seamStats(y, boundaries, from, to, win);
        assert.ok(s.jumpElse > 0, 'the output is silent');
        assert.ok(s.jumpAt <= s.jumpElse * 1.02 + 1e-6, `sample jump at seams ${s.jumpAt.toFixed(5)} > elsewhere ${s.jumpElse.toFixed(5)}`);
        for (const e of s.eAt) {
          assert.ok(e >= s.eMin * 0.98 && e <= s.eMax * 1.02, `5 ms energy at a seam ${e.toFixed(5)} outside [${s.eMin.toFixed(5)}, ${s.eMax.toFixed(5)}] seen elsewhere`);
        }
      });
    }
  }
});

describe('output length', () => {
  for (const [rate, seconds, blockMs] of [
    [16000, 1.2345, 100],
    [22050, 0.5, 250],
    [44100, 2.001, 20],
    [8000, 0.33, 50],
    [192000, 0.4, 100],
  ] as const) {
    test(`${seconds} s at ${rate} Hz, block ${blockMs} ms: same length in and out`, async () => {
      const x = sine(150, rate, seconds, 0.3);
      for (const keepLatency of [false, true]) {
        const r = await convertSamples(x, rate, { voice: 'deeper', settings: { blockMs }, keepLatency });
        assert.equal(r.output.length, x.length);
        assert.equal(r.sampleRate, rate);
      }
    });
  }
});

describe('algorithmic latency equals the delay of a click', () => {
  const cases = [
    { rate: 48000, blockMs: 100, crossfadeMs: 20, searchMs: 10 },
    { rate: 48000, blockMs: 20, crossfadeMs: 10, searchMs: 10 },
    { rate: 44100, blockMs: 250, crossfadeMs: 40, searchMs: 12 },
    { rate: 16000, blockMs: 50, crossfadeMs: 20, searchMs: 0 },
    { rate: 22050, blockMs: 500, crossfadeMs: 80, searchMs: 10 },
  ];
  for (const c of cases) {
    test(`${c.rate} Hz, block ${c.blockMs}, crossfade ${c.crossfadeMs}, search ${c.searchMs}`, async () => {
      const x = new Float32Array(Math.round(c.rate * 1.5));
      x[Math.round(c.rate * 0.61)] = 0.9;
      const settings = { blockMs: c.blockMs, crossfadeMs: c.crossfadeMs, searchMs: c.searchMs, pitch: 0, silenceDb: -100 };
      const live = await convertSamples(x, c.rate, { voice: 'natural', settings, keepLatency: true });
      const measuredMs = (clickDelay(x, live.output) / c.rate) * 1000;
      assert.ok(Math.abs(measuredMs - live.latency.totalMs) <= 10, `measured ${measuredMs.toFixed(2)} ms, reported ${live.latency.totalMs.toFixed(2)} ms`);
      // Compensated output lines up with the input.
      const aligned = await convertSamples(x, c.rate, { voice: 'natural', settings });
      assert.ok(Math.abs(clickDelay(x, aligned.output) / c.rate) * 1000 <= 10, 'compensated output is not aligned');
    });
  }
});

describe('settings change between blocks without a restart', () => {
  test('block, crossfade, pitch and formant changed mid-stream keep the stream going', async () => {
    const rate = 16000;
    const engine = await StreamingEngine.create({ streamRate: rate, voice: createBuiltinVoice('natural'), settings: { blockMs: 100 } });
    const x = sine(200, rate, 3);
    const out = new Float32Array(engine.maxOutput);
    const y: number[] = [];
    let pos = 0;
    let step = 0;
    while (pos + engine.blockSize <= x.length) {
      const n = await engine.processBlock(x.subarray(pos, pos + engine.blockSize), out);
      pos += engine.blockSize;
      y.push(...out.subarray(0, n));
      step++;
      if (step === 5) engine.update({ blockMs: 40, crossfadeMs: 15, pitch: 4 });
      if (step === 20) engine.update({ blockMs: 250, formant: 2 });
    }
    engine.destroy();
    assert.equal(engine.currentSettings.blockMs, 250);
    assert.equal(engine.currentSettings.pitch, 4);
    assert.ok(Math.abs(y.length - pos) <= 64, `output ${y.length} samples for ${pos} in`);
    assert.throws(() => engine.update({ pitch: 99 }), /pitch shift 99 semitones is out of range/);
    assert.equal(engine.currentSettings.pitch, 4, 'a refused setting leaves the running ones as they were');
  });
});
