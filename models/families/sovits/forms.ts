// The so-vits-svc 4.x synthesizer ONNX forms in circulation (SOVITS-NOTES §3), recognised by their input names
// and types, data-driven as RVC's contracts are. One description per form, so the voice stage has one path.
//   4.0  (onnx_export.py of 4.0, onnx_export_old.py of 4.1): c, f0, mel2ph, uv, noise, sid           → audio
//   4.1  (onnx_export.py of 4.1):                            the same + vol; sid f32 [T, n_spk] when mixing
//   Resona's kept-region forms (its G_*.pth import, models/torch/sovits-graph.ts): either of the above plus
//        skip_head, return_length (int64 scalars, RVC's meaning)  → audio of the return_length frames only
import { UserError } from '../../../protocol/errors.js';
import type { OnnxModelInfo, TensorSpec } from '../../onnx/model-info.js';
import { SOVITS_DECODER_CONTEXT_KEY } from '../../torch/sovits-spec.js';

/**
 * Decoder context of a kept-region model that does not say (decoderLeftReach of so-vits-svc's decoder
 * template): Resona's builds always say, so this only guards a hand-edited file.
 */
const TEMPLATE_DECODER_CONTEXT = 14;

export const SOVITS_FORMS = ['sovits40', 'sovits41', 'sovits40-keep', 'sovits41-keep'] as const;
export type SovitsFormId = (typeof SOVITS_FORMS)[number];

interface FormShape {
  id: SovitsFormId;
  /** Input names, each with the element types it may have. */
  inputs: Record<string, readonly string[]>;
}

const V40 = { c: ['float32'], f0: ['float32'], mel2ph: ['int64'], uv: ['float32'], noise: ['float32'], sid: ['int64'] } as const;
const V41 = { ...V40, sid: ['int64', 'float32'], vol: ['float32'] } as const;
const KEEP = { skip_head: ['int64'], return_length: ['int64'] } as const;

// Matched by the whole set of names, so a kept-region model is never taken for its export form.
const SHAPES: readonly FormShape[] = [
  { id: 'sovits41-keep', inputs: { ...V41, ...KEEP } },
  { id: 'sovits40-keep', inputs: { ...V40, ...KEEP } },
  { id: 'sovits41', inputs: V41 },
  { id: 'sovits40', inputs: V40 },
];

export const KNOWN_SOVITS_FORMS =
  'so-vits-svc 4.0 export (c f32[1,T,C], f0 f32[1,T], mel2ph i64[1,T], uv f32[1,T], noise f32[1,192,T], sid i64[1]), ' +
  'so-vits-svc 4.1 export (the same plus vol f32[1,T]; sid f32[T,n_spk] with several speakers), ' +
  'Resona\'s kept-region build of either (plus skip_head i64[], return_length i64[])';

/** Inputs only so-vits-svc graphs have: a model with any of them is a so-vits one, or refused as one. */
const SOVITS_ONLY = ['mel2ph', 'uv', 't_window', 'noise_scale'];

export class SovitsFormError extends UserError {
  override name = 'SovitsFormError';
  constructor(message: string) {
    super(message, 'voice');
  }
}

export interface SovitsForm {
  id: SovitsFormId;
  /** Feature size the graph declares for c, when fixed. */
  channels: number | null;
  /** Channels of the flow's noise input (192 unless the graph fixes another). */
  noiseChannels: number;
  /** Whether the model takes per-hop loudness. */
  vol: boolean;
  /** 'id': sid i64[1]; 'mix': sid f32[T, n_spk] weights per frame. */
  speakerInput: 'id' | 'mix';
  /** Speakers the mix input declares (its second axis), when fixed. */
  mixSpeakers: number | null;
  /** skip_head / return_length: the model renders only the frames asked for (Resona's G_*.pth build). */
  keep: boolean;
  /** With keep: frames to render left of those kept for them to equal a full render (the decoder's reach); else 0. */
  decoderContext: number;
}

/** The so-vits-svc version a form comes from (4.1: takes vol). */
export function formVersion(id: SovitsFormId): '4.0' | '4.1' {
  return id.startsWith('sovits41') ? '4.1' : '4.0';
}

function describe(inputs: readonly TensorSpec[]): string {
  return inputs.map((i) => `${i.name} ${i.type}[${i.dims.join(',')}]`).join(', ');
}

/** Whether a model's inputs say so-vits-svc (so it is this family's to run or refuse, not RVC's). */
export function looksLikeSovits(info: OnnxModelInfo): boolean {
  return info.inputs.some((i) => SOVITS_ONLY.includes(i.name));
}

const fixed = (d: number | string | undefined): number | null => (typeof d === 'number' && d > 0 ? d : null);

function decoderContext(info: OnnxModelInfo): number {
  const v = Number(info.metadata[SOVITS_DECODER_CONTEXT_KEY]);
  return Number.isInteger(v) && v >= 0 && v <= 256 ? v : TEMPLATE_DECODER_CONTEXT;
}

export function detectSovitsForm(info: OnnxModelInfo, file: string): SovitsForm {
  const byName = new Map(info.inputs.map((i) => [i.name, i]));
  const shape = SHAPES.find((s) => Object.keys(s.inputs).length === byName.size && Object.entries(s.inputs).every(([n, types]) => types.includes(byName.get(n)?.type ?? '')));
  const refuse = (why: string) => new SovitsFormError(`${file}: ${why}. Its inputs: ${describe(info.inputs)}. Known: ${KNOWN_SOVITS_FORMS}`);
  if (!shape) throw refuse('matches no so-vits-svc ONNX form Resona runs (4.0-v2 with t_window, VC Client\'s c/g/noise_scale form and diffusion parts are not supported)');
  const c = byName.get('c')!;
  if (c.dims.length !== 3) throw refuse(`input c has shape [${c.dims.join(',')}]; [1, T, C] (time-major) expected`);
  for (const n of ['f0', 'mel2ph', 'uv', ...(shape.inputs.vol ? ['vol'] : [])]) {
    if (byName.get(n)!.dims.length !== 2) throw refuse(`input ${n} has shape [${byName.get(n)!.dims.join(',')}]; [1, T] expected`);
  }
  const noise = byName.get('noise')!;
  if (noise.dims.length !== 3) throw refuse(`input noise has shape [${noise.dims.join(',')}]; [1, 192, T] expected`);
  const sid = byName.get('sid')!;
  const mix = sid.type === 'float32';
  if (mix && sid.dims.length !== 2) throw refuse(`input sid is float32 [${sid.dims.join(',')}]; speaker-mix weights [T, n_spk] expected`);
  if (!mix && sid.dims.length !== 1) throw refuse(`input sid is int64 [${sid.dims.join(',')}]; a speaker id [1] expected`);
  const keep = 'skip_head' in shape.inputs;
  for (const n of keep ? ['skip_head', 'return_length'] : []) {
    if (byName.get(n)!.dims.length !== 0) throw refuse(`input ${n} has shape [${byName.get(n)!.dims.join(',')}]; a scalar [] expected`);
  }
  return {
    id: shape.id,
    channels: fixed(c.dims[2]),
    noiseChannels: fixed(noise.dims[1]) ?? 192,
    vol: byName.has('vol'),
    speakerInput: mix ? 'mix' : 'id',
    mixSpeakers: mix ? fixed(sid.dims[1]) : null,
    keep,
    decoderContext: keep ? decoderContext(info) : 0,
  };
}
