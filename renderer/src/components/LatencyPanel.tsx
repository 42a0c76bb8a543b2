// The engine's settings panel. Block, context and crossfade: edits are drafts until applied, and the latency
// each draft would cost is shown beside the current figure first, so nobody discovers a 400 ms block by
// hearing it. Below them, how the engine runs: where the networks run (Processor) and the fallback while it
// restarts; then the shared networks themselves, with their downloads (Networks).
import { useEffect, useState } from 'react';
import { latencyPreview, SETTING_RANGES } from '../../../protocol/control.js';
import { checkSetting, type EngineSettings } from '../../../protocol/settings.js';
import type { Store, UiState } from '../store.js';
import { Field } from './Field.js';
import { Processor } from './Processor.js';
import { Networks } from './Networks.js';

type TimingKey = 'blockMs' | 'extraMs' | 'crossfadeMs' | 'searchMs';
const KEYS: { key: TimingKey; label: string; step: number; hint: string }[] = [
  { key: 'blockMs', label: 'Block', step: 10, hint: 'new audio per step: the main latency cost' },
  { key: 'extraMs', label: 'Context', step: 10, hint: 'audio re-analysed with each block: costs CPU, not latency' },
  { key: 'crossfadeMs', label: 'Crossfade', step: 5, hint: 'smooths block seams' },
  { key: 'searchMs', label: 'Search', step: 1, hint: 'phase search window' },
];

export function LatencyPanel({ store, ui }: { store: Store; ui: UiState }) {
  const sel = ui.host?.selection.settings;
  const [draft, setDraft] = useState<Partial<Record<TimingKey, number>>>({});
  useEffect(() => setDraft({}), [sel?.blockMs, sel?.extraMs, sel?.crossfadeMs, sel?.searchMs]);
  if (!sel) return null;
  const merged: EngineSettings = { ...sel, ...draft };
  const now = latencyPreview(sel);
  const next = latencyPreview(merged);
  const dirty = KEYS.some(({ key }) => draft[key] !== undefined && draft[key] !== sel[key]);
  const t = ui.telemetry;
  const apply = async () => {
    const update: Partial<EngineSettings> = {};
    for (const { key } of KEYS) if (draft[key] !== undefined && draft[key] !== sel[key]) update[key] = draft[key];
    // Checked here too: a typo shows at once, beside its field, and nothing is sent.
    for (const [k, v] of Object.entries(update)) {
      try {
        checkSetting(k as TimingKey, v as number);
      } catch (e) {
        store.setFieldError(k, (e as Error).message);
        return;
      }
    }
    await store.run('setSettings', { settings: update });
  };
  return (
    <section aria-labelledby="timing-h" className="panel timing">
      <h2 id="timing-h">Latency &amp; engine</h2>
      {KEYS.map(({ key, label, step, hint }) => (
        <Field
          key={key}
          name={key}
          label={label}
          value={draft[key] ?? sel[key]}
          min={SETTING_RANGES[key].min}
          max={SETTING_RANGES[key].max}
          step={step}
          unit="ms"
          hint={hint}
          error={ui.fieldErrors[key]}
          onDraft={(v) => setDraft((d) => ({ ...d, [key]: v }))}
          onError={(m) => store.setFieldError(key, m)}
          onCommit={(v) => {
            store.setFieldError(key, null);
            setDraft((d) => ({ ...d, [key]: v }));
          }}
        />
      ))}
      {t ? (
        <p className="headline" data-testid="latency-total" aria-live="polite">
          Latency: <strong>{t.latency.totalMs.toFixed(0)} ms</strong>{' '}
          <span className="hint">
            = {t.latency.algorithmicMs.toFixed(0)} engine + {t.latency.prebufferMs.toFixed(0)} prebuffer + {t.latency.deviceMs.toFixed(0)} device
            {t.latency.deviceSource === 'nominal' ? ' (nominal)' : ' (measured)'}
          </span>
          {t.latency.measuredMs !== undefined ? (
            <>
              {' '}
              · measured click <strong data-testid="latency-measured">{t.latency.measuredMs.toFixed(0)} ms</strong>
            </>
          ) : null}
        </p>
      ) : null}
      {t?.streaming ? (
        <p className="cost" data-testid="latency-preview" aria-live="polite">
          This voice streams: <strong>{t.latency.algorithmicMs.toFixed(0)} ms</strong> in the engine, whatever the block.
          Block, crossfade and search apply to neural voices.
        </p>
      ) : (
      <p className="cost" data-testid="latency-preview" aria-live="polite">
        Engine part: <strong>{now.totalMs.toFixed(0)} ms</strong>
        {dirty ? (
          <>
            {' '}
            → <strong className={next.totalMs > now.totalMs ? 'worse' : 'better'}>{next.totalMs.toFixed(0)} ms</strong> ({next.blockMs} block + {next.crossfadeMs} crossfade + {next.searchMs} search)
          </>
        ) : null}
      </p>
      )}
      <div className="row">
        <button type="button" onClick={() => void apply()} disabled={!dirty}>
          Apply
        </button>
        <button type="button" onClick={() => setDraft({})} disabled={!dirty}>
          Revert
        </button>
        <button
          type="button"
          data-testid="measure-latency"
          disabled={!ui.host?.running || Boolean(ui.pending.measureLatency)}
          title="Times clicks through the whole chain (needs a loopback from the output to the input)"
          onClick={() => void store.run('measureLatency', {}, 'latency')}
        >
          {ui.pending.measureLatency ? 'Measuring…' : 'Measure latency'}
        </button>
      </div>
      {ui.fieldErrors.latency ? (
        <p className="error" role="alert" data-testid="latency-error">
          {ui.fieldErrors.latency}
        </p>
      ) : null}
      <div className="engine-options" role="group" aria-labelledby="engine-h">
        <h3 id="engine-h">Engine</h3>
        <Processor store={store} ui={ui} />
        <label className="toggle" title="While the voice engine restarts after a failure: silence, or your own voice">
          <input
            type="checkbox"
            data-testid="fallback-dry"
            checked={ui.host?.selection.fallback === 'dry'}
            onChange={(e) => void store.run('setFallback', { fallback: e.currentTarget.checked ? 'dry' : 'silence' })}
          />{' '}
          Own voice while the engine restarts
        </label>
      </div>
      <Networks store={store} ui={ui} />
    </section>
  );
}
