// HuBERT-Soft (bshall/hubert hubert/model.py HubertSoft; so-vits-svc 4.1's "hubertsoft" speech encoder, which
// vendors it as vencoder/hubert/hubert_model.py) built by the HuBERT builder (./hubert-graph.ts): it is HuBERT
// base with other module names, so its state dict is renamed to fairseq's and built as a post-norm HuBERT
// with final_proj = its proj (768 → 256, the soft units), taken after the last layer, with units()'s 40-sample
// padding on each side of the audio.
//
// Checkpoint layouts: so-vits-svc's pretrain/hubert-soft-0d54a1f4.pt is the bare state dict; bshall's release
// (hubert-soft-35d9f29f.pt) is {"hubert": state dict, …}; either may prefix every key with "module." (torch
// DataParallel; both loaders strip it). Names, bshall → fairseq:
//   feature_extractor.conv{i}.weight          → feature_extractor.conv_layers.{i}.0.weight
//   feature_extractor.norm0.{weight,bias}     → feature_extractor.conv_layers.0.2.{weight,bias}
//   feature_projection.norm / .projection     → layer_norm / post_extract_proj
//   positional_embedding.conv.{weight_g,weight_v,bias} (weight norm over dim 2; the newer parametrizations
//     form .parametrizations.weight.original0/1 too)  → encoder.pos_conv.0.{weight_g,weight_v,bias}
//   norm                                      → encoder.layer_norm (after the positional conv: post-norm)
//   encoder.layers.N: self_attn.in_proj_{weight,bias} (q, k, v stacked) → self_attn.{q,k,v}_proj;
//     linear1/linear2 → fc1/fc2; norm1/norm2 → self_attn_layer_norm/final_layer_norm (nn.TransformerEncoderLayer,
//     post-norm, gelu)
//   proj                                      → final_proj
//   masked_spec_embed, label_embedding        (training only: ignored)
// The head count is not in the weights; every published HuBERT-Soft is HuBERT base (12 heads of 64).
import { readCheckpointFile, stateDict, type TorchTensor } from './checkpoint.js';
import { HUBERT_BASE, HubertCheckpointError, type HubertConfig } from './hubert-config.js';
import { buildHubertEncoder } from './hubert-graph.js';
import type { WeightTensor } from './hubert-ops.js';

/** units() pads (400 − 320) / 2 samples on each side. */
export const HUBERT_SOFT_PAD = 40;

/** The bshall-named state dict of a HuBERT-Soft checkpoint root (bare or under "hubert"), "module." stripped. */
export function hubertSoftStateDict(root: unknown, where: string): Map<string, TorchTensor> {
  let dict: Map<string, TorchTensor>;
  try {
    dict = root instanceof Map && root.has('hubert') ? stateDict(root, 'hubert') : stateDict(root);
  } catch (e) {
    throw new HubertCheckpointError(`${where}: not a HuBERT-Soft checkpoint (${(e as Error).message})`);
  }
  if (dict.size && [...dict.keys()].every((k) => k.startsWith('module.'))) dict = new Map([...dict].map(([k, v]) => [k.slice(7), v]));
  if (!dict.has('proj.weight') || !dict.has('feature_projection.projection.weight')) {
    throw new HubertCheckpointError(`${where}: not a HuBERT-Soft checkpoint: it has no proj.weight / feature_projection.projection.weight (it has: ${[...dict.keys()].slice(0, 8).join(', ')})`);
  }
  return dict;
}

const renames: [RegExp, string][] = [
  [/^feature_extractor\.conv(\d+)\.weight$/, 'feature_extractor.conv_layers.$1.0.weight'],
  [/^feature_extractor\.norm0\.(weight|bias)$/, 'feature_extractor.conv_layers.0.2.$1'],
  [/^feature_projection\.norm\.(weight|bias)$/, 'layer_norm.$1'],
  [/^feature_projection\.projection\.(weight|bias)$/, 'post_extract_proj.$1'],
  [/^positional_embedding\.conv\.(weight_g|weight_v|bias)$/, 'encoder.pos_conv.0.$1'],
  [/^positional_embedding\.conv\.parametrizations\.weight\.original0$/, 'encoder.pos_conv.0.weight_g'],
  [/^positional_embedding\.conv\.parametrizations\.weight\.original1$/, 'encoder.pos_conv.0.weight_v'],
  [/^norm\.(weight|bias)$/, 'encoder.layer_norm.$1'],
  [/^encoder\.layers\.(\d+)\.self_attn\.out_proj\.(weight|bias)$/, 'encoder.layers.$1.self_attn.out_proj.$2'],
  [/^encoder\.layers\.(\d+)\.linear1\.(weight|bias)$/, 'encoder.layers.$1.fc1.$2'],
  [/^encoder\.layers\.(\d+)\.linear2\.(weight|bias)$/, 'encoder.layers.$1.fc2.$2'],
  [/^encoder\.layers\.(\d+)\.norm1\.(weight|bias)$/, 'encoder.layers.$1.self_attn_layer_norm.$2'],
  [/^encoder\.layers\.(\d+)\.norm2\.(weight|bias)$/, 'encoder.layers.$1.final_layer_norm.$2'],
  [/^proj\.(weight|bias)$/, 'final_proj.$1'],
];
const TRAINING_ONLY = new Set(['masked_spec_embed', 'label_embedding.weight']);

/** The weights in fairseq's names and the HuBERT config they imply (heads: 12 unless given). */
export function hubertSoftAsFairseq(dict: ReadonlyMap<string, TorchTensor>, where: string, heads?: number): { weights: Map<string, WeightTensor>; config: HubertConfig } {
  const out = new Map<string, WeightTensor>();
  const f32 = (k: string, t: TorchTensor): WeightTensor => {
    if (!(t.data instanceof Float32Array)) throw new HubertCheckpointError(`${where}: weight ${k} is ${t.dtype}, a floating-point tensor expected`);
    return { shape: t.shape, data: t.data };
  };
  const unknown: string[] = [];
  for (const [k, t] of dict) {
    if (TRAINING_ONLY.has(k)) continue;
    const qkv = /^encoder\.layers\.(\d+)\.self_attn\.in_proj_(weight|bias)$/.exec(k);
    if (qkv) {
      // nn.MultiheadAttention stacks q, k, v along the output rows.
      const w = f32(k, t);
      const rows = w.shape[0]! / 3;
      const per = w.data.length / 3;
      if (!Number.isInteger(rows)) throw new HubertCheckpointError(`${where}: ${k} has ${w.shape[0]} rows, not q, k and v stacked`);
      ['q', 'k', 'v'].forEach((n, i) => out.set(`encoder.layers.${qkv[1]}.self_attn.${n}_proj.${qkv[2]}`, { shape: [rows, ...w.shape.slice(1)], data: w.data.subarray(i * per, (i + 1) * per) }));
      continue;
    }
    const r = renames.find(([re]) => re.test(k));
    if (!r) unknown.push(k);
    else out.set(k.replace(r[0], r[1]), f32(k, t));
  }
  if (unknown.length) throw new HubertCheckpointError(`${where}: weights a HuBERT-Soft does not have: ${unknown.slice(0, 6).join(', ')}${unknown.length > 6 ? ', …' : ''}; another architecture`);

  const shape = (k: string) => out.get(k)?.shape ?? [];
  let layers = 0;
  while (out.has(`encoder.layers.${layers}.fc1.weight`)) layers++;
  const convLayers = HUBERT_BASE.convLayers.map(([, k, s], i) => [shape(`feature_extractor.conv_layers.${i}.0.weight`)[0] ?? 0, k, s] as const);
  const [embedDim = 0] = shape('post_extract_proj.weight');
  const pos = shape('encoder.pos_conv.0.weight_v');
  const config: HubertConfig = {
    ...HUBERT_BASE,
    convLayers,
    embedDim,
    ffnDim: shape('encoder.layers.0.fc1.weight')[0] ?? 0,
    heads: heads ?? (embedDim % 64 === 0 ? embedDim / 64 : 0),
    layers,
    convPos: pos[2] ?? 0,
    convPosGroups: pos[1] ? embedDim / pos[1] : 0,
    finalDim: shape('final_proj.weight')[0] ?? 0,
  };
  if (!config.heads) throw new HubertCheckpointError(`${where}: ${embedDim}-d layers do not split into 64-d heads; give the head count`);
  return { weights: out, config };
}

/** ONNX bytes of the soft-unit encoder ('vec' form: source [1, 1, N] → embed [1, floor(N/320), 256]). */
export function buildHubertSoftEncoder(root: unknown, where: string, o: { heads?: number } = {}): Uint8Array {
  const { weights, config } = hubertSoftAsFairseq(hubertSoftStateDict(root, where), where, o.heads);
  return buildHubertEncoder(weights, config, { layer: config.layers, finalProj: true, padInput: HUBERT_SOFT_PAD, embedder: 'hubertsoft' });
}

/** Reads a HuBERT-Soft checkpoint through the safe reader and builds its encoder. */
export async function convertHubertSoft(file: string, o: { heads?: number } = {}): Promise<Uint8Array> {
  return buildHubertSoftEncoder(await readCheckpointFile(file), file, o);
}
