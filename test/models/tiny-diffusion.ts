// A tiny shallow-diffusion model as so-vits-svc saves it (model_*.pt + diffusion.yaml), random weights at
// test sizes: the diffusion tests and the UI's cost preview test import voices with it.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomDiffusionModel, templateDiffusionConfig } from '../../models/diffusion/random.js';
import type { DiffusionConfig } from '../../models/diffusion/config.js';
import { OrderedDict, storage, Tensor, torchSave } from './torch/torch-writer.js';

/** diffusion.yaml as so-vits-svc writes it, for a config. */
export function diffusionYaml(c: DiffusionConfig): string {
  return `data:
  block_size: ${c.hop}
  encoder: ${c.encoder}
  encoder_out_channels: ${c.units}
  sampling_rate: ${c.sampleRate}
infer:
  method: dpm-solver++
  speedup: 10
model:
  k_step_max: ${c.kStepMax}
  n_chans: ${c.channels}
  n_hidden: ${c.hidden}
  n_layers: ${c.layers}
  n_spk: ${c.speakers}
  timesteps: ${c.timesteps}
  type: Diffusion
  use_pitch_aug: false
vocoder:
  type: nsf-hifigan
`;
}

/** A tiny model_*.pt ({global_step, model}) and its diffusion.yaml in `dir`. */
export async function writeDiffusion(dir: string, over: Partial<DiffusionConfig> = {}, mels = 128): Promise<{ model: string; config: string }> {
  const c = templateDiffusionConfig({ layers: 3, channels: 8, hidden: 6, ...over });
  const m = randomDiffusionModel(c, mels, 5);
  let n = 0;
  const state = new OrderedDict([...m.weights].map(([k, w]) => [k, new Tensor(storage(String(n++), 'FloatStorage', Array.from(w.data)), [...w.shape])]));
  await fs.mkdir(dir, { recursive: true });
  const model = path.join(dir, 'model_6000.pt');
  await fs.writeFile(model, torchSave({ global_step: 6000, model: state }));
  const config = path.join(dir, 'diffusion.yaml');
  await fs.writeFile(config, diffusionYaml(c));
  return { model, config };
}
