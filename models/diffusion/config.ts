// diffusion.yaml (so-vits-svc 4.1's shallow-diffusion config, written by yaml.dump from
// configs_template/diffusion_template.yaml) read as data and checked field by field: only what inference
// uses is kept, and a field that would make Resona compute something else than so-vits-svc is refused with
// its value and what is expected.
//
// The YAML parser is js-yaml 4 (MIT; already in the tree through electron-builder, now a direct dependency):
// its load builds plain data only, and with CORE_SCHEMA nothing beyond maps, lists, strings, numbers,
// booleans and null. Aliases are shared references there, never copies, so a "billion laughs" file costs
// nothing: only the fields below are read.
/// <reference path="./js-yaml.d.ts" />
// (the reference: the declaration must come along wherever this file is compiled, the Electron build too)
import yaml from 'js-yaml';
import { readRegularFile } from '../regular-file.js';
import { badField, DiffusionError } from './errors.js';

/** Unit sizes of the speech encoders so-vits-svc 4.1 knows (vencoder/, SOVITS-NOTES §1). */
export const ENCODER_UNITS: Readonly<Record<string, number>> = {
  vec768l12: 768,
  vec256l9: 256,
  hubertsoft: 256,
  'whisper-ppg': 1024,
  'whisper-ppg-large': 1280,
  cnhubertlarge: 1024,
  dphubert: 768,
  'wavlmbase+': 768,
};

export const SAMPLERS = ['dpm-solver++', 'dpm-solver', 'ddim', 'pndm', 'unipc'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export interface DiffusionConfig {
  encoder: string;
  /** Width of the units (encoder_out_channels). */
  units: number;
  sampleRate: number;
  hop: number;
  layers: number;
  channels: number;
  hidden: number;
  /** n_spk as written; a speaker table exists only when it is above 1. */
  speakers: number;
  usePitchAug: boolean;
  timesteps: number;
  /** k_step_max as Unit2Mel resolves it: 0 or ≥ timesteps means the whole chain. */
  kStepMax: number;
  vocoder: string;
  speedup: number;
  method: SamplerName;
  /** spk: name → id. */
  speakerNames: Record<string, number>;
}

const MAX_YAML_BYTES = { max: 1 << 20, sizedFrom: 'a so-vits-svc diffusion.yaml is about 1.5 KiB' };

function section(where: string, root: Record<string, unknown>, name: string): Record<string, unknown> {
  const v = root[name];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badField(where, name, v, 'a mapping');
  return v as Record<string, unknown>;
}

function int(where: string, s: Record<string, unknown>, path: string, key: string, min: number, max: number, dflt?: number): number {
  const v = s[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw badField(where, `${path}.${key}`, v, `an integer in ${min}–${max}`);
  return v;
}

/** The config from the YAML text; `where` names the file in messages. */
export function parseDiffusionConfig(text: string, where: string): DiffusionConfig {
  let root: unknown;
  try {
    root = yaml.load(text, { schema: yaml.CORE_SCHEMA, filename: where });
  } catch (e) {
    throw new DiffusionError(`${where} is not valid YAML (${(e as Error).message.split('\n')[0]}); re-save it from so-vits-svc`);
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root)) throw new DiffusionError(`${where} does not hold a mapping of sections (data, model, infer…); is it a diffusion.yaml?`);
  const r = root as Record<string, unknown>;
  const data = section(where, r, 'data');
  const model = section(where, r, 'model');
  const infer = r['infer'] === undefined ? {} : section(where, r, 'infer');
  const vocoder = r['vocoder'] === undefined ? {} : section(where, r, 'vocoder');

  if (model['type'] !== undefined && model['type'] !== 'Diffusion') throw badField(where, 'model.type', model['type'], '"Diffusion" (so-vits-svc 4.1 shallow diffusion)');
  const encoder = data['encoder'];
  if (typeof encoder !== 'string' || !(encoder in ENCODER_UNITS)) throw badField(where, 'data.encoder', encoder, `one of ${Object.keys(ENCODER_UNITS).join(', ')}`);
  const units = int(where, data, 'data', 'encoder_out_channels', 1, 4096);
  if (units !== ENCODER_UNITS[encoder]) throw badField(where, 'data.encoder_out_channels', units, `${ENCODER_UNITS[encoder]} for encoder ${encoder}`);
  const sampleRate = int(where, data, 'data', 'sampling_rate', 8000, 192000, 44100);
  const hop = int(where, data, 'data', 'block_size', 1, 8192, 512);
  const timesteps = int(where, model, 'model', 'timesteps', 1, 100000, 1000);
  const rawK = model['k_step_max'] ?? 0;
  if (typeof rawK !== 'number' || !Number.isInteger(rawK)) throw badField(where, 'model.k_step_max', rawK, `an integer (0 = all ${timesteps} steps)`);
  // Unit2Mel: a k_step_max that is not in (0, timesteps) means the whole chain.
  const kStepMax = rawK > 0 && rawK < timesteps ? rawK : timesteps;
  const nSpk = model['n_spk'] ?? 1;
  if (typeof nSpk !== 'number' || !Number.isInteger(nSpk) || nSpk < 1 || nSpk > 100000) throw badField(where, 'model.n_spk', nSpk, 'an integer ≥ 1');
  const pitchAug = model['use_pitch_aug'] ?? false;
  if (typeof pitchAug !== 'boolean') throw badField(where, 'model.use_pitch_aug', pitchAug, 'true or false');
  const vtype = vocoder['type'] ?? 'nsf-hifigan';
  if (vtype !== 'nsf-hifigan') throw badField(where, 'vocoder.type', vtype, '"nsf-hifigan" (the only vocoder so-vits-svc 4.1 diffusion uses)');
  const method = infer['method'] ?? 'dpm-solver++';
  if (typeof method !== 'string' || !(SAMPLERS as readonly string[]).includes(method)) throw badField(where, 'infer.method', method, `one of ${SAMPLERS.join(', ')}`);
  const speedup = int(where, infer, 'infer', 'speedup', 1, timesteps, 10);

  const speakerNames: Record<string, number> = {};
  const spk = r['spk'];
  if (spk !== undefined && spk !== null) {
    if (typeof spk !== 'object' || Array.isArray(spk)) throw badField(where, 'spk', spk, 'a mapping of speaker name to id');
    for (const [name, id] of Object.entries(spk as Record<string, unknown>)) {
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= Math.max(nSpk, 1)) throw badField(where, `spk.${name}`, id, `a speaker id in 0–${Math.max(nSpk, 1) - 1}`);
      speakerNames[name] = id;
    }
  }
  return {
    encoder,
    units,
    sampleRate,
    hop,
    layers: int(where, model, 'model', 'n_layers', 1, 256),
    channels: int(where, model, 'model', 'n_chans', 2, 8192),
    hidden: int(where, model, 'model', 'n_hidden', 1, 8192),
    speakers: nSpk,
    usePitchAug: pitchAug,
    timesteps,
    kStepMax,
    vocoder: vtype,
    speedup,
    method: method as DiffusionConfig['method'],
    speakerNames,
  };
}

export async function readDiffusionConfig(file: string): Promise<DiffusionConfig> {
  const bytes = await readRegularFile(file, { what: 'diffusion config', limit: MAX_YAML_BYTES, fail: (m) => new DiffusionError(m) });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DiffusionError(`${file} is not UTF-8 text; a diffusion.yaml is`);
  }
  return parseDiffusionConfig(text, file);
}
