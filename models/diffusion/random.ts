// A so-vits-svc diffusion model of the real architecture with random weights (N(0, 1/fan_in), small biases)
// and the real schedule buffers: for benchmarks at real size without a trained model.
import type { Weight } from '../onnx/layers.js';
import { mulberry32 } from '../random.js';
import type { DiffusionConfig } from './config.js';
import { type DiffusionModel, diffusionParameters, SPEC_MAX, SPEC_MIN } from './model.js';
import { linearBetas, makeSchedule } from './schedule.js';

/** diffusion.yaml's values for a 4.1 model (the template: vec768l12, 20 × 512, hidden 256, 1000 steps). */
export function templateDiffusionConfig(over: Partial<DiffusionConfig> = {}): DiffusionConfig {
  return {
    encoder: 'vec768l12', units: 768, sampleRate: 44100, hop: 512, layers: 20, channels: 512, hidden: 256, speakers: 1,
    usePitchAug: false, timesteps: 1000, kStepMax: 100, vocoder: 'nsf-hifigan', speedup: 10, method: 'dpm-solver++',
    speakerNames: {}, ...over,
  };
}

export function randomDiffusionModel(config: DiffusionConfig, mels = 128, seed = 1): DiffusionModel {
  const u = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  const schedule = makeSchedule(linearBetas(config.timesteps));
  const weights = new Map<string, Weight>();
  for (const [name, shape] of diffusionParameters(config, mels)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    if (name === 'decoder.betas') data.set(schedule.betas);
    else if (name === 'decoder.alphas_cumprod') data.set(schedule.alphasCumprod);
    else if (name === 'decoder.spec_min') data[0] = SPEC_MIN;
    else if (name === 'decoder.spec_max') data[0] = SPEC_MAX;
    else if (name.startsWith('decoder.') && !name.startsWith('decoder.denoise_fn.')) continue; // unused buffers
    else {
      const std = name.endsWith('.bias') ? 0.01 : 1 / Math.sqrt(shape.slice(1).reduce((a, b) => a * b, 1));
      for (let i = 0; i < n; i++) data[i] = std * gauss();
    }
    weights.set(name, { shape, data });
  }
  return { config, globalStep: null, mels, schedule, weights };
}
