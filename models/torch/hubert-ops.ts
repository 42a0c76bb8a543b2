// Weight lookup with shape checks, and the graph pieces the HuBERT builder repeats, on [T, C] activations
// (batch 1, the 'vec' contract): linears with the optional int8 path, over models/onnx/layers.ts for the rest.
import type { GraphBuilder } from '../onnx/graph-builder.js';
import { gelu, layerNorm as layerNormWeights } from '../onnx/layers.js';
import { type Activation, HubertCheckpointError } from './hubert-config.js';

export interface WeightTensor {
  shape: readonly number[];
  data: Float32Array;
}
export type HubertWeights = ReadonlyMap<string, WeightTensor>;

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Hands out checkpoint tensors by fairseq name, refusing a missing one or one of the wrong shape. */
export class WeightSource {
  constructor(
    private readonly w: HubertWeights,
    /** Appended to messages: what the expected shapes were derived from. */
    private readonly context: string,
  ) {}

  has(name: string): boolean {
    return this.w.has(name);
  }

  get(name: string, shape: readonly number[]): Float32Array {
    const t = this.w.get(name);
    if (!t) throw new HubertCheckpointError(`checkpoint has no weight "${name}" (expected shape ${fmt(shape)}; ${this.context})`);
    const sameShape = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
    if (!sameShape || t.data.length !== shape.reduce((a, b) => a * b, 1)) {
      const values = sameShape ? ` but ${t.data.length} values` : '';
      throw new HubertCheckpointError(`weight "${name}" has shape ${fmt(t.shape)}${values}; expected ${fmt(shape)} (${this.context})`);
    }
    return t.data;
  }
}

/** W [rows, cols] → W^T [cols, rows], so MatMul takes x [T, in] directly. */
export function transpose2d(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c]!;
  return t;
}

/** x [T, in] · W^T + b, W given as torch's Linear stores it ([out, in]); int8: see linearInt8. */
export function linear(g: GraphBuilder, x: string, w: Float32Array, b: Float32Array, inDim: number, outDim: number, int8 = false): string {
  return linearT(g, x, transpose2d(w, outDim, inDim), b, inDim, outDim, int8);
}

/** x [T, in] · Wt + b with Wt already [in, out]. */
export function linearT(g: GraphBuilder, x: string, wt: Float32Array, b: Float32Array, inDim: number, outDim: number, int8 = false): string {
  if (int8) return linearInt8(g, x, wt, b, inDim, outDim);
  return g.op('Add', [g.op('MatMul', [x, g.f32(wt, [inDim, outDim])]), g.f32(b, [outDim])]);
}

/**
 * Dynamic int8 quantisation, as onnxruntime's quantize_dynamic writes it, so its DynamicQuantizeMatMul
 * fusion applies: activations to uint8 per call, weights to int8 per output column, symmetric. The builder
 * has no int8 tensors, so weights are stored as int32 and cast; onnxruntime folds the cast at load (the file
 * is then no smaller than float32).
 */
function linearInt8(g: GraphBuilder, x: string, wt: Float32Array, b: Float32Array, inDim: number, outDim: number): string {
  const scale = new Float32Array(outDim);
  for (let i = 0; i < inDim; i++) for (let o = 0; o < outDim; o++) scale[o] = Math.max(scale[o]!, Math.abs(wt[i * outDim + o]!));
  for (let o = 0; o < outDim; o++) scale[o] = scale[o]! / 127 || 1;
  const q = new Int32Array(wt.length);
  for (let i = 0; i < inDim; i++) for (let o = 0; o < outDim; o++) q[i * outDim + o] = Math.round(wt[i * outDim + o]! / scale[o]!);
  const wq = g.op('Cast', [g.constant({ type: 'int32', dims: [inDim, outDim], data: q })], { to: 3 /* INT8 */ });
  const [xq, xScale, xZero] = g.nodeMulti('DynamicQuantizeLinear', [x], 3);
  const acc = g.op('Cast', [g.op('MatMulInteger', [xq!, wq, xZero!])], { to: 1 /* FLOAT */ });
  const y = g.op('Mul', [acc, g.op('Mul', [xScale!, g.f32(scale, [outDim])])]);
  return g.op('Add', [y, g.f32(b, [outDim])]);
}

export function layerNorm(g: GraphBuilder, x: string, w: Float32Array, b: Float32Array, eps = 1e-5): string {
  return layerNormWeights(g, x, { shape: [w.length], data: w }, { shape: [b.length], data: b }, eps);
}

// Written in the forms PyTorch's exporter emits, which onnxruntime fuses into one Gelu / FastGelu kernel.
export function activation(g: GraphBuilder, x: string, kind: Activation): string {
  if (kind === 'relu') return g.op('Relu', [x]);
  if (kind === 'gelu') return gelu(g, x);
  // gelu_accurate: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
  const x3 = g.op('Mul', [g.op('Mul', [x, x]), x]);
  const inner = g.op('Mul', [g.op('Add', [x, g.op('Mul', [x3, g.f32([0.044715], [])])]), g.f32([Math.sqrt(2 / Math.PI)], [])]);
  return g.op('Mul', [g.op('Mul', [x, g.op('Add', [g.op('Tanh', [inner]), g.f32([1], [])])]), g.f32([0.5], [])]);
}
