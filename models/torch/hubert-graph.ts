// HuBERT / ContentVec as RVC runs it, written as an ONNX content encoder in the 'vec' style:
// `source` float32 [1, 1, N] of 16 kHz audio → `embed` float32 [1, T, C].
// RVC calls fairseq's extract_features(source, padding_mask = all false, output_layer = 9 (v1) or 12 (v2)) and
// applies final_proj for v1. What that computes, from fairseq's hubert.py / wav2vec2.py:
//   conv feature extractor → layer_norm → post_extract_proj (only when the conv and embed sizes differ) →
//   x + GELU(weight-normed grouped positional conv, last frame dropped for an even kernel) →
//   encoder.layer_norm (post-norm models only) → transformer layers 1..output_layer, stopping there →
//   no final layer norm (fairseq applies it only to pre-norm models asked for no output layer).
// fairseq also pads T to an even length and masks the pad as a key; that changes no real frame, so it is
// left out. Dropouts are off in eval; RVC feeds raw (unnormalised) audio, as HuBERT base was trained on.
import { GraphBuilder } from '../onnx/graph-builder.js';
import { checkConfig, HubertCheckpointError, type HubertConfig } from './hubert-config.js';
import { activation, type HubertWeights, layerNorm, linear, linearT, WeightSource } from './hubert-ops.js';

export interface HubertBuildOptions {
  /** 1-based transformer layer whose output is taken (fairseq's output_layer): 9 for RVC v1, 12 for v2. */
  layer: number;
  /** Apply final_proj to it (RVC v1: 768 → 256). */
  finalProj: boolean;
  /**
   * Zero samples added on both sides of the source before the conv stack (HuBERT-Soft's units() pads
   * (400 − 320) / 2 = 40, so T = floor(N / 320)); default 0, as fairseq's extract_features.
   */
  padInput?: number;
  /** Embedder name written to the metadata (e.g. 'hubert_base', 'contentvec'). */
  embedder?: string;
  /**
   * Experimental: int8 dynamic quantisation of the transformer's weight MatMuls (faster on CPU, slightly
   * less exact; the file stays float32-sized until the graph builder can write int8 tensors).
   */
  int8?: boolean;
}

/** Frames the conv stack gives for n samples (HuBERT base: floor((n − 400) / 320) + 1, 0 below 400). */
export function hubertFrames(n: number, c: Pick<HubertConfig, 'convLayers'>): number {
  let len = n;
  for (const [, k, s] of c.convLayers) len = len < k ? 0 : Math.floor((len - k) / s) + 1;
  return len;
}

/** Samples per frame and samples each frame sees. */
export function hubertFraming(c: Pick<HubertConfig, 'convLayers'>): { hop: number; receptiveField: number } {
  let hop = 1;
  let rf = 1;
  for (const [, k, s] of c.convLayers) {
    rf += (k - 1) * hop;
    hop *= s;
  }
  return { hop, receptiveField: rf };
}

export function buildHubertEncoder(weights: HubertWeights, config: HubertConfig, o: HubertBuildOptions): Uint8Array {
  checkConfig(config);
  const c = config;
  if (!Number.isInteger(o.layer) || o.layer < 1 || o.layer > c.layers) {
    throw new HubertCheckpointError(`output layer ${o.layer} does not exist: the checkpoint has layers 1..${c.layers}`);
  }
  const W = new WeightSource(weights, `config: ${c.layers} layers, ${c.embedDim}-d, ${c.heads} heads, FFN ${c.ffnDim}, ` +
    `conv ${c.convLayers.map(([d, k, s]) => `${d}x${k}/${s}`).join(' ')}, pos conv ${c.convPos}/${c.convPosGroups} groups`);
  const g = new GraphBuilder('hubert');
  const source = g.input('source', 'float32', [1, 1, 'N']);

  const pad = o.padInput ?? 0;
  const padded = pad > 0 ? g.op('Pad', [source, g.i64([0, 0, pad, 0, 0, pad])]) : source;
  let x = featureExtractor(g, W, c, padded); // [1, Cc, T]
  const convDim = c.convLayers[c.convLayers.length - 1]![0];
  x = g.op('Squeeze', [g.op('Transpose', [x], { perm: [0, 2, 1] }), g.i64([0])]); // [T, Cc]
  x = layerNorm(g, x, W.get('layer_norm.weight', [convDim]), W.get('layer_norm.bias', [convDim]));
  if (convDim !== c.embedDim) {
    x = linear(g, x, W.get('post_extract_proj.weight', [c.embedDim, convDim]), W.get('post_extract_proj.bias', [c.embedDim]), convDim, c.embedDim);
  }
  x = g.op('Add', [x, positionalConv(g, W, c, x)]);
  if (!c.layerNormFirst) x = layerNorm(g, x, W.get('encoder.layer_norm.weight', [c.embedDim]), W.get('encoder.layer_norm.bias', [c.embedDim]));
  for (let l = 0; l < o.layer; l++) x = encoderLayer(g, W, c, `encoder.layers.${l}`, x, o.int8 ?? false);

  let channels = c.embedDim;
  if (o.finalProj) {
    x = linear(g, x, W.get('final_proj.weight', [c.finalDim, c.embedDim]), W.get('final_proj.bias', [c.finalDim]), c.embedDim, c.finalDim);
    channels = c.finalDim;
  }
  g.op('Unsqueeze', [x, g.i64([0])], {}, 'embed');
  g.output('embed', 'float32', [1, 'T', channels]);

  const { hop, receptiveField } = hubertFraming(c);
  const metadata = {
    embedder: o.embedder ?? 'hubert_base',
    embOutputLayer: o.layer,
    useFinalProj: o.finalProj,
    embChannels: channels,
    sampleRate: 16000,
    hop,
    receptiveField,
    ...(pad > 0 ? { inputPad: pad } : {}),
  };
  return g.toBytes({ opset: 17, producer: 'resona hubert-graph', metadata: { metadata: JSON.stringify(metadata) } });
}

function featureExtractor(g: GraphBuilder, W: WeightSource, c: HubertConfig, source: string): string {
  let x = source;
  let inDim = 1;
  c.convLayers.forEach(([dim, k, stride], i) => {
    const p = `feature_extractor.conv_layers.${i}`;
    const inputs = [x, g.f32(W.get(`${p}.0.weight`, [dim, inDim, k]), [dim, inDim, k])];
    if (c.convBias) inputs.push(g.f32(W.get(`${p}.0.bias`, [dim]), [dim]));
    x = g.op('Conv', inputs, { kernel_shape: [k], strides: [stride] });
    if (c.extractorMode === 'layer_norm') {
      const t = g.op('Transpose', [x], { perm: [0, 2, 1] });
      const n = layerNorm(g, t, W.get(`${p}.2.1.weight`, [dim]), W.get(`${p}.2.1.bias`, [dim]));
      x = g.op('Transpose', [n], { perm: [0, 2, 1] });
    } else if (i === 0) {
      // GroupNorm(dim groups, dim channels) normalises each channel over the window: InstanceNormalization.
      const scale = g.f32(W.get(`${p}.2.weight`, [dim]), [dim]);
      const bias = g.f32(W.get(`${p}.2.bias`, [dim]), [dim]);
      x = g.op('InstanceNormalization', [x, scale, bias], { epsilon: { float: 1e-5 } });
    }
    x = activation(g, x, 'gelu'); // nn.GELU in the extractor, whatever activation_fn says
    inDim = dim;
  });
  return x;
}

/** GELU(conv(x)) over time, weight norm folded; x [T, C] → [T, C]. */
function positionalConv(g: GraphBuilder, W: WeightSource, c: HubertConfig, x: string): string {
  const C = c.embedDim;
  const k = c.convPos;
  const per = C / c.convPosGroups;
  const shape = [C, per, k];
  const p = 'encoder.pos_conv.0';
  const w = W.has(`${p}.weight_v`) || !W.has(`${p}.weight`)
    ? foldWeightNorm(W.get(`${p}.weight_v`, shape), W.get(`${p}.weight_g`, [1, 1, k]), C * per, k)
    : W.get(`${p}.weight`, shape);
  const bias = W.get(`${p}.bias`, [C]);
  // fairseq pads k/2 on both sides and SamePad drops the last frame for an even k: pad one less at the end.
  const drop = k % 2 === 0 ? 1 : 0;
  const t = g.op('Unsqueeze', [g.op('Transpose', [x], { perm: [1, 0] }), g.i64([0])]); // [1, C, T]
  const y = g.op('Conv', [t, g.f32(w, shape), g.f32(bias, [C])], {
    kernel_shape: [k],
    pads: [Math.floor(k / 2), Math.floor(k / 2) - drop],
    group: c.convPosGroups,
  });
  return g.op('Transpose', [g.op('Squeeze', [activation(g, y, 'gelu'), g.i64([0])])], { perm: [1, 0] });
}

/** weight_norm(dim=2): w[:, :, j] = g[j] · v[:, :, j] / ‖v[:, :, j]‖, one norm per kernel tap. */
function foldWeightNorm(v: Float32Array, gain: Float32Array, rows: number, k: number): Float32Array {
  const norm = new Float64Array(k);
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) norm[j]! += v[r * k + j]! ** 2;
  const scale = Array.from(norm, (n, j) => gain[j]! / Math.sqrt(n));
  const w = new Float32Array(v.length);
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) w[r * k + j] = v[r * k + j]! * scale[j]!;
  return w;
}

function encoderLayer(g: GraphBuilder, W: WeightSource, c: HubertConfig, p: string, x: string, int8: boolean): string {
  const C = c.embedDim;
  const ln = (name: string, y: string) => layerNorm(g, y, W.get(`${p}.${name}.weight`, [C]), W.get(`${p}.${name}.bias`, [C]));
  const ffn = (y: string) => {
    const h = activation(g, linear(g, y, W.get(`${p}.fc1.weight`, [c.ffnDim, C]), W.get(`${p}.fc1.bias`, [c.ffnDim]), C, c.ffnDim, int8), c.activation);
    return linear(g, h, W.get(`${p}.fc2.weight`, [C, c.ffnDim]), W.get(`${p}.fc2.bias`, [C]), c.ffnDim, C, int8);
  };
  if (c.layerNormFirst) {
    const a = g.op('Add', [x, selfAttention(g, W, c, `${p}.self_attn`, ln('self_attn_layer_norm', x), int8)]);
    return g.op('Add', [a, ffn(ln('final_layer_norm', a))]);
  }
  const a = ln('self_attn_layer_norm', g.op('Add', [x, selfAttention(g, W, c, `${p}.self_attn`, x, int8)]));
  return ln('final_layer_norm', g.op('Add', [a, ffn(a)]));
}

/** All heads in one batched MatMul pair; q, k, v from one fused projection with the 1/√d scale folded in. */
function selfAttention(g: GraphBuilder, W: WeightSource, c: HubertConfig, p: string, x: string, int8: boolean): string {
  const C = c.embedDim;
  const H = c.heads;
  const D = C / H;
  const scale = 1 / Math.sqrt(D);
  const parts = (['q', 'k', 'v'] as const).map((n) => ({
    w: W.get(`${p}.${n}_proj.weight`, [C, C]),
    b: W.get(`${p}.${n}_proj.bias`, [C]),
    s: n === 'q' ? scale : 1,
  }));
  const wt = new Float32Array(C * 3 * C); // [C in, 3C out]
  const bias = new Float32Array(3 * C);
  parts.forEach(({ w, b, s }, blk) => {
    for (let o = 0; o < C; o++) {
      bias[blk * C + o] = b[o]! * s;
      for (let i = 0; i < C; i++) wt[i * 3 * C + blk * C + o] = w[o * C + i]! * s;
    }
  });
  const qkv = linearT(g, x, wt, bias, C, 3 * C, int8);
  const [q, k, v] = g.nodeMulti('Split', [qkv, g.i64([C, C, C])], 3, { axis: 1 });
  const heads = g.i64([0, H, D]); // [T, C] → [T, H, D]
  const qh = g.op('Transpose', [g.op('Reshape', [q!, heads])], { perm: [1, 0, 2] }); // [H, T, D]
  const kh = g.op('Transpose', [g.op('Reshape', [k!, heads])], { perm: [1, 2, 0] }); // [H, D, T]
  const vh = g.op('Transpose', [g.op('Reshape', [v!, heads])], { perm: [1, 0, 2] }); // [H, T, D]
  const attn = g.op('Softmax', [g.op('MatMul', [qh, kh])], { axis: -1 });
  const ctx = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [attn, vh])], { perm: [1, 0, 2] }), g.i64([0, C])]);
  return linear(g, ctx, W.get(`${p}.out_proj.weight`, [C, C]), W.get(`${p}.out_proj.bias`, [C]), C, C, int8);
}
