// so-vits-svc voices trained on HuBERT-Soft (speech_encoder "hubertsoft"): the G_*.pth import builds the
// voice's own encoder from the HuBERT-Soft checkpoint (--encoder, or a hubert-soft*.pt in the folder) into
// content-encoder.onnx, named by voice.json's contentEncoder, and loading the voice runs it instead of the
// shared encoder. The encoder checkpoint is a 256-unit HuBERT-Soft written here with bshall's module names
// (the builder itself is checked against PyTorch in torch/hubert-soft.test.ts); the 8-unit PyTorch fixture
// soft-tiny.pt is the one that does not fit a 256-d voice.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { readAudioFile } from '../../host/audio-file.js';
import { convertSamples } from '../../host/convert.js';
import { resolveVoice } from '../../host/voices.js';
import type { SovitsManifest } from '../../models/families/sovits/manifest.js';
import { ContentEncoder, ENCODER_HOP } from '../../models/rvc/content-encoder.js';
import { mulberry32 } from '../../models/random.js';
import { convertHubertSoft } from '../../models/torch/hubert-soft.js';
import { SovitsGraphError } from '../../models/torch/sovits-spec.js';
import { importVoice } from '../../models/voices/import-voice.js';
import { finiteRms, ROOT, runResona, tempDir, to16k } from '../helpers.js';
import { buildTinyEncoder, writeModel } from './tiny-models.js';
import { storage, Tensor, torchSave } from './torch/torch-writer.js';

const T_OUT = { timeout: 240_000 };
const FIX = path.join(ROOT, 'test', 'fixtures', 'torch', 'sovits');
const SOFT_8 = path.join(ROOT, 'test', 'fixtures', 'torch', 'hubert', 'soft-tiny.pt');
const SPEECH = path.join(ROOT, '..', 'shared', 'audio', 'librispeech', '2902-9006-0000.wav');
const tmp = tempDir();
process.env.RESONA_HOME = path.join(tmp.dir, 'home');
const library = path.join(tmp.dir, 'home', 'voices');
after(() => tmp.cleanup());

const G = path.join(FIX, '4.1-vec256-release.pth');
let softCfg: string; // the 256-d release config with speech_encoder "hubertsoft"
let soft256: string; // a 256-unit HuBERT-Soft checkpoint
let shared256: string; // a shared 256-d encoder, which the hubertsoft voice must not use

/** A HuBERT-Soft state dict as bshall's hubert-soft-*.pt holds it: 64-d layers (one 64-d head), 256 soft units. */
function softCheckpoint(seed: number): Uint8Array {
  const rand = mulberry32(seed);
  const c = 16, d = 64, ffn = 96, k = 8, groups = 4, units = 256;
  let key = 0;
  const dict: Record<string, Tensor> = {};
  const put = (name: string, shape: number[], fill: () => number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    dict[name] = new Tensor(storage(String(key++), 'FloatStorage', Array.from({ length: n }, fill)), shape);
  };
  const spread = (fanIn: number) => () => (2 * rand() - 1) / Math.sqrt(fanIn);
  const around1 = () => 1 + (2 * rand() - 1) * 0.1;
  const small = () => (2 * rand() - 1) * 0.05;
  const conv: [number, number][] = [[10, 1], [3, c], [3, c], [3, c], [3, c], [2, c], [2, c]];
  conv.forEach(([kw, cin], i) => put(`feature_extractor.conv${i}.weight`, [c, cin, kw], spread(cin * kw)));
  put('feature_extractor.norm0.weight', [c], around1);
  put('feature_extractor.norm0.bias', [c], small);
  put('feature_projection.norm.weight', [c], around1);
  put('feature_projection.norm.bias', [c], small);
  put('feature_projection.projection.weight', [d, c], spread(c));
  put('feature_projection.projection.bias', [d], small);
  put('positional_embedding.conv.weight_g', [1, 1, k], around1);
  put('positional_embedding.conv.weight_v', [d, d / groups, k], spread((d / groups) * k));
  put('positional_embedding.conv.bias', [d], small);
  put('norm.weight', [d], around1);
  put('norm.bias', [d], small);
  for (let l = 0; l < 2; l++) {
    const p = `encoder.layers.${l}`;
    put(`${p}.self_attn.in_proj_weight`, [3 * d, d], spread(d));
    put(`${p}.self_attn.in_proj_bias`, [3 * d], small);
    put(`${p}.self_attn.out_proj.weight`, [d, d], spread(d));
    put(`${p}.self_attn.out_proj.bias`, [d], small);
    put(`${p}.linear1.weight`, [ffn, d], spread(d));
    put(`${p}.linear1.bias`, [ffn], small);
    put(`${p}.linear2.weight`, [d, ffn], spread(ffn));
    put(`${p}.linear2.bias`, [d], small);
    for (const n of ['norm1', 'norm2']) {
      put(`${p}.${n}.weight`, [d], around1);
      put(`${p}.${n}.bias`, [d], small);
    }
  }
  put('proj.weight', [units, d], spread(d));
  put('proj.bias', [units], small);
  return torchSave(dict);
}

const readManifest = async (id: string) => JSON.parse(await fs.readFile(path.join(library, id, 'voice.json'), 'utf8')) as SovitsManifest;
const voiceCount = async () => (await fs.readdir(library).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).length;

before(async () => {
  const cfg = JSON.parse(await fs.readFile(path.join(FIX, '4.1-vec256-release.config.json'), 'utf8'));
  softCfg = path.join(tmp.dir, 'hubertsoft.config.json');
  await fs.writeFile(softCfg, JSON.stringify({ ...cfg, model: { ...cfg.model, speech_encoder: 'hubertsoft' } }));
  soft256 = path.join(tmp.dir, 'hubert-soft-test.pt');
  await fs.writeFile(soft256, softCheckpoint(7));
  shared256 = await writeModel(tmp.dir, 'vec-256.onnx', buildTinyEncoder('vec', 256));
});

describe('so-vits-svc hubertsoft voices', () => {
  test('import --encoder: content-encoder.onnx in the voice folder, named by voice.json', T_OUT, async () => {
    const m = await importVoice(G, library, { config: softCfg, encoder: soft256, name: 'soft' });
    const saved = await readManifest(m.id);
    assert.equal(saved.contentEncoder, 'content-encoder.onnx');
    assert.deepEqual([saved.family, saved.featureSize, saved.sampleRate, saved.hop], ['sovits', 256, 44100, 512]);
    assert.ok(existsSync(path.join(library, m.id, 'content-encoder.onnx')));
    assert.match(saved.description, /own HuBERT-Soft encoder/);
  });

  test('resona import G_*.pth --config config.json --encoder hubert-soft.pt; without --encoder, the message says which file', T_OUT, async () => {
    const r = await runResona(['import', G, '--config', softCfg, '--encoder', soft256, '--name', 'Soft CLI'], { ...process.env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /imported "Soft CLI" as soft-cli: so-vits-svc .*with its own HuBERT-Soft encoder/);
    assert.ok(existsSync(path.join(library, 'soft-cli', 'content-encoder.onnx')));
    const no = await runResona(['import', G, '--config', softCfg, '--name', 'Soft none'], { ...process.env });
    assert.notEqual(no.code, 0);
    assert.match(no.stderr, /model\.speech_encoder is "hubertsoft".*hubert-soft-0d54a1f4\.pt from the bshall\/hubert releases.*--encoder/);
  });

  test('a folder holding G_*.pth, config.json and hubert-soft*.pt imports the same way', T_OUT, async () => {
    const dir = path.join(tmp.dir, 'soft-folder');
    await fs.mkdir(dir);
    await fs.copyFile(G, path.join(dir, 'G_800.pth'));
    await fs.copyFile(softCfg, path.join(dir, 'config.json'));
    await fs.copyFile(soft256, path.join(dir, 'hubert-soft-0d54a1f4.pt'));
    const m = await importVoice(dir, library, { name: 'soft-folder' });
    assert.equal((await readManifest(m.id)).contentEncoder, 'content-encoder.onnx');
    assert.ok(existsSync(path.join(library, m.id, 'content-encoder.onnx')));
  });

  test('the loaded voice runs its own encoder: its features equal the standalone HuBERT-Soft ONNX\'s, not the shared encoder\'s', T_OUT, async () => {
    const speech = await readAudioFile(SPEECH);
    const x16 = await to16k(speech.channels[0]!.subarray(0, speech.sampleRate * 2), speech.sampleRate);
    const audio = x16.subarray(0, Math.floor(x16.length / ENCODER_HOP) * ENCODER_HOP);
    const frames = audio.length / ENCODER_HOP;
    const encodeWith = async (e: ContentEncoder) => {
      e.configure(audio.length);
      const out = new Float32Array(frames * 256);
      await e.encode(audio, out);
      return out;
    };
    // A shared encoder is offered too (as --encoder at convert / live would): the voice must not take it.
    const voice = await resolveVoice({ voice: path.join(library, 'soft'), encoder: shared256 });
    let own: Float32Array;
    try {
      assert.equal(voice.stage.outputRate, 44100);
      own = await encodeWith((voice.stage as unknown as { parts: { encoder: ContentEncoder } }).parts.encoder);
    } finally {
      await voice.release();
    }
    const standalone = await ContentEncoder.load(await convertHubertSoft(soft256), { channels: 256, layer: 12 }, { threads: 1, name: 'standalone hubert-soft' });
    const shared = await ContentEncoder.load(shared256, { channels: 256, layer: 9 }, { threads: 1 });
    try {
      const want = await encodeWith(standalone);
      const other = await encodeWith(shared);
      const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
      const spread = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      console.log(`# ${frames} frames of 256-d soft units (50 fps): voice vs standalone max |diff| ${maxDiff(own, want).toExponential(2)}, vs shared ${maxDiff(own, other).toExponential(2)}, |units| up to ${spread.toFixed(3)}`);
      assert.ok(spread > 1e-2, 'the units are not all zero');
      assert.ok(own.every(Number.isFinite));
      assert.equal(maxDiff(own, want), 0, 'the voice encodes with its own encoder');
      assert.ok(maxDiff(own, other) > 1e-2, 'and not with the shared one');
    } finally {
      await standalone.release();
      await shared.release();
    }
  });

  test('real speech through convert: the input\'s length and rate, finite, not silent', T_OUT, async () => {
    const speech = await readAudioFile(SPEECH);
    const x = speech.channels[0]!.subarray(0, speech.sampleRate * 3);
    const r = await convertSamples(x, speech.sampleRate, { voice: path.join(library, 'soft'), settings: { pitch: 2 } });
    assert.equal(r.sampleRate, speech.sampleRate);
    assert.equal(r.output.length, x.length);
    const rms = finiteRms(r.output);
    console.log(`# ${x.length} samples at ${speech.sampleRate} Hz through the hubertsoft voice: output rms ${rms.toFixed(4)}`);
    assert.ok(rms > 1e-3, `output is not silent (rms ${rms})`);
  });

  test('refusals: no encoder (names the file and where it comes from), wrong unit size, an encoder for a shared-encoder voice, a bad voice.json field', T_OUT, async () => {
    const before = await voiceCount();
    const refused = (p: Promise<unknown>, ...parts: string[]) =>
      assert.rejects(p, (e: unknown) => {
        assert.ok(e instanceof SovitsGraphError, String(e));
        for (const s of parts) assert.ok((e as Error).message.includes(s), `${(e as Error).message} lacks ${s}`);
        return true;
      });
    await refused(importVoice(G, library, { config: softCfg }), 'model.speech_encoder is "hubertsoft"', 'hubert-soft-0d54a1f4.pt', 'bshall/hubert', '--encoder');
    // The PyTorch fixture gives 8-d units: refused on ssl_dim before anything is built.
    await refused(importVoice(G, library, { config: softCfg, encoder: SOFT_8 }), 'model.ssl_dim is 256, expected 8', 'soft-tiny.pt gives 8-d soft units');
    await refused(importVoice(G, library, { config: path.join(FIX, '4.1-vec256-release.config.json'), encoder: soft256 }), 'speech_encoder is "hubertsoft"', 'vec256l9', 'leave out --encoder');
    assert.equal(await voiceCount(), before, 'nothing written');

    // voice.json's contentEncoder must be a plain file name in the voice folder.
    const dir = path.join(library, 'soft');
    const m = await readManifest('soft');
    await fs.writeFile(path.join(dir, 'voice.json'), JSON.stringify({ ...m, contentEncoder: '../elsewhere.onnx' }));
    try {
      await assert.rejects(resolveVoice({ voice: dir }), /contentEncoder/);
    } finally {
      await fs.writeFile(path.join(dir, 'voice.json'), JSON.stringify(m));
    }
  });
});
