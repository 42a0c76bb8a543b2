// Where the voice's networks run, inside the Latency & engine panel's Engine group: the provider selector (only what this machine can run is choosable; the rest
// say why not) and, while the voice runs, what each network actually got. A change reloads the voice beside
// the running one, like a voice switch.
import { PROVIDER_CHOICES, PROVIDER_LABELS, type ProviderChoice } from '../../../protocol/runtime.js';
import type { Store, UiState } from '../store.js';

export function Processor({ store, ui }: { store: Store; ui: UiState }) {
  const host = ui.host;
  if (!host) return null;
  const chosen = host.selection.runtime.provider;
  const status = new Map(host.providers.map((p) => [p.id, p]));
  const placement = ui.telemetry?.placement ?? [];
  // Each network stage's time of the last block, by the name its placement carries (telemetry `stages`).
  const stageMs = new Map((ui.telemetry?.stages ?? []).map((s) => [s.name, s]));
  return (
    <div className="processor">
      <div className="field">
        <label htmlFor="provider">Run neural voices on</label>
        <select
          id="provider"
          data-testid="provider"
          value={chosen}
          disabled={host.busy}
          onChange={(e) => void store.run('setRuntime', { provider: e.target.value as ProviderChoice }, 'provider')}
        >
          {PROVIDER_CHOICES.map((id) => {
            const s = id === 'auto' ? null : status.get(id);
            const off = s ? !s.available : false;
            return (
              <option key={id} value={id} disabled={off && id !== chosen} title={s?.reason ?? undefined}>
                {PROVIDER_LABELS[id]}
                {off ? ' (unavailable)' : ''}
              </option>
            );
          })}
        </select>
        {ui.fieldErrors.provider ? (
          <p className="error" role="alert" data-testid="provider-error">
            {ui.fieldErrors.provider}
          </p>
        ) : null}
      </div>
      <ul className="hint" data-testid="provider-status">
        {host.providers
          .filter((p) => p.id !== 'cpu')
          .map((p) => (
            <li key={p.id}>
              {p.label}: {p.available ? 'available' : 'unavailable'}
              {p.reason ? ` (${p.reason})` : ''}
            </li>
          ))}
      </ul>
      {placement.length ? (
        <ul data-testid="placement">
          {placement.map((n) => (
            <li key={n.network}>
              {n.network}: <strong>{PROVIDER_LABELS[n.provider]}</strong>
              {stageMs.has(n.network) ? (
                <span data-testid="stage-ms">
                  {' '}
                  {stageMs.get(n.network)!.calls > 1 ? `×${stageMs.get(n.network)!.calls} ` : ''}
                  {stageMs.get(n.network)!.ms.toFixed(1)} ms
                </span>
              ) : null}
              {n.note ? <small> — {n.note}</small> : null}
            </li>
          ))}
        </ul>
      ) : ui.telemetry ? (
        <p className="hint" data-testid="placement">
          This voice runs no network (a built-in voice).
        </p>
      ) : null}
    </div>
  );
}
