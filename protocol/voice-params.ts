// The knobs a voice has, as data: each voice family (and the built-in DSP voices) lists the parameters it
// really uses, with the range that makes sense for that voice, so the UI draws exactly those and the host
// checks a change against them. Pure data and checks: protocol/ imports nothing but itself.
//
// A parameter drives one engine setting (EngineSettings key). The settings keep one flat shape so presets,
// the CLI flags and the engine's per-block path stay as they are; SETTING_RANGES is the outer bound every
// value must meet anyway, and a voice's parameter may only narrow it (speakers 0…n−1, say).
import { SettingError, SETTING_RANGES, type EngineSettings } from './settings.js';

export type VoiceParamId = keyof EngineSettings;

export interface VoiceParam {
  /** The setting it drives. */
  id: VoiceParamId;
  label: string;
  min: number;
  max: number;
  step: number;
  /** '' when the value has no unit. */
  unit: string;
  /** The value a voice starts with before the user changes it (and what an out-of-range preset falls back to). */
  default: number;
  /** One line under the knob: what it does, or why it may not. */
  hint?: string;
  /** A choice rather than a number: the name of each whole value min..max, in order (the UI draws a list). */
  choices?: readonly string[];
}

/** Something true of a voice that the user should see beside its knobs ("no index: retrieval is off"). */
export interface VoiceNote {
  /** Stable id (the UI's test id). */
  id: string;
  text: string;
}

/**
 * Settings of the engine itself (how it cuts and joins blocks, how loud it follows): every voice takes them, so
 * they are no voice's parameter and no voice can refuse them.
 */
export const ENGINE_SETTINGS: readonly VoiceParamId[] = ['blockMs', 'extraMs', 'crossfadeMs', 'searchMs', 'loudnessMix'];

/**
 * A parameter over one setting, its range taken from SETTING_RANGES unless narrowed. A range wider than the
 * setting's own is a programming error (the CLI and the schema would refuse values the knob offers).
 */
export function voiceParam(id: VoiceParamId, o: { label: string; step: number; default: number; hint?: string; min?: number; max?: number; choices?: readonly string[] }): VoiceParam {
  const r = SETTING_RANGES[id];
  const min = o.min ?? r.min;
  const max = o.max ?? r.max;
  if (min < r.min || max > r.max || min > max) throw new RangeError(`${id}: ${min}..${max} is outside ${r.min}..${r.max}`);
  const d = Math.min(max, Math.max(min, o.default));
  if (o.choices && o.choices.length !== max - min + 1) throw new RangeError(`${id}: ${o.choices.length} choices for ${min}..${max}`);
  return { id, label: o.label, min, max, step: o.step, unit: r.unit, default: d, ...(o.hint ? { hint: o.hint } : {}), ...(o.choices ? { choices: o.choices } : {}) };
}

/** Pitch, formant and silence gate: what every voice so far takes (a family may leave one out or narrow it). */
export function pitchParam(defaultPitch: number, hint?: string): VoiceParam {
  return voiceParam('pitch', { label: 'Pitch', step: 1, default: defaultPitch, ...(hint ? { hint } : {}) });
}
export function formantParam(defaultFormant: number, hint?: string): VoiceParam {
  return voiceParam('formant', { label: 'Formant', step: 0.5, default: defaultFormant, ...(hint ? { hint } : {}) });
}
export function silenceParam(): VoiceParam {
  return voiceParam('silenceDb', { label: 'Silence gate', step: 1, default: -60 });
}

/**
 * Checks a settings update against the voice's parameters: a voice setting the voice does not have is
 * refused by name (it would do nothing, silently), and one it has must lie in the voice's own range. Engine
 * settings pass through (their ranges are checked by mergeSettings), and so do unknown keys (mergeSettings
 * names them).
 */
export function checkVoiceSettings(voice: { name: string; params: readonly VoiceParam[] }, update: Partial<Record<string, unknown>>): void {
  for (const [key, value] of Object.entries(update)) {
    if (value === undefined || (ENGINE_SETTINGS as readonly string[]).includes(key)) continue;
    const p = voice.params.find((x) => x.id === key);
    if (!p) {
      if (!Object.hasOwn(SETTING_RANGES, key)) continue;
      const d = SETTING_RANGES[key as VoiceParamId].description;
      throw new SettingError(key, `${voice.name} has no ${d} setting: its settings are ${voice.params.map((x) => x.label.toLowerCase()).join(', ')}`);
    }
    if (typeof value === 'number' && Number.isFinite(value) && (value < p.min || value > p.max)) {
      const unit = p.unit ? ` ${p.unit}` : '';
      throw new SettingError(key, `${p.label.toLowerCase()} ${value}${unit} is out of range for ${voice.name}: allowed ${p.min} to ${p.max}${unit}`);
    }
  }
}

/**
 * A voice's settings with every parameter inside the voice's own range: a preset saved before (another speaker
 * count, a narrower family range) takes the parameter's default instead of failing the voice at load.
 */
export function fitToVoice<S extends EngineSettings>(settings: S, params: readonly VoiceParam[]): S {
  const out = { ...settings };
  for (const p of params) {
    const v = out[p.id];
    if (!(v >= p.min && v <= p.max)) out[p.id] = p.default;
  }
  return out;
}

/** The settings a voice starts with: the engine's defaults, then each parameter's own default. */
export function voiceDefaults<S extends EngineSettings>(base: S, params: readonly VoiceParam[]): S {
  const out = { ...base };
  for (const p of params) out[p.id] = p.default;
  return out;
}

/** Each parameter's own default, as settings: what a voice starts with where the user set nothing. */
export function paramDefaults(params: readonly VoiceParam[]): Partial<EngineSettings> {
  return Object.fromEntries(params.map((p) => [p.id, p.default]));
}

/**
 * The voice settings given (not undefined) that the voice has no parameter for: they do nothing for it. The
 * command line keeps taking them (scripts pass --protect to any voice) and says so instead of refusing.
 */
export function settingsWithoutEffect(params: readonly VoiceParam[], given: Partial<Record<string, unknown>>): VoiceParamId[] {
  return Object.entries(given)
    .filter(([k, v]) => v !== undefined && Object.hasOwn(SETTING_RANGES, k) && !(ENGINE_SETTINGS as readonly string[]).includes(k) && !params.some((p) => p.id === k))
    .map(([k]) => k as VoiceParamId);
}
