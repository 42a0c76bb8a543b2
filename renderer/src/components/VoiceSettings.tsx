// The voice's sound: pitch, formant, pitch estimator, retrieval (neural voices), silence gate, speaker.
// Every change applies at once (between blocks) and is remembered as this voice's preset. Controls that do
// nothing for the chosen voice are not shown at all (a built-in DSP voice has no retrieval, no protect).
import { F0_METHODS, SETTING_RANGES } from '../../../protocol/control.js';
import type { EngineSettings } from '../../../protocol/settings.js';
import type { VoiceInfo } from '../../../protocol/voices.js';
import type { Store, UiState } from '../store.js';
import { Field } from './Field.js';

/**
 * Which voice-specific settings apply to a voice, decided by what the voice is. A host that lists them
 * itself (an optional `settings` array on the voice) is believed; otherwise: index ratio and protect are
 * RVC retrieval settings (index ratio only with an index file), speaker only with several speakers.
 */
export function voiceControls(v: VoiceInfo | undefined): { indexRatio: boolean; protect: boolean; speaker: boolean } {
  const listed = (v as (VoiceInfo & { settings?: unknown }) | undefined)?.settings;
  if (Array.isArray(listed)) {
    const has = (k: string) => listed.includes(k);
    return { indexRatio: has('indexRatio'), protect: has('protect'), speaker: has('speaker') && (v?.speakers ?? 0) > 1 };
  }
  const neural = v?.kind === 'rvc';
  return { indexRatio: neural && Boolean(v?.hasIndex), protect: neural, speaker: neural && (v?.speakers ?? 0) > 1 };
}

export function VoiceSettings({ store, ui }: { store: Store; ui: UiState }) {
  const sel = ui.host?.selection;
  if (!sel) return null;
  const voice = ui.host!.voices.find((v) => v.id === sel.voice);
  const neural = voice?.kind === 'rvc';
  const show = voiceControls(voice);
  const set = (key: keyof EngineSettings, label: string) => (v: number) => {
    if (!Number.isFinite(v)) return store.setFieldError(key, `${label} must be a number`);
    void store.run('setSettings', { settings: { [key]: v } });
  };
  const f = (key: keyof EngineSettings, label: string, step: number, extra: { hint?: string; max?: number } = {}) => (
    <Field
      name={key}
      label={label}
      value={sel.settings[key]}
      min={SETTING_RANGES[key].min}
      max={extra.max ?? SETTING_RANGES[key].max}
      step={step}
      unit={SETTING_RANGES[key].unit || undefined}
      error={ui.fieldErrors[key]}
      onCommit={set(key, label)}
      onError={(m) => store.setFieldError(key, m)}
      {...(extra.hint ? { hint: extra.hint } : {})}
    />
  );
  return (
    <section aria-labelledby="sound-h" className="panel sound">
      <h2 id="sound-h">
        Sound <small>— {voice?.name ?? sel.voice}, remembered for this voice</small>
      </h2>
      {f('pitch', 'Pitch', 1)}
      {f('formant', 'Formant', 0.5, neural ? { hint: 'needs a voice exported with formant support' } : {})}
      <div className="field field-select">
        <label htmlFor="f0-method">Pitch estimator</label>
        <select id="f0-method" value={sel.f0Method} onChange={(e) => void store.run('setF0Method', { method: e.target.value as (typeof F0_METHODS)[number] }, 'f0Method')}>
          {F0_METHODS.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
        {ui.fieldErrors.f0Method ? (
          <p className="error" role="alert" data-testid="f0-error">
            {ui.fieldErrors.f0Method}
          </p>
        ) : null}
      </div>
      {show.indexRatio ? f('indexRatio', 'Index ratio', 0.05, { hint: 'share of retrieved features' }) : null}
      {show.protect ? f('protect', 'Protect', 0.01, { hint: 'keeps consonants from retrieval; 0.5 = off' }) : null}
      {neural && !voice?.hasIndex ? (
        <p className="hint" data-testid="no-index">
          No index file with this voice: retrieval is off.
        </p>
      ) : null}
      {f('silenceDb', 'Silence gate', 1)}
      {show.speaker ? f('speaker', 'Speaker', 1, { max: (voice?.speakers ?? 1) - 1 }) : null}
      <label className="toggle">
        <input type="checkbox" checked={sel.noiseSuppression} onChange={(e) => void store.run('setNoiseSuppression', { on: e.target.checked })} /> Noise suppression (RNNoise)
      </label>
    </section>
  );
}
