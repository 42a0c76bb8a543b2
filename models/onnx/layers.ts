// Layer helpers over GraphBuilder for networks rebuilt from PyTorch weights. Weights arrive in PyTorch's
// layouts (Linear [out, in], Conv1d [out, in/groups, k], ConvTranspose1d [in, out/groups, k]); each helper
// turns them into the ONNX form once, at build time. Every float attribute goes through {float}, since the
// builder writes a whole number as an INT attribute.
import type { GraphBuilder } from './graph-builder.js';

/** A float tensor as a checkpoint holds it. */
export interface Weight {
  shape: number[];
  data: Float32Array;
}

export function constant(g: GraphBuilder, w: Weight, name?: string): string {
  return g.constant({ type: 'float32', dims: w.shape, data: w.data }, name);
}

/** y = x Wᵀ + b over the last axis; W is [out, in] as nn.Linear keeps it. */
export function linear(g: GraphBuilder, x: string, w: Weight, b?: Weight | null, name?: string): string {
  const [out, inp] = w.shape as [number, number];
  const t = new Float32Array(inp * out);
  for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) t[i * out + o] = w.data[o * inp + i]!;
  const y = g.op('MatMul', [x, g.constant({ type: 'float32', dims: [inp, out], data: t }, name)]);
  return b ? g.op('Add', [y, constant(g, b)]) : y;
}

export interface ConvOptions {
  stride?: number;
  /** [left, right], or one number for both. */
  padding?: number | [number, number];
  dilation?: number;
  groups?: number;
}

function pads(p: number | [number, number] | undefined): [number, number] {
  return p === undefined ? [0, 0] : typeof p === 'number' ? [p, p] : p;
}

/** nn.Conv1d on [N, C, T]. */
export function conv1d(g: GraphBuilder, x: string, w: Weight, b?: Weight | null, o: ConvOptions = {}, name?: string): string {
  const inputs = [x, constant(g, w, name)];
  if (b) inputs.push(constant(g, b));
  return g.op('Conv', inputs, {
    kernel_shape: [w.shape[2]!],
    strides: [o.stride ?? 1],
    pads: pads(o.padding),
    dilations: [o.dilation ?? 1],
    group: o.groups ?? 1,
  });
}

/** nn.ConvTranspose1d on [N, C, T] (ONNX keeps PyTorch's [in, out/groups, k] weight layout). */
export function convTranspose1d(g: GraphBuilder, x: string, w: Weight, b?: Weight | null, o: ConvOptions & { outputPadding?: number } = {}, name?: string): string {
  const inputs = [x, constant(g, w, name)];
  if (b) inputs.push(constant(g, b));
  return g.op('ConvTranspose', inputs, {
    kernel_shape: [w.shape[2]!],
    strides: [o.stride ?? 1],
    pads: pads(o.padding),
    dilations: [o.dilation ?? 1],
    group: o.groups ?? 1,
    output_padding: [o.outputPadding ?? 0],
  });
}

/** Layer norm over the last axis (nn.LayerNorm; opset 17's LayerNormalization). */
export function layerNorm(g: GraphBuilder, x: string, gamma: Weight, beta: Weight, eps = 1e-5): string {
  return g.op('LayerNormalization', [x, constant(g, gamma), constant(g, beta)], { axis: -1, epsilon: { float: eps } });
}

/** Layer norm over the channels of [N, C, T] (VITS's LayerNorm), without transposing the tensor. */
export function layerNormChannels(g: GraphBuilder, x: string, gamma: Weight, beta: Weight, eps = 1e-5): string {
  const c = gamma.shape[0]!;
  const mean = g.op('ReduceMean', [x], { axes: [1], keepdims: 1 });
  const d = g.op('Sub', [x, mean]);
  const v = g.op('ReduceMean', [g.op('Mul', [d, d])], { axes: [1], keepdims: 1 });
  const n = g.op('Div', [d, g.op('Sqrt', [g.op('Add', [v, g.f32([eps])])])]);
  const col = (w: Weight) => g.constant({ type: 'float32', dims: [1, c, 1], data: w.data });
  return g.op('Add', [g.op('Mul', [n, col(gamma)]), col(beta)]);
}

/** nn.Embedding: rows of `table` [n, d] picked by int64 ids. */
export function embedding(g: GraphBuilder, table: Weight, ids: string, name?: string): string {
  return g.op('Gather', [constant(g, table, name), ids], { axis: 0 });
}

export function leakyRelu(g: GraphBuilder, x: string, slope: number): string {
  return g.op('LeakyRelu', [x], { alpha: { float: slope } });
}

/**
 * Exact (erf) GELU, as nn.GELU() computes it; opset 17 has no Gelu operator. Written in the form PyTorch's
 * exporter emits (scalar constants, x / √2, x·(1 + erf)·0.5), which onnxruntime fuses into one Gelu kernel;
 * other arrangements stay five separate ops.
 */
export function gelu(g: GraphBuilder, x: string): string {
  const erf = g.op('Erf', [g.op('Div', [x, g.f32([Math.SQRT2], [])])]);
  return g.op('Mul', [g.op('Mul', [x, g.op('Add', [erf, g.f32([1], [])])]), g.f32([0.5], [])]);
}

export function scale(g: GraphBuilder, x: string, s: number): string {
  return g.op('Mul', [x, g.f32([s])]);
}

/** A 1-element int64 from an int64 scalar (shape []), for Slice / Concat / Reshape inputs. */
export function asVector(g: GraphBuilder, scalar: string): string {
  return g.op('Unsqueeze', [scalar, g.i64([0])]);
}

/** x[..., start:end] along `axis`; start and end are 1-element int64 tensors (clamped as Python slices are). */
export function sliceAxis(g: GraphBuilder, x: string, start: string, end: string, axis: number): string {
  return g.op('Slice', [x, start, end, g.i64([axis])]);
}

/** Size of `axis` of x as a 1-element int64. */
export function dimOf(g: GraphBuilder, x: string, axis: number): string {
  return g.op('Shape', [x], { start: axis, end: axis + 1 });
}
