// Live read-outs: levels, inference time per block, RTF, buffer health and counters, as small plots.
import type { UiState } from '../store.js';
import { Plot } from './Plot.js';

export function Readouts({ ui }: { ui: UiState }) {
  const t = ui.telemetry;
  const h = ui.history;
  const blockLen = ui.host?.selection.settings.blockMs ?? 100;
  return (
    <section aria-labelledby="live-h" className="panel readouts">
      <h2 id="live-h">Live</h2>
      <div className="plots">
        <Plot label="Input" values={h.inputDb} min={-90} max={0} unit="dB" digits={0} testId="plot-input" />
        <Plot label="Output" values={h.outputDb} min={-90} max={0} unit="dB" digits={0} testId="plot-output" />
        <Plot label="Inference per block" values={h.blockMs} min={0} max={blockLen} limit={blockLen} unit="ms" testId="plot-block" />
        <Plot label="RTF" values={h.rtf} min={0} max={1.5} limit={1} unit="" digits={2} testId="plot-rtf" />
        <Plot label="Prebuffer" values={h.prebufferMs} min={0} max={400} unit="ms" digits={0} testId="plot-prebuffer" />
      </div>
      <dl className="counters">
        <div>
          <dt>Underruns</dt>
          <dd data-testid="underruns">{t?.underruns ?? '–'}</dd>
        </div>
        <div>
          <dt>Dropped input</dt>
          <dd>{t?.droppedInput ?? '–'}</dd>
        </div>
        <div>
          <dt>Inference restarts</dt>
          <dd>{t?.inferenceRestarts ?? '–'}</dd>
        </div>
        <div>
          <dt>Measured latency</dt>
          <dd>{t?.latency.measuredMs !== undefined ? `${t.latency.measuredMs.toFixed(0)} ms` : 'not measured'}</dd>
        </div>
      </dl>
      {ui.events.length ? (
        <ol className="events" aria-label="Engine events">
          {ui.events.slice(-4).map((e, i) => (
            <li key={`${e.at}-${i}`} className={`ev-${e.kind}`}>
              {e.message}
            </li>
          ))}
        </ol>
      ) : null}
    </section>
  );
}
