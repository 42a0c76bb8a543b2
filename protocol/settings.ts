// Engine settings shared by every front end (CLI, server, Electron). Pure data and checks:
// protocol/ imports nothing, so the ranges here are the single source of truth for all of them.
import { UserError } from './errors.js';

export interface EngineSettings {
  /** New audio per block, ms. Rounded to whole 10 ms frames: the content encoders and f0 trackers hop 10 ms. */
  blockMs: number;
  /** Left context re-analysed with every block, ms (neural encoders need it; DSP voices use a little). */
  extraMs: number;
  /** SOLA crossfade length, ms. */
  crossfadeMs: number;
  /** SOLA search window, ms. */
  searchMs: number;
  /** Pitch shift, semitones. */
  pitch: number;
  /** Formant shift, semitones (spectral envelope scale 2^(formant/12)). */
  formant: number;
  /** Silence gate threshold, dBFS (RMS of a block); -Infinity is not allowed, use the minimum to disable. */
  silenceDb: number;
  /** 1 keeps the voice's own loudness, 0 makes it follow the input's envelope fully. */
  loudnessMix: number;
  /** Neural voices with an index: share of each content frame replaced by its retrieved neighbours. */
  indexRatio: number;
  /** Neural voices: how much unvoiced frames (consonants, breath) are kept from retrieval; 0.5 = off, as in RVC. */
  protect: number;
  /** Speaker id of a multi-speaker neural voice. */
  speaker: number;
  /**
   * so-vits-svc voices with a cluster or index file: share of each content frame moved toward its nearest
   * kmeans centre or its retrieved neighbours (so-vits-svc's cluster_infer_ratio).
   */
  clusterInferRatio: number;
  /** so-vits-svc voices: scale of the flow's N(0, 1) noise (so-vits-svc's noice_scale); 0 is deterministic. */
  noiseScale: number;
  /**
   * so-vits-svc voices with a diffusion model and a vocoder: 1 refines the synthesizer's mel by shallow
   * diffusion and renders it with the vocoder, 0 plays the synthesizer's audio as it is.
   */
  diffusion: number;
  /** Shallow diffusion: how deep into the noise chain the mel is taken (so-vits-svc's k_step). */
  kStep: number;
  /** Shallow diffusion: steps skipped per sampler step (denoiser passes ≈ kStep / speedup). */
  speedup: number;
  /** Shallow diffusion sampler, by index into DIFFUSION_METHODS. */
  diffusionMethod: number;
  /**
   * so-vits-svc voices trained with use_automatic_f0_prediction: 1 = the voice's F0 decoder predicts f0 from
   * the content and the input contour (auto_predict_f0, meant for speech), 0 = the estimated f0 as is.
   */
  autoF0: number;
}

/** The samplers the diffusionMethod setting picks from, in its order (the UI's choices, the CLI's names). */
export const DIFFUSION_METHODS = ['dpm-solver++', 'dpm-solver', 'ddim', 'pndm', 'unipc'] as const;

export interface SettingRange {
  min: number;
  max: number;
  unit: string;
  description: string;
}

export const SETTING_RANGES: Readonly<Record<keyof EngineSettings, SettingRange>> = {
  blockMs: { min: 10, max: 1500, unit: 'ms', description: 'block size' },
  extraMs: { min: 0, max: 5000, unit: 'ms', description: 'extra context' },
  crossfadeMs: { min: 5, max: 150, unit: 'ms', description: 'crossfade' },
  searchMs: { min: 0, max: 50, unit: 'ms', description: 'SOLA search window' },
  pitch: { min: -24, max: 24, unit: 'semitones', description: 'pitch shift' },
  formant: { min: -12, max: 12, unit: 'semitones', description: 'formant shift' },
  silenceDb: { min: -100, max: 0, unit: 'dB', description: 'silence threshold' },
  loudnessMix: { min: 0, max: 1, unit: '', description: 'loudness mix' },
  indexRatio: { min: 0, max: 1, unit: '', description: 'index ratio' },
  protect: { min: 0, max: 0.5, unit: '', description: 'protect' },
  speaker: { min: 0, max: 1023, unit: '', description: 'speaker id' },
  clusterInferRatio: { min: 0, max: 1, unit: '', description: 'cluster/feature retrieval ratio' },
  noiseScale: { min: 0, max: 2, unit: '', description: 'noise scale' },
  diffusion: { min: 0, max: 1, unit: '', description: 'shallow diffusion on/off' },
  kStep: { min: 1, max: 1000, unit: 'steps', description: 'diffusion k_step' },
  speedup: { min: 1, max: 1000, unit: '', description: 'diffusion speedup' },
  diffusionMethod: { min: 0, max: DIFFUSION_METHODS.length - 1, unit: '', description: 'diffusion sampler' },
  autoF0: { min: 0, max: 1, unit: '', description: 'auto-predict f0' },
};

export const DEFAULT_SETTINGS: Readonly<EngineSettings> = {
  blockMs: 100,
  extraMs: 100,
  crossfadeMs: 20,
  searchMs: 10,
  pitch: 0,
  formant: 0,
  silenceDb: -60,
  loudnessMix: 1,
  // RVC WebUI's defaults: retrieval mostly on, consonants protected a little.
  indexRatio: 0.75,
  protect: 0.33,
  speaker: 0,
  // Halfway: so-vits-svc's own default is 0 (off), but a voice only has the knob when a retrieval file was
  // imported with it on purpose. noiseScale: so-vits-svc's inference default.
  clusterInferRatio: 0.5,
  noiseScale: 0.4,
  // so-vits-svc 4.1's inference defaults (k_step 100, speedup 10, dpm-solver++); only voices with a diffusion
  // model and a vocoder have these knobs.
  diffusion: 1,
  kStep: 100,
  speedup: 10,
  diffusionMethod: 0,
  // Off as in so-vits-svc (auto_predict_f0 defaults to false): singing needs the estimated f0.
  autoF0: 0,
};

export class SettingError extends UserError {
  override name = 'SettingError';
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message, 'setting', key);
  }
}

/** Settings that count things (an id, steps, a choice): fractions are refused, not rounded silently. */
const WHOLE_SETTINGS: ReadonlySet<keyof EngineSettings> = new Set(['speaker', 'diffusion', 'kStep', 'speedup', 'diffusionMethod']);

/** Checks one value against its range; throws a SettingError that says what was wrong and what is allowed. */
export function checkSetting(key: keyof EngineSettings, value: number): number {
  const r = SETTING_RANGES[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new SettingError(key, `${r.description} must be a number (got ${String(value)})`);
  }
  if (WHOLE_SETTINGS.has(key) && !Number.isInteger(value)) {
    throw new SettingError(key, `${r.description} must be a whole number (got ${value})`);
  }
  if (value < r.min || value > r.max) {
    const unit = r.unit ? ` ${r.unit}` : '';
    throw new SettingError(key, `${r.description} ${value}${unit} is out of range: allowed ${r.min} to ${r.max}${unit}`);
  }
  return value;
}

/**
 * Merges a partial update over `base`, checking every given key; unknown keys are refused. Only the table's
 * own keys count: `in` would also accept what every object inherits (toString, constructor, __proto__).
 */
export function mergeSettings(base: Readonly<EngineSettings>, update: Partial<Record<string, unknown>>): EngineSettings {
  const out: EngineSettings = { ...base };
  for (const [key, value] of Object.entries(update)) {
    if (value === undefined) continue;
    if (!Object.hasOwn(SETTING_RANGES, key)) {
      throw new SettingError(key, `unknown setting "${key}": the settings are ${Object.keys(SETTING_RANGES).join(', ')}`);
    }
    const k = key as keyof EngineSettings;
    out[k] = checkSetting(k, value as number);
  }
  return out;
}
