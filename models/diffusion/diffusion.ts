// Shallow diffusion as one function: (mel, f0, volume, units, speaker, settings, noise) → mel, over the two
// ONNX sessions of ./graph.ts. What GaussianDiffusion.forward does at inference:
//   shallow:        x = q_sample(norm(mel), t = k − 1, noise) = √ᾱ_{k−1}·norm(mel) + √(1 − ᾱ_{k−1})·noise,
//                   then the sampler from step k (k ≤ k_step_max);
//   only diffusion: x = noise, k = timesteps (only for a model trained on the whole chain, k_step_max = timesteps).
// norm maps the natural-log mel's [spec_min, spec_max] = [−12, 2] onto [−1, 1]; the result is mapped back.
// The noise comes from the caller, so a block can be reproduced (tests) or drawn afresh (the engine). It is
// drawn in this order: the starting noise (M·T values), then, at speedup 1 only, M·T per step but the last.
// Streaming per block is the engine's: this function holds no state between calls.
// The networks come either from Resona's own graphs of a model_*.pt (loadDiffusion) or from an exported ONNX
// set (loadExportedDiffusion, ./exported.ts: its encoder and denoiser, its _pred for PNDM's updates and its
// _after for the denormalisation); the samplers are the same TypeScript for both.
import * as ort from 'onnxruntime-node';
import { loadSession, type LoadedSession, type SessionOptions } from '../runtime.js';
import type { SamplerName } from './config.js';
import { badSetting, DiffusionError } from './errors.js';
import { buildConditionEncoder, buildDenoiser } from './graph.js';
import { type DiffusionModel, SPEC_MAX, SPEC_MIN } from './model.js';
import {
  exportedAfter, exportedCondition, exportedDenoise, type ExportedDiffusion, type ExportedParts, exportedPlmsUpdate,
  loadExportedParts, needsFractionalSteps,
} from './exported.js';
import { checkRun, type Denoise, type NoiseSource, sample } from './samplers.js';
import type { Schedule } from './schedule.js';

export interface DiffusionSettings {
  method: SamplerName;
  /** k_step: how deep into the chain the mel is noised (shallow mode); ignored in only-diffusion mode. */
  kStep: number;
  speedup: number;
  mode: 'shallow' | 'only-diffusion';
}

export interface DiffusionInputs {
  frames: number;
  /** Natural-log mel, [1, M, T] channel-major (the vocoder front end's layout); shallow mode only. */
  mel?: Float32Array;
  /** Hz per frame (unvoiced frames interpolated, as so-vits feeds it). */
  f0: Float32Array;
  volume: Float32Array;
  /** [1, T, U] frame-major. */
  units: Float32Array;
  /** Weights over the speaker table: S values for the block or T·S per frame (n_spk > 1 only). */
  speaker?: Float32Array;
  /** Called with every (x, t) given to the denoiser (tests, tracing). */
  observe?: (x: Float32Array, t: number) => void;
}

/** What the samplers need of a model: its config, mel bins and schedule (a DiffusionModel or an exported set). */
export type DiffusionShape = Pick<DiffusionModel, 'config' | 'mels' | 'schedule'>;

export interface DiffusionSessions {
  model: DiffusionShape;
  /** Resona's condition encoder (cond, cond_proj) and denoiser (x, t, cond_proj); the set's _encoder and _denoise for an exported set. */
  condition: LoadedSession;
  denoiser: LoadedSession;
  /** Set when the networks are an exported ONNX set: refineMel feeds them by that set's contract. */
  exported?: ExportedParts;
  release(): Promise<void>;
}

export async function loadDiffusion(model: DiffusionModel, o: SessionOptions = {}): Promise<DiffusionSessions> {
  const condition = await loadSession(buildConditionEncoder(model), { ...o, name: 'diffusion condition encoder' });
  const denoiser = await loadSession(buildDenoiser(model), { ...o, name: 'diffusion denoiser' });
  return { model, condition, denoiser, release: async () => void (await Promise.all([condition.release(), denoiser.release()])) };
}

/** Sessions over an exported set (readExportedDiffusion), behind the same refineMel. */
export async function loadExportedDiffusion(set: ExportedDiffusion, o: SessionOptions = {}): Promise<DiffusionSessions> {
  const p = await loadExportedParts(set, o);
  const all = [p.encoder, p.denoise, p.pred, p.after].filter((s): s is LoadedSession => s !== null);
  return { model: p.set, condition: p.encoder, denoiser: p.denoise, exported: p, release: async () => void (await Promise.all(all.map((s) => s.release()))) };
}

export function normaliseMel(mel: ArrayLike<number>): Float32Array {
  const out = new Float32Array(mel.length);
  for (let i = 0; i < mel.length; i++) out[i] = ((mel[i]! - SPEC_MIN) / (SPEC_MAX - SPEC_MIN)) * 2 - 1;
  return out;
}

export function denormaliseMel(x: ArrayLike<number>): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = ((x[i]! + 1) / 2) * (SPEC_MAX - SPEC_MIN) + SPEC_MIN;
  return out;
}

/** q_sample: x_t = √ᾱ_t·x0 + √(1 − ᾱ_t)·noise. */
export function qSample(x0: Float32Array, t: number, noise: Float32Array, schedule: Schedule): Float32Array {
  const a = schedule.alphasCumprod[t]!;
  const out = new Float32Array(x0.length);
  for (let i = 0; i < x0.length; i++) out[i] = Math.sqrt(a) * x0[i]! + Math.sqrt(1 - a) * noise[i]!;
  return out;
}

function need(what: string, got: number, want: number): void {
  if (got !== want) throw new DiffusionError(`diffusion input ${what} has ${got} values; expected ${want}`, 'request');
}

function checkInputs(c: DiffusionShape['config'], inp: DiffusionInputs): Float32Array | null {
  const T = inp.frames;
  need('f0', inp.f0.length, T);
  need('volume', inp.volume.length, T);
  need('units', inp.units.length, T * c.units);
  // ln(1 + f0/700) is NaN below −700 Hz and a NaN spreads through every denoiser pass of the block.
  const bad = inp.f0.findIndex((v) => !(v >= 0 && v < 1e5));
  if (bad >= 0) throw new DiffusionError(`diffusion f0 at frame ${bad} is ${inp.f0[bad]}; expected Hz ≥ 0 (unvoiced frames interpolated or 0)`, 'request');
  if (c.speakers <= 1 || !inp.speaker) return null;
  const spk = inp.speaker;
  if (spk.length !== c.speakers && spk.length !== T * c.speakers) throw new DiffusionError(`diffusion speaker weights have ${spk.length} values; expected ${c.speakers} (one per speaker) or ${T * c.speakers} (per frame)`, 'request');
  return spk;
}

/** The conditioning for a block: cond [1, H, T] (Unit2Mel's embedding) and cond_proj (what Resona's denoiser takes; for an exported set, cond again). */
export async function conditionFor(s: DiffusionSessions, inp: DiffusionInputs): Promise<{ cond: ort.Tensor; condProj: ort.Tensor }> {
  const c = s.model.config;
  const T = inp.frames;
  const speaker = checkInputs(c, inp);
  if (s.exported) {
    const cond = await exportedCondition(s.exported, T, inp.units, inp.f0, inp.volume, speaker);
    return { cond, condProj: cond };
  }
  const feeds: Record<string, ort.Tensor> = {
    units: new ort.Tensor('float32', inp.units, [1, T, c.units]),
    f0: new ort.Tensor('float32', inp.f0, [1, T]),
    volume: new ort.Tensor('float32', inp.volume, [1, T]),
  };
  if (c.speakers > 1) {
    const spk = speaker ?? Float32Array.from({ length: c.speakers }, (_, i) => (i === 0 ? 1 : 0));
    feeds['spk'] = new ort.Tensor('float32', spk, [spk.length / c.speakers, c.speakers]);
  }
  const out = await s.condition.run(feeds);
  return { cond: out['cond']!, condProj: out['cond_proj']! };
}

/** The refined natural-log mel [1, M, T] for one block. */
export async function refineMel(s: DiffusionSessions, inp: DiffusionInputs, settings: DiffusionSettings, noise: NoiseSource): Promise<Float32Array> {
  const { config: c, mels: M, schedule } = s.model;
  const T = inp.frames;
  if (!Number.isInteger(T) || T < 1) throw new DiffusionError(`diffusion block of ${T} frames; expected at least 1`, 'request');
  if (s.exported && !s.exported.set.fractionalSteps && needsFractionalSteps(settings.method, settings.speedup)) {
    throw badSetting('method', settings.method, `ddim or pndm for ${s.exported.set.files.denoise}: its time input is an integer used beyond a cast to float, so it cannot take the fractional steps ${settings.method} calls it at`);
  }
  let k: number;
  let x: Float32Array;
  if (settings.mode === 'only-diffusion') {
    if (c.kStepMax !== c.timesteps) throw badSetting('mode', settings.mode, `shallow: this model was trained on the first ${c.kStepMax} of ${c.timesteps} steps only (k_step_max), so it cannot start from pure noise`);
    k = c.timesteps;
    checkRun(settings.method, k, settings.speedup, k);
    x = noise(M * T);
  } else {
    k = settings.kStep;
    checkRun(settings.method, k, settings.speedup, c.kStepMax);
    if (!inp.mel) throw new DiffusionError('shallow diffusion needs the mel of the synthesizer output', 'request');
    need('mel', inp.mel.length, M * T);
    x = qSample(normaliseMel(inp.mel), k - 1, noise(M * T), schedule);
  }
  const { condProj } = await conditionFor(s, inp);
  const e = s.exported;
  let denoise: Denoise;
  if (e) denoise = exportedDenoise(e, condProj, T);
  else {
    const tIn = new Float32Array(1);
    const tTensor = new ort.Tensor('float32', tIn, [1]);
    denoise = async (xx, t) => {
      tIn[0] = t;
      const out = await s.denoiser.run({ x: new ort.Tensor('float32', xx, [1, M, T]), t: tTensor, cond_proj: condProj });
      return out['eps']!.data as Float32Array;
    };
  }
  const update = e ? exportedPlmsUpdate(e, T) : undefined;
  const run = { method: settings.method, k, speedup: settings.speedup, ...(inp.observe ? { observe: inp.observe } : {}), ...(update ? { plmsUpdate: update } : {}) };
  const out = await sample(x, run, schedule, denoise, noise);
  return (e && (await exportedAfter(e, out, T))) || denormaliseMel(out);
}
