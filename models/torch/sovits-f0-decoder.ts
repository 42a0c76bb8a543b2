// so-vits-svc 4.1's automatic f0 prediction (use_automatic_f0_prediction; SynthesizerTrn.infer with
// predict_f0) as its own small ONNX graph, so a voice can switch it on and off live without a second
// synthesizer: it reads the same inputs as the synthesizer and writes the f0 the synthesizer then takes.
//   c f32 [1, T_src, ssl], mel2ph i64 [1, T], f0 f32 [1, T] (Hz, unvoiced interpolated), uv f32 [1, T],
//   sid i64 [1], and with vol_embedding vol f32 [1, T]  →  f0_pred f32 [1, T] (Hz).
// What it computes (read in upstream models.py / modules/attentions.py / utils.normalize_f0 at 730930d3):
//   x     = pre(c) + emb_uv(uv) [+ emb_vol(vol)]           the synthesizer's pre-net, before f0_emb
//   lf0   = 2595·log10(1 + f0/700) / 500;  norm = lf0 − mean of lf0 over voiced frames (no voiced frame: the
//           divisor is 9999, so the mean is ~0)
//   x     = prenet(x + cond(g) + f0_prenet(norm))           both k3 "same" convs, cond a 1×1 conv of emb_g
//   x     = FFT(x): per layer, causal multi-head self-attention (no relative positions) + post layer norm,
//           then an FFN of two causal convs (left padding k−1, relu) + post layer norm
//   f0    = 700·(10^(proj(x)·500/2595) − 1)
// The prediction is the absolute lf0 in the speaker's range; the input contour enters only relative to its
// voiced mean, which is why a pitch shift barely moves the output (as upstream).
import { GraphBuilder } from '../onnx/graph-builder.js';
import { constant, dimOf, embedding, layerNorm, linear, type Weight } from '../onnx/layers.js';
import type { ParamSpec } from './rvc-spec.js';
import { CheckedWeights, type TensorLike, type WeightSource } from './rvc-weights.js';
import { sovitsArchitecture, sovitsPrenet } from './sovits-graph.js';
import { SovitsGraphError, type SovitsNetConfig, SOVITS } from './sovits-spec.js';

const P = 'f0_decoder';

/** Whether a checkpoint carries the F0 decoder (trained with use_automatic_f0_prediction). */
export function hasF0Decoder(w: ReadonlyMap<string, TensorLike>): boolean {
  return w.has(`${P}.proj.weight`);
}

/** The parameters the F0 decoder graph reads, by upstream's names: its own and the shared pre-net's. */
export function f0DecoderParameters(c: SovitsNetConfig, vol: boolean): ParamSpec[] {
  const H = c.hidden_channels;
  const F = c.filter_channels;
  const k = c.kernel_size;
  const out: ParamSpec[] = [];
  const p = (name: string, shape: number[]) => out.push({ name, shape, weightNorm: false });
  p('pre.weight', [H, c.ssl_dim, SOVITS.preKernel]);
  p('pre.bias', [H]);
  p('emb_uv.weight', [2, H]);
  if (vol) {
    p('emb_vol.weight', [H, 1]);
    p('emb_vol.bias', [H]);
  }
  p('emb_g.weight', [c.n_speakers, c.gin_channels]);
  p(`${P}.cond.weight`, [H, c.gin_channels, 1]);
  p(`${P}.cond.bias`, [H]);
  p(`${P}.f0_prenet.weight`, [H, 1, 3]);
  p(`${P}.f0_prenet.bias`, [H]);
  p(`${P}.prenet.weight`, [H, H, 3]);
  p(`${P}.prenet.bias`, [H]);
  for (let l = 0; l < c.n_layers; l++) {
    const d = `${P}.decoder`;
    for (const n of ['q', 'k', 'v', 'o']) {
      p(`${d}.self_attn_layers.${l}.conv_${n}.weight`, [H, H, 1]);
      p(`${d}.self_attn_layers.${l}.conv_${n}.bias`, [H]);
    }
    p(`${d}.norm_layers_0.${l}.gamma`, [H]);
    p(`${d}.norm_layers_0.${l}.beta`, [H]);
    p(`${d}.ffn_layers.${l}.conv_1.weight`, [F, H, k]);
    p(`${d}.ffn_layers.${l}.conv_1.bias`, [F]);
    p(`${d}.ffn_layers.${l}.conv_2.weight`, [H, F, k]);
    p(`${d}.ffn_layers.${l}.conv_2.bias`, [H]);
    p(`${d}.norm_layers_1.${l}.gamma`, [H]);
    p(`${d}.norm_layers_1.${l}.beta`, [H]);
  }
  p(`${P}.proj.weight`, [1, H, 1]);
  p(`${P}.proj.bias`, [1]);
  return out;
}

/** A [o, i, 1] conv weight as the [o, i] matrix of a linear layer. */
const asMatrix = (w: Weight): Weight => ({ shape: [w.shape[0]!, w.shape[1]!], data: w.data });

/** A k-wide conv over time on [1, T, C] frames with the given left/right zero padding; returns [1, T', O]. */
function convT(g: GraphBuilder, x: string, w: Weight, b: Weight, pads: [number, number]): string {
  const y = g.op('Conv', [g.op('Transpose', [x], { perm: [0, 2, 1] }), constant(g, w), constant(g, b)], {
    kernel_shape: [w.shape[2]!], pads, strides: [1], dilations: [1],
  });
  return g.op('Transpose', [y], { perm: [0, 2, 1] });
}

/** Causal self-attention of layer l (key j visible from query i when j ≤ i; masked scores are −1e4, as upstream). */
function causalAttention(g: GraphBuilder, w: WeightSource, c: SovitsNetConfig, l: number, x: string, visible: string): string {
  const p = `${P}.decoder.self_attn_layers.${l}`;
  const H = c.hidden_channels;
  const nh = c.n_heads;
  const dk = H / nh;
  const heads = g.i64([1, 0, nh, dk]);
  const proj = (n: string) => g.op('Reshape', [linear(g, x, asMatrix(w.get(`${p}.conv_${n}.weight`)), w.get(`${p}.conv_${n}.bias`)), heads]);
  const q = g.op('Mul', [g.op('Transpose', [proj('q')], { perm: [0, 2, 1, 3] }), g.f32([1 / Math.sqrt(dk)])]);
  const kT = g.op('Transpose', [proj('k')], { perm: [0, 2, 3, 1] });
  const v = g.op('Transpose', [proj('v')], { perm: [0, 2, 1, 3] });
  const scores = g.op('Where', [visible, g.op('MatMul', [q, kT]), g.f32([-1e4], [])]);
  const out = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }), v]);
  const merged = g.op('Reshape', [g.op('Transpose', [out], { perm: [0, 2, 1, 3] }), g.i64([1, 0, H])]);
  return linear(g, merged, asMatrix(w.get(`${p}.conv_o.weight`)), w.get(`${p}.conv_o.bias`));
}

/** FFN with causal convs: each output frame sees only its own and earlier frames. */
function causalFfn(g: GraphBuilder, w: WeightSource, c: SovitsNetConfig, l: number, x: string): string {
  const p = `${P}.decoder.ffn_layers.${l}`;
  const pads: [number, number] = [c.kernel_size - 1, 0];
  const h = g.op('Relu', [convT(g, x, w.get(`${p}.conv_1.weight`), w.get(`${p}.conv_1.bias`), pads)]);
  return convT(g, h, w.get(`${p}.conv_2.weight`), w.get(`${p}.conv_2.bias`), pads);
}

export interface F0DecoderBuildOptions {
  /**
   * How lf0 is centred before the decoder sees it. 'voiced-mean' is upstream's; the others exist so a test can
   * show a reference fails when the normalisation is wrong.
   */
  normalise?: 'voiced-mean' | 'all-mean' | 'none' | 'natural-log';
}

export function buildSovitsF0Decoder(ckpt: { weights: ReadonlyMap<string, TensorLike>; config: SovitsNetConfig }, opts: F0DecoderBuildOptions = {}): Uint8Array {
  const c = ckpt.config;
  if (!hasF0Decoder(ckpt.weights)) throw new SovitsGraphError('the checkpoint has no f0_decoder weights: it was trained without use_automatic_f0_prediction, so it cannot predict f0');
  if (c.hidden_channels % c.n_heads) throw new SovitsGraphError(`config model.hidden_channels is ${c.hidden_channels}: not divisible by n_heads (${c.n_heads})`);
  const arch = sovitsArchitecture(ckpt.weights);
  const w = new CheckedWeights(ckpt.weights, f0DecoderParameters(c, arch.vol), {
    error: (m) => new SovitsGraphError(m),
    // The synthesizer's weights are the synthesizer builder's to check; every f0_decoder key must be known here.
    ignored: (k) => !k.startsWith(`${P}.`),
    family: 'so-vits-svc F0 decoder',
  });
  const g = new GraphBuilder('sovits-f0-decoder');
  const content = g.input('c', 'float32', [1, 'T_src', c.ssl_dim]);
  const f0 = g.input('f0', 'float32', [1, 'T']);
  const mel2ph = g.input('mel2ph', 'int64', [1, 'T']);
  const uv = g.input('uv', 'float32', [1, 'T']);
  const sid = g.input('sid', 'int64', [1]);
  const vol = arch.vol ? g.input('vol', 'float32', [1, 'T']) : null;

  let x = sovitsPrenet(g, w, arch, { content, mel2ph, uv, vol });
  // cond(g): a 1×1 conv of the speaker embedding, the same for every frame.
  const spk = embedding(g, w.get('emb_g.weight'), sid, 'emb_g.weight'); // [1, gin]
  x = g.op('Add', [x, g.op('Unsqueeze', [linear(g, spk, asMatrix(w.get(`${P}.cond.weight`)), w.get(`${P}.cond.bias`)), g.i64([1])])]);

  // lf0 on the mel-like scale, centred on its voiced mean.
  const mode = opts.normalise ?? 'voiced-mean';
  // 'natural-log' is the diffusion condition's ln(1 + f0/700), a plausible mix-up, kept for the test that shows it fails.
  const lf0 = g.op('Mul', [g.op('Log', [g.op('Add', [g.op('Div', [f0, g.f32([700])]), g.f32([1])])]), g.f32([mode === 'natural-log' ? 1 : 2595 / Math.LN10 / 500])]);
  let norm = lf0;
  if (mode !== 'none') {
    const weights = mode === 'voiced-mean' ? uv : g.op('Add', [g.op('Mul', [uv, g.f32([0])]), g.f32([1])]);
    const count = g.op('ReduceSum', [weights, g.i64([1])], { keepdims: 1 });
    const divisor = g.op('Where', [g.op('Equal', [count, g.f32([0])]), g.f32([9999]), count]);
    const mean = g.op('Div', [g.op('ReduceSum', [g.op('Mul', [lf0, weights]), g.i64([1])], { keepdims: 1 }), divisor]);
    norm = g.op('Sub', [lf0, mean]);
  }
  x = g.op('Add', [x, convT(g, g.op('Unsqueeze', [norm, g.i64([2])]), w.get(`${P}.f0_prenet.weight`), w.get(`${P}.f0_prenet.bias`), [1, 1])]);
  x = convT(g, x, w.get(`${P}.prenet.weight`), w.get(`${P}.prenet.bias`), [1, 1]);

  // Frame j is visible from frame i when j ≤ i (commons.subsequent_mask).
  const T = g.op('Squeeze', [dimOf(g, f0, 1), g.i64([0])]);
  const r = g.op('Range', [g.i64([0], []), T, g.i64([1], [])]);
  const visible = g.op('LessOrEqual', [g.op('Unsqueeze', [r, g.i64([0])]), g.op('Unsqueeze', [r, g.i64([1])])]);
  for (let l = 0; l < c.n_layers; l++) {
    const d = `${P}.decoder`;
    x = layerNorm(g, g.op('Add', [x, causalAttention(g, w, c, l, x, visible)]), w.get(`${d}.norm_layers_0.${l}.gamma`), w.get(`${d}.norm_layers_0.${l}.beta`));
    x = layerNorm(g, g.op('Add', [x, causalFfn(g, w, c, l, x)]), w.get(`${d}.norm_layers_1.${l}.gamma`), w.get(`${d}.norm_layers_1.${l}.beta`));
  }
  const pred = g.op('Squeeze', [linear(g, x, asMatrix(w.get(`${P}.proj.weight`)), w.get(`${P}.proj.bias`)), g.i64([2])]); // [1, T]
  const hz = g.op('Mul', [g.op('Sub', [g.op('Pow', [g.f32([10], []), g.op('Mul', [pred, g.f32([500 / 2595])])]), g.f32([1])]), g.f32([700])]);
  g.op('Identity', [hz], {}, 'f0_pred');
  g.output('f0_pred', 'float32', [1, 'T']);
  return g.toBytes({ opset: 17, producer: 'resona sovits-f0-decoder' });
}
