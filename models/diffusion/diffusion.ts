// Shallow diffusion as one function: (mel, f0, volume, units, speaker, settings, noise) → mel, over the two
// ONNX sessions of ./graph.ts. What GaussianDiffusion.forward does at inference:
//   shallow:        x = q_sample(norm(mel), t = k − 1, noise) = √ᾱ_{k−1}·norm(mel) + √(1 − ᾱ_{k−1})·noise,
//                   then the sampler from step k (k ≤ k_step_max);
//   only diffusion: x = noise, k = timesteps (only for a model trained on the whole chain, k_step_max = timesteps).
// norm maps the natural-log mel's [spec_min, spec_max] = [−12, 2] onto [−1, 1]; the result is mapped back.
// The noise comes from the caller, so a block can be reproduced (tests) or drawn afresh (the engine). It is
// drawn in this order: the starting noise (M·T values), then, at speedup 1 only, M·T per step but the last.
// Streaming per block is the engine's: this function holds no state between calls.
import * as ort from 'onnxruntime-node';
import { loadSession, type LoadedSession, type SessionOptions } from '../runtime.js';
import type { SamplerName } from './config.js';
import { badSetting, DiffusionError } from './errors.js';
import { buildConditionEncoder, buildDenoiser } from './graph.js';
import { type DiffusionModel, SPEC_MAX, SPEC_MIN } from './model.js';
import { checkRun, type NoiseSource, sample } from './samplers.js';
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

export interface DiffusionSessions {
  model: DiffusionModel;
  condition: LoadedSession;
  denoiser: LoadedSession;
  release(): Promise<void>;
}

export async function loadDiffusion(model: DiffusionModel, o: SessionOptions = {}): Promise<DiffusionSessions> {
  const condition = await loadSession(buildConditionEncoder(model), { ...o, name: 'diffusion condition encoder' });
  const denoiser = await loadSession(buildDenoiser(model), { ...o, name: 'diffusion denoiser' });
  return { model, condition, denoiser, release: async () => void (await Promise.all([condition.release(), denoiser.release()])) };
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

/** The conditioning for a block: cond [1, H, T] (Unit2Mel's embedding) and cond_proj (what the denoiser takes). */
export async function conditionFor(s: DiffusionSessions, inp: DiffusionInputs): Promise<{ cond: ort.Tensor; condProj: ort.Tensor }> {
  const c = s.model.config;
  const T = inp.frames;
  need('f0', inp.f0.length, T);
  need('volume', inp.volume.length, T);
  need('units', inp.units.length, T * c.units);
  // ln(1 + f0/700) is NaN below −700 Hz and a NaN spreads through every denoiser pass of the block.
  const bad = inp.f0.findIndex((v) => !(v >= 0 && v < 1e5));
  if (bad >= 0) throw new DiffusionError(`diffusion f0 at frame ${bad} is ${inp.f0[bad]}; expected Hz ≥ 0 (unvoiced frames interpolated or 0)`, 'request');
  const feeds: Record<string, ort.Tensor> = {
    units: new ort.Tensor('float32', inp.units, [1, T, c.units]),
    f0: new ort.Tensor('float32', inp.f0, [1, T]),
    volume: new ort.Tensor('float32', inp.volume, [1, T]),
  };
  if (c.speakers > 1) {
    const spk = inp.speaker ?? Float32Array.from({ length: c.speakers }, (_, i) => (i === 0 ? 1 : 0));
    if (spk.length !== c.speakers && spk.length !== T * c.speakers) throw new DiffusionError(`diffusion speaker weights have ${spk.length} values; expected ${c.speakers} (one per speaker) or ${T * c.speakers} (per frame)`, 'request');
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
  const tIn = new Float32Array(1);
  const tTensor = new ort.Tensor('float32', tIn, [1]);
  const denoise = async (xx: Float32Array, t: number): Promise<Float32Array> => {
    tIn[0] = t;
    const out = await s.denoiser.run({ x: new ort.Tensor('float32', xx, [1, M, T]), t: tTensor, cond_proj: condProj });
    return out['eps']!.data as Float32Array;
  };
  const run = { method: settings.method, k, speedup: settings.speedup, ...(inp.observe ? { observe: inp.observe } : {}) };
  return denormaliseMel(await sample(x, run, schedule, denoise, noise));
}
