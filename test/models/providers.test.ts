// Execution providers without a GPU: WebGPU runs here on Chromium's software Vulkan (SwiftShader), which
// onnxruntime-node's Dawn accepts; it is correct, not fast, so the sizes are tiny. The same networks must give
// the same output on WebGPU as on CPU (real-architecture HuBERT and RVC from the PyTorch fixtures, a contract
// voice through `resona convert` and through the live block path), and every unavailable provider must fall
// back to CPU with one line that says why and what to do.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { readAudioFile, writeWavAtomic } from '../../host/audio-file.js';
import { LoadedVoice } from '../../host/live/loaded-voice.js';
import { loadSession, probeProvider, providerStatus, resolveProvider } from '../../models/runtime.js';
import { readCheckpointFile, stateDict } from '../../models/torch/checkpoint.js';
import { hubertConfigFromCheckpoint } from '../../models/torch/hubert-config.js';
import { buildHubertEncoder } from '../../models/torch/hubert-graph.js';
import type { WeightTensor } from '../../models/torch/hubert-ops.js';
import { readRvcCheckpoint } from '../../models/torch/rvc-checkpoint.js';
import { buildRvcSynthesizer } from '../../models/torch/rvc-graph.js';
import { resonaLines, ROOT, rng, runResona, sine, SWIFTSHADER, tempDir, useSwiftShader } from '../helpers.js';
import { buildTinyEncoder, buildTinySynth, writeModel } from './tiny-models.js';

const tmp = tempDir();
useSwiftShader(tmp.dir);

const RATE = 48000;
/** SwiftShader and the CPU kernels sum in different orders; float32 rounding stays far below audibility. */
const TOLERANCE = 1e-3;
let enc: string;
let voice: string;
let input: string;

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const resona = (env: NodeJS.ProcessEnv, ...args: string[]) => runResona(args, { RESONA_HOME: path.join(tmp.dir, 'home'), ...env });

before(async () => {
  enc = await writeModel(tmp.dir, 'enc.onnx', buildTinyEncoder('vec', 768));
  voice = await writeModel(tmp.dir, 'tiny.onnx', buildTinySynth({ contract: 'vcclient-skip', rate: 40000, f0: true, channels: 768 }));
  input = path.join(tmp.dir, 'in.wav');
  await writeWavAtomic(input, sine(180, RATE, 1), RATE);
});
after(() => tmp.cleanup());

describe('which providers run here', { timeout: 120_000 }, () => {
  test('the software Vulkan adapter is installed and WebGPU runs on it', async () => {
    assert.ok(existsSync(SWIFTSHADER), `${SWIFTSHADER} is missing: scripts/setup.sh installs chromium (and libvulkan1)`);
    assert.equal(await probeProvider('webgpu'), null);
  });

  test('each provider says whether it runs and why not, in words', async () => {
    const list = new Map((await providerStatus()).map((p) => [p.id, p]));
    assert.deepEqual([...list.keys()], ['cpu', 'webgpu', 'cuda', 'dml', 'coreml']);
    assert.equal(list.get('cpu')!.available, true);
    assert.equal(list.get('webgpu')!.available, true);
    assert.match(list.get('webgpu')!.reason ?? '', /software renderer/);
    assert.equal(list.get('cuda')!.available, false);
    assert.match(list.get('cuda')!.reason ?? '', /RESONA_CUDA=1 bash scripts\/setup\.sh/);
    assert.match(list.get('dml')!.reason ?? '', /Windows only/);
    assert.match(list.get('coreml')!.reason ?? '', /macOS only/);
  });

  test("'auto' does not take a software adapter, and says why it chose CPU", async () => {
    const r = await resolveProvider('auto');
    assert.equal(r.provider, 'cpu');
    assert.equal(r.note, null, 'no warning: nothing the user asked for failed');
    assert.match(r.why ?? '', /WebGPU software renderer/);
  });
});

describe('the same output on WebGPU as on CPU', { timeout: 300_000 }, () => {
  test('real-architecture HuBERT (tiny, from its PyTorch checkpoint)', async () => {
    const root = await readCheckpointFile(path.join(ROOT, 'test', 'fixtures', 'torch', 'hubert', 'tiny-base.pt'));
    const weights = new Map<string, WeightTensor>();
    for (const [k, t] of stateDict(root, 'model')) weights.set(k, { shape: t.shape, data: t.data as Float32Array });
    const bytes = buildHubertEncoder(weights, hubertConfigFromCheckpoint(root), { layer: 2, finalProj: false });
    const audio = new Float32Array(16000 * 0.5);
    const r = rng(3);
    for (let i = 0; i < audio.length; i++) audio[i] = 0.3 * Math.sin((2 * Math.PI * 150 * i) / 16000) + 0.05 * (r() - 0.5);
    const out: Record<string, Float32Array> = {};
    for (const provider of ['cpu', 'webgpu'] as const) {
      const s = await loadSession(bytes, { provider, name: 'hubert' });
      assert.equal(s.provider, provider);
      out[provider] = Float32Array.from((await s.run({ source: new ort.Tensor('float32', audio, [1, 1, audio.length]) }))['embed']!.data as Float32Array);
      await s.release();
    }
    const d = maxAbsDiff(out.cpu!, out.webgpu!);
    assert.ok(d <= TOLERANCE, `max |Δ| ${d}`);
  });

  test('real-architecture RVC v2 synthesizer (tiny, from its .pth; noise off)', async () => {
    const ckpt = await readRvcCheckpoint(path.join(ROOT, 'test', 'fixtures', 'torch', 'rvc', 'v2-f0-40k.pth'));
    const bytes = buildRvcSynthesizer(ckpt, { deterministic: true });
    const T = 40;
    const C = 768;
    const r = rng(7);
    const feats = Float32Array.from({ length: T * C }, () => r() - 0.5);
    const i64 = (v: number, dims: number[]) => new ort.Tensor('int64', BigInt64Array.from([BigInt(v)]), dims);
    const feeds = {
      feats: new ort.Tensor('float32', feats, [1, T, C]),
      p_len: i64(T, [1]),
      pitch: new ort.Tensor('int64', BigInt64Array.from({ length: T }, () => 60n), [1, T]),
      pitchf: new ort.Tensor('float32', new Float32Array(T).fill(180), [1, T]),
      sid: i64(0, [1]),
      skip_head: i64(24, []),
      return_length: i64(10, []),
      formant_length: i64(10, []),
    };
    const out: Record<string, Float32Array> = {};
    for (const provider of ['cpu', 'webgpu'] as const) {
      const s = await loadSession(bytes, { provider, name: 'rvc' });
      assert.equal(s.provider, provider);
      out[provider] = Float32Array.from((await s.run(feeds))['audio']!.data as Float32Array);
      await s.release();
    }
    assert.equal(out.cpu!.length, 10 * 400);
    const d = maxAbsDiff(out.cpu!, out.webgpu!);
    assert.ok(d <= TOLERANCE, `max |Δ| ${d}`);
  });

  test('`resona convert --provider webgpu` matches `--provider cpu` and names the provider of each network', async () => {
    const outs: Record<string, Float32Array> = {};
    for (const provider of ['cpu', 'webgpu']) {
      const out = path.join(tmp.dir, `out-${provider}.wav`);
      const r = await resona({}, 'convert', input, out, '--voice', voice, '--encoder', enc, '--provider', provider, '--block', '100');
      assert.equal(r.code, 0, r.stderr);
      const label = provider === 'cpu' ? 'CPU' : 'WebGPU';
      assert.match(r.stdout, new RegExp(`networks: content encoder ${label}, synthesizer ${label}\\n`));
      assert.deepEqual(resonaLines(r.stderr), []);
      outs[provider] = (await readAudioFile(out)).channels[0]!;
    }
    const d = maxAbsDiff(outs.cpu!, outs.webgpu!);
    assert.ok(d <= TOLERANCE, `max |Δ| ${d}`);
  });

  test('the live block path (the inference worker\'s voice) on WebGPU matches CPU', async () => {
    const blocks: Float32Array[] = [];
    const voices: Record<string, LoadedVoice> = {};
    for (const provider of ['cpu', 'webgpu'] as const) {
      const v = await LoadedVoice.load({ voice, encoder: enc, runtime: { provider }, settings: { blockMs: 100, extraMs: 300 } }, RATE);
      voices[provider] = v;
      const label = provider === 'cpu' ? 'cpu' : 'webgpu';
      assert.deepEqual(v.placement.map((p) => `${p.network}:${p.provider}`), [`content encoder:${label}`, `synthesizer:${label}`]);
    }
    try {
      const x = sine(200, RATE, 0.6);
      const N = voices.cpu!.engine.blockSize;
      const got: Record<string, number[]> = { cpu: [], webgpu: [] };
      for (let p = 0; p + N <= x.length; p += N) {
        for (const k of ['cpu', 'webgpu']) {
          const v = voices[k]!;
          const n = await v.engine.processBlock(x.subarray(p, p + N), v.out);
          got[k]!.push(...v.out.subarray(0, n));
        }
      }
      blocks.push(Float32Array.from(got.cpu!), Float32Array.from(got.webgpu!));
      assert.ok(blocks[0]!.length >= 2 * N);
      const d = maxAbsDiff(blocks[0]!, blocks[1]!);
      assert.ok(d <= TOLERANCE, `max |Δ| ${d}`);
    } finally {
      for (const v of Object.values(voices)) await v.destroy();
    }
  });
});

describe('an unavailable provider falls back to CPU with one line', { timeout: 120_000 }, () => {
  test('WebGPU on a machine with no adapter at all: the voice runs on CPU, saying why', async () => {
    const out = path.join(tmp.dir, 'no-adapter.wav');
    const r = await resona({ VK_ICD_FILENAMES: path.join(tmp.dir, 'no-such-driver.json') }, 'convert', input, out, '--voice', voice, '--encoder', enc, '--provider', 'webgpu');
    assert.equal(r.code, 0, r.stderr);
    const lines = resonaLines(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^resona: warning: WebGPU unavailable \(no GPU adapter found: .*Vulkan.*\): running on CPU$/);
    // Dawn's and the Vulkan loader's own prints stay in the probe's child process.
    assert.doesNotMatch(r.stderr, /Warning:|XDG_RUNTIME_DIR|vkCreateInstance/);
    assert.match(r.stdout, /networks: content encoder CPU, synthesizer CPU/);
    assert.ok(existsSync(out));
  });

  test('CUDA where its files are missing: one line saying how to install them; the voice runs', async () => {
    const out = path.join(tmp.dir, 'no-cuda.wav');
    const r = await resona({}, 'convert', input, out, '--voice', voice, '--encoder', enc, '--provider', 'cuda', '--f0', 'yin');
    assert.equal(r.code, 0, r.stderr);
    const lines = resonaLines(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^resona: warning: CUDA unavailable \(CUDA's files are not installed: run `RESONA_CUDA=1 bash scripts\/setup\.sh`.*\): running on CPU$/);
    assert.ok(existsSync(out));
  });

  test('a provider that is not one is refused by name', async () => {
    const r = await resona({}, 'convert', input, path.join(tmp.dir, 'x.wav'), '--voice', voice, '--provider', 'tpu');
    assert.equal(r.code, 2, 'a usage error');
    assert.match(r.stderr, /--provider must be one of auto, cpu, webgpu, cuda, dml, coreml \(got "tpu"\)/);
  });
});
