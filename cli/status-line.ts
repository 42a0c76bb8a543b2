// The one-line live status a terminal shows, redrawn in place. Every field has a fixed width so the line does
// not jitter as numbers change. It fits an 80-column terminal and is cut to the terminal's width (and never
// reaches 100 columns), because a wrapped line cannot be redrawn with '\r' and floods the terminal instead.
import type { LiveTelemetry } from '../protocol/telemetry.js';

export const STATUS_MAX_COLUMNS = 99;

const db = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '-inf').padStart(4);

export function formatStatusLine(t: LiveTelemetry, columns = STATUS_MAX_COLUMNS + 1): string {
  const flags = [t.bypass ? 'BYPASS' : '', t.noiseSuppression ? 'NS' : '', t.missing.length ? `missing ${t.missing.join('+')}` : ''].filter(Boolean).join(' ');
  // Flags first: bypass and a missing device matter more than the numbers if the line must be cut.
  const line =
    `${t.state.padEnd(11)}${flags ? ` ${flags} ` : ''} in ${db(t.inputPeakDb)} dB  out ${db(t.outputPeakDb)} dB  rtf ${t.rtf.toFixed(2)}  ` +
    `latency ${t.latency.totalMs.toFixed(0).padStart(3)} ms  underruns ${String(t.underruns).padStart(3)}`;
  // A terminal of unknown size reports 0 columns (a pseudo-terminal nobody sized, e.g. `script` with piped input):
  // cutting to "0 - 1" would drop the line's last character, the underrun count.
  const width = columns > 0 ? columns - 1 : STATUS_MAX_COLUMNS;
  return line.slice(0, Math.min(STATUS_MAX_COLUMNS, width));
}
