// What a shallow-diffusion setting (on/off, k_step, speedup, sampler) costs before it is applied, as the
// block-size preview (control.ts latencyPreview) does for latency: the denoiser passes per block, the diffusion
// stage's ms, the whole block's ms and its share of the block time, from the running voice's own measurements.
// Pure: the UI draws it, the tests check it against the samplers; protocol/ imports nothing but itself.
import { DIFFUSION_METHODS, SETTING_RANGES, type EngineSettings } from './settings.js';
import type { StageReport } from './runtime.js';

export type DiffusionMethod = (typeof DIFFUSION_METHODS)[number];

/** The stage names a so-vits voice with a refiner reports (models/families/sovits/voice.ts names them so). */
export const DIFFUSION_STAGE = 'diffusion';
export const VOCODER_STAGE = 'vocoder';

/** Above this share of the block time a voice is too close to real time: jitter makes it fall behind. */
export const KEEP_UP_SHARE = 0.9;

/**
 * Denoiser passes one sampler run costs, counted as models/diffusion/samplers.ts calls the denoiser (the one
 * definition: the samplers use it, and a test runs them with a counting denoiser against it).
 *   speedup 1: ancestral DDPM, one pass per step (k).
 *   DPM-Solver(++) / UniPC: floor(k / speedup) steps on the continuous grid, one pass each (UniPC's corrector
 *     value is reused by the next step).
 *   DDIM / PNDM: Python's range(0, k, speedup) has ceil(k / speedup) steps; the one at i = 0 is skipped (its
 *     update is x itself); PNDM's first step makes a second warm-up pass.
 */
export function diffusionPasses(method: DiffusionMethod, k: number, speedup: number): number {
  if (speedup <= 1) return k;
  if (method === 'dpm-solver++' || method === 'dpm-solver' || method === 'unipc') return Math.floor(k / speedup);
  const steps = Math.ceil(k / speedup) - 1;
  return steps <= 0 ? 0 : method === 'pndm' ? steps + 1 : steps;
}

export interface RunProblem {
  /** The sampler's name for the setting: k_step, speedup or method. */
  field: 'k_step' | 'speedup' | 'method';
  value: number | string;
  expected: string;
}

/**
 * Why a sampler cannot run at these settings, or null: the one statement of the rule, so the engine refuses
 * (models/diffusion/samplers.ts checkRun) exactly what the preview says is not allowed.
 */
export function diffusionRunProblem(method: string, k: number, speedup: number, kMax: number): RunProblem | null {
  if (!Number.isInteger(k) || k < 1 || k > kMax) return { field: 'k_step', value: k, expected: `an integer in 1–${kMax} (the model's k_step_max)` };
  if (!Number.isInteger(speedup) || speedup < 1 || speedup > k) return { field: 'speedup', value: speedup, expected: `an integer in 1–${k} (k_step)` };
  if (!(DIFFUSION_METHODS as readonly string[]).includes(method)) return { field: 'method', value: method, expected: DIFFUSION_METHODS.join(', ') };
  if (speedup > 1 && (method === 'dpm-solver++' || method === 'dpm-solver' || method === 'unipc') && Math.floor(k / speedup) < 2) {
    const what = method === 'unipc' ? 'second-order UniPC' : 'second-order DPM-Solver';
    return { field: 'speedup', value: speedup, expected: `at most ${Math.floor(k / 2)} for ${method} at k_step ${k} (${what} needs at least 2 steps)` };
  }
  return null;
}

export type DiffusionSettings = Pick<EngineSettings, 'diffusion' | 'kStep' | 'speedup' | 'diffusionMethod'>;

/** Passes per block for the settings as a whole: 0 with diffusion off (the vocoder does not run either). */
export function settingsPasses(s: DiffusionSettings): number {
  if (s.diffusion !== 1) return 0;
  const method = DIFFUSION_METHODS[s.diffusionMethod];
  // An index past the list is refused by the host by name; it has no cost to show.
  if (!method) return 0;
  return diffusionPasses(method, s.kStep, s.speedup);
}

export interface StageCost {
  passes: number;
  /** The diffusion stage's ms per block: measured ms per pass × passes. */
  diffusionMs: number;
  /** The whole block's processing ms with these passes (the other stages as measured). */
  totalMs: number;
  /** totalMs ÷ the block's length: the real-time margin (1 = no margin). */
  share: number;
  /** share > KEEP_UP_SHARE. */
  tooSlow: boolean;
}

export interface DiffusionPreview {
  nowPasses: number;
  nextPasses: number;
  /** The draft differs from what runs. */
  changed: boolean;
  /** Figures from telemetry; null with `why` when there is nothing to scale yet. */
  now: StageCost | null;
  next: StageCost | null;
  /**
   * not-running: the voice is not running (no stage reports). not-measured: it runs but the last block made no
   * timed denoiser pass (diffusion off, or the input gated silent), so nothing gives the ms per pass.
   */
  why?: 'not-running' | 'not-measured';
  /** The draft is one the engine would refuse: what it says (next is then null). */
  refused?: string;
}

export interface DiffusionPreviewInput {
  /** The running voice's stage reports (telemetry.stages); empty or null when it is not running. */
  stages: readonly StageReport[] | null;
  /** The last block's whole processing ms (telemetry.blockMs); the stages' sum when absent. */
  processMs?: number;
  /** The block's length, ms (the blockMs setting). */
  blockMs: number;
  now: DiffusionSettings;
  draft: DiffusionSettings;
  /** The model's k_step_max where known; the setting's own bound otherwise (the host then says the model's). */
  kStepMax?: number;
}

export function diffusionPreview(i: DiffusionPreviewInput): DiffusionPreview {
  const nowPasses = settingsPasses(i.now);
  const nextPasses = settingsPasses(i.draft);
  const changed = nextPasses !== nowPasses || i.draft.diffusion !== i.now.diffusion || i.draft.kStep !== i.now.kStep || i.draft.speedup !== i.now.speedup || i.draft.diffusionMethod !== i.now.diffusionMethod;
  const method = DIFFUSION_METHODS[i.draft.diffusionMethod] ?? String(i.draft.diffusionMethod);
  const problem = i.draft.diffusion === 1 ? diffusionRunProblem(method, i.draft.kStep, i.draft.speedup, i.kStepMax ?? SETTING_RANGES.kStep.max) : null;
  const refused = problem ? { refused: `diffusion ${problem.field} ${problem.value}: expected ${problem.expected}` } : {};
  const base = { nowPasses, nextPasses, changed, now: null, next: null, ...refused };
  const diff = i.stages?.find((s) => s.name === DIFFUSION_STAGE);
  if (!i.stages || i.stages.length === 0 || !diff) return { ...base, why: 'not-running' };
  // The stage's ms is per block and covers its calls; the mel front end and the conditioning encoder run once
  // a block inside it, so ms per pass carries their share (the estimate is a little low for fewer passes).
  if (!(diff.calls > 0 && diff.ms > 0)) return { ...base, why: 'not-measured' };
  const perPass = diff.ms / diff.calls;
  const vocoderMs = i.stages.find((s) => s.name === VOCODER_STAGE)?.ms ?? 0;
  const whole = i.processMs ?? i.stages.reduce((a, s) => a + s.ms, 0);
  // What the block costs without diffusion and vocoder (encoder, synthesizer, pitch, engine).
  const rest = Math.max(0, whole - diff.ms - vocoderMs);
  const cost = (passes: number): StageCost => {
    const diffusionMs = passes * perPass;
    const totalMs = rest + (passes > 0 ? diffusionMs + vocoderMs : 0);
    const share = totalMs / i.blockMs;
    return { passes, diffusionMs, totalMs, share, tooSlow: share > KEEP_UP_SHARE };
  };
  return { ...base, now: cost(nowPasses), next: problem ? null : cost(nextPasses) };
}

const pct = (share: number) => `${Math.round(share * 100)} %`;
const passes = (n: number) => `${n} pass${n === 1 ? '' : 'es'}`;

/** One line for beside the diffusion knobs; the UI shows it as is and the tests read it. */
export function describeDiffusionPreview(p: DiffusionPreview): string {
  if (p.refused) {
    const now = p.now ? `now: ${passes(p.now.passes)}, ${p.now.diffusionMs.toFixed(0)} ms/block (${pct(p.now.share)} of the block)` : `Denoiser: ${passes(p.nowPasses)} per block`;
    return `${now} → not allowed: ${p.refused}`;
  }
  const counts = p.changed ? `${passes(p.nowPasses)} → ${passes(p.nextPasses)}` : passes(p.nowPasses);
  if (!p.now || !p.next) {
    const when = p.why === 'not-running' ? 'once the voice runs' : 'once diffusion runs on sound (it is off, or the input is silent)';
    return `Denoiser: ${counts} per block; the cost shows ${when}.`;
  }
  const { now, next } = p;
  let s = `now: ${passes(now.passes)}, ${now.diffusionMs.toFixed(0)} ms/block (${pct(now.share)} of the block)`;
  if (p.changed) s += ` → ${passes(next.passes)}, ${next.diffusionMs.toFixed(0)} ms (${pct(next.share)})`;
  const last = p.changed ? next : now;
  if (last.tooSlow) s += ` — would not keep up (over ${pct(KEEP_UP_SHARE)} of the block)`;
  return s;
}
