// so-vits-svc voices with shallow diffusion and the NSF-HiFiGAN vocoder (issue 13, deliverables 1 and 4): a
// tiny so-vits voice, a tiny diffusion model_*.pt + diffusion.yaml (the real architecture at 3 × 8 channels,
// random weights, written by torch-writer as torch.save lays it out) with 768-d units and 128 mels, and the
// committed tiny openvpi vocoder checkpoint, all with matched dims. Checked: import (flags, folder layout),
// mismatches refused by name, real speech through the engine (length, rate, the four stages), diffusion off
// bit-exact to the same voice without the diffusion field, and no seams in the live block path.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { StreamingEngine } from '../../engine/engine.js';
import { readAudioFile } from '../../host/audio-file.js';
import { convertSamples } from '../../host/convert.js';
import { resolveVoice } from '../../host/voices.js';
import * as ort from 'onnxruntime-node';
import { conditionFor, loadDiffusion } from '../../models/diffusion/diffusion.js';
import { randomDiffusionModel, templateDiffusionConfig } from '../../models/diffusion/random.js';
import { denoiserContext, SovitsRefiner } from '../../models/families/sovits/refiner.js';
import { Vocoder } from '../../models/vocoder/vocoder.js';
import { sovitsParams } from '../../models/families/sovits/params.js';
import type { SovitsManifest } from '../../models/families/sovits/manifest.js';
import { importVoice } from '../../models/voices/import-voice.js';
import { finiteRms, ROOT, runResona, seamStats, sine, streamBlocks, tempDir } from '../helpers.js';
import { writeWavAtomic } from '../../host/audio-file.js';
import { buildTinyEncoder, writeModel } from './tiny-models.js';
import { buildTinySovits } from './tiny-sovits.js';
import { writeDiffusion } from './tiny-diffusion.js';

const T_OUT = { timeout: 240_000 };
const SPEECH = path.join(ROOT, '..', 'shared', 'audio', 'librispeech', '2902-9006-0000.wav');
const VOCODER = path.join(ROOT, 'test', 'fixtures', 'torch', 'vocoder', 'nsf-hifigan-tiny', 'model.pt');
const STREAM = 48000;
const tmp = tempDir();
process.env.RESONA_HOME = path.join(tmp.dir, 'home');
const library = path.join(tmp.dir, 'home', 'voices');
after(() => tmp.cleanup());

let enc: string;
let voiceModel: string;
let diffusion: { model: string; config: string };
let withDiffusion: string;
let plain: string;

before(async () => {
  enc = await writeModel(tmp.dir, 'vec-768.onnx', buildTinyEncoder('vec', 768));
  voiceModel = await writeModel(tmp.dir, 'tiny.onnx', buildTinySovits({ form: 'sovits40' }));
  diffusion = await writeDiffusion(path.join(tmp.dir, 'diff'));
  const m = await importVoice(voiceModel, library, { name: 'Diffused', diffusion: diffusion.model, vocoder: VOCODER });
  withDiffusion = path.join(library, m.id);
  // The same voice without the diffusion field: the VITS-only path to compare against.
  const saved = JSON.parse(await fs.readFile(path.join(withDiffusion, 'voice.json'), 'utf8'));
  plain = path.join(tmp.dir, 'plain');
  await fs.cp(withDiffusion, plain, { recursive: true });
  delete saved.diffusion;
  await fs.writeFile(path.join(plain, 'voice.json'), JSON.stringify({ ...saved, id: 'plain' }));
});

describe('import', () => {
  test('--diffusion model_*.pt (diffusion.yaml beside it) and --vocoder: copied in, named in voice.json, knobs listed', T_OUT, async () => {
    const saved = JSON.parse(await fs.readFile(path.join(withDiffusion, 'voice.json'), 'utf8')) as SovitsManifest;
    assert.deepEqual(saved.diffusion, { model: 'diffusion.pt', config: 'diffusion.yaml' });
    assert.equal(saved.vocoder, path.resolve(VOCODER));
    assert.deepEqual(await fs.readFile(path.join(withDiffusion, 'diffusion.pt')), await fs.readFile(diffusion.model));
    const params = sovitsParams(saved);
    const ids = params.map((p) => p.id);
    for (const id of ['diffusion', 'kStep', 'speedup', 'diffusionMethod'] as const) assert.ok(ids.includes(id), `${id} in ${ids.join(', ')}`);
    assert.deepEqual(params.find((p) => p.id === 'diffusionMethod')!.choices, ['dpm-solver++', 'dpm-solver', 'ddim', 'pndm', 'unipc']);
    // Without a vocoder the knobs are not offered (they could not run).
    assert.ok(!sovitsParams({ ...saved, vocoder: undefined } as SovitsManifest).some((p) => p.id === 'kStep'));
  });

  test('a folder holding the voice and diffusion/ (model_*.pt + diffusion.yaml) picks the newest model up', T_OUT, async () => {
    const dir = path.join(tmp.dir, 'folder-voice');
    await fs.mkdir(dir);
    await fs.copyFile(voiceModel, path.join(dir, 'tiny.onnx'));
    const d = await writeDiffusion(path.join(dir, 'diffusion'));
    await fs.copyFile(d.model, path.join(dir, 'diffusion', 'model_2000.pt'));
    await fs.writeFile(path.join(dir, 'diffusion', 'model_2000.pt'), new Uint8Array(10)); // older and broken: not picked
    const m = (await importVoice(dir, library, { name: 'Folder' })) as SovitsManifest;
    assert.deepEqual(m.diffusion, { model: 'diffusion.pt', config: 'diffusion.yaml' });
    assert.deepEqual(await fs.readFile(path.join(library, m.id, 'diffusion.pt')), await fs.readFile(d.model));
  });

  test('mismatches refused by name: units, n_spk, the vocoder\'s mels; nothing written', T_OUT, async () => {
    const before = (await fs.readdir(library)).length;
    const units = await writeDiffusion(path.join(tmp.dir, 'd256'), { encoder: 'vec256l9', units: 256 });
    await assert.rejects(importVoice(voiceModel, library, { diffusion: units.model }), /takes 256-d units \(vec256l9\), the voice 768-d features; it belongs to another voice/);
    const spk = await writeDiffusion(path.join(tmp.dir, 'd3spk'), { speakers: 3 });
    await assert.rejects(importVoice(voiceModel, library, { diffusion: spk.model }), /the diffusion model has n_spk 3, the voice 1 speaker/);
    const mels = await writeDiffusion(path.join(tmp.dir, 'd80'), {}, 80);
    await assert.rejects(importVoice(voiceModel, library, { diffusion: mels.model, vocoder: VOCODER }), /the vocoder takes 128 mel bands at 44100 Hz, hop 512, but the diffusion model makes 80 bands/);
    await assert.rejects(importVoice(voiceModel, library, { diffusion: path.join(tmp.dir, 'nowhere', 'model_1.pt') }), /no diffusion\.yaml beside it; name it with --diffusion-config/);
    assert.equal((await fs.readdir(library)).length, before);
  });
});

describe('context', () => {
  test('one denoiser pass sees n_layers frames each side: a window cropped D frames back changes exactly the first n_layers', T_OUT, async () => {
    const c = templateDiffusionConfig({ layers: 3, channels: 8, hidden: 6 });
    const s = await loadDiffusion(randomDiffusionModel(c, 128, 9));
    try {
      const T = 40;
      const crop = 20;
      const u = Float32Array.from({ length: T * c.units }, (_, i) => Math.sin(i * 0.37));
      const f0 = Float32Array.from({ length: T }, (_, i) => 150 + i);
      const vol = Float32Array.from({ length: T }, (_, i) => 0.1 + 0.01 * i);
      const x = Float32Array.from({ length: 128 * T }, (_, i) => Math.cos(i * 0.11));
      const pass = async (first: number) => {
        const D = T - first;
        const { condProj } = await conditionFor(s, { frames: D, f0: f0.subarray(first), volume: vol.subarray(first), units: u.subarray(first * c.units) });
        const xs = new Float32Array(128 * D);
        for (let b = 0; b < 128; b++) xs.set(x.subarray(b * T + first, b * T + T), b * D);
        const out = await s.denoiser.run({ x: new ort.Tensor('float32', xs, [1, 128, D]), t: new ort.Tensor('float32', Float32Array.of(57), [1]), cond_proj: condProj });
        return out['eps']!.data as Float32Array;
      };
      const full = await pass(0);
      const part = await pass(crop);
      const D = T - crop;
      const differs = (i: number) => {
        let d = 0;
        for (let b = 0; b < 128; b++) d = Math.max(d, Math.abs(part[b * D + i]! - full[b * T + crop + i]!));
        return d;
      };
      for (let i = 0; i < c.layers; i++) assert.ok(differs(i) > 1e-6, `frame ${i} from the cut sees past it (${differs(i)})`);
      for (let i = c.layers; i < D; i++) assert.ok(differs(i) < 1e-5, `frame ${i} from the cut is unchanged (${differs(i)})`);
      assert.equal(denoiserContext(randomDiffusionModel(templateDiffusionConfig(), 128)), 40);
    } finally {
      await s.release();
    }
  });
});

describe('kept-region synthesizer', () => {
  test('the refiner given only the newest audioFrames(T, region) frames of the synthesizer renders what it renders from all T', T_OUT, async () => {
    const c = templateDiffusionConfig({ layers: 3, channels: 8, hidden: 6 });
    const model = randomDiffusionModel(c, 128, 9);
    // Two refiners, so both draw the same noise (each starts from the same seed).
    const make = async () => new SovitsRefiner(await loadDiffusion(model), await Vocoder.load(VOCODER, { provider: 'cpu', threads: 1 }));
    const [a, b] = [await make(), await make()];
    try {
      const T = 120;
      const hop = 512;
      const region = 20 * hop;
      a.configure(T);
      b.configure(T);
      const need = a.audioFrames(T, region);
      assert.ok(need < T, `the refiner reads ${need} of ${T} frames`);
      assert.equal(need, a.spans(T, region).refine + 2, 'the refined frames and the 1.5-frame reach of the first mel window');
      const audio = Float32Array.from({ length: T * hop }, (_, i) => 0.3 * Math.sin(i * 0.031) + 0.05 * Math.sin(i * 0.4));
      const inputs = {
        frames: T, f0: new Float32Array(T).fill(180), volume: new Float32Array(T).fill(0.1),
        c: Float32Array.from({ length: T * c.units }, (_, i) => Math.sin(i * 0.37)), mel2ph: BigInt64Array.from({ length: T }, (_, i) => BigInt(i + 1)),
        channels: c.units, speaker: 0, region,
      };
      const settings = { kStep: 20, speedup: 10, method: 0 };
      const whole = Float32Array.from(await a.render({ ...inputs, audio }, settings));
      const tail = await b.render({ ...inputs, audio: audio.subarray((T - need) * hop) }, settings);
      assert.equal(tail.length, whole.length);
      let d = 0;
      for (let i = 0; i < whole.length; i++) d = Math.max(d, Math.abs(whole[i]! - tail[i]!));
      // A misplaced tail (the mel read at the wrong offset) would move the output by the signal's size.
      assert.ok(d < 1e-6, `max |Δ| ${d}`);
    } finally {
      await a.release();
      await b.release();
    }
  });
});

describe('through the engine', () => {
  test('real speech: the input\'s length and rate, four stages (diffusion ×10 at 100/10), finite and not silent', T_OUT, async () => {
    const speech = await readAudioFile(SPEECH);
    const x = speech.channels[0]!.subarray(0, speech.sampleRate * 3);
    const r = await convertSamples(x, speech.sampleRate, { voice: withDiffusion, encoder: enc, settings: { blockMs: 500, extraMs: 500 } });
    assert.equal(r.sampleRate, speech.sampleRate);
    assert.equal(r.output.length, x.length);
    const rms = finiteRms(r.output);
    console.log(`diffusion on: ${x.length} samples at ${speech.sampleRate} Hz, rms ${rms.toFixed(4)}; ${r.stages.map((s) => `${s.name}×${s.calls} ${s.provider} ${s.ms.toFixed(1)} ms`).join(', ')}`);
    assert.ok(rms > 1e-3, `not silent (${rms})`);
    assert.deepEqual(r.stages.map((s) => [s.name, s.calls, s.provider]), [['content encoder', 1, 'cpu'], ['synthesizer', 1, 'cpu'], ['diffusion', 10, 'cpu'], ['vocoder', 1, 'cpu']]);
    for (const s of r.stages) assert.ok(s.ms > 0, `${s.name} timed`);
    // Another sampler and depth: passes as the sampler counts them.
    const r2 = await convertSamples(x.subarray(0, speech.sampleRate), speech.sampleRate, { voice: withDiffusion, encoder: enc, settings: { blockMs: 500, extraMs: 500, kStep: 20, speedup: 5, diffusionMethod: 2 } });
    assert.equal(r2.stages[2]!.calls, 3); // ddim: ceil(20/5) − 1
    // And the output differs from the synthesizer's own: the stages after it ran.
    const off = await convertSamples(x, speech.sampleRate, { voice: withDiffusion, encoder: enc, settings: { blockMs: 500, extraMs: 500, diffusion: 0 } });
    let d = 0;
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(off.output[i]! - r.output[i]!));
    assert.ok(d > 1e-3, `diffusion changes the sound (max diff ${d})`);
  });

  test('diffusion off renders bit-exactly as the same voice without the diffusion field; its stages read 0 ms', T_OUT, async () => {
    const speech = await readAudioFile(SPEECH);
    const x = speech.channels[0]!.subarray(0, speech.sampleRate * 2);
    const settings = { blockMs: 200, extraMs: 300 };
    const a = await convertSamples(x, speech.sampleRate, { voice: withDiffusion, encoder: enc, settings: { ...settings, diffusion: 0 } });
    const b = await convertSamples(x, speech.sampleRate, { voice: plain, encoder: enc, settings });
    assert.equal(a.output.length, b.output.length);
    let differ = 0;
    for (let i = 0; i < a.output.length; i++) if (a.output[i] !== b.output[i]) differ++;
    assert.equal(differ, 0, `${differ} samples differ`);
    assert.deepEqual(b.stages.map((s) => s.name), ['content encoder', 'synthesizer']);
    assert.deepEqual(a.stages.slice(2).map((s) => [s.name, s.calls, s.ms]), [['diffusion', 0, 0], ['vocoder', 1, 0]]);
  });

  test('CLI: resona import --diffusion --vocoder, then convert --diffusion-method ddim --k-step 20 --speedup 5', T_OUT, async () => {
    const imp = await runResona(['import', voiceModel, '--name', 'Cli Diffused', '--diffusion', diffusion.model, '--vocoder', VOCODER], { ...process.env });
    assert.equal(imp.code, 0, imp.stderr);
    const input = path.join(tmp.dir, 'cli-in.wav');
    await writeWavAtomic(input, sine(200, STREAM, 1.5), STREAM);
    const out = path.join(tmp.dir, 'cli-out.wav');
    const r = await runResona(['convert', input, out, '--voice', 'cli-diffused', '--encoder', enc, '--f0', 'yin', '--block', '500', '--diffusion-method', 'ddim', '--k-step', '20', '--speedup', '5'], { ...process.env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /diffusion ×3 CPU \d+\.\d ms, vocoder CPU \d+\.\d ms/);
    assert.equal((await readAudioFile(out)).channels[0]!.length, Math.round(STREAM * 1.5));
    const bad = await runResona(['convert', input, out, '--voice', 'cli-diffused', '--encoder', enc, '--diffusion-method', 'euler'], { ...process.env });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--diffusion-method must be one of dpm-solver\+\+, dpm-solver, ddim, pndm, unipc \(got "euler"\)/);
  });

  test('a k_step beyond the model\'s k_step_max is refused by name', T_OUT, async () => {
    const x = sine(200, STREAM, 0.5);
    await assert.rejects(convertSamples(x, STREAM, { voice: withDiffusion, encoder: enc, settings: { kStep: 200 } }), /k_step is 200; expected an integer in 1–100/);
  });

  test('live block path, 100 ms blocks on a steady tone: no seams at block boundaries', T_OUT, async () => {
    const voice = await resolveVoice({ voice: withDiffusion, encoder: enc });
    const engine = await StreamingEngine.create({ streamRate: STREAM, voice: voice.stage, settings: { blockMs: 100, extraMs: 500, noiseScale: 0 } });
    const { y, boundaries } = await streamBlocks(engine, sine(200, STREAM, 3));
    engine.destroy();
    await voice.release();
    const s = seamStats(y, boundaries, Math.round(STREAM * 0.8), Math.round(STREAM * 2.6), 240);
    console.log(`diffusion seams: jump at boundaries ${s.jumpAt.toFixed(4)} vs elsewhere ${s.jumpElse.toFixed(4)}; 5 ms energy ${s.eMin.toFixed(5)}..${s.eMax.toFixed(5)}`);
    assert.ok(s.eMax > 1e-5, 'sings');
    assert.ok(s.jumpAt <= s.jumpElse * 1.1, `jump at boundaries ${s.jumpAt.toFixed(4)} vs elsewhere ${s.jumpElse.toFixed(4)}`);
    // No dropout or cancellation where two renders are crossfaded: the quietest 5 ms is not far below the loudest.
    assert.ok(s.eMin > s.eMax * 0.4, `5 ms energy ranges ${s.eMin.toFixed(5)}..${s.eMax.toFixed(5)}`);
    for (const e of s.eAt) assert.ok(e > s.eMax * 0.4, `energy at a boundary ${e.toFixed(5)} of ${s.eMax.toFixed(5)}`);
  });
});
