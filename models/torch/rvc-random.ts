// A state dict of the real RVC architecture with random weights, laid out as RVC saves a voice (weight_g /
// weight_v for weight-normed layers): for benchmarks at real size without a real voice. Scales keep the
// activations in range (N(0, 1/fan_in) weights, unit norms), so timings are not skewed by NaNs or denormals.
import type { Weight } from '../onnx/layers.js';
import { normaliseVersion, type ParamSpec, rvcParameters, type RvcNetConfig } from './rvc-spec.js';

/** xorshift32 → Box–Muller: reproducible from the seed alone. */
function gaussian(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return ((s >>> 0) + 1) / 4294967297;
  };
  return () => Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
}

export function randomRvcWeights(config: RvcNetConfig, f0: boolean | number, version: string, seed: number): Map<string, Weight> {
  const facts = { f0: f0 === true || f0 === 1, version: normaliseVersion(version), speakers: config.spk_embed_dim, harmonics: 0 };
  return randomWeights(rvcParameters(config, facts), seed);
}

/** Random weights for any parameter list (RVC's, the NSF-HiFiGAN vocoder's), weight-normed ones as _g / _v. */
export function randomWeights(specs: readonly ParamSpec[], seed: number): Map<string, Weight> {
  const rnd = gaussian(seed);
  const out = new Map<string, Weight>();
  const filled = (shape: number[], f: (i: number) => number): Weight => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = f(i);
    return { shape, data };
  };
  for (const p of specs) {
    const fanIn = p.shape.length > 1 ? p.shape.slice(1).reduce((a, b) => a * b, 1) : 1;
    const std = 1 / Math.sqrt(fanIn);
    if (p.name.endsWith('.gamma')) out.set(p.name, filled(p.shape, () => 1));
    else if (p.name.endsWith('.beta') || p.name.endsWith('.bias')) out.set(p.name, filled(p.shape, () => 0.01 * rnd()));
    else if (p.weightNorm) {
      out.set(`${p.name}_v`, filled(p.shape, () => std * rnd()));
      out.set(`${p.name}_g`, filled([p.shape[0]!, ...p.shape.slice(1).map(() => 1)], () => 1));
    } else out.set(p.name, filled(p.shape, () => std * rnd()));
  }
  return out;
}

/** RVC's pretrained configs (configs/v1/*.json, and v2 for 32k/48k; v2 40k uses the v1 40k one). */
export function pretrainedRvcConfig(sr: 32000 | 40000 | 48000, version: 'v1' | 'v2'): RvcNetConfig {
  const ups: Record<string, [number[], number[]]> = {
    'v1-32000': [[10, 4, 2, 2, 2], [16, 16, 4, 4, 4]],
    'v1-40000': [[10, 10, 2, 2], [16, 16, 4, 4]],
    'v1-48000': [[10, 6, 2, 2, 2], [16, 16, 4, 4, 4]],
    'v2-32000': [[10, 8, 2, 2], [20, 16, 4, 4]],
    'v2-40000': [[10, 10, 2, 2], [16, 16, 4, 4]],
    'v2-48000': [[12, 10, 2, 2], [24, 20, 4, 4]],
  };
  const [rates, kernels] = ups[`${version}-${sr}`]!;
  return {
    spec_channels: sr === 32000 ? 513 : 1025,
    segment_size: 32,
    inter_channels: 192,
    hidden_channels: 192,
    filter_channels: 768,
    n_heads: 2,
    n_layers: 6,
    kernel_size: 3,
    p_dropout: 0,
    resblock: '1',
    resblock_kernel_sizes: [3, 7, 11],
    resblock_dilation_sizes: [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
    upsample_rates: rates,
    upsample_initial_channel: 512,
    upsample_kernel_sizes: kernels,
    spk_embed_dim: 109,
    gin_channels: 256,
    sr,
  };
}
