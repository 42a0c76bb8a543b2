// The voice's sound: the knobs the chosen voice has (its family lists them, with this voice's ranges), the
// pitch estimator and noise suppression. Every change applies at once (between blocks) and is remembered as
// this voice's preset. A knob that would do nothing for the voice is not listed, so it is not drawn: a
// built-in DSP voice has no retrieval and no protect, a one-speaker voice no speaker.
import { F0_METHODS } from '../../../protocol/control.js';
import { formantParam, pitchParam, silenceParam, type VoiceParam } from '../../../protocol/voice-params.js';
import type { VoiceInfo } from '../../../protocol/voices.js';
import type { DiffusionSettings } from '../../../protocol/stage-preview.js';
import type { Store, UiState } from '../store.js';
import { Fragment, useEffect, useState } from 'react';
import { DiffusionCost, DIFFUSION_KEYS, lastDiffusionParam } from './DiffusionCost.js';
import { Field } from './Field.js';

/**
 * The knobs to draw for a voice: the list the host sends with it. A voice from a host that sends none (an older
 * host) gets the knobs every voice has, never knobs it may not have.
 */
export function voiceParams(v: VoiceInfo | undefined): VoiceParam[] {
  if (v && Array.isArray(v.params)) return v.params;
  return [pitchParam(v?.defaultPitch ?? 0), formantParam(v?.defaultFormant ?? 0), silenceParam()];
}

function ParamField({ p, store, ui, value, onDraft }: { p: VoiceParam; store: Store; ui: UiState; value: number; onDraft?: (v: number) => void }) {
  const commit = (v: number) => {
    if (!Number.isFinite(v)) return store.setFieldError(p.id, `${p.label} must be a number`);
    void store.run('setSettings', { settings: { [p.id]: v } });
  };
  // A choice (a sampler, on/off) is drawn as a list of its names; the setting stays the value's index.
  if (p.choices) {
    return (
      <div className="field field-select">
        <label htmlFor={`param-${p.id}`}>{p.label}</label>
        <select id={`param-${p.id}`} name={p.id} value={value} onChange={(e) => commit(Number(e.target.value))}>
          {p.choices.map((c, i) => (
            <option key={c} value={p.min + i}>
              {c}
            </option>
          ))}
        </select>
        {p.hint ? <p className="hint">{p.hint}</p> : null}
        {ui.fieldErrors[p.id] ? (
          <p className="error" role="alert">
            {ui.fieldErrors[p.id]}
          </p>
        ) : null}
      </div>
    );
  }
  return (
    <Field
      name={p.id}
      label={p.label}
      value={value}
      min={p.min}
      max={p.max}
      step={p.step}
      unit={p.unit || undefined}
      error={ui.fieldErrors[p.id]}
      onCommit={commit}
      onError={(m) => store.setFieldError(p.id, m)}
      {...(onDraft ? { onDraft } : {})}
      {...(p.hint ? { hint: p.hint } : {})}
    />
  );
}

export function VoiceSettings({ store, ui }: { store: Store; ui: UiState }) {
  const sel = ui.host?.selection;
  // A diffusion value being typed (not yet applied): its cost shows beside the knobs before Enter.
  const [draft, setDraft] = useState<Partial<DiffusionSettings>>({});
  const s = sel?.settings;
  useEffect(() => setDraft({}), [sel?.voice, s?.diffusion, s?.kStep, s?.speedup, s?.diffusionMethod]);
  if (!sel) return null;
  const voice = ui.host!.voices.find((v) => v.id === sel.voice);
  const params = voiceParams(voice);
  const costAfter = lastDiffusionParam(params);
  return (
    <section aria-labelledby="sound-h" className="panel sound">
      <h2 id="sound-h">
        Sound <small>— {voice?.name ?? sel.voice}, remembered for this voice</small>
      </h2>
      {params.map((p) => {
        const diffusionKey = (DIFFUSION_KEYS as readonly string[]).includes(p.id) ? (p.id as keyof DiffusionSettings) : null;
        const onDraft = diffusionKey ? (v: number) => setDraft((d) => ({ ...d, [diffusionKey]: v })) : undefined;
        return (
          <Fragment key={p.id}>
            <ParamField p={p} store={store} ui={ui} value={sel.settings[p.id]} {...(onDraft ? { onDraft } : {})} />
            {p.id === costAfter ? <DiffusionCost ui={ui} settings={sel.settings} draft={draft} /> : null}
          </Fragment>
        );
      })}
      {(voice?.notes ?? []).map((n) => (
        <p key={n.id} className="hint" data-testid={n.id}>
          {n.text}
        </p>
      ))}
      <div className="field field-select">
        <label htmlFor="f0-method">Pitch estimator</label>
        <select id="f0-method" value={sel.f0Method} onChange={(e) => void store.run('setF0Method', { method: e.target.value as (typeof F0_METHODS)[number] }, 'f0Method')}>
          {F0_METHODS.map((m) => {
            // A pitch network that is not on this machine is marked where it is offered; the Networks list
            // (Latency & engine panel) downloads it or says where to put it.
            const net = ui.host?.models.find((n) => n.kind === 'f0' && n.id === m);
            const missing = net !== undefined && net.state === 'missing';
            return (
              <option key={m} value={m}>
                {m}
                {missing ? (net.downloadable ? ' (needs download)' : ' (needs file)') : ''}
              </option>
            );
          })}
        </select>
        {ui.fieldErrors.f0Method ? (
          <p className="error" role="alert" data-testid="f0-error">
            {ui.fieldErrors.f0Method}
          </p>
        ) : null}
      </div>
      <label className="toggle">
        <input type="checkbox" checked={sel.noiseSuppression} onChange={(e) => void store.run('setNoiseSuppression', { on: e.target.checked })} /> Noise suppression (RNNoise)
      </label>
    </section>
  );
}
