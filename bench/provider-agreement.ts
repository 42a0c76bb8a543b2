// Whether each network of the diffusion + vocoder stage gives the CPU's output on the other providers, at real
// size (random weights, the builders the benches use) or --tiny: the same inputs through the condition encoder,
// the denoiser (an integer and a fractional step) and NSF-HiFiGAN (the same fed source noise) on CPU and on each
// provider; prints max |Δ| and the error relative to max(1, max |CPU|). test/models/diffusion-webgpu.test.ts
// asserts this on SwiftShader at fixture sizes; this is for a real GPU (bench/device/sovits-diffusion.sh), and
// it also tries the Conv shape onnxruntime 1.30's WebGPU kernel gets wrong on SwiftShader (6 → 12 channels, k 3)
// to tell whether that is onnxruntime's or SwiftShader's.
//   npm run bench:provider-agreement -- [--providers webgpu] [--tiny]
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { buildConditionEncoder, buildDenoiser } from '../models/diffusion/graph.js';
import { randomDiffusionModel, templateDiffusionConfig } from '../models/diffusion/random.js';
import { fillNormal } from '../models/families/sovits/frames.js';
import { GraphBuilder } from '../models/onnx/graph-builder.js';
import { conv1d } from '../models/onnx/layers.js';
import { mulberry32 } from '../models/random.js';
import { loadSession, type Provider } from '../models/runtime.js';
import { randomWeights } from '../models/torch/rvc-random.js';
import { buildNsfHifigan, nsfHifiganParameters, OPENVPI_44K, VOCODER_NOISE } from '../models/vocoder/nsf-hifigan.js';
import { PROVIDER_LABELS } from '../protocol/runtime.js';
import { benchProviders, PROVIDERS_OPTION } from './providers.js';

const { values } = parseArgs({ options: { providers: PROVIDERS_OPTION, tiny: { type: 'boolean', default: false } } });
const others = (await benchProviders(values.providers ?? 'webgpu')).filter((p) => p !== 'cpu');
const r = mulberry32(5);
const uniform = (n: number, scale = 1) => Float32Array.from({ length: n }, () => scale * (r() - 0.5));
const normal = (n: number) => {
  const d = new Float32Array(n);
  fillNormal(d, n, 1, 9);
  return d;
};
const f32 = (d: Float32Array, dims: number[]) => new ort.Tensor('float32', d, dims);

async function outputs(bytes: Uint8Array, p: Provider, feeds: Record<string, ort.Tensor>, name: string): Promise<Record<string, Float32Array>> {
  const s = await loadSession(bytes, { provider: p, name });
  if (s.provider !== p) throw new Error(`${name}: fell back to ${s.provider} (${s.providerNote})`);
  try {
    const out = await s.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, Float32Array.from(t.data as Float32Array)]));
  } finally {
    await s.release();
  }
}

async function compare(name: string, bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<void> {
  const cpu = await outputs(bytes, 'cpu', feeds, name);
  for (const p of others) {
    const gpu = await outputs(bytes, p, feeds, name);
    for (const k of Object.keys(cpu)) {
      const a = cpu[k]!;
      const b = gpu[k]!;
      let abs = 0;
      let ref = 1;
      for (let i = 0; i < a.length; i++) {
        abs = Math.max(abs, Math.abs(a[i]! - b[i]!));
        ref = Math.max(ref, Math.abs(a[i]!));
      }
      console.log(`${PROVIDER_LABELS[p]} vs CPU, ${name} ${k}: max |Δ| ${abs.toExponential(2)}, relative ${(abs / ref).toExponential(2)}`);
    }
  }
}

const tiny = values.tiny;
const model = randomDiffusionModel(templateDiffusionConfig(tiny ? { layers: 2, channels: 16, hidden: 16 } : {}));
const { units: U, layers: L, channels: C } = model.config;
const T = 43; // a 0.5 s block
console.log(`${tiny ? 'TINY' : 'real-size'} networks, random weights; ${T} frames`);
await compare('condition encoder', buildConditionEncoder(model), {
  units: f32(uniform(T * U), [1, T, U]), f0: f32(Float32Array.from({ length: T }, (_, i) => 120 + 3 * i), [1, T]), volume: f32(uniform(T, 0.2).map(Math.abs), [1, T]),
});
const condProj = f32(uniform(L * 2 * C * T, 2), [1, L * 2 * C, T]);
const x = f32(normal(model.mels * T), [1, model.mels, T]);
for (const t of [0, 57.3, 99]) await compare(`denoiser t = ${t}`, buildDenoiser(model), { x, t: f32(Float32Array.of(t), [1]), cond_proj: condProj });
const voc = tiny ? { ...OPENVPI_44K, upsample_initial_channel: 32 } : OPENVPI_44K;
const H = 9;
await compare('NSF-HiFiGAN (fed noise)', buildNsfHifigan(randomWeights(nsfHifiganParameters(voc), 11), voc), {
  mel: f32(Float32Array.from({ length: 128 * T }, () => -9 + 7 * r()), [1, 128, T]),
  f0: f32(Float32Array.from({ length: T }, (_, i) => (i % 10 < 8 ? 150 + i : 0)), [1, T]),
  [VOCODER_NOISE.noise]: f32(normal(T * 512 * H), [1, T * 512, H]),
  [VOCODER_NOISE.phase]: f32(Float32Array.from({ length: H }, () => r()), [1, 1, H]),
});
for (const [ci, co] of [[6, 12], [8, 12]]) {
  const g = new GraphBuilder('conv');
  const input = g.input('x', 'float32', [1, ci!, 'T']);
  g.op('Identity', [conv1d(g, input, { shape: [co!, ci!, 3], data: uniform(co! * ci! * 3) }, { shape: [co!], data: uniform(co!) }, { padding: 1 })], {}, 'y');
  g.output('y', 'float32', [1, co!, 'T']);
  await compare(`Conv ${ci} → ${co}, k 3`, g.toBytes(), { x: f32(uniform(ci! * 17), [1, ci!, 17]) });
}
