// The latency probe's bookkeeping, without devices: what it reports must be what its clicks went through. A
// fake audio layer answers each timed run, with the voice's clicks as late as the prebuffer in use plus the
// output's lag behind its schedule; the fake mixer can underrun during the first voice run (the prebuffer grows).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measureLatency, type ProbeHost } from '../../host/live/latency-probe.js';
import { Control, createSharedBuffers } from '../../native-audio/rings.js';
import { CTRL, STATS } from '../../protocol/rings.js';
import type { AudioDeviceInfo } from '../../protocol/devices.js';
import { DEFAULT_SETTINGS, type EngineSettings } from '../../protocol/settings.js';

const DEVICE = { id: 1, name: 'loop', hostApi: 'test', maxInputChannels: 1, maxOutputChannels: 1, defaultSampleRate: 48000, sampleRates: [48000] } as unknown as AudioDeviceInfo;

function fakeHost(o: { underrunDuringVoiceRuns?: number; lagMs?: number; clickFails?: boolean } = {}) {
  const ctl = new Control(createSharedBuffers(48000, 48000, 4800));
  ctl.stats[STATS.PREBUFFER_IN_USE_MS] = 40;
  ctl.stats[STATS.SCHEDULE_LAG_MS] = o.lagMs ?? 0;
  let bypass = false;
  let voiceRuns = 0;
  const heldInRuns: number[] = [];
  const events: string[] = [];
  const open = new Set<string>();
  const h: ProbeHost = {
    audio: {
      open: async (r: { role: string }) => {
        if (o.clickFails && r.role === 'click') throw new Error('the click device is gone');
        open.add(r.role);
      },
      close: async (role: string) => void open.delete(role),
      // Bypass: the devices alone, 30 ms. Voice: 11 ms of engine + what the clicks waited in the output ring.
      // An underrun in the run primes the voice again with a larger prebuffer, after some clicks were timed.
      measure: async (clicks: number) => {
        heldInRuns.push(ctl.get(CTRL.HOLD_STEPS));
        if (bypass) return { latenciesMs: Array(clicks).fill(30), clicksEmitted: clicks, foundInInput: clicks, foundInCapture: clicks };
        const waited = ctl.stats[STATS.PREBUFFER_IN_USE_MS]! + ctl.stats[STATS.SCHEDULE_LAG_MS]!;
        if (voiceRuns++ < (o.underrunDuringVoiceRuns ?? 0)) {
          ctl.stats[STATS.PREBUFFER_IN_USE_MS] = ctl.stats[STATS.PREBUFFER_IN_USE_MS]! + 10;
          ctl.add(CTRL.UNDERRUNS, 1);
        }
        return { latenciesMs: Array(clicks).fill(30 + 11 + waited), clicksEmitted: clicks, foundInInput: clicks, foundInCapture: clicks };
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
  return { h, ctl, events, heldInRuns, open, runs: () => voiceRuns };
}

test('an underrun while the clicks are timed: measured again, and the result adds up to its parts', { timeout: 60_000 }, async () => {
  const { h, events, runs } = fakeHost({ underrunDuringVoiceRuns: 1 });
  const m = await measureLatency(h, { capture: '1', click: '1', clicks: 3, intervalMs: 1 });
  assert.equal(runs(), 2, 'the run with an underrun in it was measured again');
  assert.ok(events.some((e) => /underran/.test(e)), events.join('; '));
  assert.equal(m.prebufferMs, 50);
  assert.equal(m.voiceMs, m.deviceMs + m.algorithmicMs + m.prebufferMs);
});

test('no underrun: one run; the prebuffer holds still while it is timed, and is released after', { timeout: 60_000 }, async () => {
  const { h, ctl, heldInRuns, runs } = fakeHost();
  const m = await measureLatency(h, { capture: '1', click: '1', clicks: 3, intervalMs: 1 });
  assert.equal(runs(), 1);
  assert.deepEqual(heldInRuns, [1, 1, 1], 'every run (bypass, voice, bypass) is timed with the steps held');
  assert.equal(ctl.get(CTRL.HOLD_STEPS), 0);
  assert.equal(m.voiceMs, m.deviceMs + m.algorithmicMs + m.prebufferMs);
});

test("the output's lag behind its schedule is part of what the clicks waited: the prebuffer part includes it", { timeout: 60_000 }, async () => {
  const { h } = fakeHost({ lagMs: 5.3 });
  const m = await measureLatency(h, { capture: '1', click: '1', clicks: 3, intervalMs: 1 });
  assert.ok(Math.abs(m.prebufferMs - 45.3) < 1e-9, `prebuffer ${m.prebufferMs}`);
  assert.ok(Math.abs(m.voiceMs - (m.deviceMs + m.algorithmicMs + m.prebufferMs)) < 1e-9);
});

test('a probe stream that fails to open leaves nothing behind: no stream open, the prebuffer not held', { timeout: 60_000 }, async () => {
  const { h, ctl, open } = fakeHost({ clickFails: true });
  await assert.rejects(measureLatency(h, { capture: '1', click: '1', clicks: 3, intervalMs: 1 }), /click device is gone/);
  assert.deepEqual([...open], [], 'the capture stream was closed again');
  assert.equal(ctl.get(CTRL.HOLD_STEPS), 0);
});
