// Voice import (bare .onnx, folder, zip), voice.json derived from the model, index retrieval in the voice,
// and bad input: each refused with a message naming the problem, while a running voice keeps running.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { zipSync } from 'fflate';
import { yinTrack } from '../../engine/f0/yin.js';
import { medianVoiced, ratioToCents } from '../../engine/pitch.js';
import { convertSamples } from '../../host/convert.js';
import { VoiceSession } from '../../host/voice-session.js';
import { buildIvfFlat } from '../../models/index/feature-index.js';
import { writeIvfFlatIndex } from '../../models/index/faiss-ivf.js';
import { loadSession } from '../../models/runtime.js';
import { importVoice } from '../../models/voices/import-voice.js';
import { asRvcManifest } from '../../models/families/rvc/manifest.js';
import { loadVoice } from '../../models/voices/load-voice.js';
import { CLI, sine, tempDir } from '../helpers.js';
import { buildTinyEncoder, buildTinySynth, writeModel } from './tiny-models.js';

/** importVoice for the RVC files these tests import: the manifest as RVC's (another family fails here). */
const importRvc = async (...a: Parameters<typeof importVoice>) => asRvcManifest(await importVoice(...a), 'test import');

const run = promisify(execFile);
const STREAM = 48000;
const tmp = tempDir();
const lib = path.join(tmp.dir, 'library');
let enc: string;
let v40: string; // 40 kHz VC Client voice with metadata, 2 speakers
let bare32: string; // 32 kHz WebUI voice, no metadata

/** An index whose every vector is `value` in all channels: retrieval then replaces features by it. */
function constantIndex(d: number, value: number): Uint8Array {
  const n = 64;
  const vectors = new Float32Array(n * d).fill(value);
  const centroids = new Float32Array(4 * d);
  for (let l = 0; l < 4; l++) centroids.fill(value + l * 0.001, l * d, (l + 1) * d);
  // Every list holds vectors, so whichever list a query probes (RVC stores nprobe 1) has neighbours.
  const assign = Int32Array.from({ length: n }, (_, i) => i % 4);
  return writeIvfFlatIndex(buildIvfFlat({ d, vectors, centroids, assign }));
}

before(async () => {
  enc = await writeModel(tmp.dir, 'enc.onnx', buildTinyEncoder('vec', 768));
  v40 = await writeModel(tmp.dir, 'alto.onnx', buildTinySynth({ contract: 'vcclient', rate: 40000, f0: true, channels: 768, speakers: 2 }));
  bare32 = await writeModel(tmp.dir, 'bare.onnx', buildTinySynth({ contract: 'webui', rate: 32000, f0: true, channels: 768, metadata: null }));
});
after(() => tmp.cleanup());

function f0Of(y: Float32Array, from = 0.5, to = 1.3): number {
  return medianVoiced(yinTrack(y.subarray(Math.round(STREAM * from), Math.round(STREAM * to)), STREAM));
}

describe('import', () => {
  test('a bare .onnx: voice.json from its metadata and the model itself', async () => {
    const m = await importRvc(v40, lib);
    assert.equal(m.id, 'alto');
    assert.deepEqual(
      { contract: m.contract, sampleRate: m.sampleRate, featureSize: m.featureSize, encoderLayer: m.encoderLayer, f0: m.f0, speakers: m.speakers, version: m.version, index: m.index },
      { contract: 'vcclient', sampleRate: 40000, featureSize: 768, encoderLayer: 12, f0: true, speakers: 2, version: 'v2', index: null },
    );
    const json = JSON.parse(await fs.readFile(path.join(lib, 'alto', 'voice.json'), 'utf8'));
    assert.equal(json.model, 'model.onnx');
    // Importing the same file again gets its own id, never overwriting the first.
    assert.equal((await importRvc(v40, lib)).id, 'alto-2');
  });

  test('without metadata the rate is measured from the model (32 kHz here, not the 48 kHz convention)', async () => {
    const m = await importRvc(bare32, lib);
    assert.equal(m.sampleRate, 32000);
    assert.equal(m.contract, 'webui');
  });

  test('a folder with an added_*.index and a preview image, and the same folder zipped', async () => {
    const folder = path.join(tmp.dir, 'Singer Voice');
    await fs.mkdir(folder);
    await fs.copyFile(v40, path.join(folder, 'singer.onnx'));
    await fs.writeFile(path.join(folder, 'added_IVF4_Flat_nprobe_1_singer_v2.index'), constantIndex(768, 0.05));
    await fs.writeFile(path.join(folder, 'cover.png'), new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
    const m = await importRvc(folder, lib);
    assert.equal(m.id, 'singer-voice');
    assert.equal(m.index, 'features.index');
    assert.equal(m.preview, 'preview.png');
    const zip = path.join(tmp.dir, 'singer.zip');
    const files: Record<string, Uint8Array | [Uint8Array, { level: 0 }]> = {};
    // The index is stored: this constant one would deflate 400:1, past the ratio budget no real index reaches.
    for (const f of await fs.readdir(folder)) files[`Singer Voice/${f}`] = f.endsWith('.index') ? [await fs.readFile(path.join(folder, f)), { level: 0 }] : await fs.readFile(path.join(folder, f));
    await fs.writeFile(zip, zipSync(files));
    const z = await importRvc(zip, lib);
    assert.equal(z.id, 'singer');
    assert.equal(z.index, 'features.index');
  });

  test('the CLI imports into RESONA_HOME, lists the voice, and converts with it by id', async () => {
    const home = path.join(tmp.dir, 'home');
    const env = { ...process.env, RESONA_HOME: home };
    const imp = await run(process.execPath, [CLI, 'import', v40, '--name', 'Alto Test'], { env });
    assert.match(imp.stdout, /imported "Alto Test" as alto-test: RVC v2 voice, 40 kHz, 2 speakers/);
    const list = await run(process.execPath, [CLI, 'voices'], { env });
    assert.match(list.stdout, /^alto-test\s+RVC v2 voice, 40 kHz/m);
    const wav = path.join(tmp.dir, 'in.wav');
    const { writeWavAtomic } = await import('../../host/audio-file.js');
    await writeWavAtomic(wav, sine(200, STREAM, 1.5), STREAM);
    const out = path.join(tmp.dir, 'out.wav');
    const conv = await run(process.execPath, [CLI, 'convert', wav, out, '--voice', 'alto-test', '--encoder', enc, '--pitch', '3', '--speaker', '1'], { env });
    assert.match(conv.stdout, /voice alto-test, pitch 3/);
  });
});

describe('index retrieval inside the voice', () => {
  test('ratio 1 replaces the features by their neighbours, 0.5 mixes, 0 leaves them', async () => {
    const folder = path.join(tmp.dir, 'nof0');
    await fs.mkdir(folder);
    await writeModel(folder, 'v.onnx', buildTinySynth({ contract: 'vcclient-skip', rate: 40000, f0: false, channels: 768 }));
    await fs.writeFile(path.join(folder, 'added.index'), constantIndex(768, 0.05));
    const m = await importRvc(folder, lib);
    const x = sine(200, STREAM, 1.5, 0.5); // feature value = input RMS ≈ 0.354
    const level = async (indexRatio: number) => {
      const r = await convertSamples(x, STREAM, { voice: path.join(lib, m.id), encoder: enc, settings: { indexRatio } });
      let e = 0;
      const y = r.output.subarray(STREAM * 0.5, STREAM * 1.2);
      for (const v of y) e += v * v;
      return Math.sqrt(e / y.length) / (0.1 / Math.SQRT2); // = the feature value the voice sang with
    };
    const feat = 0.5 / Math.SQRT2;
    const [l0, l1, lh] = [await level(0), await level(1), await level(0.5)];
    assert.ok(Math.abs(l0 - feat) < 0.01 * feat, `ratio 0: ${l0}`);
    assert.ok(Math.abs(l1 - 0.05) < 0.002, `ratio 1: ${l1}`);
    assert.ok(Math.abs(lh - (0.5 * feat + 0.5 * 0.05)) < 0.01, `ratio 0.5: ${lh}`);
  });
});

describe('bad input: a clear error, nothing half-imported', () => {
  test('a truncated .onnx', async () => {
    const bad = path.join(tmp.dir, 'truncated.onnx');
    const bytes = await fs.readFile(v40);
    await fs.writeFile(bad, bytes.subarray(0, Math.floor(bytes.length / 3)));
    await assert.rejects(importVoice(bad, lib), /truncated\.onnx: not a readable ONNX file .*download or export it again/);
    const r = await run(process.execPath, [CLI, 'import', bad], { env: { ...process.env, RESONA_HOME: path.join(tmp.dir, 'h2') } }).catch((e) => e);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^resona: error: .*truncated\.onnx: not a readable ONNX file/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.deepEqual((await fs.readdir(lib)).filter((f) => f.startsWith('.import')), []);
  });

  test('an ONNX whose inputs match no contract names the inputs found and the contracts known', async () => {
    await assert.rejects(importVoice(enc, lib), (e: Error) => {
      assert.equal(e.name, 'ContractError');
      assert.match(e.message, /its inputs \(source float32\[1,1,N\]\) match no known voice contract/);
      assert.match(e.message, /Known: VC Client \(feats, p_len, pitch, pitchf, sid/);
      assert.match(e.message, /RVC WebUI/);
      return true;
    });
  });

  test('a voice.json with a wrong sample rate, or an impossible one', async () => {
    const dir = path.join(lib, 'alto');
    const file = path.join(dir, 'voice.json');
    const good = await fs.readFile(file, 'utf8');
    try {
      await fs.writeFile(file, good.replace('"sampleRate": 40000', '"sampleRate": 48000'));
      await assert.rejects(loadVoice(dir, { encoder: enc }), /voice\.json says sampleRate 48000 Hz, but the model renders 40000 samples per second of frames; set "sampleRate": 40000/);
      await fs.writeFile(file, good.replace('"sampleRate": 40000', '"sampleRate": 44100'));
      await assert.rejects(loadVoice(dir, { encoder: enc }), /"sampleRate" is 44100; RVC voices run at 32000, 40000, 48000 Hz/);
    } finally {
      await fs.writeFile(file, good);
    }
  });

  test('a corrupt .index, and an index of the wrong size', async () => {
    const corrupt = path.join(tmp.dir, 'corrupt.index');
    const full = constantIndex(768, 0.05);
    await fs.writeFile(corrupt, full.subarray(0, full.length - 1000));
    await assert.rejects(importVoice(v40, lib, { index: corrupt }), (e: Error) => e.name === 'IndexFormatError' && e.message.includes('corrupt.index'));
    const small = path.join(tmp.dir, 'small.index');
    await fs.writeFile(small, constantIndex(256, 0.05));
    await assert.rejects(importVoice(v40, lib, { index: small }), /small\.index: the index holds 256-d features, the voice uses 768-d/);
  });

  test('a voice with an unknown contract, a missing model or a bad index fails to load while the running voice keeps running', async () => {
    const session = await VoiceSession.start(STREAM, { voice: path.join(lib, 'alto'), encoder: enc }, { pitch: 0, blockMs: 100 });
    const x = sine(200, STREAM, 6);
    const y = new Float32Array(x.length + 8 * session.maxOutput);
    const out = new Float32Array(session.maxOutput);
    let p = 0;
    let len = 0;
    const play = async (seconds: number) => {
      const end = p + seconds * STREAM;
      for (; p + session.blockSize <= end; p += session.blockSize) {
        const n = await session.processBlock(x.subarray(p, p + session.blockSize), out);
        y.set(out.subarray(0, n), len);
        len += n;
      }
    };
    await play(1.5);
    const broken = path.join(tmp.dir, 'broken-voice');
    await fs.cp(path.join(lib, 'singer-voice'), broken, { recursive: true });
    await fs.writeFile(path.join(broken, 'features.index'), new Uint8Array(100));
    const missing = path.join(tmp.dir, 'missing-model');
    await fs.cp(path.join(lib, 'alto'), missing, { recursive: true });
    await fs.rm(path.join(missing, 'model.onnx'));
    for (const [voice, why] of [[enc, /match no known voice contract/], [broken, /features\.index/], [missing, /model file is missing/], ['no-such-voice', /unknown voice "no-such-voice"/]] as const) {
      await assert.rejects(session.switchVoice({ voice, encoder: enc }), why);
      await play(0.5);
    }
    assert.equal(session.voice.id, 'alto');
    // Still the running voice: the sine at the input's pitch, uninterrupted.
    assert.ok(Math.abs(ratioToCents(f0Of(y.subarray(0, len), 1.0, 3.4) / 200)) < 5);
    // A good voice then takes over at a block boundary.
    await session.switchVoice({ voice: v40, encoder: enc }, { pitch: 7 });
    await play(1.5);
    assert.ok(Math.abs(ratioToCents(f0Of(y.subarray(0, len), 4.2, 5.3) / 200) - 700) < 5);
    await session.close();
  });
});

describe('runtime', () => {
  test('an accelerator that is not there falls back to CPU with a message', async () => {
    const s = await loadSession(await fs.readFile(enc), { provider: 'cuda', name: 'enc' });
    assert.equal(s.provider, 'cpu');
    assert.match(s.providerNote ?? '', /CUDA unavailable.*running on CPU/);
    await s.release();
  });

  test('a feed of the wrong type or shape is refused before it reaches the model', async () => {
    const { float32Tensor } = await import('../../models/runtime.js');
    const s = await loadSession(await fs.readFile(enc), { name: 'enc' });
    await assert.rejects(s.run({ source: float32Tensor(new Float32Array(800), [1, 800]) }), /input "source" wants shape \[1, 1, N\], was given \[1, 800\]/);
    await assert.rejects(s.run({}), /input "source" was not given/);
    await s.release();
  });
});
