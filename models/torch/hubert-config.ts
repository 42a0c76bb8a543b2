// The HuBERT / ContentVec hyper-parameters the ONNX builder needs, read from a fairseq checkpoint's saved
// config. fairseq keeps them under `cfg.model` (hydra-era checkpoints, a plain dict once saved) or `args`
// (older argparse checkpoints); a missing field takes HuBERT base's value, as RVC's hubert_base.pt has it.
import { UserError } from '../../protocol/errors.js';
import { CONV_SPEC, HUBERT_SIZES } from './budgets.js';
import { describe } from './pickle.js';

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

const CONV_EXAMPLE = '"[(512,10,5)] + [(512,3,2)] * 4 + [(512,2,2)] * 2"';

/**
 * fairseq's conv_feature_layers is Python source that fairseq evaluates; here it is parsed, never evaluated, by
 * the grammar every real config fits, with each number and the expansion bounded before anything is built:
 *   spec  := term ('+' term)*          term := list ('*' int)? | int '*' list
 *   list  := '[' tuple (',' tuple)* ','? ']'          tuple := '(' int ',' int ',' int ','? ')'
 */
export function parseConvLayers(spec: string): ConvLayer[] {
  const shown = spec.length > 80 ? `${spec.slice(0, 80)}…` : spec;
  const fail = (why: string): never => {
    throw new HubertCheckpointError(`conv_feature_layers "${shown}": ${why}; expected e.g. ${CONV_EXAMPLE}`);
  };
  if (spec.length > CONV_SPEC.length) fail(`${spec.length} characters long, more than the ${CONV_SPEC.length} any real config needs (HuBERT's has 50)`);
  // Tokens: whole numbers (kept as digit strings until bounded), single punctuation characters.
  const tokens = spec.match(/\d+|\S/g) ?? [];
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const take = (t?: string): string => {
    const got = tokens[i++];
    if (got === undefined || (t !== undefined && got !== t)) fail(`expected "${t ?? 'more'}" at token ${i}, found "${got ?? 'end'}"`);
    return got!;
  };
  const int = (what: string, max: number): number => {
    const t = take();
    if (!/^\d+$/.test(t)) fail(`"${t}" is not a whole number`);
    const n = t.length > 15 ? Infinity : Number(t);
    if (n < 1 || n > max) fail(`${what} ${t.length > 15 ? `${t.slice(0, 12)}…` : t} is outside 1…${max}`);
    return n;
  };
  const list = (): ConvLayer[] => {
    take('[');
    const layers: ConvLayer[] = [];
    while (peek() === '(') {
      take('(');
      const d = int('a channel count', CONV_SPEC.dim);
      take(',');
      const k = int('a kernel size', CONV_SPEC.kernel);
      take(',');
      const s = int('a stride', CONV_SPEC.stride);
      if (peek() === ',') i++;
      take(')');
      layers.push([d, k, s]);
      if (layers.length > CONV_SPEC.layers) fail(`more than ${CONV_SPEC.layers} layers (real encoders have 7)`);
      if (peek() !== ',') break;
      i++;
    }
    take(']');
    if (layers.length === 0) fail('an empty list of layers');
    return layers;
  };
  const out: ConvLayer[] = [];
  for (;;) {
    let times = 1;
    let layers: ConvLayer[];
    if (peek() === '[') {
      layers = list();
      if (peek() === '*') {
        i++;
        times = int('a repeat count', CONV_SPEC.repeat);
      }
    } else {
      times = int('a repeat count', CONV_SPEC.repeat);
      take('*');
      layers = list();
    }
    if (out.length + layers.length * times > CONV_SPEC.layers) fail(`more than ${CONV_SPEC.layers} layers (real encoders have 7)`);
    for (let r = 0; r < times; r++) out.push(...layers);
    if (peek() !== '+') break;
    i++;
  }
  if (i < tokens.length) fail(`unexpected "${tokens[i]}"`);
  return out;
}

/** A config value in a message: numbers and booleans as they are, anything else described (never walked). */
function shownValue(v: unknown): string {
  return typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' ? String(v) : describe(v);
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
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new HubertCheckpointError(`config field ${key} is ${shownValue(v)}; expected a whole number`);
    return n;
  };
  const bool = (key: string, dflt: boolean): boolean => {
    const v = get(key);
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') throw new HubertCheckpointError(`config field ${key} is ${shownValue(v)}; expected true or false`);
    return v;
  };
  const str = (key: string, dflt: string): string => {
    const v = get(key);
    if (v === undefined) return dflt;
    if (typeof v !== 'string') throw new HubertCheckpointError(`config field ${key} is ${shownValue(v)}; expected a string`);
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
  if (convSpec !== undefined && typeof convSpec !== 'string') throw new HubertCheckpointError(`config field conv_feature_layers is ${describe(convSpec)}; expected a string like ${CONV_EXAMPLE}`);
  const cfg: HubertConfig = {
    convLayers: convSpec === undefined ? HUBERT_BASE.convLayers : parseConvLayers(convSpec),
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

const FIELD_NAMES: ReadonlyArray<[keyof typeof HUBERT_SIZES, string]> = [
  ['embedDim', 'encoder_embed_dim'], ['ffnDim', 'encoder_ffn_embed_dim'], ['heads', 'encoder_attention_heads'],
  ['layers', 'encoder_layers'], ['convPos', 'conv_pos'], ['convPosGroups', 'conv_pos_groups'], ['finalDim', 'final_dim'],
];

export function checkConfig(c: HubertConfig): void {
  const bad = (why: string): never => {
    throw new HubertCheckpointError(`inconsistent HuBERT config: ${why}`);
  };
  if (c.convLayers.length === 0) bad('no feature-extractor convolutions');
  for (const [key, field] of FIELD_NAMES) {
    const v = c[key];
    const limit = HUBERT_SIZES[key];
    if (!Number.isInteger(v) || v < 1 || v > limit.max) bad(`${field} is ${v}; expected a whole number in 1…${limit.max} (${limit.sizedFrom})`);
  }
  if (c.embedDim % c.heads) bad(`encoder_embed_dim ${c.embedDim} is not a multiple of encoder_attention_heads ${c.heads}`);
  if (c.embedDim % c.convPosGroups) bad(`encoder_embed_dim ${c.embedDim} is not a multiple of conv_pos_groups ${c.convPosGroups}`);
}
