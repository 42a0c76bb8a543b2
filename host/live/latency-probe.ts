// Loopback latency: clicks timed through the whole chain, in bypass (the devices alone) and with the voice.
// Separate from the session so the session composes it; it only needs the handful of things ProbeHost names.
import type { AudioIO } from '../../native-audio/audio-io.js';
import type { Control } from '../../native-audio/rings.js';
import { CTRL, STATS } from '../../protocol/rings.js';
import type { EngineSettings } from '../../protocol/settings.js';
import type { LiveEvent } from '../../protocol/telemetry.js';
import type { DeviceFollower } from './device-follower.js';
import { DeviceError, resolveDevice, routingEnv } from './devices.js';

export interface LatencyMeasurement {
  /** Click through the whole chain with the voice on, ms (median). */
  voiceMs: number;
  /** The same in bypass: the devices alone (and the short dry queue), ms (median). */
  deviceMs: number;
  algorithmicMs: number;
  /** What the clicks waited in the output ring: the prebuffer plus the output's lag behind its schedule, ms. */
  prebufferMs: number;
  clicks: { voice: number[]; device: number[] };
}

export interface ProbeOptions {
  capture: string;
  click?: string;
  clicks?: number;
  intervalMs?: number;
  keepVoice?: boolean;
}

export interface ProbeHost {
  audio: AudioIO;
  ctl: Control;
  devices: DeviceFollower;
  bufferFrames: number;
  streamRate: number;
  outputRate: number;
  algorithmicMs(): number;
  prebufferMs(): number;
  settings(): EngineSettings;
  update(s: Partial<EngineSettings>): unknown;
  setBypass(on: boolean): void;
  emit(kind: LiveEvent['kind'], message: string): void;
}

/**
 * Loopback latency: clicks go through the whole chain and are timed between the input stream and a
 * capture stream that hears the output (the virtual microphone's source, a cable's other end, a mic near
 * the speakers). Measured twice: in bypass (the devices alone) and with the voice. `click` is a device
 * whose sound reaches the input (played by Resona); without it, clicks must come from outside.
 */
export async function measureLatency(h: ProbeHost, o: ProbeOptions): Promise<LatencyMeasurement> {
  const clicks = o.clicks ?? 8;
  const intervalMs = o.intervalMs ?? Math.max(600, Math.round(h.algorithmicMs() + h.prebufferMs() + 300));
  const cat = await h.devices.refresh();
  const capture = resolveDevice(o.capture, 'input', cat);
  const click = o.click ? resolveDevice(o.click, 'output', cat) : null;
  // The audio library blocks one thread-pool thread per stream: make room for the two probe streams.
  const hadMonitor = h.devices.chosen.has('monitor') && !h.devices.missing.has('monitor');
  if (hadMonitor) await h.audio.close('monitor');
  const wasBypass = h.ctl.get(CTRL.BYPASS) === 1;
  try {
    // Inside the try: a stream that fails to open leaves none of the others open, and the monitor comes back.
    const env = routingEnv(capture, 'input');
    await h.audio.open({ role: 'capture', deviceId: capture.id, label: capture.label, sampleRate: h.outputRate, bufferFrames: h.bufferFrames, ...(env ? { env } : {}) });
    if (click) {
      const cenv = routingEnv(click, 'output');
      await h.audio.open({ role: 'click', deviceId: click.id, label: click.label, sampleRate: h.streamRate, bufferFrames: h.bufferFrames, ...(cenv ? { env: cenv } : {}) });
    }
    // The prebuffer holds still while it is timed (released in finally). It used to follow the jitter during the
    // runs: a trim, grow or drift pad between two clicks times them against a prebuffer the result does not
    // report, and three such runs in a row on a busy machine (the UI's host with a browser beside it) gave a
    // result 10 ms over its parts once and 16 under once. A measurement lasts ~20 s; a step deferred that long
    // costs nothing.
    h.ctl.set(CTRL.HOLD_STEPS, 1);
    await sleep(1000); // let the new streams start and their clocks settle
    // Devices, voice, devices again: a device hiccup between them (an underflow makes PulseAudio re-buffer)
    // changes the device latency, and then the pair is measured again.
    let device = NaN;
    let voiceRun: Awaited<ReturnType<AudioIO['measure']>> | null = null;
    let deviceRuns: number[] = [];
    let lagMs = 0;
    for (let attempt = 0; attempt < 3; attempt++) {
      // What still moves the schedule while the steps are held: an underrun (it primes again, with a larger
      // prebuffer), a catch-up or a resync. Such a run is measured again.
      const steps = () => h.ctl.get(CTRL.UNDERRUNS) + h.ctl.get(CTRL.CATCH_UPS) + h.ctl.get(CTRL.RESYNCS);
      const stepsBefore = steps();
      h.setBypass(true);
      await sleep(300);
      const d1 = await h.audio.measure(clicks, intervalMs, Boolean(click));
      h.setBypass(false);
      // Pitch and formant shifts smear a click in time (a PSOLA grain spans tens of ms), which moved its
      // detected onset by up to ~30 ms or hid it; the chain's latency is the same at pitch 0, so the
      // voice is neutral while it is timed, unless asked otherwise.
      const shaped = { pitch: h.settings().pitch, formant: h.settings().formant };
      if (!o.keepVoice) h.update({ pitch: 0, formant: 0 });
      await sleep(Math.max(300, h.prebufferMs() + h.algorithmicMs() + 100));
      // The output's lag behind its schedule is published once a second; sampled over the run, it is what the
      // clicks waited beyond the prebuffer.
      const lags: number[] = [];
      const sampler = setInterval(() => lags.push(h.ctl.stats[STATS.SCHEDULE_LAG_MS]!), 250);
      try {
        voiceRun = await h.audio.measure(clicks, intervalMs, Boolean(click));
      } finally {
        clearInterval(sampler);
        if (!o.keepVoice) h.update(shaped);
      }
      lagMs = lags.length > 0 ? lags.reduce((a, b) => a + b, 0) / lags.length : h.ctl.stats[STATS.SCHEDULE_LAG_MS]!;
      h.setBypass(true);
      await sleep(300);
      const d2 = await h.audio.measure(Math.max(3, clicks >> 1), intervalMs, Boolean(click));
      // The bypass click also waits in the dry queue, which the voice path never sees: take it out.
      const dryMs = (h.ctl.stats[STATS.DRY_QUEUE_FRAMES]! * 1000) / h.streamRate;
      const [m1, m2] = [median(d1.latenciesMs) - dryMs, median(d2.latenciesMs) - dryMs];
      deviceRuns = [...d1.latenciesMs, ...d2.latenciesMs];
      device = (m1 + m2) / 2;
      const stepped = steps() !== stepsBefore;
      if (Math.abs(m1 - m2) <= 5 && !stepped) break;
      if (stepped) h.emit('info', 'the voice underran or skipped ahead during the measurement; measuring again');
      else h.emit('warning', `device latency moved from ${m1.toFixed(1)} to ${m2.toFixed(1)} ms during the measurement; measuring again`);
    }
    h.setBypass(wasBypass);
    const voice = voiceRun!;
    const deviceMs = device;
    const voiceMs = median(voice.latenciesMs);
    if (!Number.isFinite(voiceMs) || !Number.isFinite(deviceMs)) {
      throw new DeviceError(
        `the latency clicks were not heard (input found ${voice.foundInInput}, capture ${voice.foundInCapture}): the capture device must hear the output and the input must hear the clicks`,
      );
    }
    const prebufferMs = h.ctl.stats[STATS.PREBUFFER_IN_USE_MS]! + lagMs;
    return { voiceMs, deviceMs, algorithmicMs: h.algorithmicMs(), prebufferMs, clicks: { voice: voice.latenciesMs, device: deviceRuns } };
  } finally {
    h.ctl.set(CTRL.HOLD_STEPS, 0);
    h.setBypass(wasBypass);
    await h.audio.close('capture').catch(() => undefined);
    if (click) await h.audio.close('click').catch(() => undefined);
    if (hadMonitor) await h.devices.open(h.devices.chosen.get('monitor')!, false).catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function median(a: number[]): number {
  if (a.length === 0) return NaN;
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
