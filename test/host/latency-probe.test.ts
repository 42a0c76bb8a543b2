// The latency probe's bookkeeping, without devices: what it reports must be what its clicks went through. A
// fake audio layer answers each timed run; the fake mixer trims the prebuffer during the first voice run, as a
// fresh streaming session does in the probe's quiet gaps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measureLatency, type ProbeHost } from '../../host/live/latency-probe.js';
import { Control, createSharedBuffers } from '../../native-audio/rings.js';
import { CTRL, STATS } from '../../protocol/rings.js';
import type { AudioDeviceInfo } from '../../protocol/devices.js';
import { DEFAULT_SETTINGS, type EngineSettings } from '../../protocol/settings.js';

const DEVICE = { id: 1, name: 'loop', hostApi: 'test', maxInputChannels: 1, maxOutputChannels: 1, defaultSampleRate: 48000, sampleRates: [48000] } as unknown as AudioDeviceInfo;

function fakeHost(trimDuringVoiceRuns: number) {
  const ctl = new Control(createSharedBuffers(48000, 48000, 4800));
  ctl.stats[STATS.PREBUFFER_IN_USE_MS] = 40;
  let bypass = false;
  let voiceRuns = 0;
  const events: string[] = [];
  const h: ProbeHost = {
    audio: {
      open: async () => undefined,
      close: async () => undefined,
      // Bypass: the devices alone, 30 ms. Voice: 11 ms of engine + the prebuffer in use when the clicks went
      // through; a trim in the run's quiet gaps lowers the prebuffer after the clicks were timed.
      measure: async (clicks: number) => {
        if (bypass) return { latenciesMs: Array(clicks).fill(30), clicksEmitted: clicks, foundInInput: clicks, foundInCapture: clicks };
        const at = ctl.stats[STATS.PREBUFFER_IN_USE_MS]!;
        if (voiceRuns++ < trimDuringVoiceRuns) {
          ctl.stats[STATS.PREBUFFER_IN_USE_MS] = at - 20;
          ctl.set(CTRL.PREBUFFER_TRIMS, ctl.get(CTRL.PREBUFFER_TRIMS) + 1);
        }
        return { latenciesMs: Array(clicks).fill(30 + 11 + at), clicksEmitted: clicks, foundInInput: clicks, foundInCapture: clicks };
      },
    } as unknown as ProbeHost['audio'],
    ctl,
    devices: { refresh: async () => ({ devices: [DEVICE], pulse: [], pulseServer: null }), chosen: new Map(), missing: new Set() } as unknown as ProbeHost['devices'],
    bufferFrames: 128,
    streamRate: 48000,
    outputRate: 48000,
    algorithmicMs: () => 11,
    prebufferMs: () => ctl.stats[STATS.PREBUFFER_IN_USE_MS]!,
    settings: () => ({ ...DEFAULT_SETTINGS }) as EngineSettings,
    update: () => undefined,
    setBypass: (on) => {
      bypass = on;
    },
    emit: (_kind, message) => events.push(message),
  };
  return { h, events, runs: () => voiceRuns };
}

test('a prebuffer trimmed while the clicks are timed: measured again, and the result adds up to its parts', { timeout: 60_000 }, async () => {
  const { h, events, runs } = fakeHost(1);
  const m = await measureLatency(h, { capture: '1', click: '1', clicks: 3, intervalMs: 1 });
  assert.equal(runs(), 2, 'the run with a trim in it was measured again');
  assert.ok(events.some((e) => /stepped/.test(e)), events.join('; '));
  assert.equal(m.prebufferMs, 20);
  assert.equal(m.voiceMs, m.deviceMs + m.algorithmicMs + m.prebufferMs);
});

test('no trim: one run, as before', { timeout: 60_000 }, async () => {
  const { h, runs } = fakeHost(0);
  const m = await measureLatency(h, { capture: '1', click: '1', clicks: 3, intervalMs: 1 });
  assert.equal(runs(), 1);
  assert.equal(m.voiceMs, m.deviceMs + m.algorithmicMs + m.prebufferMs);
});
