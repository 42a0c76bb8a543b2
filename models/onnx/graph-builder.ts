// Writes ONNX models from TypeScript: the test fixtures with exactly the contracts of the voices in
// circulation, and (later) whole networks from PyTorch checkpoints. Nodes are added in topological order,
// as ONNX requires; names are generated unless given, so graphs read like the code that made them.
import { onnx } from './proto.js';

export type ElemType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool';
export type Dim = number | string;
export type AttrValue = number | string | number[] | Float32Array | { tensor: TensorInit } | { float: number } | { floats: number[] };

export interface TensorInit {
  type: ElemType;
  dims: number[];
  data: Float32Array | BigInt64Array | Int32Array | Uint16Array | Uint8Array | number[];
}

const ELEM: Record<ElemType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
  int32: onnx.TensorProto.DataType.INT32,
  bool: onnx.TensorProto.DataType.BOOL,
};

export interface ModelOptions {
  opset?: number;
  producer?: string;
  /** ONNX metadata_props (the VC Client keeps its JSON under "metadata"). */
  metadata?: Record<string, string>;
}

function valueInfo(name: string, type: ElemType, dims: Dim[]) {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function tensorProto(name: string, t: TensorInit) {
  const d = t.data;
  let raw: Uint8Array;
  if (Array.isArray(d)) {
    raw = t.type === 'int64'
      ? new Uint8Array(BigInt64Array.from(d.map((v) => BigInt(v))).buffer)
      : t.type === 'int32'
        ? new Uint8Array(Int32Array.from(d).buffer)
        : t.type === 'bool'
          ? Uint8Array.from(d)
          : new Uint8Array(Float32Array.from(d).buffer);
  } else {
    raw = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  }
  return { name, dims: t.dims, dataType: ELEM[t.type], rawData: raw };
}

function attribute(name: string, v: AttrValue) {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: T.INT, i: v } : { name, type: T.FLOAT, f: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if (v instanceof Float32Array) return { name, type: T.FLOATS, floats: Array.from(v) };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  return { name, type: T.TENSOR, t: tensorProto('', v.tensor) };
}

export class GraphBuilder {
  private readonly nodes: object[] = [];
  private readonly inputs: object[] = [];
  private readonly outputs: object[] = [];
  private readonly initializers: object[] = [];
  private counter = 0;

  constructor(readonly name = 'resona') {}

  private fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }

  input(name: string, type: ElemType, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: ElemType, dims: Dim[]): string {
    this.outputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** A constant (initializer); returns its name. */
  constant(t: TensorInit, name = this.fresh('const')): string {
    this.initializers.push(tensorProto(name, t));
    return name;
  }

  f32(values: number[] | Float32Array, dims: number[] = [values.length]): string {
    return this.constant({ type: 'float32', dims, data: values instanceof Float32Array ? values : Float32Array.from(values) });
  }

  i64(values: number[], dims: number[] = [values.length]): string {
    return this.constant({ type: 'int64', dims, data: values });
  }

  /** Adds a node with several outputs; pass output names to name them (an empty string skips an output). */
  nodeMulti(op: string, inputs: string[], outputs: string[] | number, attrs: Record<string, AttrValue> = {}, domain = ''): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(op.toLowerCase())) : outputs;
    this.nodes.push({
      opType: op,
      domain,
      input: inputs,
      output: outs,
      name: this.fresh(`n_${op}`),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs;
  }

  /** Adds a one-output node; `out` names its output (a graph output, say). */
  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    return this.nodeMulti(op, inputs, [out ?? this.fresh(op.toLowerCase())], attrs)[0]!;
  }

  toBytes(o: ModelOptions = {}): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: o.producer ?? 'resona',
      opsetImport: [{ domain: '', version: o.opset ?? 17 }],
      graph: {
        name: this.name,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
      },
      metadataProps: Object.entries(o.metadata ?? {}).map(([key, value]) => ({ key, value })),
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
