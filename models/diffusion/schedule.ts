// The noise schedule of so-vits-svc 4.1's GaussianDiffusion: linear β from 1e-4 to 0.02 over `timesteps`
// (numpy linspace in float64, stored as float32 buffers), ᾱ_t = Π(1 − β). Everything a sampler needs is
// derived here once, in float64 from the float32 β the checkpoint holds, so the samplers cannot disagree
// with each other about the chain.

export const BETA_START = 1e-4;
export const BETA_END = 0.02;

/** numpy.linspace(1e-4, 0.02, n) rounded to float32, as the checkpoint's decoder.betas buffer holds it. */
export function linearBetas(timesteps: number): Float64Array {
  const b = new Float64Array(timesteps);
  for (let i = 0; i < timesteps; i++) b[i] = Math.fround(timesteps === 1 ? BETA_START : BETA_START + ((BETA_END - BETA_START) * i) / (timesteps - 1));
  return b;
}

export interface Schedule {
  timesteps: number;
  betas: Float64Array;
  /** ᾱ_t, t = 0 … timesteps−1. */
  alphasCumprod: Float64Array;
}

export function makeSchedule(betas: Float64Array): Schedule {
  const acp = new Float64Array(betas.length);
  let p = 1;
  for (let i = 0; i < betas.length; i++) acp[i] = p *= 1 - betas[i]!;
  return { timesteps: betas.length, betas, alphasCumprod: acp };
}
