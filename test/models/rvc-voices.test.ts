// RVC voices through the streaming engine, one tiny model per ONNX contract (test/models/tiny-models.ts):
// pitch, coarse pitch, speaker, skip_head/return_length, formant_length, output rate and length, seams,
// in the convert path and in the live block path.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { StreamingEngine } from '../../engine/engine.js';
import { yinTrack } from '../../engine/f0/yin.js';
import { coarsePitch, medianVoiced, ratioToCents, semitonesToRatio } from '../../engine/pitch.js';
import { convertSamples } from '../../host/convert.js';
import { describeStages, stageReports } from '../../protocol/runtime.js';
import { resolveVoice } from '../../host/voices.js';
import { ContentEncoder } from '../../models/rvc/content-encoder.js';
import { seamStats, sine, tempDir } from '../helpers.js';
import { buildTinyEncoder, buildTinySynth, coarseToHz, type Contract, speakerGain, type TinySynthOptions, writeModel } from './tiny-models.js';

const STREAM = 48000;
const F_IN = 200;
const tmp = tempDir();
let enc768: string;
let enc256Units: string;
const models = new Map<string, string>();

async function model(name: string, o: TinySynthOptions): Promise<string> {
  const file = await writeModel(tmp.dir, `${name}.onnx`, buildTinySynth(o));
  models.set(name, file);
  return file;
}

before(async () => {
  enc768 = await writeModel(tmp.dir, 'vec-768.onnx', buildTinyEncoder('vec', 768));
  enc256Units = await writeModel(tmp.dir, 'units.onnx', buildTinyEncoder('units'));
});
after(() => tmp.cleanup());

function rms(y: Float32Array): number {
  let e = 0;
  for (const v of y) e += v * v;
  return Math.sqrt(e / y.length);
}

/** f0 of the steady middle of a converted clip (YIN; the tiny voices sing pure sines). */
function midF0(y: Float32Array, rate: number): number {
  return medianVoiced(yinTrack(y.subarray(Math.round(rate * 0.5), y.length - Math.round(rate * 0.3)), rate));
}

const CONTRACTS: { contract: Contract; rate: 32000 | 40000 | 48000; channels: 256 | 768 }[] = [
  { contract: 'vcclient', rate: 40000, channels: 768 },
  { contract: 'vcclient-skip', rate: 48000, channels: 768 },
  { contract: 'webui', rate: 32000, channels: 768 },
];

describe('RVC contracts with f0: the voice sings at the shifted pitch, at its own rate, speaker by sid', () => {
  for (const c of CONTRACTS) {
    for (const pitch of [-7, 5, 12]) {
      test(`${c.contract} ${c.rate / 1000} kHz, pitch ${pitch}: output f0 and length`, async () => {
        const file = await model(`${c.contract}-${c.rate}`, { ...c, f0: true, speakers: 3 });
        const x = sine(F_IN, STREAM, 2);
        const r = await convertSamples(x, STREAM, { voice: file, encoder: enc768, settings: { pitch, speaker: 1 } });
        assert.equal(r.output.length, x.length, 'output has the input length');
        assert.equal(r.sampleRate, STREAM);
        const cents = ratioToCents(midF0(r.output, STREAM) / F_IN);
        assert.ok(Math.abs(cents - pitch * 100) < 5, `f0 moved ${cents.toFixed(1)} cents, wanted ${pitch * 100}`);
      });
    }
    test(`${c.contract}: sid selects the speaker (amplitude table), an unknown speaker is refused`, async () => {
      const file = models.get(`${c.contract}-${c.rate}`) ?? (await model(`${c.contract}-${c.rate}`, { ...c, f0: true, speakers: 3 }));
      const x = sine(F_IN, STREAM, 1.5);
      for (const speaker of [0, 2]) {
        const r = await convertSamples(x, STREAM, { voice: file, encoder: enc768, settings: { speaker } });
        const level = rms(r.output.subarray(STREAM * 0.5, STREAM * 1.2));
        const want = speakerGain(speaker) / Math.SQRT2;
        assert.ok(Math.abs(level / want - 1) < 0.03, `speaker ${speaker}: RMS ${level.toFixed(4)}, wanted ${want.toFixed(4)}`);
      }
      await assert.rejects(convertSamples(x, STREAM, { voice: file, encoder: enc768, settings: { speaker: 3 } }), /speaker 3 does not exist: this voice has 3 speakers \(0–2\)/);
    });
  }

  test('coarse pitch: a model singing at the pitch its coarse input stands for lands on RVC\'s mel bins', async () => {
    const file = await model('webui-coarse', { contract: 'webui', rate: 40000, channels: 768, f0: true, singCoarse: true });
    for (const pitch of [-5, 0, 7]) {
      const r = await convertSamples(sine(F_IN, STREAM, 2), STREAM, { voice: file, encoder: enc768, settings: { pitch } });
      const want = coarseToHz(coarsePitch(F_IN * semitonesToRatio(pitch)));
      const got = midF0(r.output, STREAM);
      assert.ok(Math.abs(ratioToCents(got / want)) < 3, `pitch ${pitch}: ${got.toFixed(2)} Hz, coarse bin centre ${want.toFixed(2)} Hz`);
    }
  });

  test('float16 features and the older [1,1,L] output shape work the same', async () => {
    const file = await model('fp16', { contract: 'vcclient', rate: 40000, channels: 768, f0: true, featType: 'float16', outputShape: 'batch' });
    const r = await convertSamples(sine(F_IN, STREAM, 2), STREAM, { voice: file, encoder: enc768, settings: { pitch: 3 } });
    assert.ok(Math.abs(ratioToCents(midF0(r.output, STREAM) / F_IN) - 300) < 5);
  });
});

describe('skip_head / return_length and formant_length', () => {
  test('the skip contract renders only the new frames; the others render the whole window', async () => {
    for (const contract of ['vcclient-skip', 'vcclient'] as const) {
      const file = await model(`len-${contract}`, { contract, rate: 40000, channels: 768, f0: true });
      const voice = await resolveVoice({ voice: file, encoder: enc768 });
      const engine = await StreamingEngine.create({ streamRate: STREAM, voice: voice.stage, settings: { blockMs: 100, extraMs: 500 } });
      const synth = (voice.stage as unknown as { parts: { synth: { run: (r: unknown) => Promise<Float32Array> } } }).parts.synth;
      const lengths: number[] = [];
      const run = synth.run.bind(synth);
      synth.run = async (r) => {
        const a = await run(r);
        lengths.push(a.length);
        return a;
      };
      const x = sine(F_IN, STREAM, 1);
      const out = new Float32Array(engine.maxOutput);
      for (let p = 0; p + engine.blockSize <= x.length; p += engine.blockSize) await engine.processBlock(x.subarray(p, p + engine.blockSize), out);
      engine.destroy();
      await voice.release();
      const last = lengths[lengths.length - 1]!;
      const hop = 400; // 40 kHz / 100
      // Region = block 100 ms + crossfade 20 + search 10 = 130 ms → 13 frames; window ≈ 100 + 500 + 130 + 60 ms.
      if (contract === 'vcclient-skip') assert.equal(last, 13 * hop, `rendered ${last / hop} frames`);
      else assert.ok(last >= 60 * hop, `rendered ${last / hop} frames, the whole window (≈ 68) expected`);
    }
  });

  test('formant shift keeps the pitch exact (the f0 fed in is lowered by the stretch actually used)', async () => {
    const file = models.get('vcclient-skip-48000') ?? (await model('vcclient-skip-48000', { contract: 'vcclient-skip', rate: 48000, channels: 768, f0: true, speakers: 3 }));
    for (const [pitch, formant] of [[0, 3], [4, -2], [-5, 5]] as const) {
      const r = await convertSamples(sine(F_IN, STREAM, 2), STREAM, { voice: file, encoder: enc768, settings: { pitch, formant } });
      const cents = ratioToCents(midF0(r.output, STREAM) / F_IN);
      assert.ok(Math.abs(cents - pitch * 100) < 5, `pitch ${pitch} formant ${formant}: ${cents.toFixed(1)} cents`);
      assert.deepEqual(r.warnings, []);
    }
  });

  test('a contract without formant_length says it ignores formant', async () => {
    const file = models.get('vcclient-40000') ?? (await model('vcclient-40000', { contract: 'vcclient', rate: 40000, channels: 768, f0: true, speakers: 3 }));
    const r = await convertSamples(sine(F_IN, STREAM, 1), STREAM, { voice: file, encoder: enc768, settings: { formant: 3 } });
    assert.match(r.warnings.join('\n'), /formant shift needs a model exported with formant_length/);
  });
});

describe('no-f0 voices and feature routing', () => {
  test('a no-f0 voice ignores pitch and follows the features (input loudness) in every contract', async () => {
    for (const contract of ['vcclient', 'vcclient-skip', 'webui'] as const) {
      const file = await model(`nof0-${contract}`, { contract, rate: 40000, channels: 768, f0: false });
      const x = sine(F_IN, STREAM, 2);
      x.fill(0, STREAM, STREAM + STREAM / 2); // half a second of silence in the middle
      const r = await convertSamples(x, STREAM, { voice: file, encoder: enc768, settings: { pitch: 7 } });
      const y = r.output;
      assert.ok(Math.abs(ratioToCents(medianVoiced(yinTrack(y.subarray(STREAM * 0.3, STREAM * 0.9), STREAM)) / 220)) < 5, `${contract}: sings its own 220 Hz`);
      const loud = rms(y.subarray(STREAM * 0.3, STREAM * 0.9));
      const quiet = rms(y.subarray(STREAM * 1.15, STREAM * 1.4));
      // Feature = input RMS (0.354), channel 0 shapes the 220 Hz sine: RMS ≈ 0.354 × 0.1 / √2.
      assert.ok(Math.abs(loud / (0.5 / Math.SQRT2 * 0.1 / Math.SQRT2) - 1) < 0.05, `${contract}: loud part RMS ${loud.toFixed(4)}`);
      assert.ok(quiet < loud * 0.01, `${contract}: silent input gives silence (${quiet.toExponential(2)})`);
    }
  });

  test('a v1 (256-d) voice takes units9 from a units-style encoder; a 768-d voice refuses a 256-d encoder', async () => {
    const v1 = await model('v1', { contract: 'vcclient', rate: 40000, channels: 256, f0: true });
    const r = await convertSamples(sine(F_IN, STREAM, 1.5), STREAM, { voice: v1, encoder: enc256Units, settings: { pitch: 2 } });
    assert.ok(Math.abs(ratioToCents(midF0(r.output, STREAM) / F_IN) - 200) < 5);
    const enc256 = await writeModel(tmp.dir, 'vec-256.onnx', buildTinyEncoder('vec', 256));
    const v2 = models.get('vcclient-40000') ?? (await model('vcclient-40000', { contract: 'vcclient', rate: 40000, channels: 768, f0: true, speakers: 3 }));
    await assert.rejects(convertSamples(sine(F_IN, STREAM, 1), STREAM, { voice: v2, encoder: enc256 }), /gives features of shape \[1,\d+,256\], but the voice needs 768-d features/);
    await assert.rejects(ContentEncoder.load(v2, { channels: 768, layer: 12 }), /not a content encoder: inputs are feats/);
  });
});

describe('the live block path', () => {
  test('blocks of 50 ms with pitch changed between blocks: each part sings at its pitch, no seams', async () => {
    const file = models.get('vcclient-skip-48000') ?? (await model('vcclient-skip-48000', { contract: 'vcclient-skip', rate: 48000, channels: 768, f0: true, speakers: 3 }));
    const voice = await resolveVoice({ voice: file, encoder: enc768 });
    const engine = await StreamingEngine.create({ streamRate: STREAM, voice: voice.stage, settings: { blockMs: 50, extraMs: 300 } });
    const x = sine(F_IN, STREAM, 4);
    const y = new Float32Array(x.length + engine.maxOutput * 2);
    const out = new Float32Array(engine.maxOutput);
    const boundaries: number[] = [];
    let len = engine.blockSize;
    const stageMs: number[][] = [];
    for (let p = 0, b = 0; p + engine.blockSize <= x.length; p += engine.blockSize, b++) {
      if (p === 2 * STREAM) engine.update({ pitch: 4 });
      const n = await engine.processBlock(x.subarray(p, p + engine.blockSize), out);
      stageMs.push(engine.stages.map((s) => s.ms));
      assert.ok(engine.stages.reduce((a, s) => a + s.ms, 0) <= engine.times.voice + 0.01, 'the stages are parts of the voice time');
      boundaries.push(len);
      y.set(out.subarray(0, n), len);
      len += n;
    }
    const lat = engine.latency().totalSamples;
    // The stage seam: the voice's networks in order, each timed every block, joined to their placement by name.
    assert.deepEqual(engine.stages.map((s) => s.name), ['content encoder', 'synthesizer']);
    assert.ok(stageMs.every((m) => m.length === 2 && m[0]! > 0 && m[1]! > 0), 'every block times both stages');
    assert.deepEqual(engine.latency().stages, [{ name: 'content encoder', lookaheadMs: 0 }, { name: 'synthesizer', lookaheadMs: 0 }]);
    const reports = stageReports(engine.stages, (i) => engine.stages[i]!.ms, voice.placement);
    assert.deepEqual(reports.map((r) => [r.name, r.provider, r.calls]), [['content encoder', 'cpu', 1], ['synthesizer', 'cpu', 1]]);
    assert.match(describeStages(reports), /^content encoder CPU \d+\.\d ms, synthesizer CPU \d+\.\d ms$/);
    engine.destroy();
    await voice.release();
    const first = ratioToCents(medianVoiced(yinTrack(y.subarray(STREAM * 0.6 + lat, STREAM * 1.8), STREAM)) / F_IN);
    const second = ratioToCents(medianVoiced(yinTrack(y.subarray(STREAM * 2.6 + lat, STREAM * 3.8), STREAM)) / F_IN);
    assert.ok(Math.abs(first) < 5, `before the change: ${first.toFixed(1)} cents`);
    assert.ok(Math.abs(second - 400) < 5, `after the change: ${second.toFixed(1)} cents`);
    // Seams in the steady first part: boundary jumps no bigger than the sine's own steps, 5 ms energy steady.
    const s = seamStats(y, boundaries, Math.round(STREAM * 0.6), Math.round(STREAM * 1.9), 240);
    assert.ok(s.jumpAt <= s.jumpElse * 1.1, `jump at boundaries ${s.jumpAt.toFixed(4)} vs elsewhere ${s.jumpElse.toFixed(4)}`);
    assert.ok(s.eMin > s.eMax * 0.8, `5 ms energy ranges ${s.eMin.toFixed(4)}..${s.eMax.toFixed(4)}`);
  });
});


