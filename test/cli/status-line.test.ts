// The live status line: fixed width, never wider than the terminal or 100 columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatusLine } from '../../cli/status-line.js';
import type { LiveTelemetry } from '../../protocol/telemetry.js';

function telemetry(over: Partial<LiveTelemetry>): LiveTelemetry {
  return {
    state: 'running',
    bypass: false,
    noiseSuppression: false,
    inputPeakDb: -23.4,
    outputPeakDb: -20.1,
    rtf: 0.42,
    underruns: 3,
    missing: [],
    latency: { totalMs: 347.2 },
    ...over,
  } as unknown as LiveTelemetry;
}

test('the status line keeps its width as numbers change and fits 80 columns', { timeout: 5000 }, () => {
  const a = formatStatusLine(telemetry({}));
  const b = formatStatusLine(telemetry({ inputPeakDb: -Infinity, outputPeakDb: -5, underruns: 12, latency: { totalMs: 95 } as LiveTelemetry['latency'] }));
  assert.equal(a.length, b.length, `${a}\n${b}`);
  assert.ok(a.length < 80, a);
  assert.match(a, /running +in  -23 dB  out  -20 dB  rtf 0\.42  latency 347 ms  underruns   3/);
});

test('flags are shown, and the line is cut to the terminal and below 100 columns', { timeout: 5000 }, () => {
  const t = telemetry({ state: 'passthrough', bypass: true, noiseSuppression: true, missing: ['input', 'output', 'monitor'] });
  assert.match(formatStatusLine(t, 200), /^passthrough BYPASS NS missing input\+output\+monitor  in  -23 dB/);
  assert.ok(formatStatusLine(t, 200).length < 100);
  assert.equal(formatStatusLine(t, 60).length, 59);
});

test('a terminal that reports 0 columns (unknown size) gets the whole line, underrun count included', { timeout: 5000 }, () => {
  const line = formatStatusLine(telemetry({ underruns: 7 }), 0);
  assert.match(line, /underruns +7$/);
  assert.equal(line, formatStatusLine(telemetry({ underruns: 7 })));
});
