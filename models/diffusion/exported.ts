// The exported ONNX sets of so-vits-svc 4.1 shallow diffusion in circulation: what upstream's
// diffusion/onnx_export.py writes (Unit2Mel.OnnxExport over diffusion_onnx.py, opset 16) and MoeVoiceStudio
// runs (SOVITS-NOTES §3(e)):
//   {name}_encoder.onnx  hubert f32 [1, T_h, 768], mel2ph i64 [1, T] (1-based rows into hubert padded with one
//                        zero row), f0 f32 [1, T] (Hz), volume f32 [1, T][, spk_mix f32 [N, S] (n_spk > 1)]
//                        → mel_pred [1, H, T]: despite the name, Unit2Mel's condition, not a mel;
//   {name}_denoise.onnx  noise f32 [1, 1, M, T] (x), time i64 [1], condition [1, H, T] → noise_pred (eps);
//   {name}_pred.onnx     noise (x), noise_pred (eps′), time, time_prev i64 [1] → noise_pred_o: one PLMS
//                        x-update over the alphas_cumprod baked into the graph;
//   {name}_after.onnx    x [1, 1, M, T] → mel_out [1, M, T]: the denormalisation from [−1, 1] to [−12, 2].
// Each file is recognised by its input names (like the RVC contracts, ../rvc/contracts.ts), never by its
// name alone; a file whose inputs fit no part, or fit another part than its name says, is refused with the
// inputs found.
//
// How Resona uses them behind refineMel (./diffusion.ts): the encoder gives the condition and every sampler
// calls _denoise. _pred does PNDM's x-updates (both the warm-up's provisional one and each step's), as
// MoeVoiceStudio's PndmSampler does; _after denormalises every sampler's result, as MoeVoiceStudio does. The
// shallow path's normalisation and q_sample stay in TypeScript (the set has no part for them), so at load
// _after is checked to map −1 and 1 onto [−12, 2] exactly as that normalisation assumes, and _pred to hold
// the linear-β schedule the TypeScript samplers use.
//
// The exporter traces time as int64, but its graph only casts it to float: DPM-Solver and UniPC call the
// denoiser at fractional steps, so when `time` feeds nothing but a Cast to float it is retyped float32 (the
// same network, without rounding the step). Otherwise the set runs the whole-step samplers only.
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { type OnnxModelInfo, parseOnnxInfo, type TensorSpec } from '../onnx/model-info.js';
import { onnx } from '../onnx/proto.js';
import { readRegularFile } from '../regular-file.js';
import { loadSession, type LoadedSession, type SessionOptions } from '../runtime.js';
import { type DiffusionConfig, ENCODER_UNITS, type SamplerName } from './config.js';
import { DiffusionError } from './errors.js';
import { SPEC_MAX, SPEC_MIN } from './model.js';
import { linearBetas, makeSchedule, type Schedule } from './schedule.js';

export type ExportedPart = 'encoder' | 'denoise' | 'pred' | 'after';
export const EXPORTED_PARTS: readonly ExportedPart[] = ['encoder', 'denoise', 'pred', 'after'];

interface PartShape { part: ExportedPart; names: string[]; optional?: string[] }
const SHAPES: PartShape[] = [
  { part: 'encoder', names: ['hubert', 'mel2ph', 'f0', 'volume'], optional: ['spk_mix'] },
  { part: 'denoise', names: ['noise', 'time', 'condition'] },
  { part: 'pred', names: ['noise', 'noise_pred', 'time', 'time_prev'] },
  { part: 'after', names: ['x'] },
];

export const KNOWN_EXPORTED_PARTS =
  '_encoder (hubert, mel2ph, f0, volume[, spk_mix]), _denoise (noise, time, condition), ' +
  '_pred (noise, noise_pred, time, time_prev), _after (x)';

const describe = (inputs: readonly TensorSpec[]) => inputs.map((i) => `${i.name} ${i.type}[${i.dims.join(',')}]`).join(', ') || 'none';

/** Which part of a so-vits-svc diffusion export a graph is, from its input names. */
export function exportedPart(info: OnnxModelInfo, file: string): ExportedPart {
  const names = new Set(info.inputs.map((i) => i.name));
  const shape = SHAPES.find((s) => s.names.every((n) => names.has(n)) && [...names].every((n) => s.names.includes(n) || (s.optional ?? []).includes(n)));
  if (!shape) throw new DiffusionError(`${file}: its inputs (${describe(info.inputs)}) match no part of a so-vits-svc diffusion ONNX export. Known: ${KNOWN_EXPORTED_PARTS}; re-export with so-vits-svc 4.1's diffusion/onnx_export.py`);
  return shape.part;
}

/** A file name of a set: {name}_{part}.onnx (the exporter's names; any case). */
export const PART_FILE = /^(.*)_(encoder|denoise|pred|after)\.onnx$/i;

/** The set's files from one of them or from the common prefix ({name} of {name}_encoder.onnx). */
export function exportedSetFiles(fileOrPrefix: string): Record<ExportedPart, string> {
  const m = PART_FILE.exec(fileOrPrefix);
  const prefix = m ? m[1]! : fileOrPrefix.replace(/\.onnx$/i, '');
  return Object.fromEntries(EXPORTED_PARTS.map((p) => [p, `${prefix}_${p}.onnx`])) as Record<ExportedPart, string>;
}

export interface ExportedDiffusion {
  /** The config the set implies (sizes from its graphs; the rest so-vits-svc's defaults or a given diffusion.yaml). */
  config: DiffusionConfig;
  mels: number;
  schedule: Schedule;
  files: Partial<Record<ExportedPart, string>>;
  bytes: Partial<Record<ExportedPart, Uint8Array>>;
  /** Whether the denoiser takes fractional steps (time retyped float32) or whole steps only. */
  fractionalSteps: boolean;
  /** The encoder takes spk_mix (n_spk > 1). */
  speakerMix: boolean;
}

const MAX_PART_BYTES = { max: 2 ** 31 - 1, sizedFrom: 'a real-size _denoise.onnx (20 × 512 WaveNet) is about 40 MB' };

function dim(spec: TensorSpec | undefined, axis: number): number | null {
  const d = spec?.dims[axis];
  return typeof d === 'number' && d > 0 ? d : null;
}

function input(info: OnnxModelInfo, name: string): TensorSpec {
  return info.inputs.find((i) => i.name === name)!;
}

function needType(file: string, spec: TensorSpec, types: string[]): void {
  if (!types.includes(spec.type)) throw new DiffusionError(`${file}: input ${spec.name} is ${spec.type}[${spec.dims.join(',')}]; expected ${types.join(' or ')}, as so-vits-svc's exporter writes it`);
}

/** The denoiser with `time` retyped float32 when its only use is a Cast to float; null when it is used otherwise. */
export function withFloatTime(bytes: Uint8Array, file: string): Uint8Array | null {
  const model = onnx.ModelProto.decode(bytes);
  const g = model.graph!;
  const time = (g.input ?? []).find((v) => v.name === 'time');
  const tt = time?.type?.tensorType;
  if (!tt) throw new DiffusionError(`${file}: input time has no tensor type; re-export the diffusion model`);
  if (tt.elemType === onnx.TensorProto.DataType.FLOAT) return bytes;
  const users = (g.node ?? []).filter((n) => (n.input ?? []).includes('time'));
  const castToFloat = (n: (typeof users)[number]) => n.opType === 'Cast' && (n.attribute ?? []).some((a) => a.name === 'to' && Number(a.i) === onnx.TensorProto.DataType.FLOAT);
  if (users.length === 0 || !users.every(castToFloat)) return null;
  tt.elemType = onnx.TensorProto.DataType.FLOAT;
  return onnx.ModelProto.encode(model).finish();
}

/** One file of a set as read (the bytes) and where it came from (messages, the voice folder's copy). */
export interface ExportedFile { path: string; bytes: Uint8Array }
export type ExportedFiles = Partial<Record<ExportedPart, ExportedFile>>;

/**
 * Reads a set's files: `from` is any of its files or {name} (the siblings found by that prefix), or each
 * part's file by name (a voice folder's). _encoder and _denoise are required; _pred and _after are read when
 * present (named, or found beside the others).
 */
export async function readExportedFiles(from: string | Partial<Record<ExportedPart, string>>): Promise<ExportedFiles> {
  const want = typeof from === 'string' ? exportedSetFiles(from) : from;
  const out: ExportedFiles = {};
  for (const part of EXPORTED_PARTS) {
    const file = want[part];
    if (!file) continue;
    let missing = false;
    try {
      out[part] = { path: file, bytes: await readRegularFile(file, { what: `diffusion ${part}`, limit: MAX_PART_BYTES, fail: (m, problem) => ((missing = problem === 'missing'), new DiffusionError(m)) }) };
    } catch (e) {
      if (!missing) throw e;
      // Beside the others an absent _pred or _after is no fault; one a voice.json names must be there.
      if ((part === 'pred' || part === 'after') && typeof from === 'string') continue;
      throw new DiffusionError(`${file}: no such file; an exported so-vits-svc diffusion set needs ${want.encoder ? path.basename(want.encoder) : '{name}_encoder.onnx'} and ${want.denoise ? path.basename(want.denoise) : '{name}_denoise.onnx'} side by side (_pred and _after are used when present)`);
    }
  }
  return out;
}

/**
 * Reads and checks an exported set. `from`: any of its files or {name}, or each part's file (see readExportedFiles).
 * `config` (the model's diffusion.yaml, when the user has it) supplies k_step_max and is checked against the graphs.
 */
export async function readExportedDiffusion(from: string | Partial<Record<ExportedPart, string>>, o: { config?: DiffusionConfig } = {}): Promise<ExportedDiffusion> {
  return exportedDiffusionFrom(await readExportedFiles(from), o);
}

/** Checks a set read already (readExportedFiles, or an import's bytes): each part by its inputs, then their sizes against each other and the config. */
export function exportedDiffusionFrom(read: ExportedFiles, o: { config?: DiffusionConfig } = {}): ExportedDiffusion {
  const files: Partial<Record<ExportedPart, string>> = {};
  const bytes: Partial<Record<ExportedPart, Uint8Array>> = {};
  const infos: Partial<Record<ExportedPart, OnnxModelInfo>> = {};
  for (const part of EXPORTED_PARTS) {
    const r = read[part];
    if (!r) {
      if (part === 'encoder' || part === 'denoise') throw new DiffusionError(`the exported diffusion set has no _${part} file; it needs {name}_encoder.onnx and {name}_denoise.onnx side by side`);
      continue;
    }
    const file = r.path;
    const info = parseOnnxInfo(r.bytes, file);
    const got = exportedPart(info, file);
    if (got !== part) throw new DiffusionError(`${file}: its inputs (${describe(info.inputs)}) are those of the _${got} part, not of _${part}; the files of the set are mixed up`);
    files[part] = file;
    bytes[part] = r.bytes;
    infos[part] = info;
  }
  const enc = infos.encoder!;
  const den = infos.denoise!;
  const fEnc = files.encoder!;
  const fDen = files.denoise!;
  for (const n of ['hubert', 'f0', 'volume']) needType(fEnc, input(enc, n), ['float32']);
  needType(fEnc, input(enc, 'mel2ph'), ['int64']);
  needType(fDen, input(den, 'noise'), ['float32']);
  needType(fDen, input(den, 'condition'), ['float32']);
  needType(fDen, input(den, 'time'), ['int64', 'float32']);
  const units = dim(input(enc, 'hubert'), 2);
  if (!units) throw new DiffusionError(`${fEnc}: input hubert has shape [${input(enc, 'hubert').dims.join(',')}]; expected [1, T, units] with a fixed unit width`);
  const mels = dim(input(den, 'noise'), 2);
  if (input(den, 'noise').dims.length !== 4 || !mels) throw new DiffusionError(`${fDen}: input noise has shape [${input(den, 'noise').dims.join(',')}]; expected [1, 1, mels, T]`);
  const hidden = dim(input(den, 'condition'), 1);
  if (!hidden) throw new DiffusionError(`${fDen}: input condition has shape [${input(den, 'condition').dims.join(',')}]; expected [1, hidden, T]`);
  const encOut = enc.outputs.find((v) => v.name === 'mel_pred');
  if (!encOut) throw new DiffusionError(`${fEnc}: it has no output mel_pred (outputs: ${enc.outputs.map((v) => v.name).join(', ')}); so-vits-svc's exporter names the condition mel_pred`);
  const encHidden = dim(encOut, 1);
  if (encHidden !== null && encHidden !== hidden) throw new DiffusionError(`${fEnc}: mel_pred has ${encHidden} channels but ${path.basename(fDen)} takes a condition of ${hidden}; the files come from different models`);
  for (const part of ['pred', 'after'] as const) {
    const info = infos[part];
    if (!info) continue;
    const x = input(info, part === 'pred' ? 'noise' : 'x');
    if (dim(x, 2) !== mels) throw new DiffusionError(`${files[part]}: input ${x.name} has shape [${x.dims.join(',')}]; expected [1, 1, ${mels}, T] like ${path.basename(fDen)}`);
  }
  const spk = enc.inputs.find((i) => i.name === 'spk_mix');
  const speakers = spk ? dim(spk, 1) : 1;
  if (speakers === null) throw new DiffusionError(`${fEnc}: input spk_mix has shape [${spk!.dims.join(',')}]; expected [N, speakers] with a fixed speaker count`);

  const denoise = withFloatTime(bytes.denoise!, fDen);
  if (denoise) bytes.denoise = denoise;
  const init = den.initializers;
  const channels = init['input_projection.weight']?.[0] ?? 0;
  const layers = Object.keys(init).filter((k) => /^residual_layers\.\d+\.dilated_conv\.weight$/.test(k)).length;
  const y = o.config;
  if (y) {
    const clash = (what: string, a: number, b: number) => {
      if (a !== b) throw new DiffusionError(`the diffusion.yaml given with ${path.basename(fDen)} says ${what} ${a}, the exported graphs ${b}; it belongs to another model`);
    };
    clash('encoder_out_channels', y.units, units);
    clash('n_hidden', y.hidden, hidden);
    clash('n_spk (as the encoder sees it)', Math.max(1, y.speakers), speakers);
    if (channels) clash('n_chans', y.channels, channels);
    if (layers) clash('n_layers', y.layers, layers);
  }
  const encoder = Object.keys(ENCODER_UNITS).find((k) => ENCODER_UNITS[k] === units) ?? `units-${units}`;
  const config: DiffusionConfig = y ?? {
    encoder, units, sampleRate: 44100, hop: 512, layers, channels, hidden, speakers, usePitchAug: false,
    // Without its diffusion.yaml the set does not say how deep it was trained: the whole chain is allowed.
    timesteps: 1000, kStepMax: 1000, vocoder: 'nsf-hifigan', speedup: 10, method: 'pndm', speakerNames: {},
  };
  return { config, mels, schedule: makeSchedule(linearBetas(config.timesteps)), files, bytes, fractionalSteps: denoise !== null, speakerMix: !!spk };
}

/** The sessions of a set, and how refineMel feeds them. */
export interface ExportedParts {
  set: ExportedDiffusion;
  encoder: LoadedSession;
  denoise: LoadedSession;
  pred: LoadedSession | null;
  after: LoadedSession | null;
}

async function checkAfter(after: LoadedSession, M: number, file: string): Promise<void> {
  const x = new Float32Array(2 * M);
  for (let m = 0; m < M; m++) {
    x[m * 2] = -1;
    x[m * 2 + 1] = 1;
  }
  const out = (await after.run({ x: new ort.Tensor('float32', x, [1, 1, M, 2]) }))['mel_out']!.data as Float32Array;
  const lo = out[0]!;
  const hi = out[1]!;
  if (Math.abs(lo - SPEC_MIN) > 1e-4 || Math.abs(hi - SPEC_MAX) > 1e-4) {
    throw new DiffusionError(`${file}: it maps −1 and 1 to ${lo.toPrecision(5)} and ${hi.toPrecision(5)}; expected ${SPEC_MIN} and ${SPEC_MAX} (so-vits-svc's natural-log mel range, which the shallow path's normalisation assumes). A log10 vocoder export is not supported`);
  }
}

async function checkPred(pred: LoadedSession, M: number, schedule: Schedule, file: string): Promise<void> {
  // x = 1, eps = 0: x' = 1 + (ᾱ_p − ᾱ_t) / (√ᾱ_t (√ᾱ_t + √ᾱ_p)), which pins ᾱ at both steps.
  for (const [t, p] of [[999, 899], [99, 49], [10, 0]] as const) {
    if (t >= schedule.timesteps) continue;
    const ones = new Float32Array(M).fill(1);
    const out = await pred.run({
      noise: new ort.Tensor('float32', ones, [1, 1, M, 1]),
      noise_pred: new ort.Tensor('float32', new Float32Array(M), [1, 1, M, 1]),
      time: new ort.Tensor('int64', BigInt64Array.of(BigInt(t)), [1]),
      time_prev: new ort.Tensor('int64', BigInt64Array.of(BigInt(p)), [1]),
    });
    const got = (out['noise_pred_o']!.data as Float32Array)[0]!;
    const at = schedule.alphasCumprod[t]!;
    const ap = schedule.alphasCumprod[p]!;
    const want = 1 + (ap - at) / (Math.sqrt(at) * (Math.sqrt(at) + Math.sqrt(ap)));
    if (Math.abs(got - want) > 1e-4 * Math.abs(want)) {
      throw new DiffusionError(`${file}: its PLMS update from step ${t} to ${p} scales x by ${got.toPrecision(6)}; expected ${want.toPrecision(6)} for the linear β ${1e-4}…${0.02} schedule over ${schedule.timesteps} steps. The model was trained with another schedule, which Resona does not run`);
    }
  }
}

export async function loadExportedParts(set: ExportedDiffusion, o: SessionOptions = {}): Promise<ExportedParts> {
  const opened: LoadedSession[] = [];
  const open = async (part: ExportedPart) => {
    const b = set.bytes[part];
    if (!b) return null;
    const s = await loadSession(b, { ...o, name: set.files[part]! });
    opened.push(s);
    return s;
  };
  try {
    // The sessions hold the networks now; the parts keep the set without its bytes (a real _denoise is ~40 MB).
    const parts: ExportedParts = { set: { ...set, bytes: {} }, encoder: (await open('encoder'))!, denoise: (await open('denoise'))!, pred: await open('pred'), after: await open('after') };
    if (parts.after) await checkAfter(parts.after, set.mels, set.files.after!);
    if (parts.pred) await checkPred(parts.pred, set.mels, set.schedule, set.files.pred!);
    return parts;
  } catch (e) {
    await Promise.all(opened.map((s) => s.release()));
    throw e;
  }
}

/** Samplers that call the denoiser at fractional steps. */
export function needsFractionalSteps(method: SamplerName, speedup: number): boolean {
  return speedup > 1 && (method === 'dpm-solver++' || method === 'dpm-solver' || method === 'unipc');
}

const i64 = (v: number) => new ort.Tensor('int64', BigInt64Array.of(BigInt(v)), [1]);

/** The condition [1, H, T] from the set's encoder: units at frame rate, so mel2ph is 1 … T. */
export async function exportedCondition(p: ExportedParts, T: number, units: Float32Array, f0: Float32Array, volume: Float32Array, speaker: Float32Array | null): Promise<ort.Tensor> {
  const { config: c } = p.set;
  const mel2ph = new BigInt64Array(T);
  for (let t = 0; t < T; t++) mel2ph[t] = BigInt(t + 1);
  const feeds: Record<string, ort.Tensor> = {
    hubert: new ort.Tensor('float32', units, [1, T, c.units]),
    mel2ph: new ort.Tensor('int64', mel2ph, [1, T]),
    f0: new ort.Tensor('float32', f0, [1, T]),
    volume: new ort.Tensor('float32', volume, [1, T]),
  };
  if (p.set.speakerMix) {
    const S = c.speakers;
    const w = speaker ?? Float32Array.from({ length: S }, (_, i) => (i === 0 ? 1 : 0));
    feeds['spk_mix'] = new ort.Tensor('float32', w, [w.length / S, S]);
  }
  const cond = (await p.encoder.run(feeds))['mel_pred']!;
  if (cond.data.length !== c.hidden * T) throw new DiffusionError(`${p.set.files.encoder}: mel_pred has ${cond.data.length} values for ${T} frames; expected ${c.hidden * T} ([1, ${c.hidden}, T])`, 'model');
  return cond.dims.length === 3 ? cond : new ort.Tensor('float32', cond.data as Float32Array, [1, c.hidden, T]);
}

/** eps for x at step t through _denoise (t rounded only when the set takes whole steps, where it always is whole). */
export function exportedDenoise(p: ExportedParts, cond: ort.Tensor, T: number): (x: Float32Array, t: number) => Promise<Float32Array> {
  const M = p.set.mels;
  const time = p.set.fractionalSteps ? new ort.Tensor('float32', new Float32Array(1), [1]) : i64(0);
  return async (x, t) => {
    if (p.set.fractionalSteps) (time.data as Float32Array)[0] = t;
    else (time.data as BigInt64Array)[0] = BigInt(Math.round(t));
    const out = await p.denoise.run({ noise: new ort.Tensor('float32', x, [1, 1, M, T]), time, condition: cond });
    return out['noise_pred']!.data as Float32Array;
  };
}

/** PNDM's x-update through _pred: x + (ᾱ_p − ᾱ_i)(…), with eps′ the combined noise. */
export function exportedPlmsUpdate(p: ExportedParts, T: number): ((x: Float32Array, eps: Float32Array, i: number, prev: number) => Promise<Float32Array>) | undefined {
  const pred = p.pred;
  if (!pred) return undefined;
  const M = p.set.mels;
  return async (x, eps, i, prev) => {
    const out = await pred.run({ noise: new ort.Tensor('float32', x, [1, 1, M, T]), noise_pred: new ort.Tensor('float32', eps, [1, 1, M, T]), time: i64(i), time_prev: i64(prev) });
    return out['noise_pred_o']!.data as Float32Array;
  };
}

/** The log mel [1, M, T] from normalised x through _after. */
export async function exportedAfter(p: ExportedParts, x: Float32Array, T: number): Promise<Float32Array | null> {
  if (!p.after) return null;
  const out = await p.after.run({ x: new ort.Tensor('float32', x, [1, 1, p.set.mels, T]) });
  return out['mel_out']!.data as Float32Array;
}
