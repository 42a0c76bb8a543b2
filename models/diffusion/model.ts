// A so-vits-svc 4.1 diffusion model: model_*.pt ({global_step, model[, optimizer]}, torch.save of Unit2Mel's
// state dict) read through the safe checkpoint reader, with its diffusion.yaml. Every tensor is checked
// against the shape the config implies before anything is built; the schedule buffers the file carries are
// checked against the linear schedule Resona computes, and spec_min/spec_max against the [−12, 2] range the
// mel normalisation uses, so a model trained with another schedule or range is refused, not run wrongly.
import { readCheckpointFile, stateDict, type TorchTensor } from '../torch/checkpoint.js';
import type { Weight } from '../onnx/layers.js';
import { type DiffusionConfig, readDiffusionConfig } from './config.js';
import { DiffusionError } from './errors.js';
import { linearBetas, makeSchedule, type Schedule } from './schedule.js';

/** The mel range GaussianDiffusion normalises over (spec_min, spec_max), as upstream hard-codes it. */
export const SPEC_MIN = -12;
export const SPEC_MAX = 2;

export interface DiffusionModel {
  config: DiffusionConfig;
  globalStep: number | null;
  /** Mel bins (out_dims: the vocoder's, 128 for NSF-HiFiGAN 44.1 kHz). */
  mels: number;
  schedule: Schedule;
  weights: ReadonlyMap<string, Weight>;
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;
const DENOISER = 'decoder.denoise_fn';
const SCHEDULE_BUFFERS = [
  'betas', 'alphas_cumprod', 'alphas_cumprod_prev', 'sqrt_alphas_cumprod', 'sqrt_one_minus_alphas_cumprod',
  'log_one_minus_alphas_cumprod', 'sqrt_recip_alphas_cumprod', 'sqrt_recipm1_alphas_cumprod', 'posterior_variance',
  'posterior_log_variance_clipped', 'posterior_mean_coef1', 'posterior_mean_coef2',
];

/** Every parameter Unit2Mel has for this config, with its shape. */
export function diffusionParameters(c: DiffusionConfig, mels: number): Map<string, number[]> {
  const { units: U, hidden: H, channels: C, layers: L } = c;
  const p = new Map<string, number[]>([
    ['unit_embed.weight', [H, U]], ['unit_embed.bias', [H]],
    ['f0_embed.weight', [H, 1]], ['f0_embed.bias', [H]],
    ['volume_embed.weight', [H, 1]], ['volume_embed.bias', [H]],
  ]);
  if (c.usePitchAug) p.set('aug_shift_embed.weight', [H, 1]);
  if (c.speakers > 1) p.set('spk_embed.weight', [c.speakers, H]);
  for (const b of SCHEDULE_BUFFERS) p.set(`decoder.${b}`, [c.timesteps]);
  p.set('decoder.spec_min', [1, 1, 1]);
  p.set('decoder.spec_max', [1, 1, 1]);
  const d = DENOISER;
  p.set(`${d}.input_projection.weight`, [C, mels, 1]).set(`${d}.input_projection.bias`, [C]);
  p.set(`${d}.mlp.0.weight`, [4 * C, C]).set(`${d}.mlp.0.bias`, [4 * C]);
  p.set(`${d}.mlp.2.weight`, [C, 4 * C]).set(`${d}.mlp.2.bias`, [C]);
  for (let i = 0; i < L; i++) {
    const r = `${d}.residual_layers.${i}`;
    p.set(`${r}.dilated_conv.weight`, [2 * C, C, 3]).set(`${r}.dilated_conv.bias`, [2 * C]);
    p.set(`${r}.diffusion_projection.weight`, [C, C]).set(`${r}.diffusion_projection.bias`, [C]);
    p.set(`${r}.conditioner_projection.weight`, [2 * C, H, 1]).set(`${r}.conditioner_projection.bias`, [2 * C]);
    p.set(`${r}.output_projection.weight`, [2 * C, C, 1]).set(`${r}.output_projection.bias`, [2 * C]);
  }
  p.set(`${d}.skip_projection.weight`, [C, C, 1]).set(`${d}.skip_projection.bias`, [C]);
  p.set(`${d}.output_projection.weight`, [mels, C, 1]).set(`${d}.output_projection.bias`, [mels]);
  return p;
}

function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Checks the state dict against the config; `where` names the file. */
export function checkDiffusionWeights(tensors: ReadonlyMap<string, TorchTensor>, c: DiffusionConfig, where: string): DiffusionModel['weights'] & { mels: number } {
  const out = tensors.get(`${DENOISER}.output_projection.weight`);
  if (!out) throw new DiffusionError(`${where} has no ${DENOISER}.output_projection.weight: it is not a so-vits-svc diffusion model (Unit2Mel)`);
  const mels = out.shape[0]!;
  const specs = diffusionParameters(c, mels);
  const missing = [...specs].filter(([k]) => !tensors.has(k)).map(([k, s]) => `${k} ${fmt(s)}`);
  // Buffers added after the first 4.1 releases are optional; the networks' weights are not.
  const required = missing.filter((m) => !SCHEDULE_BUFFERS.slice(2).some((b) => m.startsWith(`decoder.${b} `)));
  if (required.length) throw new DiffusionError(`${where} lacks ${required.length} weight${required.length > 1 ? 's' : ''} diffusion.yaml implies: ${required.slice(0, 4).join(', ')}${required.length > 4 ? ', …' : ''}; the config does not match the model (n_layers ${c.layers}, n_chans ${c.channels}, n_hidden ${c.hidden}, encoder_out_channels ${c.units}, n_spk ${c.speakers}, use_pitch_aug ${c.usePitchAug})`);
  const extra = [...tensors.keys()].filter((k) => !specs.has(k));
  if (extra.length) throw new DiffusionError(`${where} has weights diffusion.yaml does not account for: ${extra.slice(0, 4).join(', ')}${extra.length > 4 ? ', …' : ''}; the config does not match the model`);
  const weights = new Map<string, Weight>() as Map<string, Weight> & { mels: number };
  weights.mels = mels;
  for (const [k, want] of specs) {
    const t = tensors.get(k);
    if (!t) continue;
    if (!same(t.shape, want)) throw new DiffusionError(`${where}: ${k} has shape ${fmt(t.shape)}; expected ${fmt(want)} for this config`);
    if (!(t.data instanceof Float32Array)) throw new DiffusionError(`${where}: ${k} is a ${t.dtype} tensor; expected floating point`);
    weights.set(k, { shape: t.shape, data: t.data });
  }
  return weights;
}

/** The schedule from the config, checked against the buffers the checkpoint carries. */
export function checkSchedule(w: ReadonlyMap<string, Weight>, c: DiffusionConfig, where: string): Schedule {
  const schedule = makeSchedule(linearBetas(c.timesteps));
  for (const [name, ours] of [['betas', schedule.betas], ['alphas_cumprod', schedule.alphasCumprod]] as const) {
    const theirs = w.get(`decoder.${name}`)!.data;
    for (let i = 0; i < ours.length; i++) {
      if (Math.abs(theirs[i]! - ours[i]!) > 1e-6 * Math.max(1, Math.abs(ours[i]!)) + 1e-9) {
        throw new DiffusionError(`${where}: decoder.${name}[${i}] is ${theirs[i]!.toPrecision(7)}; expected ${ours[i]!.toPrecision(7)} (linear β ${1e-4}…${0.02} over ${c.timesteps} steps); the model was trained with another noise schedule, which Resona does not run`);
      }
    }
  }
  for (const [name, want] of [['spec_min', SPEC_MIN], ['spec_max', SPEC_MAX]] as const) {
    const v = w.get(`decoder.${name}`)!.data[0];
    if (v !== want) throw new DiffusionError(`${where}: decoder.${name} is ${v}; expected ${want} (so-vits-svc normalises mels over [${SPEC_MIN}, ${SPEC_MAX}])`);
  }
  return schedule;
}

/** The model from its state dict (the `model` entry of model_*.pt) and its config. */
export function diffusionModelFrom(root: unknown, config: DiffusionConfig, where: string): DiffusionModel {
  if (!(root instanceof Map) || !root.has('model')) {
    const has = root instanceof Map ? [...root.keys()].slice(0, 8).map(String).join(', ') : 'no dict';
    throw new DiffusionError(`${where} has no "model" entry (it has: ${has || 'nothing'}); a so-vits-svc diffusion model_*.pt holds {global_step, model}`);
  }
  const tensors = stateDict(root, 'model');
  const gs = root instanceof Map ? root.get('global_step') : undefined;
  const weights = checkDiffusionWeights(tensors, config, where);
  return {
    config,
    globalStep: typeof gs === 'number' ? gs : null,
    mels: weights.mels,
    schedule: checkSchedule(weights, config, where),
    weights,
  };
}

export async function readDiffusionModel(modelFile: string, configFile: string): Promise<DiffusionModel> {
  const config = await readDiffusionConfig(configFile);
  return diffusionModelFrom(await readCheckpointFile(modelFile), config, modelFile);
}
