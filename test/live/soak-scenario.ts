// The on-air soak: what a streamer's session looks like from Discord's side. Speech-like input (a 200 Hz tone
// with harmonics) goes into the test microphone; a recorder (parec, a stand-in for Discord) reads "Resona
// Virtual Microphone" the whole time, while the voice is switched every 20 s through the control API the app
// uses: built-in voices, a pitch change, a voice that fails to load, an f0-method switch, Stop and Start.
// Shared by the CI test (3 minutes) and the long benchmark (bench/live-soak.ts, 30 minutes).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ControlApi } from '../../host/control/control-api.js';
import { importToLibrary } from '../../host/voices.js';
import type { LiveTelemetry } from '../../protocol/telemetry.js';
import { sharedPath } from '../helpers.js';
import { buildTinySynth } from '../models/tiny-models.js';
import { f0Track } from './live-analysis.js';
import { MIC_SINK, PulseEnv, RATE } from './pulse-env.js';

export const TONE = 200;
const VOICE_SOURCE = 'resona_vmic';

type Step = { at: number; what: string; run: (api: ControlApi) => Promise<unknown> };

export interface SoakResult {
  seconds: number;
  /** 10 ms frames of the recording: converted voice, silence, dry (the real voice), anything else. */
  frames: { total: number; converted: number; silent: number; dry: number; other: number };
  longestDryRunFrames: number;
  /** PulseAudio 'remove' events on the virtual microphone's source or sink during the soak. */
  vmicRemovals: number;
  /** Polls at which the recorder was not reading the virtual microphone. */
  recorderMoved: number;
  failedSwitch: string | null;
  unexpectedErrors: string[];
  telemetry: LiveTelemetry;
  log: string[];
}

const call = async (api: ControlApi, cmd: Parameters<ControlApi['call']>[0], args: object): Promise<void> => {
  const r = await api.call(cmd, args as never);
  if (!r.ok) throw new Error(`${cmd}: ${r.error.message}`);
};

/** A tone with falling harmonics: voiced like speech, with one unambiguous pitch to classify frames by. */
function voicedTone(seconds: number): Float32Array {
  const x = new Float32Array(Math.round(seconds * RATE));
  for (let i = 0; i < x.length; i++) {
    const t = i / RATE;
    let v = 0;
    for (let h = 1; h <= 6; h++) v += Math.sin(2 * Math.PI * TONE * h * t) / h;
    x[i] = 0.15 * v;
  }
  return x;
}

export async function runSoak(o: { seconds: number; bufferFrames?: number; onLine?: (s: string) => void }): Promise<SoakResult> {
  const log: string[] = [];
  const say = (s: string) => {
    log.push(s);
    o.onLine?.(s);
  };
  const scale = o.seconds / 180;
  const env = await PulseEnv.start();
  const home = mkdtempSync(path.join(os.tmpdir(), 'resona-soak-'));
  const prevHome = process.env.RESONA_HOME;
  process.env.RESONA_HOME = home;
  const kids: { kill: () => void }[] = [];
  let api: ControlApi | null = null;
  try {
    mkdirSync(path.join(home, 'models'), { recursive: true });
    symlinkSync(sharedPath('models', 'f0', 'crepe_tiny.onnx'), path.join(home, 'models', 'crepe_tiny.onnx'));
    // A neural voice whose content encoder is missing: its switch must fail and leave the running voice.
    const broken = path.join(home, 'Broken Voice.onnx');
    writeFileSync(broken, buildTinySynth({ contract: 'vcclient-skip', rate: 40000, f0: true, channels: 768 }));
    const brokenId = (await importToLibrary(broken)).id;

    api = await ControlApi.create({ sessionDefaults: { sampleRate: RATE, ...(o.bufferFrames ? { bufferFrames: o.bufferFrames } : {}) } });
    await call(api, 'setDevice', { role: 'input', spec: `pulse:${MIC_SINK}.monitor` });
    await call(api, 'setVoice', { voice: 'deeper' });
    await call(api, 'start', {});

    const sources = await env.pactl('list', 'short', 'sources');
    const vmicIndex = sources.split('\n').find((l) => l.split('\t')[1] === VOICE_SOURCE)?.split('\t')[0];
    const sinks = await env.pactl('list', 'short', 'sinks');
    const sinkIndex = sinks.split('\n').find((l) => l.split('\t')[1] === `${VOICE_SOURCE}_sink`)?.split('\t')[0];
    if (!vmicIndex || !sinkIndex) throw new Error(`the virtual microphone is missing: ${sources}`);

    const sub = spawn('pactl', ['subscribe'], { stdio: ['ignore', 'pipe', 'ignore'] });
    kids.push(sub);
    let events = '';
    sub.stdout.on('data', (d: Buffer) => (events += d.toString()));

    const tone = env.play(voicedTone(o.seconds + 15));
    kids.push({ kill: tone.stop });
    await new Promise((r) => setTimeout(r, 1500));
    const rec = env.record(VOICE_SOURCE);
    await new Promise((r) => setTimeout(r, 1500));
    const outputs = await env.pactl('list', 'short', 'source-outputs');
    const recorderLine = outputs.split('\n').find((l) => l.split('\t')[1] === vmicIndex);
    const recorderIndex = recorderLine?.split('\t')[0];
    if (!recorderIndex) throw new Error(`the recorder is not on the virtual microphone: ${outputs}`);

    let failedSwitch: string | null = null;
    const unexpectedErrors: string[] = [];
    const steps: Step[] = [
      { at: 20, what: 'voice higher', run: (a) => call(a, 'setVoice', { voice: 'higher' }) },
      {
        at: 40,
        what: `voice ${brokenId} (fails to load)`,
        run: async (a) => {
          const r = await a.call('setVoice', { voice: brokenId });
          failedSwitch = r.ok ? null : r.error.message;
          if (r.ok) unexpectedErrors.push('the broken voice loaded');
        },
      },
      { at: 50, what: 'pitch +2', run: (a) => call(a, 'nudgePitch', { by: 2 }) },
      { at: 60, what: 'voice giant', run: (a) => call(a, 'setVoice', { voice: 'giant' }) },
      { at: 80, what: 'f0 method crepe', run: (a) => call(a, 'setF0Method', { method: 'crepe' }) },
      { at: 100, what: 'Stop', run: (a) => call(a, 'stop', {}) },
      { at: 106, what: 'Start', run: (a) => call(a, 'start', {}) },
      { at: 120, what: 'voice chipmunk', run: (a) => call(a, 'setVoice', { voice: 'chipmunk' }) },
      { at: 140, what: 'voice androgynous', run: (a) => call(a, 'setVoice', { voice: 'androgynous' }) },
      { at: 160, what: 'voice deeper', run: (a) => call(a, 'setVoice', { voice: 'deeper' }) },
    ];
    // The long run repeats the 3-minute cycle.
    const all: Step[] = [];
    for (let cycle = 0; cycle * 180 * Math.min(1, scale) < o.seconds; cycle++) {
      for (const s of steps) {
        const at = cycle * 180 + s.at * Math.min(1, scale);
        if (at < o.seconds) all.push({ ...s, at });
      }
      if (scale <= 1) break;
    }
    const t0 = Date.now();
    let recorderMoved = 0;
    const poll = setInterval(() => {
      void env.pactl('list', 'short', 'source-outputs').then((out) => {
        const line = out.split('\n').find((l) => l.split('\t')[0] === recorderIndex);
        if (!line || line.split('\t')[1] !== vmicIndex) recorderMoved++;
      }, () => recorderMoved++);
    }, 1000);
    for (const s of all) {
      const wait = t0 + s.at * 1000 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const started = Date.now();
      try {
        await s.run(api);
        say(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${s.what} (${Date.now() - started} ms)`);
      } catch (e) {
        unexpectedErrors.push(`${s.what}: ${(e as Error).message}`);
        say(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${s.what} FAILED: ${(e as Error).message}`);
      }
    }
    const left = t0 + o.seconds * 1000 - Date.now();
    if (left > 0) await new Promise((r) => setTimeout(r, left));
    clearInterval(poll);
    const y = await rec.stop();
    const telemetry = (api as unknown as { session: { telemetry(): LiveTelemetry } }).session.telemetry();
    const removals = events.split('\n').filter((l) => l.includes("'remove'") && (l.includes(`source #${vmicIndex}`) || l.includes(`sink #${sinkIndex}`))).length;
    return { seconds: o.seconds, ...classify(y), vmicRemovals: removals, recorderMoved, failedSwitch, unexpectedErrors, telemetry, log };
  } finally {
    for (const k of kids) k.kill();
    await api?.close();
    await env.stop();
    if (prevHome === undefined) delete process.env.RESONA_HOME;
    else process.env.RESONA_HOME = prevHome;
    rmSync(home, { recursive: true, force: true });
  }
}

/** Every 10 ms frame: converted (f0 at a voice's shift of the tone), silent, dry (the tone itself) or other. */
function classify(y: Float32Array): Pick<SoakResult, 'frames' | 'longestDryRunFrames'> {
  const hop = RATE / 100;
  const f0 = f0Track(y, RATE);
  const shifts = [-5, 5, 7, -9, 9, 4].map((s) => TONE * 2 ** (s / 12));
  const cents = (a: number, b: number) => Math.abs(1200 * Math.log2(a / b));
  const frames = { total: 0, converted: 0, silent: 0, dry: 0, other: 0 };
  let run = 0;
  let longest = 0;
  for (let i = 0; i < f0.length; i++) {
    let e = 0;
    for (let k = i * hop; k < Math.min(y.length, (i + 1) * hop); k++) e += y[k]! * y[k]!;
    const rms = Math.sqrt(e / hop);
    const f = f0[i]!;
    frames.total++;
    const dry = f > 0 && cents(f, TONE) < 35;
    if (dry) frames.dry++;
    else if (rms < 0.003) frames.silent++;
    else if (f > 0 && shifts.some((s) => cents(f, s) < 50)) frames.converted++;
    else frames.other++;
    run = dry ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return { frames, longestDryRunFrames: longest };
}
