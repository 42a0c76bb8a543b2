// RVC's TextEncoder (attentions.Encoder inside) on [1, T, H] frames. The relative-position attention is
// written with gathers over the ±window band instead of VITS's pad-and-reshape trick: scores_rel[i, j] =
// q_i · emb_rel_k[j − i + w] and out_i += Σ_j p[i, j] · emb_rel_v[j − i + w], both zero outside |j − i| ≤ w,
// which is what the trick computes, at O(T·w) instead of O(T²) for the embedding products.
import type { GraphBuilder } from '../onnx/graph-builder.js';
import { constant, dimOf, embedding, layerNorm, leakyRelu, linear, scale, type Weight } from '../onnx/layers.js';
import { RVC, type RvcNetConfig } from './rvc-spec.js';
import type { WeightSource } from './rvc-weights.js';

/** A [o, i, 1] conv weight as the [o, i] matrix of a linear layer. */
const asMatrix = (w: Weight): Weight => ({ shape: [w.shape[0]!, w.shape[1]!], data: w.data });

export interface EncoderMasks {
  /** float [1, T, 1] and [1, 1, T]: 1 for frames below p_len. */
  tc: string;
  ct: string;
  /** bool [T]: the same mask as a vector. */
  valid: string;
}

/**
 * One VITS attentions.Encoder: where its weights live and its sizes. RVC's sits at enc_p.encoder with window
 * 10; so-vits-svc's at enc_p.enc_ with window 4.
 */
export interface AttnEncoderSpec {
  prefix: string;
  window: number;
  hidden: number;
  heads: number;
  filter: number;
  kernel: number;
  layers: number;
}

/** RVC's text encoder stack (window 10). */
export function rvcEncoderSpec(c: RvcNetConfig): AttnEncoderSpec {
  return { prefix: 'enc_p.encoder', window: RVC.windowSize, hidden: c.hidden_channels, heads: c.n_heads, filter: c.filter_channels, kernel: c.kernel_size, layers: c.n_layers };
}

/** Band indices of the relative attention for the current T (computed in-graph: T is dynamic). */
interface Band {
  keyIdx: string; // int64 [T, T]: j − i + w inside the band, 2w + 1 (a zero column) outside
  valIdx: string; // int64 [T, 2w+1]: i + r − w where it is a frame, T (a zero column) elsewhere
  pairMask: string; // bool [T, T]: both frames valid
}

function band(g: GraphBuilder, T1: string, valid: string, w: number): Band {
  const T = g.op('Squeeze', [T1, g.i64([0])]);
  const r = g.op('Range', [g.i64([0], []), T, g.i64([1], [])]);
  const i = g.op('Unsqueeze', [r, g.i64([1])]);
  const j = g.op('Unsqueeze', [r, g.i64([0])]);
  const d = g.op('Sub', [j, i]);
  const inBand = g.op('LessOrEqual', [g.op('Abs', [d]), g.i64([w], [])]);
  const keyIdx = g.op('Where', [inBand, g.op('Add', [d, g.i64([w], [])]), g.i64([2 * w + 1], [])]);
  const rel = g.i64(Array.from({ length: 2 * w + 1 }, (_, k) => k - w), [1, 2 * w + 1]);
  const s = g.op('Add', [i, rel]);
  const inside = g.op('And', [g.op('GreaterOrEqual', [s, g.i64([0], [])]), g.op('Less', [s, T])]);
  const valIdx = g.op('Where', [inside, s, T]);
  const pairMask = g.op('And', [g.op('Unsqueeze', [valid, g.i64([1])]), g.op('Unsqueeze', [valid, g.i64([0])])]);
  return { keyIdx, valIdx, pairMask };
}

function attention(g: GraphBuilder, w: WeightSource, s: AttnEncoderSpec, l: number, x: string, b: Band, T1: string): string {
  const p = `${s.prefix}.attn_layers.${l}`;
  const H = s.hidden;
  const nh = s.heads;
  const dk = H / nh;
  const win = 2 * s.window + 1;
  // q, k, v in one product.
  const ws = ['q', 'k', 'v'].map((n) => asMatrix(w.get(`${p}.conv_${n}.weight`)));
  const bs = ['q', 'k', 'v'].map((n) => w.get(`${p}.conv_${n}.bias`));
  const wQkv = new Float32Array(3 * H * H);
  ws.forEach((m, n) => wQkv.set(m.data, n * H * H));
  const bQkv = new Float32Array(3 * H);
  bs.forEach((v, n) => bQkv.set(v.data, n * H));
  const qkv = linear(g, x, { shape: [3 * H, H], data: wQkv }, { shape: [3 * H], data: bQkv });
  const [q0, k0, v0] = g.nodeMulti('Split', [qkv, g.i64([H, H, H])], 3, { axis: 2 });
  const heads = g.i64([1, 0, nh, dk]); // Reshape's 0 keeps T
  const q = scale(g, g.op('Transpose', [g.op('Reshape', [q0!, heads])], { perm: [0, 2, 1, 3] }), 1 / Math.sqrt(dk));
  const kT = g.op('Transpose', [g.op('Reshape', [k0!, heads])], { perm: [0, 2, 3, 1] });
  const v = g.op('Transpose', [g.op('Reshape', [v0!, heads])], { perm: [0, 2, 1, 3] });

  const fullShape = (last: string) => g.op('Concat', [g.i64([1, nh]), T1, last], { axis: 0 });
  // Relative keys: q · emb_rel_kᵀ over the window plus a zero column for pairs outside it.
  const relK = w.get(`${p}.emb_rel_k`);
  const kPad = new Float32Array(dk * (win + 1));
  for (let r = 0; r < win; r++) for (let d = 0; d < dk; d++) kPad[d * (win + 1) + r] = relK.data[r * dk + d]!;
  const relLogits = g.op('MatMul', [q, constant(g, { shape: [dk, win + 1], data: kPad })]);
  const keyIdx = g.op('Expand', [b.keyIdx, fullShape(T1)]);
  let scores = g.op('Add', [g.op('MatMul', [q, kT]), g.op('GatherElements', [relLogits, keyIdx], { axis: 3 })]);
  scores = g.op('Where', [b.pairMask, scores, g.f32([-1e4], [])]);
  const attn = g.op('Softmax', [scores], { axis: -1 });
  let out = g.op('MatMul', [attn, v]);
  // Relative values: the band of each row of attn, as [T, 2w+1], times emb_rel_v.
  const padded = g.op('Pad', [attn, g.i64([0, 0, 0, 0, 0, 0, 0, 1])]);
  const valIdx = g.op('Expand', [b.valIdx, fullShape(g.i64([win]))]);
  const relAttn = g.op('GatherElements', [padded, valIdx], { axis: 3 });
  const relV = w.get(`${p}.emb_rel_v`);
  out = g.op('Add', [out, g.op('MatMul', [relAttn, constant(g, { shape: [win, dk], data: relV.data })])]);
  const merged = g.op('Reshape', [g.op('Transpose', [out], { perm: [0, 2, 1, 3] }), g.i64([1, 0, H])]);
  return linear(g, merged, asMatrix(w.get(`${p}.conv_o.weight`)), w.get(`${p}.conv_o.bias`));
}

/** FFN: two "same" convolutions over time (relu between), inputs masked as VITS does. */
function ffn(g: GraphBuilder, w: WeightSource, s: AttnEncoderSpec, l: number, x: string, m: EncoderMasks): string {
  const p = `${s.prefix}.ffn_layers.${l}`;
  const k = s.kernel;
  const pads = [(k - 1) >> 1, k >> 1];
  const conv = (h: string, n: string) =>
    g.op('Conv', [g.op('Mul', [h, m.ct]), constant(g, w.get(`${p}.${n}.weight`)), constant(g, w.get(`${p}.${n}.bias`))], {
      kernel_shape: [k], pads, strides: [1], dilations: [1],
    });
  const h = g.op('Relu', [conv(g.op('Transpose', [x], { perm: [0, 2, 1] }), 'conv_1')]);
  const y = g.op('Mul', [conv(h, 'conv_2'), m.ct]);
  return g.op('Transpose', [y], { perm: [0, 2, 1] });
}

/** The attention/FFN stack (post-norm residuals) on masked [1, T, H] frames; returns [1, T, H], masked. */
export function relativeEncoder(g: GraphBuilder, w: WeightSource, s: AttnEncoderSpec, x: string, m: EncoderMasks): string {
  const T1 = dimOf(g, x, 1);
  const b = band(g, T1, m.valid, s.window);
  for (let l = 0; l < s.layers; l++) {
    const e = s.prefix;
    x = layerNorm(g, g.op('Add', [x, attention(g, w, s, l, x, b, T1)]), w.get(`${e}.norm_layers_1.${l}.gamma`), w.get(`${e}.norm_layers_1.${l}.beta`));
    x = layerNorm(g, g.op('Add', [x, ffn(g, w, s, l, x, m)]), w.get(`${e}.norm_layers_2.${l}.gamma`), w.get(`${e}.norm_layers_2.${l}.beta`));
  }
  return g.op('Mul', [x, m.tc]);
}

/**
 * emb_phone(feats) [+ emb_pitch(pitch)] → ×√H → leaky relu → masked encoder. Returns [1, T, H] (masked),
 * before the skip_head slice and the projection.
 */
export function textEncoder(g: GraphBuilder, w: WeightSource, c: RvcNetConfig, feats: string, pitch: string | null, m: EncoderMasks): string {
  let x = linear(g, feats, w.get('enc_p.emb_phone.weight'), w.get('enc_p.emb_phone.bias'));
  if (pitch) x = g.op('Add', [x, embedding(g, w.get('enc_p.emb_pitch.weight'), pitch)]);
  x = leakyRelu(g, scale(g, x, Math.sqrt(c.hidden_channels)), RVC.lreluSlope);
  return relativeEncoder(g, w, rvcEncoderSpec(c), g.op('Mul', [x, m.tc]), m);
}

/** proj → (m_p, logs_p), each [1, inter, T'], masked. */
export function encoderStats(g: GraphBuilder, w: WeightSource, c: Pick<RvcNetConfig, 'inter_channels'>, x: string, maskCT: string): [string, string] {
  const stats = g.op('Transpose', [linear(g, x, asMatrix(w.get('enc_p.proj.weight')), w.get('enc_p.proj.bias'))], { perm: [0, 2, 1] });
  const masked = g.op('Mul', [stats, maskCT]);
  const [m, logs] = g.nodeMulti('Split', [masked, g.i64([c.inter_channels, c.inter_channels])], 2, { axis: 1 });
  return [m!, logs!];
}
