// Issue 6 end to end: an RVC .pth imported into the library without Python (safe reader → ONNX builder →
// the same checks as any voice), converted through the engine; a malicious .pth refused with nothing run and
// nothing imported; a fairseq HuBERT checkpoint turned into the content encoder voices load.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { convertSamples } from '../../../host/convert.js';
import { ContentEncoder } from '../../../models/rvc/content-encoder.js';
import { convertHubertCheckpoint } from '../../../models/torch/hubert-import.js';
import { CLI, finiteRms, ROOT, sine, tempDir } from '../../helpers.js';
import { buildTinyEncoder, writeModel } from '../tiny-models.js';
import { OP, rawCheckpoint } from './torch-writer.js';

const run = promisify(execFile);
const FIX = path.join(ROOT, 'test', 'fixtures', 'torch');
const tmp = tempDir();
const env = { ...process.env, RESONA_HOME: path.join(tmp.dir, 'home') };
after(() => tmp.cleanup());

async function resona(...args: string[]) {
  try {
    const r = await run(process.execPath, [CLI, ...args], { env });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('resona import <voice.pth>', () => {
  test('an RVC v2 40 kHz .pth becomes a library voice with the skip_head contract, and converts', async () => {
    const r = await resona('import', path.join(FIX, 'rvc', 'v2-f0-40k.pth'), '--name', 'Tiny V2');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /imported "Tiny V2" as tiny-v2: RVC v2 voice, 40 kHz, 3 speakers/);
    const m = JSON.parse(await fs.readFile(path.join(env.RESONA_HOME, 'voices', 'tiny-v2', 'voice.json'), 'utf8'));
    assert.deepEqual([m.contract, m.sampleRate, m.featureSize, m.f0, m.speakers], ['vcclient-skip', 40000, 768, true, 3]);
    const enc = await writeModel(tmp.dir, 'enc.onnx', buildTinyEncoder('vec', 768));
    const x = sine(200, 48000, 1.5);
    const out = await convertSamples(x, 48000, { voice: path.join(env.RESONA_HOME, 'voices', 'tiny-v2'), encoder: enc, settings: { pitch: 3, speaker: 2, formant: 2 } });
    assert.equal(out.output.length, x.length);
    assert.ok(finiteRms(out.output) > 0, 'the converted voice is not silent');
    assert.deepEqual(out.warnings, [], 'formant reaches a converted voice');
  });

  test('a .pth asking for os.system is refused in one line; nothing runs, nothing is imported', async () => {
    const marker = path.join(tmp.dir, 'pwned');
    const evil = path.join(tmp.dir, 'evil.pth');
    await fs.writeFile(evil, rawCheckpoint((w) => {
      w.op(OP.EMPTY_DICT).str('weight');
      w.global('os', 'system');
      w.str(`touch ${marker}`).op(OP.TUPLE1, OP.REDUCE, OP.SETITEM);
    }));
    const before = await fs.readdir(path.join(env.RESONA_HOME, 'voices')).catch(() => []);
    const r = await resona('import', evil);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^resona: error: .*refusing to load: the checkpoint asks for os\.system/);
    assert.equal(existsSync(marker), false);
    assert.deepEqual(await fs.readdir(path.join(env.RESONA_HOME, 'voices')).catch(() => []), before);
  });

  test('a truncated .pth and an unknown config: one line each', async () => {
    const good = await fs.readFile(path.join(FIX, 'rvc', 'v1-nof0-40k.pth'));
    const cut = path.join(tmp.dir, 'cut.pth');
    await fs.writeFile(cut, good.subarray(0, good.length >> 1));
    const r1 = await resona('import', cut);
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, /^resona: error: .*cut\.pth/);
    const r2 = await resona('import', path.join(FIX, 'dtypes.pth'));
    assert.equal(r2.code, 1);
    assert.equal(r2.stderr.trim().split('\n').length, 1, r2.stderr);
  });
});

describe('fairseq HuBERT checkpoint → content encoder', () => {
  test('the tiny fairseq-layout checkpoint converts to an encoder ContentEncoder accepts', async () => {
    const dir = path.join(tmp.dir, 'models');
    await fs.mkdir(dir, { recursive: true });
    const file = await convertHubertCheckpoint(path.join(FIX, 'hubert', 'tiny-base.pt'), dir, { layer: 3, channels: 768 });
    assert.match(path.basename(file), /^hubert-base-l3\.onnx$/);
    // The tiny network is 32-d: the encoder check compares against the voice's size, so ask for 32.
    const e = await ContentEncoder.load(file, { channels: 32, layer: 12 });
    const out = new Float32Array(10 * 32);
    await e.encode(new Float32Array(3200).fill(0.01), out);
    assert.ok(out.every(Number.isFinite));
    await e.release();
  });
});
