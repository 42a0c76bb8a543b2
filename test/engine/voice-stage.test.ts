// The VoiceStage contract as neural voices will use it: a 16 kHz context window in, audio at the voice's
// own rate out. Two small test voices with predictable behaviour check routing, lengths and latency.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamingEngine } from '../../engine/engine.js';
import { yinTrack } from '../../engine/f0/yin.js';
import { stageTimings, type VoiceBlock, type VoiceConfig, type VoiceStage } from '../../engine/voices/voice-stage.js';
import { describeStages, stageReports } from '../../protocol/runtime.js';
import { medianVoiced, ratioToCents } from '../../engine/pitch.js';
import { clickDelay, sine } from '../helpers.js';

const OUT_RATE = 40000;

/** Renders the 16 kHz window resampled linearly to 40 kHz: the engine's timing, with no voice of its own. */
class PassThrough16k implements VoiceStage {
  readonly id = 'test-pass';
  readonly inputRate = 16000;
  readonly outputRate = OUT_RATE;
  readonly lookaheadSec: number = 0;
  configure(_c: VoiceConfig): void {}
  reset(): void {}
  render(b: VoiceBlock, out: Float32Array): void {
    const end = (b.startIndex + b.audio.length) / 16000;
    for (let i = 0; i < out.length; i++) {
      const t = end - (out.length - i) / OUT_RATE;
      const pos = t * 16000 - b.startIndex;
      const k = Math.floor(pos);
      const f = pos - k;
      const a = k >= 0 && k < b.audio.length ? b.audio[k]! : 0;
      const c = k + 1 >= 0 && k + 1 < b.audio.length ? b.audio[k + 1]! : 0;
      out[i] = a + (c - a) * f;
    }
  }
}

/** Sings a sine at the f0 the engine hands it, phase-continuous in absolute time. */
class SineSinger implements VoiceStage {
  readonly id = 'test-singer';
  readonly inputRate = 16000;
  readonly outputRate = OUT_RATE;
  readonly lookaheadSec = 0;
  private phase = 0;
  private lastT = 0;
  configure(_c: VoiceConfig): void {}
  reset(): void {}
  render(b: VoiceBlock, out: Float32Array): void {
    const end = (b.startIndex + b.audio.length) / 16000;
    const start = end - out.length / OUT_RATE;
    // Rewind the phase to the region start by integrating f0 backwards over the overlap with the last render.
    for (let t = this.lastT; t > start; t -= 1 / OUT_RATE) this.phase -= (2 * Math.PI * (b.f0.hzAt(t) || 0)) / OUT_RATE;
    for (let i = 0; i < out.length; i++) {
      const t = start + i / OUT_RATE;
      this.phase += (2 * Math.PI * (b.f0.hzAt(t) || 0)) / OUT_RATE;
      out[i] = 0.5 * Math.sin(this.phase);
    }
    this.lastT = end;
  }
}

async function run(voice: VoiceStage, x: Float32Array, rate: number, settings = {}) {
  const engine = await StreamingEngine.create({ streamRate: rate, voice, settings });
  const out = new Float32Array(engine.maxOutput);
  const y = new Float32Array(x.length + 4 * engine.maxOutput);
  let len = engine.blockSize; // live timeline: output starts after the first block
  for (let p = 0; p < x.length; p += engine.blockSize) {
    const block = new Float32Array(engine.blockSize);
    block.set(x.subarray(p, Math.min(x.length, p + engine.blockSize)));
    const n = await engine.processBlock(block, out);
    y.set(out.subarray(0, n), len);
    len += n;
  }
  const latency = engine.latency();
  engine.destroy();
  return { y: y.subarray(0, len), latency, blocks: Math.ceil(x.length / engine.blockSize) };
}

describe('VoiceStage at 16 kHz in, 40 kHz out', () => {
  for (const rate of [48000, 44100, 16000]) {
    test(`${rate} Hz stream: a click comes out after the reported latency (both resamplers counted)`, async () => {
      const x = new Float32Array(rate);
      x[Math.round(rate * 0.437)] = 0.9;
      const { y, latency } = await run(new PassThrough16k(), x, rate, { blockMs: 100, silenceDb: -100 });
      const delayMs = (clickDelay(x, y) / rate) * 1000;
      assert.ok(rate === 16000 || latency.resampleMs > 0, 'resampler delay is reported');
      assert.ok(Math.abs(delayMs - latency.totalMs) <= 10, `measured ${delayMs.toFixed(2)} ms, reported ${latency.totalMs.toFixed(2)} ms`);
    });
  }

  test('the f0 the engine hands the voice is the input f0, and the stream keeps its length per block', async () => {
    const rate = 48000;
    const x = sine(180, rate, 3, 0.4);
    const { y, blocks, latency } = await run(new SineSinger(), x, rate, { blockMs: 50 });
    const n = Math.round(0.05 * rate);
    // Each block yields one block of output; the stream as a whole trails by the resamplers' delay.
    const expected = (blocks + 1) * n - (latency.resampleMs * rate) / 1000;
    assert.ok(Math.abs(y.length - expected) <= 2, `output ${y.length} samples, expected ${expected.toFixed(1)}`);
    const f = medianVoiced(yinTrack(y.subarray(rate, 2 * rate), rate));
    assert.ok(Math.abs(ratioToCents(f / 180)) <= 10, `sang ${f.toFixed(2)} Hz for a 180 Hz input`);
  });
});

describe('the stage graph seam', () => {
  /** A pass-through that declares shallow diffusion's stage list and times each stage by doing work in it. */
  class StagedVoice extends PassThrough16k {
    readonly stages = stageTimings('synthesizer', 'mel', { name: 'denoiser', calls: 10, lookaheadSec: 0.012 }, { name: 'vocoder', lookaheadSec: 0.017 });
    override readonly lookaheadSec: number = 0.029;
    override render(b: VoiceBlock, out: Float32Array): void {
      for (const s of this.stages) {
        const t = performance.now();
        while (performance.now() - t < 0.2 * s.calls);
        s.ms = performance.now() - t;
      }
      super.render(b, out);
    }
  }

  test('a voice with four stages: the engine times each, the latency report lists their look-ahead, telemetry joins providers', async () => {
    const voice = new StagedVoice();
    const engine = await StreamingEngine.create({ streamRate: 48000, voice, settings: { blockMs: 50 } });
    const out = new Float32Array(engine.maxOutput);
    const x = sine(220, 48000, 0.3);
    for (let p = 0; p + engine.blockSize <= x.length; p += engine.blockSize) await engine.processBlock(x.subarray(p, p + engine.blockSize), out);
    assert.deepEqual(engine.stages.map((s) => s.name), ['synthesizer', 'mel', 'denoiser', 'vocoder']);
    assert.ok(engine.stages.every((s) => s.ms >= 0.2 * s.calls), engine.stages.map((s) => s.ms).join());
    assert.ok(engine.stages.reduce((a, s) => a + s.ms, 0) <= engine.times.voice);
    const lat = engine.latency();
    assert.deepEqual(lat.stages.map((s) => [s.name, Math.round(s.lookaheadMs)]), [['synthesizer', 0], ['mel', 0], ['denoiser', 12], ['vocoder', 17]]);
    assert.ok(Math.abs(lat.voiceMs - 29) < 1e-9);
    const reports = stageReports(engine.stages, (i) => engine.stages[i]!.ms, [
      { network: 'synthesizer', provider: 'webgpu', note: null },
      { network: 'denoiser', provider: 'webgpu', note: null },
      { network: 'vocoder', provider: 'cpu', note: 'why' },
    ]);
    assert.deepEqual(reports.map((r) => [r.name, r.provider, r.calls]), [['synthesizer', 'webgpu', 1], ['mel', null, 1], ['denoiser', 'webgpu', 10], ['vocoder', 'cpu', 1]]);
    assert.match(describeStages(reports), /^synthesizer WebGPU \d+\.\d ms, mel CPU \d+\.\d ms, denoiser ×10 WebGPU \d+\.\d ms, vocoder CPU \d+\.\d ms$/);
    // Gated silence skips the voice: its stages read 0 for that block rather than the last sound's times.
    engine.update({ silenceDb: 0 });
    const quiet = new Float32Array(engine.blockSize);
    for (let i = 0; i < 20; i++) await engine.processBlock(quiet, out);
    assert.ok(engine.stages.every((s) => s.ms === 0));
    engine.destroy();
  });

  test('a voice without stages (the DSP voices) reports none', async () => {
    const engine = await StreamingEngine.create({ streamRate: 48000, voice: new PassThrough16k() });
    assert.deepEqual(engine.stages, []);
    assert.deepEqual(engine.latency().stages, []);
    engine.destroy();
  });
});
