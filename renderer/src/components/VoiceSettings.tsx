// The voice's sound: pitch, formant, pitch estimator, retrieval (neural voices), silence gate, speaker.
// Every change applies at once (between blocks) and is remembered as this voice's preset.
import { F0_METHODS, SETTING_RANGES } from '../../../protocol/control.js';
import type { EngineSettings } from '../../../protocol/settings.js';
import type { Store, UiState } from '../store.js';
import { Field } from './Field.js';

export function VoiceSettings({ store, ui }: { store: Store; ui: UiState }) {
  const sel = ui.host?.selection;
  if (!sel) return null;
  const voice = ui.host!.voices.find((v) => v.id === sel.voice);
  const neural = voice?.kind === 'rvc';
  const set = (key: keyof EngineSettings, label: string) => (v: number) => {
    if (!Number.isFinite(v)) return store.setFieldError(key, `${label} must be a number`);
    void store.run('setSettings', { settings: { [key]: v } });
  };
  const f = (key: keyof EngineSettings, label: string, step: number, extra: { disabled?: boolean; hint?: string; max?: number } = {}) => (
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
      {...(extra.disabled !== undefined ? { disabled: extra.disabled } : {})}
      {...(extra.hint ? { hint: extra.hint } : {})}
    />
  );
  return (
    <section aria-labelledby="sound-h" className="panel sound">
      <h2 id="sound-h">
        Sound <small>— {voice?.name ?? sel.voice}, remembered for this voice</small>
      </h2>
      {f('pitch', 'Pitch', 1)}
      {f('formant', 'Formant', 0.5, neural ? { hint: 'reaches neural voices exported with formant support' } : {})}
      <div className="field">
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
      {f('indexRatio', 'Index ratio', 0.05, { disabled: !voice?.hasIndex, hint: voice?.hasIndex ? 'share of retrieved features' : 'this voice has no index' })}
      {f('protect', 'Protect', 0.01, { disabled: !neural, hint: '0.5 = off' })}
      {f('silenceDb', 'Silence gate', 1)}
      {voice?.speakers && voice.speakers > 1 ? f('speaker', 'Speaker', 1, { max: voice.speakers - 1 }) : null}
      <label className="toggle">
        <input type="checkbox" checked={sel.noiseSuppression} onChange={(e) => void store.run('setNoiseSuppression', { on: e.target.checked })} /> Noise suppression (RNNoise)
      </label>
    </section>
  );
}
