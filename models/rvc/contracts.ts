// The RVC synthesizer ONNX contracts in circulation (FIELD-NOTES §2), recognised by their input names.
// Each is mapped onto one internal description, so the voice stage has a single code path.
import type { OnnxModelInfo, TensorSpec } from '../onnx/model-info.js';
import { UserError } from '../../protocol/errors.js';

export type ContractId = 'vcclient' | 'vcclient-skip' | 'webui';

export interface SynthContract {
  id: ContractId;
  f0: boolean;
  /** Input names, by role. */
  feats: string;
  length: string;
  speaker: string;
  pitch: string | null;
  pitchf: string | null;
  /** N(0, 1) noise for the flow, [1, noiseChannels, T]. */
  noise: string | null;
  noiseChannels: number;
  /** N(0, 1) noise for the NSF source, [1, return_length · hop, nsfChannels]. */
  nsfNoise: string | null;
  nsfChannels: number;
  skipHead: string | null;
  returnLength: string | null;
  formantLength: string | null;
  featType: 'float32' | 'float16';
  /** Feature size declared by the graph, when it is fixed. */
  channels: number | null;
  /** Declared rank of the scalar inputs (0 = [], 1 = [1]). */
  scalarRank: number;
}

interface Shape {
  id: ContractId;
  f0: boolean;
  names: string[];
}

// Longest first: a model with skip_head also has everything a plain VC Client model has.
const SHAPES: Shape[] = [
  // Resona's own build (models/torch/rvc-graph.ts) with its noise fed in rather than drawn in the graph.
  { id: 'vcclient-skip', f0: true, names: ['feats', 'p_len', 'pitch', 'pitchf', 'sid', 'skip_head', 'return_length', 'formant_length', 'rnd', 'rnd_nsf'] },
  { id: 'vcclient-skip', f0: false, names: ['feats', 'p_len', 'sid', 'skip_head', 'return_length', 'formant_length', 'rnd'] },
  { id: 'vcclient-skip', f0: true, names: ['feats', 'p_len', 'pitch', 'pitchf', 'sid', 'skip_head', 'return_length', 'formant_length'] },
  { id: 'vcclient-skip', f0: false, names: ['feats', 'p_len', 'sid', 'skip_head', 'return_length', 'formant_length'] },
  { id: 'webui', f0: true, names: ['phone', 'phone_lengths', 'pitch', 'pitchf', 'ds', 'rnd'] },
  { id: 'webui', f0: false, names: ['phone', 'phone_lengths', 'ds', 'rnd'] },
  { id: 'vcclient', f0: true, names: ['feats', 'p_len', 'pitch', 'pitchf', 'sid'] },
  { id: 'vcclient', f0: false, names: ['feats', 'p_len', 'sid'] },
];

/** Whether a contract takes formant_length, the only way formant shift reaches an RVC model. */
export function contractHasFormant(id: ContractId): boolean {
  return SHAPES.some((s) => s.id === id && s.names.includes('formant_length'));
}

export const KNOWN_CONTRACTS =
  'VC Client (feats, p_len, pitch, pitchf, sid; or feats, p_len, sid), ' +
  'VC Client with skip_head/return_length/formant_length, ' +
  'RVC WebUI (phone, phone_lengths, pitch, pitchf, ds, rnd; or phone, phone_lengths, ds, rnd)';

export class ContractError extends UserError {
  override name = 'ContractError';
  constructor(message: string) {
    super(message, 'voice');
  }
}

function describe(inputs: TensorSpec[]): string {
  return inputs.map((i) => `${i.name} ${i.type}[${i.dims.join(',')}]`).join(', ');
}

export function detectContract(info: OnnxModelInfo, file: string): SynthContract {
  const names = new Set(info.inputs.map((i) => i.name));
  const shape = SHAPES.find((s) => s.names.length === names.size && s.names.every((n) => names.has(n)));
  if (!shape) {
    throw new ContractError(
      `${file}: its inputs (${describe(info.inputs)}) match no known voice contract. Known: ${KNOWN_CONTRACTS}. ` +
        'If this is a content encoder or a pitch network, pass it with --encoder or --f0 instead.',
    );
  }
  const byName = new Map(info.inputs.map((i) => [i.name, i]));
  const webui = shape.id === 'webui';
  const featsName = webui ? 'phone' : 'feats';
  const feats = byName.get(featsName)!;
  if (feats.type !== 'float32' && feats.type !== 'float16') {
    throw new ContractError(`${file}: input ${featsName} is ${feats.type}; float32 or float16 expected`);
  }
  if (feats.dims.length !== 3) throw new ContractError(`${file}: input ${featsName} has shape [${feats.dims.join(',')}]; [1, T, C] expected`);
  for (const n of ['pitch', 'p_len', 'phone_lengths', 'sid', 'ds', 'skip_head', 'return_length', 'formant_length']) {
    const spec = byName.get(n);
    if (spec && spec.type !== 'int64') throw new ContractError(`${file}: input ${n} is ${spec.type}; int64 expected`);
  }
  // Noise inputs: float32, with a fixed channel count (192 when the graph leaves it open, as RVC's is).
  const noiseDim = (n: string, axis: number): number => {
    const spec = byName.get(n)!;
    if (spec.type !== 'float32' || spec.dims.length !== 3) throw new ContractError(`${file}: input ${n} is ${spec.type}[${spec.dims.join(',')}]; float32 [1, C, T] expected`);
    const d = spec.dims[axis];
    return typeof d === 'number' && d > 0 ? d : 192;
  };
  const c = feats.dims[2];
  const skip = shape.id === 'vcclient-skip';
  return {
    id: shape.id,
    f0: shape.f0,
    feats: featsName,
    length: webui ? 'phone_lengths' : 'p_len',
    speaker: webui ? 'ds' : 'sid',
    pitch: shape.f0 ? 'pitch' : null,
    pitchf: shape.f0 ? 'pitchf' : null,
    noise: names.has('rnd') ? 'rnd' : null,
    noiseChannels: names.has('rnd') ? noiseDim('rnd', 1) : 0,
    nsfNoise: names.has('rnd_nsf') ? 'rnd_nsf' : null,
    nsfChannels: names.has('rnd_nsf') ? noiseDim('rnd_nsf', 2) : 0,
    skipHead: skip ? 'skip_head' : null,
    returnLength: skip ? 'return_length' : null,
    formantLength: skip ? 'formant_length' : null,
    featType: feats.type,
    channels: typeof c === 'number' && c > 0 ? c : null,
    scalarRank: skip ? byName.get('skip_head')!.dims.length : 1,
  };
}

/** The VC Client's metadata JSON (ONNX metadata key "metadata"), the fields Resona uses. */
export interface ExportMetadata {
  samplingRate?: number;
  f0?: boolean;
  embChannels?: number;
  embedder?: string;
  embOutputLayer?: number;
  useFinalProj?: boolean;
  version?: string;
}

export function readExportMetadata(info: OnnxModelInfo, file: string): ExportMetadata | null {
  const raw = info.metadata['metadata'];
  if (raw === undefined) return null;
  try {
    const m = JSON.parse(raw) as unknown;
    if (m && typeof m === 'object') return m as ExportMetadata;
  } catch {
    // fall through
  }
  throw new ContractError(`${file}: its "metadata" entry is not JSON; re-export the voice, or import it with a voice.json that gives samplingRate, f0 and embChannels`);
}
