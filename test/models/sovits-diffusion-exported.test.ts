// A so-vits voice naming an exported diffusion ONNX set (issue 13): the set is upstream's own export of a tiny
// model at the tiny NSF-HiFiGAN's 128 mels (test/fixtures/torch/make-diffusion-reference.py, tiny-export-128),
// and the same weights' model_*.pt is imported beside it as the other form. Checked: import by one file of the
// set and by its folder (files copied, voice.json names them), real speech through the engine rendering what
// the .pt voice renders, refusals (a missing sibling, a wrong input name, mels the vocoder does not take) with
// nothing written, and voice.json's field checked strictly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readAudioFile } from '../../host/audio-file.js';
import { convertSamples } from '../../host/convert.js';
import type { SovitsManifest } from '../../models/families/sovits/manifest.js';
import { importVoice } from '../../models/voices/import-voice.js';
import { parseManifest } from '../../models/voices/manifest.js';
import { onnx } from '../../models/onnx/proto.js';
import { relErr, ROOT, tempDir } from '../helpers.js';
import { buildTinyEncoder, writeModel } from './tiny-models.js';
import { buildTinySovits } from './tiny-sovits.js';

const T_OUT = { timeout: 240_000 };
const SPEECH = path.join(ROOT, '..', 'shared', 'audio', 'librispeech', '2902-9006-0000.wav');
const VOCODER = path.join(ROOT, 'test', 'fixtures', 'torch', 'vocoder', 'nsf-hifigan-tiny', 'model.pt');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'torch', 'diffusion');
const SET = 'tiny-export-128';
const PARTS = ['encoder', 'denoise', 'pred', 'after'] as const;
/** diffusion-exported.test.ts's tolerance for a set against Resona's graphs of the same weights. */
const TOL = 1e-4;
const tmp = tempDir();
process.env.RESONA_HOME = path.join(tmp.dir, 'home');
const library = path.join(tmp.dir, 'home', 'voices');
after(() => tmp.cleanup());

const fixture = (part: string) => path.join(FIXTURES, `${SET}_${part}.onnx`);
let enc: string;
let voiceModel: string;
let fromPt: string;
let fromSet: string;

before(async () => {
  enc = await writeModel(tmp.dir, 'vec-768.onnx', buildTinyEncoder('vec', 768));
  voiceModel = await writeModel(tmp.dir, 'tiny.onnx', buildTinySovits({ form: 'sovits40' }));
  const a = await importVoice(voiceModel, library, { name: 'Pt', diffusion: path.join(FIXTURES, `${SET}.pt`), diffusionConfig: path.join(FIXTURES, `${SET}.yaml`), vocoder: VOCODER });
  fromPt = path.join(library, a.id);
  // One file of the set names it; no diffusion.yaml beside it (the fixture's is named after the model).
  const b = await importVoice(voiceModel, library, { name: 'Exported', diffusion: fixture('pred'), vocoder: VOCODER });
  fromSet = path.join(library, b.id);
});

const manifestOf = async (dir: string) => JSON.parse(await fs.readFile(path.join(dir, 'voice.json'), 'utf8')) as SovitsManifest;

describe('import', () => {
  test('--diffusion <one file of the set>: its siblings found by the prefix, copied in, named in voice.json', T_OUT, async () => {
    const m = await manifestOf(fromSet);
    assert.deepEqual(m.diffusion, { exported: { encoder: 'diffusion_encoder.onnx', denoise: 'diffusion_denoise.onnx', pred: 'diffusion_pred.onnx', after: 'diffusion_after.onnx' }, config: null });
    for (const p of PARTS) assert.deepEqual(await fs.readFile(path.join(fromSet, `diffusion_${p}.onnx`)), await fs.readFile(fixture(p)), p);
    assert.ok(!(await fs.stat(path.join(fromSet, 'diffusion.yaml')).catch(() => null)), 'no yaml written when none was given');
  });

  test('--diffusion <folder holding the set> takes the diffusion.yaml beside it', T_OUT, async () => {
    const dir = path.join(tmp.dir, 'set-folder');
    await fs.mkdir(dir);
    for (const p of PARTS) await fs.copyFile(fixture(p), path.join(dir, `x_${p}.onnx`));
    await fs.copyFile(path.join(FIXTURES, `${SET}.yaml`), path.join(dir, 'diffusion.yaml'));
    const m = (await importVoice(voiceModel, library, { name: 'Folder set', diffusion: dir, vocoder: VOCODER })) as SovitsManifest;
    assert.equal(m.diffusion && 'exported' in m.diffusion ? m.diffusion.config : undefined, 'diffusion.yaml');
    assert.deepEqual(await fs.readFile(path.join(library, m.id, 'diffusion.yaml')), await fs.readFile(path.join(dir, 'diffusion.yaml')));
  });

  test('refused with what is wrong, nothing written: a missing sibling, a wrong input name, mels the vocoder does not take', T_OUT, async () => {
    const count = (await fs.readdir(library)).length;
    const dir = path.join(tmp.dir, 'bad');
    await fs.mkdir(dir);
    for (const p of ['encoder', 'pred', 'after']) await fs.copyFile(fixture(p), path.join(dir, `m_${p}.onnx`));
    await assert.rejects(importVoice(voiceModel, library, { diffusion: path.join(dir, 'm_encoder.onnx'), vocoder: VOCODER }), /m_denoise\.onnx: no such file; an exported so-vits-svc diffusion set needs m_encoder\.onnx and m_denoise\.onnx side by side/);
    // The encoder with its `volume` input renamed, as another exporter might call it.
    const e = onnx.ModelProto.decode(await fs.readFile(fixture('encoder')));
    const rename = (names: string[]) => names.map((n) => (n === 'volume' ? 'vol' : n));
    for (const n of e.graph!.node!) n.input = rename(n.input!);
    e.graph!.input!.find((i) => i.name === 'volume')!.name = 'vol';
    await fs.writeFile(path.join(dir, 'w_encoder.onnx'), onnx.ModelProto.encode(e).finish());
    for (const p of ['denoise', 'pred', 'after']) await fs.copyFile(fixture(p), path.join(dir, `w_${p}.onnx`));
    await assert.rejects(importVoice(voiceModel, library, { diffusion: path.join(dir, 'w_denoise.onnx'), vocoder: VOCODER }), /w_encoder\.onnx: its inputs \(hubert float32\[1,.*\], mel2ph int64\[.*\], f0 float32\[.*\], vol float32\[.*\]\) match no part of a so-vits-svc diffusion ONNX export/);
    // upstream's export at 8 mels against the 128-band vocoder.
    await assert.rejects(importVoice(voiceModel, library, { diffusion: path.join(FIXTURES, 'tiny-export-1spk_encoder.onnx'), vocoder: VOCODER }), /the vocoder takes 128 mel bands at 44100 Hz, hop 512, but the diffusion model makes 8 bands at 44100 Hz, hop 512/);
    // A folder with no set in it.
    await assert.rejects(importVoice(voiceModel, library, { diffusion: tmp.dir, vocoder: VOCODER }), /holds no exported diffusion set/);
    assert.equal((await fs.readdir(library)).length, count);
  });

  test('a set whose graphs do not name their residual layers needs its diffusion.yaml, and is taken with it', T_OUT, async () => {
    const dir = path.join(tmp.dir, 'anon');
    await fs.mkdir(dir);
    // Weights renamed as an exporter that folds constants names them (onnx::Conv_<n>): the layer count is no longer visible.
    const m = onnx.ModelProto.decode(await fs.readFile(fixture('denoise')));
    const names = new Map(m.graph!.initializer!.map((t, i) => [t.name!, `onnx::Conv_${i}`]));
    for (const t of m.graph!.initializer!) t.name = names.get(t.name!)!;
    for (const n of m.graph!.node!) n.input = n.input!.map((x) => names.get(x) ?? x);
    await fs.writeFile(path.join(dir, 'a_denoise.onnx'), onnx.ModelProto.encode(m).finish());
    for (const p of ['encoder', 'pred', 'after']) await fs.copyFile(fixture(p), path.join(dir, `a_${p}.onnx`));
    const count = (await fs.readdir(library)).length;
    await assert.rejects(importVoice(voiceModel, library, { diffusion: path.join(dir, 'a_denoise.onnx'), vocoder: VOCODER }), /a_denoise\.onnx: the exported graphs do not show how many residual layers the denoiser has.*give the model's diffusion\.yaml with it \(--diffusion-config\)/);
    assert.equal((await fs.readdir(library)).length, count);
    const v = (await importVoice(voiceModel, library, { name: 'Anon', diffusion: path.join(dir, 'a_denoise.onnx'), diffusionConfig: path.join(FIXTURES, `${SET}.yaml`), vocoder: VOCODER })) as SovitsManifest;
    assert.equal(v.diffusion && 'exported' in v.diffusion ? v.diffusion.config : undefined, 'diffusion.yaml');
  });

  test('voice.json\'s diffusion field is checked strictly: field, value and what is expected', T_OUT, async () => {
    const m = await manifestOf(fromSet);
    const check = (diffusion: unknown) => parseManifest(JSON.stringify({ ...m, diffusion }), 'voice.json');
    const d = m.diffusion as { exported: Record<string, string> };
    assert.doesNotThrow(() => check({ exported: { encoder: 'a_encoder.onnx', denoise: 'a_denoise.onnx' }, config: null }));
    assert.throws(() => check({ exported: { ...d.exported, denoiser: 'x.onnx' }, config: null }), /voice\.json: "diffusion\.exported\.denoiser" is "x\.onnx"; no part of an exported set; its parts are "encoder", "denoise", "pred", "after"/);
    assert.throws(() => check({ exported: { encoder: 'a_encoder.onnx' }, config: null }), /"diffusion\.exported\.denoise" is missing; a file name in the voice folder or an absolute path \(the set's _denoise\.onnx, required\)/);
    assert.throws(() => check({ exported: { ...d.exported, pred: '../up.onnx' }, config: null }), /"diffusion\.exported\.pred" is "\.\.\/up\.onnx"; a file name in the voice folder/);
    assert.throws(() => check({ exported: d.exported, model: 'diffusion.pt', config: 'diffusion.yaml' }), /"diffusion\.model" is "diffusion\.pt"; absent beside "exported"/);
    assert.throws(() => check({ exported: d.exported, config: 3 }), /"diffusion\.config" is 3; null, or the set's diffusion\.yaml/);
    assert.throws(() => check({ exported: 'diffusion', config: null }), /"diffusion\.exported" is "diffusion"; \{"encoder", "denoise", "pred", "after": the exported set's ONNX files\}/);
    assert.throws(() => check({ exported: d.exported, yaml: 'diffusion.yaml' }), /"diffusion\.yaml" is "diffusion\.yaml"; no such field/);
  });
});

describe('through the engine', () => {
  test(`real speech: the exported set's voice renders the .pt voice's output within ${TOL}, with the same stages`, T_OUT, async () => {
    const speech = await readAudioFile(SPEECH);
    const x = speech.channels[0]!.subarray(0, speech.sampleRate * 2);
    for (const s of [{}, { diffusionMethod: 3, kStep: 50, speedup: 10 }]) {
      const settings = { blockMs: 500, extraMs: 500, ...s };
      const a = await convertSamples(x, speech.sampleRate, { voice: fromSet, encoder: enc, settings });
      const b = await convertSamples(x, speech.sampleRate, { voice: fromPt, encoder: enc, settings });
      const off = await convertSamples(x, speech.sampleRate, { voice: fromSet, encoder: enc, settings: { ...settings, diffusion: 0 } });
      assert.equal(a.output.length, x.length);
      const err = relErr(a.output, b.output);
      const moved = relErr(off.output, b.output);
      console.log(`exported vs .pt (${JSON.stringify(s)}): rel err ${err.toExponential(2)}; diffusion off vs on ${moved.toExponential(2)}; ${a.stages.map((t) => `${t.name}×${t.calls} ${t.ms.toFixed(1)} ms`).join(', ')}`);
      assert.ok(err < TOL, `exported vs .pt: ${err}`);
      assert.ok(moved > 100 * TOL, `the diffusion stage changed the sound (${moved})`);
      assert.deepEqual(a.stages.map((t) => [t.name, t.calls, t.provider]), b.stages.map((t) => [t.name, t.calls, t.provider]));
      assert.deepEqual(a.stages.map((t) => t.name), ['content encoder', 'synthesizer', 'diffusion', 'vocoder']);
    }
  });
});
