// The HuBERT ONNX builder against PyTorch. test/fixtures/torch/make-hubert-reference.py defines fairseq's
// HuBERT in PyTorch (tiny configs of the real structure), saves fairseq-style checkpoints and the float64
// outputs of the layer/final_proj choices RVC makes; these tests need no Python. Weights come both from the .pt
// through the project's checkpoint reader and from a plain .weights.bin dump written beside it, so a fault in
// the reader and one in the builder do not hide each other.
//
// RESONA_HUBERT_BENCH=1 adds the real-size (HuBERT base, random weights) size/load/latency measurement.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../helpers.js';
import { float32Tensor, loadSession } from '../../../models/runtime.js';
import { ContentEncoder } from '../../../models/rvc/content-encoder.js';
import { readCheckpointFile, stateDict } from '../../../models/torch/checkpoint.js';
import { HUBERT_BASE, HubertCheckpointError, type HubertConfig, hubertConfigFromCheckpoint, parseConvLayers } from '../../../models/torch/hubert-config.js';
import { buildHubertEncoder, hubertFrames, hubertFraming } from '../../../models/torch/hubert-graph.js';
import type { WeightTensor } from '../../../models/torch/hubert-ops.js';
import { randomHubertWeights } from '../../../models/torch/hubert-random.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'torch', 'hubert');
const TOLERANCE = 1e-4;

interface BinFile {
  meta: Record<string, unknown>;
  tensors: Map<string, WeightTensor>;
}

/** The trivial format make-hubert-reference.py writes (see write_bin there). */
function readBin(name: string): BinFile {
  const buf = readFileSync(path.join(FIXTURES, name));
  const headerLen = buf.readUInt32LE(0);
  const header = JSON.parse(buf.subarray(4, 4 + headerLen).toString('utf8')) as {
    meta: Record<string, unknown>;
    tensors: Record<string, { shape: number[]; offset: number }>;
  };
  const body = buf.subarray(4 + headerLen);
  const floats = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  const tensors = new Map<string, WeightTensor>();
  for (const [k, t] of Object.entries(header.tensors)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    tensors.set(k, { shape: t.shape, data: floats.subarray(t.offset, t.offset + n) });
  }
  return { meta: header.meta, tensors };
}

interface Source {
  label: string;
  weights: Map<string, WeightTensor>;
  config: HubertConfig;
}

async function sources(variant: string): Promise<Source[]> {
  const bin = readBin(`${variant}.weights.bin`);
  const root = await readCheckpointFile(path.join(FIXTURES, `${variant}.pt`));
  const weights = new Map<string, WeightTensor>();
  for (const [k, t] of stateDict(root, 'model')) {
    assert.ok(t.data instanceof Float32Array, `${k} is ${t.dtype}`);
    weights.set(k, { shape: t.shape, data: t.data });
  }
  return [
    { label: '.pt', weights, config: hubertConfigFromCheckpoint(root) },
    { label: '.weights.bin', weights: bin.tensors, config: hubertConfigFromCheckpoint(bin.meta) },
  ];
}

async function runEncoder(bytes: Uint8Array, audio: Float32Array, threads = 1) {
  const s = await loadSession(bytes, { threads, name: 'hubert' });
  try {
    const out = await s.run({ source: float32Tensor(audio, [1, 1, audio.length]) });
    const t = out['embed']!;
    return { dims: t.dims.slice(), data: t.data as Float32Array };
  } finally {
    await s.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const audio = readBin('audio.bin').tensors.get('audio')!.data;

describe('HuBERT ONNX builder against PyTorch', () => {
  for (const variant of ['tiny-base', 'tiny-prenorm']) {
    test(`${variant}: every reference choice within ${TOLERANCE}`, async () => {
      const ref = readBin(`${variant}.reference.bin`);
      for (const src of await sources(variant)) {
        for (const [layer, finalProj] of ref.meta['choices'] as [number, boolean][]) {
          const want = ref.tensors.get(`layer${layer}${finalProj ? '_proj' : ''}`)!;
          const got = await runEncoder(buildHubertEncoder(src.weights, src.config, { layer, finalProj }), audio);
          assert.deepEqual(got.dims, want.shape);
          const d = maxAbsDiff(got.data, want.data);
          console.log(`# ${variant} (${src.label}) layer ${layer}${finalProj ? ' + final_proj' : ''}: max |diff| ${d.toExponential(2)}`);
          assert.ok(d <= TOLERANCE, `${variant} layer ${layer}: max |diff| ${d}`);
        }
      }
    });
  }

  test('config comes from the checkpoint cfg.model, in fairseq field names', () => {
    const config = hubertConfigFromCheckpoint(readBin('tiny-base.weights.bin').meta);
    assert.equal(config.layers, 3);
    assert.equal(config.embedDim, 32);
    assert.equal(config.heads, 4);
    assert.equal(config.finalDim, 8);
    assert.deepEqual(config.convLayers[0], [24, 10, 5]);
    const pre = hubertConfigFromCheckpoint(readBin('tiny-prenorm.weights.bin').meta);
    assert.equal(pre.extractorMode, 'layer_norm');
    assert.equal(pre.layerNormFirst, true);
    assert.equal(pre.convBias, true);
    assert.equal(pre.convPos, 15);
    // A Map-based cfg (as the pickle reader returns dicts), fields missing → HuBERT base.
    assert.deepEqual(hubertConfigFromCheckpoint(new Map([['cfg', new Map([['model', new Map()]])]])), HUBERT_BASE);
    assert.deepEqual(hubertConfigFromCheckpoint({ args: { encoder_layers: 6 } }).layers, 6);
    assert.throws(() => hubertConfigFromCheckpoint({ cfg: { model: { layer_type: 'conformer' } } }), /layer_type is "conformer"/);
    assert.throws(() => hubertConfigFromCheckpoint({ cfg: { model: { encoder_embed_dim: 100, encoder_attention_heads: 12 } } }), /not a multiple/);
  });

  test('conv_feature_layers strings parse without eval', () => {
    assert.deepEqual(parseConvLayers('[(512,10,5)] + [(512,3,2)] * 4 + [(512,2,2)] * 2'), HUBERT_BASE.convLayers);
    assert.deepEqual(parseConvLayers('[(8, 4, 2), (8, 2, 2),]'), [[8, 4, 2], [8, 2, 2]]);
    assert.throws(() => parseConvLayers('__import__("os")'), HubertCheckpointError);
    assert.throws(() => parseConvLayers('[(512,10)]'), /conv_feature_layers/);
  });

  test('T = floor((N − 400) / 320) + 1 for several N', async () => {
    assert.deepEqual(hubertFraming(HUBERT_BASE), { hop: 320, receptiveField: 400 });
    for (let n = 400; n < 5000; n += 7) assert.equal(hubertFrames(n, HUBERT_BASE), Math.floor((n - 400) / 320) + 1);
    const { weights, config } = (await sources('tiny-base'))[0]!;
    const bytes = buildHubertEncoder(weights, config, { layer: 3, finalProj: false });
    const s = await loadSession(bytes, { name: 'hubert' });
    try {
      for (const n of [400, 719, 720, 1040, 3333, 12000, 20800]) {
        const x = Float32Array.from({ length: n }, (_, i) => audio[i % audio.length]!);
        const out = await s.run({ source: float32Tensor(x, [1, 1, n]) });
        assert.equal(out['embed']!.dims[1], Math.floor((n - 400) / 320) + 1, `N = ${n}`);
      }
    } finally {
      await s.release();
    }
  });

  test('ContentEncoder.load accepts the built encoder (vec style) and encodes', async () => {
    const { weights, config } = (await sources('tiny-base'))[0]!;
    for (const [layer, finalProj, channels] of [[2, true, 8], [3, false, 32]] as const) {
      const bytes = buildHubertEncoder(weights, config, { layer, finalProj });
      const e = await ContentEncoder.load(bytes, { channels, layer }, { threads: 1, name: `tiny hubert L${layer}` });
      try {
        assert.equal(e.style, 'vec');
        e.configure(16000);
        const out = new Float32Array(50 * channels);
        assert.equal(await e.encode(audio.subarray(0, 16000), out), 50);
        assert.ok(out.every(Number.isFinite));
      } finally {
        await e.release();
      }
    }
  });

  test('a missing or misshapen weight is named with the shape found and expected', async () => {
    const { weights, config } = (await sources('tiny-base'))[0]!;
    const missing = new Map(weights);
    missing.delete('encoder.layers.1.fc1.weight');
    assert.throws(() => buildHubertEncoder(missing, config, { layer: 2, finalProj: false }),
      (e: Error) => e instanceof HubertCheckpointError && /no weight "encoder\.layers\.1\.fc1\.weight" \(expected shape \[64, 32\]/.test(e.message));
    // Only the layers up to the output layer are read.
    assert.doesNotThrow(() => buildHubertEncoder(missing, config, { layer: 1, finalProj: false }));
    const wrong = new Map(weights);
    wrong.set('encoder.pos_conv.0.weight_v', { shape: [32, 4, 128], data: new Float32Array(32 * 4 * 128) });
    assert.throws(() => buildHubertEncoder(wrong, config, { layer: 1, finalProj: false }),
      /weight "encoder\.pos_conv\.0\.weight_v" has shape \[32, 4, 128\]; expected \[32, 2, 128\]/);
    assert.throws(() => buildHubertEncoder(weights, { ...config, embedDim: 48 }, { layer: 1, finalProj: false }), /post_extract_proj\.weight" has shape \[32, 24\]; expected \[48, 24\]/);
    assert.throws(() => buildHubertEncoder(weights, config, { layer: 4, finalProj: false }), /layers 1\.\.3/);
  });

  test('int8 MatMuls (experimental) stay close to float32', async () => {
    const { weights, config } = (await sources('tiny-base'))[0]!;
    const want = readBin('tiny-base.reference.bin').tensors.get('layer3')!.data;
    const got = await runEncoder(buildHubertEncoder(weights, config, { layer: 3, finalProj: false, int8: true }), audio);
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = 0; i < want.length; i++) {
      ab += want[i]! * got.data[i]!;
      aa += want[i]! ** 2;
      bb += got.data[i]! ** 2;
    }
    const cosine = ab / Math.sqrt(aa * bb);
    console.log(`# tiny-base int8 layer 3: cosine ${cosine.toFixed(5)}, max |diff| ${maxAbsDiff(want, got.data).toFixed(3)}`);
    assert.ok(cosine > 0.99);
  });

  test('random weights cover every key the builder reads (tiny configs)', async () => {
    for (const src of ['tiny-base', 'tiny-prenorm']) {
      const { config, weights } = (await sources(src))[0]!;
      const random = randomHubertWeights(config, 5);
      assert.deepEqual([...random.keys()].sort(), [...weights.keys()].filter((k) => k !== 'label_embs_concat').sort());
      for (const [k, t] of random) assert.deepEqual(t.shape, weights.get(k)!.shape, k);
      const got = await runEncoder(buildHubertEncoder(random, config, { layer: config.layers, finalProj: true }), audio);
      assert.deepEqual(got.dims, [1, 49, config.finalDim]);
      assert.ok(got.data.every(Number.isFinite));
    }
  });
});

describe('HuBERT base, real size, random weights', { skip: !process.env['RESONA_HUBERT_BENCH'] }, () => {
  test('size, load time, encode latency (median of 10)', async () => {
    const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;
    let t0 = performance.now();
    const weights = randomHubertWeights(HUBERT_BASE, 1);
    console.log(`# random weights: ${(performance.now() - t0).toFixed(0)} ms`);
    const speech = (n: number) => Float32Array.from({ length: n }, (_, i) => audio[i % audio.length]!);
    const firstOut: Record<string, Float32Array> = {};
    for (const [layer, finalProj, int8] of [[12, false, false], [9, true, false], [12, false, true]] as const) {
      t0 = performance.now();
      const bytes = buildHubertEncoder(weights, HUBERT_BASE, { layer, finalProj, int8 });
      const label = `layer ${layer}${finalProj ? ' + final_proj' : ''}${int8 ? ', int8 MatMuls' : ''}`;
      console.log(`# ${label}: ${(bytes.length / 2 ** 20).toFixed(1)} MiB, build ${(performance.now() - t0).toFixed(0)} ms`);
      for (const threads of [1, 2]) {
        t0 = performance.now();
        const s = await loadSession(bytes, { threads, name: 'hubert-base' });
        const load = performance.now() - t0;
        const row: string[] = [];
        for (const seconds of [0.75, 1.3]) {
          const feed = { source: float32Tensor(speech(seconds * 16000), [1, 1, seconds * 16000]) };
          const first = (await s.run(feed))['embed']!.data as Float32Array;
          if (seconds === 1.3 && threads === 1) firstOut[`${layer}${finalProj}${int8}`] = first;
          const ms: number[] = [];
          for (let r = 0; r < 10; r++) {
            const a = performance.now();
            await s.run(feed);
            ms.push(performance.now() - a);
          }
          row.push(`${seconds} s: ${median(ms).toFixed(1)} ms (min ${Math.min(...ms).toFixed(1)}, max ${Math.max(...ms).toFixed(1)})`);
        }
        console.log(`#   ${threads} thread(s): load ${load.toFixed(0)} ms; ${row.join('; ')}`);
        await s.release();
      }
    }
    // int8 against float32, per frame.
    const a = firstOut['12falsefalse']!;
    const b = firstOut['12falsetrue']!;
    let worst = 1;
    for (let t = 0; t < a.length / 768; t++) {
      let ab = 0;
      let aa = 0;
      let bb = 0;
      for (let k = t * 768; k < (t + 1) * 768; k++) {
        ab += a[k]! * b[k]!;
        aa += a[k]! ** 2;
        bb += b[k]! ** 2;
      }
      worst = Math.min(worst, ab / Math.sqrt(aa * bb));
    }
    console.log(`# int8 vs float32, layer 12, 1.3 s: worst frame cosine ${worst.toFixed(5)}, max |diff| ${maxAbsDiff(a, b).toFixed(3)}`);
    assert.ok(worst > 0.99);
  });
});
