// Reads what a voice import needs from an ONNX file without starting a session: declared inputs and
// outputs (names, element types, shapes) and the metadata_props, where exporters leave their JSON.
import { onnx } from './proto.js';
import { UserError } from '../../protocol/errors.js';

export interface TensorSpec {
  name: string;
  type: string; // 'float32', 'float16', 'int64', … or 'other(<code>)'
  dims: (number | string)[];
}

export interface OnnxModelInfo {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  metadata: Record<string, string>;
  opset: number;
  producer: string;
  /** Shapes of the constant tensors, by name (the speaker table emb_g.weight tells the speaker count). */
  initializers: Record<string, number[]>;
}

export class OnnxFormatError extends UserError {
  override name = 'OnnxFormatError';
  constructor(message: string) {
    super(message, 'voice');
  }
}

const TYPE_NAMES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 16: 'bfloat16',
};

function spec(v: { name?: string | null; type?: { tensorType?: { elemType?: number | null; shape?: { dim?: { dimValue?: unknown; dimParam?: string | null }[] | null } | null } | null } | null }): TensorSpec {
  const tt = v.type?.tensorType;
  const code = tt?.elemType ?? 0;
  return {
    name: v.name ?? '',
    type: TYPE_NAMES[code] ?? `other(${code})`,
    dims: (tt?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0))),
  };
}

export function parseOnnxInfo(bytes: Uint8Array, name: string): OnnxModelInfo {
  let model: ReturnType<typeof onnx.ModelProto.decode>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxFormatError(`${name}: not a readable ONNX file (${(e as Error).message}); the file may be truncated or not ONNX: download or export it again`);
  }
  const g = model.graph;
  if (!g || (g.input ?? []).length === 0 || (g.node ?? []).length === 0) {
    throw new OnnxFormatError(`${name}: not a readable ONNX file (no graph inside); the file may be truncated or not ONNX: download or export it again`);
  }
  const initNames = new Set((g.initializer ?? []).map((t) => t.name));
  const initializers: Record<string, number[]> = {};
  for (const t of g.initializer ?? []) if (t.name) initializers[t.name] = (t.dims ?? []).map(Number);
  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  return {
    // Old exporters list initializers among the inputs; they are not inputs a caller feeds.
    inputs: (g.input ?? []).filter((v) => !initNames.has(v.name ?? '')).map(spec),
    outputs: (g.output ?? []).map(spec),
    metadata,
    opset: Number((model.opsetImport ?? []).find((o) => !o.domain)?.version ?? 0),
    producer: model.producerName ?? '',
    initializers,
  };
}
