// Random weights with every fairseq key and shape of a HuBERT checkpoint, for benchmarks and builder tests
// where no real checkpoint is at hand. Scales follow PyTorch's initialisers, so activations stay in range
// and timings see realistic numbers (no denormals, no all-zero shortcuts).
import { checkConfig, type HubertConfig } from './hubert-config.js';
import { mulberry32 } from '../random.js';
import type { WeightTensor } from './hubert-ops.js';

const uniform = mulberry32;

export function randomHubertWeights(config: HubertConfig, seed = 1): Map<string, WeightTensor> {
  checkConfig(config);
  const c = config;
  const rand = uniform(seed);
  const w = new Map<string, WeightTensor>();
  const put = (name: string, shape: number[], fill: (i: number) => number) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = fill(i);
    w.set(name, { shape, data });
  };
  const spread = (bound: number) => () => (2 * rand() - 1) * bound;
  const around = (centre: number, bound: number) => () => centre + (2 * rand() - 1) * bound;

  let inDim = 1;
  c.convLayers.forEach(([dim, k], i) => {
    const p = `feature_extractor.conv_layers.${i}`;
    put(`${p}.0.weight`, [dim, inDim, k], spread(Math.sqrt(6 / (inDim * k)))); // kaiming, as fairseq
    if (c.convBias) put(`${p}.0.bias`, [dim], spread(0.1));
    if (c.extractorMode === 'layer_norm') {
      put(`${p}.2.1.weight`, [dim], around(1, 0.1));
      put(`${p}.2.1.bias`, [dim], spread(0.1));
    } else if (i === 0) {
      put(`${p}.2.weight`, [dim], around(1, 0.1));
      put(`${p}.2.bias`, [dim], spread(0.1));
    }
    inDim = dim;
  });
  const convDim = inDim;
  const C = c.embedDim;
  const linear = (p: string, out: number, inp: number) => {
    put(`${p}.weight`, [out, inp], spread(1 / Math.sqrt(inp)));
    put(`${p}.bias`, [out], spread(1 / Math.sqrt(inp)));
  };
  const norm = (p: string, d: number) => {
    put(`${p}.weight`, [d], around(1, 0.1));
    put(`${p}.bias`, [d], spread(0.1));
  };
  norm('layer_norm', convDim);
  if (convDim !== C) linear('post_extract_proj', C, convDim);
  w.set('mask_emb', { shape: [C], data: new Float32Array(C).map(() => rand()) });
  const k = c.convPos;
  const per = C / c.convPosGroups;
  put('encoder.pos_conv.0.weight_v', [C, per, k], spread(Math.sqrt(12 / (k * C))));
  put('encoder.pos_conv.0.weight_g', [1, 1, k], around(1, 0.5));
  put('encoder.pos_conv.0.bias', [C], spread(0.05));
  norm('encoder.layer_norm', C);
  for (let l = 0; l < c.layers; l++) {
    const p = `encoder.layers.${l}`;
    for (const n of ['k', 'v', 'q', 'out']) linear(`${p}.self_attn.${n}_proj`, C, C);
    norm(`${p}.self_attn_layer_norm`, C);
    linear(`${p}.fc1`, c.ffnDim, C);
    linear(`${p}.fc2`, C, c.ffnDim);
    norm(`${p}.final_layer_norm`, C);
  }
  linear('final_proj', c.finalDim, C);
  return w;
}
