// The RVC synthesizer graph builder against PyTorch: tiny voices of the real architecture, saved as RVC
// saves voices, with reference outputs of the deterministic infer path (test/fixtures/torch/
// make-rvc-reference.py). Then the contract, the random path, the refusals, and one voice end to end.
import path from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import * as ort from 'onnxruntime-node';
import { convertSamples } from '../../../host/convert.js';
import { GraphBuilder } from '../../../models/onnx/graph-builder.js';
import { conv1d, convTranspose1d, embedding, gelu, layerNorm, layerNormChannels, linear, type Weight } from '../../../models/onnx/layers.js';
import { parseOnnxInfo } from '../../../models/onnx/model-info.js';
import { detectContract, readExportMetadata } from '../../../models/rvc/contracts.js';
import { importVoice } from '../../../models/voices/import-voice.js';
import { asRvcManifest } from '../../../models/families/rvc/manifest.js';
import { loadSession, type LoadedSession } from '../../../models/runtime.js';
import { buildRvcSynthesizer, RvcGraphError, type RvcCheckpointLike } from '../../../models/torch/rvc-graph.js';
import { pretrainedRvcConfig, randomRvcWeights } from '../../../models/torch/rvc-random.js';
import { readRvcCheckpoint } from '../../../models/torch/rvc-checkpoint.js';
import { rvcParameters, type RvcNetConfig } from '../../../models/torch/rvc-spec.js';
import type { TensorLike } from '../../../models/torch/rvc-weights.js';
import { type BlobRef, finiteRms, readBlobArray, readBlobFixture, ROOT, sine, tempDir } from '../../helpers.js';
import { buildTinyEncoder, writeModel } from '../tiny-models.js';

/** importVoice for the RVC files these tests import: the manifest as RVC's (another family fails here). */
const importRvc = async (...a: Parameters<typeof importVoice>) => asRvcManifest(await importVoice(...a), 'test import');

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'torch', 'rvc');
const NAMES = ['v2-f0-40k', 'v1-f0-48k', 'v2-nof0-32k', 'v1-nof0-40k'];
const TOLERANCE = 1e-4;

interface Case { name: string; p_len: number; sid: number; skip_head: number; return_length: number; formant_length: number; audio: BlobRef }
interface Fixture {
  name: string; sampleRate: number; f0: number; version: string; speakers: number; weightDtype: string;
  frames: number; channels: number; feats: BlobRef; pitch?: BlobRef; pitchf?: BlobRef; cases: Case[];
}

interface Loaded { fx: Fixture; bin: Buffer; ckpt: RvcCheckpointLike }
const cache = new Map<string, Loaded>();
async function load(name: string): Promise<Loaded> {
  let l = cache.get(name);
  if (!l) {
    const { fx, bin } = readBlobFixture<Fixture>(FIXTURES, name);
    l = { fx, bin, ckpt: await readRvcCheckpoint(path.join(FIXTURES, `${name}.pth`)) };
    cache.set(name, l);
  }
  return l;
}

const i64 = (v: number, dims: number[]) => new ort.Tensor('int64', BigInt64Array.from([BigInt(v)]), dims);

function feeds(l: Loaded, c: Case): Record<string, ort.Tensor> {
  const { fx, bin } = l;
  const T = fx.frames;
  const f: Record<string, ort.Tensor> = {
    feats: new ort.Tensor('float32', readBlobArray(bin, fx.feats) as Float32Array, [1, T, fx.channels]),
    p_len: i64(c.p_len, [1]),
    sid: i64(c.sid, [1]),
    skip_head: i64(c.skip_head, []),
    return_length: i64(c.return_length, []),
    formant_length: i64(c.formant_length, []),
  };
  if (fx.f0) {
    f['pitch'] = new ort.Tensor('int64', BigInt64Array.from(readBlobArray(bin, fx.pitch!), (v) => BigInt(v)), [1, T]);
    f['pitchf'] = new ort.Tensor('float32', readBlobArray(bin, fx.pitchf!) as Float32Array, [1, T]);
  }
  return f;
}

const sessions: LoadedSession[] = [];
after(async () => {
  for (const s of sessions) await s.release();
});

describe('RVC synthesizer graph = PyTorch reference (deterministic infer path)', () => {
  for (const name of NAMES) {
    test(`${name}: every case within ${TOLERANCE}`, async (t) => {
      const l = await load(name);
      const bytes = buildRvcSynthesizer(l.ckpt, { deterministic: true });
      const s = await loadSession(bytes, { name });
      sessions.push(s);
      const hop = l.fx.sampleRate / 100;
      const report: string[] = [];
      for (const c of l.fx.cases) {
        const want = readBlobArray(l.bin, c.audio) as Float32Array;
        const got = (await s.run(feeds(l, c)))['audio']!;
        assert.deepEqual(got.dims, [c.formant_length * hop], `${c.name}: formant_length × sr/100 samples`);
        const y = got.data as Float32Array;
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(y[i]! - want[i]!));
        report.push(`${c.name} ${worst.toExponential(2)}`);
        assert.ok(worst <= TOLERANCE, `${name} ${c.name}: max |Δ| ${worst} > ${TOLERANCE}`);
      }
      t.diagnostic(`${name} (${l.fx.weightDtype} weights) max |Δ|: ${report.join(', ')}`);
    });
  }
});

describe('the built model is a voice in the canonical contract', () => {
  for (const name of NAMES) {
    test(`${name}: vcclient-skip, scalar skip inputs, metadata of its rate and size`, async () => {
      const l = await load(name);
      const info = parseOnnxInfo(buildRvcSynthesizer(l.ckpt), name);
      const c = detectContract(info, name);
      assert.equal(c.id, 'vcclient-skip');
      assert.equal(c.f0, l.fx.f0 === 1);
      assert.equal(c.channels, l.fx.channels);
      assert.equal(c.scalarRank, 0);
      assert.deepEqual(info.outputs.map((o) => [o.name, o.dims.length]), [['audio', 1]]);
      assert.deepEqual(info.initializers['emb_g.weight']?.[0], l.fx.speakers);
      const m = readExportMetadata(info, name)!;
      assert.equal(m.samplingRate, l.fx.sampleRate);
      assert.equal(m.f0, l.fx.f0 === 1);
      assert.equal(m.embChannels, l.fx.channels);
    });
  }

  test('random path: noise comes in as inputs (no CPU-only random nodes), the output keeps its length and level', async () => {
    const l = await load('v2-f0-40k');
    const bytes = buildRvcSynthesizer(l.ckpt);
    // RandomNormalLike runs on the CPU under onnxruntime's WebGPU provider (and float Mod too): neither may be in
    // the graph a GPU runs block after block. The VC Client style (noise: 'graph') still draws in the graph.
    const ops = (b: Uint8Array) => Buffer.from(b).toString('latin1');
    assert.ok(!/RandomNormalLike|RandomUniformLike/.test(ops(bytes)), 'no random nodes');
    assert.ok(!/\bMod\b/.test(ops(bytes)), 'no float Mod');
    assert.match(ops(buildRvcSynthesizer(l.ckpt, { noise: 'graph' })), /RandomNormalLike/);
    const c = l.fx.cases[2]!;
    const contract = detectContract(parseOnnxInfo(bytes, 'random'), 'random');
    assert.equal(contract.id, 'vcclient-skip');
    assert.deepEqual([contract.noise, contract.noiseChannels, contract.nsfNoise, contract.nsfChannels], ['rnd', l.ckpt.config.inter_channels, 'rnd_nsf', 1]);
    const s = await loadSession(bytes, { name: 'random' });
    sessions.push(s);
    let seed = 1;
    const normal = (n: number) => Float32Array.from({ length: n }, () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const u = (seed + 1) / 4294967297;
      seed = (seed * 1103515245 + 12345) >>> 0;
      return Math.sqrt(-2 * Math.log(u)) * Math.cos((2 * Math.PI * seed) / 4294967296);
    });
    const noise = () => ({
      rnd: new ort.Tensor('float32', normal(contract.noiseChannels * l.fx.frames), [1, contract.noiseChannels, l.fx.frames]),
      // Longer than the NSF source needs: the graph takes the first return_length · hop samples.
      rnd_nsf: new ort.Tensor('float32', normal(c.return_length * 480), [1, c.return_length * 480, 1]),
    });
    const first = noise();
    const a = Float32Array.from((await s.run({ ...feeds(l, c), ...first }))['audio']!.data as Float32Array);
    const again = Float32Array.from((await s.run({ ...feeds(l, c), ...first }))['audio']!.data as Float32Array);
    const b = (await s.run({ ...feeds(l, c), ...noise() }))['audio']!.data as Float32Array;
    const ref = readBlobArray(l.bin, c.audio) as Float32Array;
    assert.equal(a.length, ref.length);
    let diff = 0;
    let same = 0;
    let e = 0;
    for (let i = 0; i < a.length; i++) {
      assert.ok(Number.isFinite(a[i]!));
      diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
      same = Math.max(same, Math.abs(a[i]! - again[i]!));
      e += a[i]! ** 2;
    }
    assert.ok(diff > 1e-3, 'other noise, other output');
    assert.equal(same, 0, 'the same noise renders the same audio');
    assert.ok(Math.sqrt(e / a.length) > 0.01, 'not silent');
  });
});

describe('refusals name the weight, the shape found and the shape expected', () => {
  const tiny: RvcNetConfig = { ...pretrainedRvcConfig(40000, 'v2'), inter_channels: 8, hidden_channels: 8, filter_channels: 16, n_layers: 1, upsample_initial_channel: 16, gin_channels: 4, spk_embed_dim: 2 };
  const ckpt = (): RvcCheckpointLike & { weights: Map<string, TensorLike> } => ({ weights: randomRvcWeights(tiny, 1, 'v2', 7), config: tiny, f0: 1, version: 'v2' });

  test('a random state dict of the architecture builds', () => {
    assert.ok(buildRvcSynthesizer(ckpt()).length > 1000);
  });
  test('wrong shape', () => {
    const c = ckpt();
    c.weights.set('dec.conv_pre.weight', { shape: [16, 8, 5], data: new Float32Array(16 * 8 * 5) });
    assert.throws(() => buildRvcSynthesizer(c), (e: Error) => e instanceof RvcGraphError && /dec\.conv_pre\.weight has shape \[16, 8, 5\], expected \[16, 8, 7\]/.test(e.message));
  });
  test('weight-normed layer with a wrong g', () => {
    const c = ckpt();
    c.weights.set('dec.ups.1.weight_g', { shape: [4, 1, 1], data: new Float32Array(4) });
    assert.throws(() => buildRvcSynthesizer(c), /dec\.ups\.1\.weight_g has shape \[4, 1, 1\], expected \[8, 1, 1\]/);
  });
  test('missing and foreign weights', () => {
    const c = ckpt();
    c.weights.delete('flow.flows.2.post.bias');
    assert.throws(() => buildRvcSynthesizer(c), /lacks 1 weight this config needs: flow\.flows\.2\.post\.bias \[4\]/);
    const d = ckpt();
    d.weights.set('dec.extra.weight', { shape: [1], data: new Float32Array(1) });
    assert.throws(() => buildRvcSynthesizer(d), /does not use: dec\.extra\.weight/);
  });
  test('config inconsistent with the rate, f0 flag or version inconsistent with the weights', () => {
    const c = ckpt();
    assert.throws(() => buildRvcSynthesizer({ ...c, config: { ...tiny, sr: 48000 } }), /upsample_rates .*product 400 must be sr \/ 100 = 480/);
    assert.throws(() => buildRvcSynthesizer({ ...c, config: { ...tiny, sr: 44100 } }), /sr is 44100/);
    assert.throws(() => buildRvcSynthesizer({ ...c, config: { ...tiny, resblock: '3' } }), /resblock is "3"/);
    assert.throws(() => buildRvcSynthesizer({ ...c, f0: 0 }), /says f0 = 0 but has a pitch embedding/);
    assert.throws(() => buildRvcSynthesizer({ ...c, version: 'v1' }), /version v1 \(256-d features\) but enc_p\.emb_phone\.weight takes 768-d/);
  });
  test('real pretrained configs: parameter counts of RVC v2 40k / 48k', () => {
    const count = (sr: 40000 | 48000) => rvcParameters(pretrainedRvcConfig(sr, 'v2'), { f0: true, version: 'v2', speakers: 109, harmonics: 0 })
      .reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
    // Inference weights of the RVC v2 pretrained generators (f0G40k / f0G48k without enc_q).
    assert.ok(count(40000) > 25e6 && count(40000) < 40e6, `v2 40k: ${count(40000)}`);
    assert.ok(count(48000) > count(40000), 'the 48k generator is larger');
  });
});

describe('end to end: a built voice through import and the engine', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());
  for (const name of NAMES) {
    test(`${name}: importVoice measures its rate and reads its speakers, f0 and feature size`, async () => {
      const l = await load(name);
      const file = await writeModel(tmp.dir, `${name}.onnx`, buildRvcSynthesizer(l.ckpt));
      const m = await importRvc(file, path.join(tmp.dir, 'library'));
      assert.equal(m.contract, 'vcclient-skip');
      assert.equal(m.sampleRate, l.fx.sampleRate);
      assert.equal(m.speakers, l.fx.speakers);
      assert.equal(m.f0, l.fx.f0 === 1);
      assert.equal(m.featureSize, l.fx.channels);
      assert.equal(m.version, l.fx.version);
    });
  }
  test('v2 40 kHz voice converts a sine (convertSamples with --encoder)', async () => {
    const l = await load('v2-f0-40k');
    const voice = await writeModel(tmp.dir, 'tiny-rvc.onnx', buildRvcSynthesizer(l.ckpt));
    const encoder = await writeModel(tmp.dir, 'vec-768.onnx', buildTinyEncoder('vec', 768));
    const rate = 48000;
    const x = sine(220, rate, 1.5);
    const r = await convertSamples(x, rate, { voice, encoder, settings: { pitch: 3, speaker: 2, formant: 2 } });
    assert.equal(r.output.length, x.length);
    assert.ok(finiteRms(r.output) > 1e-3, 'the voice is heard');
  });
});

describe('layer helpers (models/onnx/layers.ts) against direct computation', () => {
  const rand = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 12.9898 + i * 78.233) * 0.9);
  async function run1(build: (g: GraphBuilder, x: string) => string, x: Float32Array, dims: number[], outRank = 3): Promise<Float32Array> {
    const g = new GraphBuilder('layers');
    g.op('Identity', [build(g, g.input('x', 'float32', dims))], {}, 'y');
    g.output('y', 'float32', Array.from({ length: outRank }, (_, i) => `d${i}`));
    const s = await loadSession(g.toBytes({ opset: 17 }));
    sessions.push(s);
    return (await s.run({ x: new ort.Tensor('float32', x, dims) }))['y']!.data as Float32Array;
  }
  const close = (a: Float32Array, b: ArrayLike<number>, what: string) => {
    assert.equal(a.length, b.length, `${what}: length`);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-5, `${what}[${i}]: ${a[i]} vs ${b[i]}`);
  };

  test('conv1d with stride, asymmetric padding, dilation and groups; conv-transpose1d', async () => {
    const [C, O, T, K, G, S, D, PL, PR] = [4, 6, 11, 3, 2, 2, 2, 3, 1];
    const x = rand(C * T, 1);
    const w: Weight = { shape: [O, C / G, K], data: rand(O * (C / G) * K, 2) };
    const b: Weight = { shape: [O], data: rand(O, 3) };
    const To = Math.floor((T + PL + PR - D * (K - 1) - 1) / S) + 1;
    const want = new Float32Array(O * To);
    for (let o = 0; o < O; o++) for (let t = 0; t < To; t++) {
      let acc = b.data[o]!;
      const g0 = Math.floor(o / (O / G)) * (C / G);
      for (let i = 0; i < C / G; i++) for (let k = 0; k < K; k++) {
        const ti = t * S + k * D - PL;
        if (ti >= 0 && ti < T) acc += w.data[(o * (C / G) + i) * K + k]! * x[(g0 + i) * T + ti]!;
      }
      want[o * To + t] = acc;
    }
    close(await run1((g, v) => conv1d(g, v, w, b, { stride: S, padding: [PL, PR], dilation: D, groups: G }), x, [1, C, T]), want, 'conv1d');

    const [U, KT, P] = [3, 5, 1];
    const wt: Weight = { shape: [C, O, KT], data: rand(C * O * KT, 4) };
    const Tt = (T - 1) * U - 2 * P + KT;
    const full = new Float32Array(O * (Tt + 2 * P));
    for (let i = 0; i < C; i++) for (let t = 0; t < T; t++) for (let o = 0; o < O; o++) for (let k = 0; k < KT; k++) {
      full[o * (Tt + 2 * P) + t * U + k] += wt.data[(i * O + o) * KT + k]! * x[i * T + t]!;
    }
    const wantT = Float32Array.from({ length: O * Tt }, (_, n) => full[Math.floor(n / Tt) * (Tt + 2 * P) + (n % Tt) + P]! + b.data[Math.floor(n / Tt)]!);
    close(await run1((g, v) => convTranspose1d(g, v, wt, b, { stride: U, padding: P }), x, [1, C, T]), wantT, 'convTranspose1d');
  });

  test('layer norm over channels and over the last axis, GELU, linear, embedding', async () => {
    const [C, T] = [5, 7];
    const x = rand(C * T, 5);
    const gamma: Weight = { shape: [C], data: rand(C, 6) };
    const beta: Weight = { shape: [C], data: rand(C, 7) };
    const want = new Float32Array(C * T);
    for (let t = 0; t < T; t++) {
      let m = 0;
      for (let c = 0; c < C; c++) m += x[c * T + t]! / C;
      let v = 0;
      for (let c = 0; c < C; c++) v += (x[c * T + t]! - m) ** 2 / C;
      for (let c = 0; c < C; c++) want[c * T + t] = ((x[c * T + t]! - m) / Math.sqrt(v + 1e-5)) * gamma.data[c]! + beta.data[c]!;
    }
    close(await run1((g, v) => layerNormChannels(g, v, gamma, beta), x, [1, C, T]), want, 'layerNormChannels');
    const viaLast = await run1((g, v) => g.op('Transpose', [layerNorm(g, g.op('Transpose', [v], { perm: [0, 2, 1] }), gamma, beta)], { perm: [0, 2, 1] }), x, [1, C, T]);
    close(viaLast, want, 'layerNorm');
    const erf = (z: number) => { // midpoint rule: exact to ~1e-7, which closed-form approximations are not
      let s = 0;
      const n = 2000;
      for (let i = 0; i < n; i++) { const u = ((i + 0.5) / n) * z; s += Math.exp(-u * u); }
      return (2 / Math.sqrt(Math.PI)) * s * (z / n);
    };
    close(await run1((g, v) => gelu(g, v), x, [1, C, T]), Array.from(x, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2))), 'gelu');
    const w: Weight = { shape: [3, T], data: rand(3 * T, 8) };
    const lin = Array.from({ length: C * 3 }, (_, n) => {
      const [r, o] = [Math.floor(n / 3), n % 3];
      let acc = 0;
      for (let i = 0; i < T; i++) acc += x[r * T + i]! * w.data[o * T + i]!;
      return acc;
    });
    close(await run1((g, v) => linear(g, v, w), x, [1, C, T]), lin, 'linear');
    const table: Weight = { shape: [4, 2], data: rand(8, 9) };
    close(await run1((g, v) => embedding(g, table, g.op('Cast', [v], { to: 7 })), Float32Array.from([3, 0, 2]), [3], 2), [6, 7, 0, 1, 4, 5].map((i) => table.data[i]!), 'embedding');
  });
});
