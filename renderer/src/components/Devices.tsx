// Devices: microphone, where the voice goes (the built-in virtual microphone by default), and an optional
// monitor for headphones; each with its gain, and level meters for what goes in and what comes out.
import { LIVE_RANGES } from '../../../protocol/live-settings.js';
import type { DeviceChoice, DeviceRole } from '../../../protocol/control.js';
import type { Store, UiState } from '../store.js';
import { Field } from './Field.js';

const LABELS: Record<DeviceRole, string> = { input: 'Microphone', output: 'Voice output', monitor: 'Monitor (headphones)' };

export function Devices({ store, ui }: { store: Store; ui: UiState }) {
  const sel = ui.host?.selection;
  const list = ui.devices;
  if (!sel) return null;
  const choices = (r: DeviceRole): DeviceChoice[] => {
    if (!list) return [];
    if (r === 'input') return list.inputs;
    if (r === 'monitor') return [{ spec: '', label: 'Off' }, ...list.outputs.filter((c) => c.spec !== 'virtual' && c.spec !== '')];
    return list.outputs;
  };
  const t = ui.telemetry;
  return (
    <section aria-labelledby="devices-h" className="panel devices">
      <h2 id="devices-h">
        Devices{' '}
        <button type="button" className="small" onClick={() => void store.run('listDevices', {}).then(() => store.refresh())}>
          Refresh
        </button>
      </h2>
      {(['input', 'output', 'monitor'] as const).map((r) => (
        <div key={r} className="device">
          <label htmlFor={`dev-${r}`}>{LABELS[r]}</label>
          <select
            id={`dev-${r}`}
            data-testid={`device-${r}`}
            value={sel.devices[r] ?? ''}
            disabled={Boolean(ui.pending.setDevice) || ui.host?.busy}
            aria-invalid={Boolean(ui.fieldErrors[r])}
            onChange={(e) => void store.run('setDevice', { role: r, spec: e.target.value === '' ? null : e.target.value }, r)}
          >
            {choices(r).map((c) => (
              <option key={`${c.spec}|${c.label}`} value={c.spec}>
                {c.label}
              </option>
            ))}
            {sel.devices[r] && !choices(r).some((c) => c.spec === sel.devices[r]) ? <option value={sel.devices[r]!}>{sel.devices[r] === 'virtual' ? 'Resona Virtual Microphone' : sel.devices[r]}</option> : null}
          </select>
          {ui.fieldErrors[r] ? (
            <p className="error" role="alert">
              {ui.fieldErrors[r]}
            </p>
          ) : null}
          {r !== 'monitor' || sel.devices.monitor ? (
            <Field
              name={`${r}Gain`}
              label={`${LABELS[r]} gain`}
              value={sel.gains[r]}
              min={LIVE_RANGES.inputGainDb.min}
              max={LIVE_RANGES.inputGainDb.max}
              step={1}
              unit="dB"
              error={ui.fieldErrors[`${r}GainDb`] ?? ui.fieldErrors[`${r}Gain`]}
              onCommit={(v) => {
                if (!Number.isFinite(v)) return store.setFieldError(`${r}Gain`, 'gain must be a number');
                store.setFieldError(`${r}GainDb`, null);
                void store.run('setGain', { role: r, db: v }, `${r}Gain`);
              }}
            />
          ) : null}
          {r !== 'monitor' ? <Meter label={r === 'input' ? 'Input level' : 'Output level'} running={Boolean(t)} db={t ? (r === 'input' ? t.inputPeakDb : t.outputPeakDb) : null} /> : null}
        </div>
      ))}
      {t?.missing.length ? <p className="error" role="alert">Waiting for: {t.missing.join(', ')} (unplugged?)</p> : null}
      {sel.devices.output === 'virtual' ? <p className="hint">In OBS, Discord or a game choose “Resona Virtual Microphone” as the microphone.</p> : null}
    </section>
  );
}

// Silence is -Infinity dB, which JSON carries as null: while running, null reads as silence.
function Meter({ label, db, running }: { label: string; db: number | null; running: boolean }) {
  const v = db === null || !Number.isFinite(db) ? -60 : Math.max(-60, Math.min(0, db));
  return (
    <div className="meter">
      <span>{label}</span>
      <meter min={-60} max={0} low={-18} high={-6} optimum={-30} value={v} aria-label={label} />
      <output>{!running ? '–' : db !== null && Number.isFinite(db) ? `${db.toFixed(0)} dB` : '−∞ dB'}</output>
    </div>
  );
}
