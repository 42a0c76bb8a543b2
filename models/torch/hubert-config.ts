// The HuBERT / ContentVec hyper-parameters the ONNX builder needs, read from a fairseq checkpoint's saved
// config. fairseq keeps them under `cfg.model` (hydra-era checkpoints, a plain dict once saved) or `args`
// (older argparse checkpoints); a missing field takes HuBERT base's value, as RVC's hubert_base.pt has it.
import { UserError } from '../../protocol/errors.js';

export type ConvLayer = readonly [dim: number, kernel: number, stride: number];
export type Activation = 'gelu' | 'gelu_accurate' | 'relu';

export interface HubertConfig {
  /** conv_feature_layers: (channels, kernel, stride) per convolution of the feature extractor. */
  convLayers: readonly ConvLayer[];
  /** extractor_mode: 'default' = GroupNorm on the first convolution only; 'layer_norm' = LayerNorm on each. */
  extractorMode: 'default' | 'layer_norm';
  convBias: boolean;
  embedDim: number;
  ffnDim: number;
  heads: number;
  layers: number;
  /** conv_pos / conv_pos_groups: the positional convolution's kernel and groups. */
  convPos: number;
  convPosGroups: number;
  layerNormFirst: boolean;
  activation: Activation;
  /** final_proj's output size (final_dim; fairseq's 0 means embedDim). */
  finalDim: number;
}

export const HUBERT_BASE: HubertConfig = {
  convLayers: [[512, 10, 5], [512, 3, 2], [512, 3, 2], [512, 3, 2], [512, 3, 2], [512, 2, 2], [512, 2, 2]],
  extractorMode: 'default',
  convBias: false,
  embedDim: 768,
  ffnDim: 3072,
  heads: 12,
  layers: 12,
  convPos: 128,
  convPosGroups: 16,
  layerNormFirst: false,
  activation: 'gelu',
  finalDim: 256,
};

/** A checkpoint whose weights or config do not fit the network being built. */
export class HubertCheckpointError extends UserError {
  override name = 'HubertCheckpointError';
  constructor(message: string) {
    super(message, 'model');
  }
}

/** Sums of repeated lists of (dim, kernel, stride) tuples, the only Python fairseq configs use here. */
export function parseConvLayers(spec: string): ConvLayer[] {
  const tokens = spec.match(/\d+|[[\]()+*,]|\S/g) ?? [];
  let i = 0;
  const fail = (why: string): never => {
    throw new HubertCheckpointError(`conv_feature_layers "${spec}": ${why}; expected e.g. "[(512,10,5)] + [(512,3,2)] * 4"`);
  };
  const take = (t?: string) => {
    const got = tokens[i++];
    if (got === undefined || (t !== undefined && got !== t)) fail(`expected "${t ?? 'more'}" at token ${i}, found "${got ?? 'end'}"`);
    return got!;
  };
  const int = () => {
    const t = take();
    if (!/^\d+$/.test(t)) fail(`"${t}" is not a whole number`);
    return Number(t);
  };
  const out: ConvLayer[] = [];
  for (;;) {
    take('[');
    const list: ConvLayer[] = [];
    while (tokens[i] === '(') {
      take('(');
      const d = int();
      take(',');
      const k = int();
      take(',');
      const s = int();
      take(')');
      list.push([d, k, s]);
      if (tokens[i] === ',') i++;
    }
    take(']');
    let times = 1;
    if (tokens[i] === '*') {
      i++;
      times = int();
    }
    for (let r = 0; r < times; r++) out.push(...list);
    if (tokens[i] !== '+') break;
    i++;
  }
  if (i < tokens.length) fail(`unexpected "${tokens[i]}"`);
  if (out.length === 0 || out.some(([d, k, s]) => d < 1 || k < 1 || s < 1)) fail('no usable layers');
  return out;
}

/** Reads a field from a dict as the checkpoint reader returns it (Map) or from a plain object. */
function field(o: unknown, key: string): unknown {
  if (o instanceof Map) return o.get(key);
  if (o && typeof o === 'object') return (o as Record<string, unknown>)[key];
  return undefined;
}

/** The model section of a checkpoint's saved config: `cfg.model`, else `args`, else null. */
export function fairseqModelConfig(root: unknown): unknown {
  const model = field(field(root, 'cfg'), 'model');
  if (model != null) return model;
  const args = field(root, 'args');
  return args != null ? args : null;
}

/**
 * The config of a fairseq HuBERT checkpoint (the whole checkpoint, or its cfg.model / args section).
 * Fields read: conv_feature_layers, extractor_mode, conv_bias, encoder_embed_dim, encoder_ffn_embed_dim,
 * encoder_attention_heads, encoder_layers, conv_pos, conv_pos_groups, layer_norm_first, activation_fn,
 * final_dim; and, to refuse variants this graph does not build, layer_type, pos_conv_depth and
 * conv_pos_batch_norm. (An untied final_proj has another shape: the weight check refuses it if asked for.)
 */
export function hubertConfigFromCheckpoint(rootOrModelCfg: unknown): HubertConfig {
  const m = fairseqModelConfig(rootOrModelCfg) ?? rootOrModelCfg;
  const get = (key: string) => {
    const v = field(m, key);
    return v === null ? undefined : v;
  };
  const num = (key: string, dflt: number): number => {
    const v = get(key);
    if (v === undefined) return dflt;
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new HubertCheckpointError(`config field ${key} is ${String(v)}; expected a whole number`);
    return n;
  };
  const bool = (key: string, dflt: boolean): boolean => {
    const v = get(key);
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') throw new HubertCheckpointError(`config field ${key} is ${String(v)}; expected true or false`);
    return v;
  };
  const str = (key: string, dflt: string): string => {
    const v = get(key);
    if (v === undefined) return dflt;
    if (typeof v !== 'string') throw new HubertCheckpointError(`config field ${key} is ${String(v)}; expected a string`);
    return v;
  };
  const refuse = (why: string): never => {
    throw new HubertCheckpointError(`unsupported HuBERT variant: ${why}; only fairseq's transformer HuBERT / ContentVec is built`);
  };

  const layerType = str('layer_type', 'transformer');
  if (layerType !== 'transformer') refuse(`layer_type is "${layerType}"`);
  if (num('pos_conv_depth', 1) > 1) refuse(`pos_conv_depth is ${num('pos_conv_depth', 1)}`);
  if (bool('conv_pos_batch_norm', false)) refuse('conv_pos_batch_norm is true');
  const mode = str('extractor_mode', HUBERT_BASE.extractorMode);
  if (mode !== 'default' && mode !== 'layer_norm') refuse(`extractor_mode is "${mode}"`);
  const activation = str('activation_fn', HUBERT_BASE.activation);
  if (activation !== 'gelu' && activation !== 'gelu_accurate' && activation !== 'relu') refuse(`activation_fn is "${activation}"`);

  const convSpec = get('conv_feature_layers');
  const cfg: HubertConfig = {
    convLayers: convSpec === undefined ? HUBERT_BASE.convLayers : parseConvLayers(String(convSpec)),
    extractorMode: mode as HubertConfig['extractorMode'],
    convBias: bool('conv_bias', HUBERT_BASE.convBias),
    embedDim: num('encoder_embed_dim', HUBERT_BASE.embedDim),
    ffnDim: num('encoder_ffn_embed_dim', HUBERT_BASE.ffnDim),
    heads: num('encoder_attention_heads', HUBERT_BASE.heads),
    layers: num('encoder_layers', HUBERT_BASE.layers),
    convPos: num('conv_pos', HUBERT_BASE.convPos),
    convPosGroups: num('conv_pos_groups', HUBERT_BASE.convPosGroups),
    layerNormFirst: bool('layer_norm_first', HUBERT_BASE.layerNormFirst),
    activation: activation as Activation,
    finalDim: num('final_dim', HUBERT_BASE.finalDim),
  };
  if (cfg.finalDim === 0) cfg.finalDim = cfg.embedDim;
  checkConfig(cfg);
  return cfg;
}

export function checkConfig(c: HubertConfig): void {
  const bad = (why: string): never => {
    throw new HubertCheckpointError(`inconsistent HuBERT config: ${why}`);
  };
  if (c.convLayers.length === 0) bad('no feature-extractor convolutions');
  for (const v of [c.embedDim, c.ffnDim, c.heads, c.layers, c.convPos, c.convPosGroups, c.finalDim]) {
    if (!Number.isInteger(v) || v < 1) bad(`sizes must be positive whole numbers (${JSON.stringify(c)})`);
  }
  if (c.embedDim % c.heads) bad(`encoder_embed_dim ${c.embedDim} is not a multiple of encoder_attention_heads ${c.heads}`);
  if (c.embedDim % c.convPosGroups) bad(`encoder_embed_dim ${c.embedDim} is not a multiple of conv_pos_groups ${c.convPosGroups}`);
}
