// Devices: microphone, where the voice goes (the built-in virtual microphone by default), and an optional
// monitor for headphones; each with its gain, and level meters for what goes in and what comes out. A device
// that is gone is marked on its row; the alert banner at the top (App) says so in words.
import { LIVE_RANGES } from '../../../protocol/live-settings.js';
import type { DeviceChoice, DeviceRole } from '../../../protocol/control.js';
import type { Store, UiState } from '../store.js';
import { engineStatus } from '../status.js';
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
  const lost = engineStatus(ui).lost;
  return (
    <section aria-labelledby="devices-h" className="panel devices">
      <h2 id="devices-h">
        Devices{' '}
        <button type="button" className="small" onClick={() => void store.run('listDevices', {}).then(() => store.refresh())}>
          Refresh
        </button>
      </h2>
      {(['input', 'output', 'monitor'] as const).map((r) => (
        <div key={r} className={`device${lost.includes(r) ? ' lost' : ''}`} data-device={r}>
          <label htmlFor={`dev-${r}`}>
            {LABELS[r]}
            {lost.includes(r) ? <span className="tag-lost"> · lost</span> : null}
          </label>
          <select
            id={`dev-${r}`}
            data-testid={`device-${r}`}
            value={sel.devices[r] ?? ''}
            disabled={Boolean(ui.pending.setDevice) || ui.host?.busy}
            aria-invalid={Boolean(ui.fieldErrors[r]) || lost.includes(r)}
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
              visibleLabel={
                <>
                  <span className="sr-only">{LABELS[r]} </span>Gain
                </>
              }
              value={sel.gains[r]}
              min={LIVE_RANGES.inputGainDb.min}
              max={LIVE_RANGES.inputGainDb.max}
              step={1}
              unit="dB"
              error={ui.fieldErrors[`${r}GainDb`] ?? ui.fieldErrors[`${r}Gain`]}
              onError={(m) => {
                store.setFieldError(`${r}GainDb`, null);
                store.setFieldError(`${r}Gain`, m);
              }}
              onCommit={(v) => void store.run('setGain', { role: r, db: v }, `${r}Gain`)}
            />
          ) : null}
          {r !== 'monitor' ? <Meter label={r === 'input' ? 'Input level' : 'Output level'} short="Level" running={Boolean(t)} db={t ? (r === 'input' ? t.inputPeakDb : t.outputPeakDb) : null} /> : null}
        </div>
      ))}
      {sel.devices.output === 'virtual' ? <p className="hint">In OBS, Discord or a game choose “Resona Virtual Microphone” as the microphone.</p> : null}
    </section>
  );
}

// Silence is -Infinity dB, which JSON carries as null: while running, null reads as silence.
function Meter({ label, short, db, running }: { label: string; short: string; db: number | null; running: boolean }) {
  const v = db === null || !Number.isFinite(db) ? -60 : Math.max(-60, Math.min(0, db));
  return (
    <div className="meter">
      <span aria-hidden="true">{short}</span>
      <meter min={-60} max={0} low={-18} high={-6} optimum={-30} value={v} aria-label={label} />
      <output>{!running ? '–' : db !== null && Number.isFinite(db) ? `${db.toFixed(0)} dB` : '−∞ dB'}</output>
    </div>
  );
}
