// The control API: one object that owns what the user chose (voice, settings, devices, gains) and the live
// session, and answers the protocol's commands. The WebSocket server and Electron's engine utility process
// both wrap this same object, so the app behaves exactly as server mode does (and is tested through it).
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type CallResult, type CommandName, type ControlCommands, type DeviceChoice, type DeviceList, type DeviceRole,
  type HostEvent, type HostState, isCommandName, type Selection, TELEMETRY_HZ,
} from '../../protocol/control.js';
import { checkLive } from '../../protocol/live-settings.js';
import { DEFAULT_SETTINGS, type EngineSettings, mergeSettings, SETTING_RANGES } from '../../protocol/settings.js';
import type { VoiceInfo } from '../../protocol/voices.js';
import { VIRTUAL_MIC } from '../../protocol/devices.js';
import { listPulse, pulseServer } from '../../native-audio/pulse.js';
import { AudioIO } from '../../native-audio/audio-io.js';
import { LiveSession, type LiveOptions } from '../live/session.js';
import { DEFAULT_VOICE, importToLibrary, listVoices, voicesDir, VoiceNotFoundError } from '../voices.js';
import { parseArgs } from './command-schema.js';
import { RequestError, toControlError } from './errors.js';
import { checkVoiceSource } from './import-source.js';
import { type Job, Lanes } from './lanes.js';
import { PresetStore } from './presets.js';

export const VIRTUAL_OUTPUT = 'virtual';

export interface ControlApiOptions {
  /** Where recordings go; default $RESONA_HOME/recordings (beside the voice library). */
  recordDir?: string;
  /** Options for every session (tests pin the stream rate or the device buffer). */
  sessionDefaults?: Partial<Pick<LiveOptions, 'sampleRate' | 'bufferFrames'>>;
}

type Listener = (e: HostEvent) => void;
type Args<C extends CommandName> = ControlCommands[C]['args'];


export class ControlApi {
  private session: LiveSession | null = null;
  private busy = false;
  private listeners = new Set<Listener>();
  private telemetryTimer: NodeJS.Timeout | null = null;
  private voices: VoiceInfo[] = [];
  private broken: string[] = [];
  private recording: HostState['recording'] = { active: false, file: null };
  private portAudioCache: DeviceChoice[] | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** Clients take turns on the queue above, one command each. */
  private readonly lanes = new Lanes((run) => {
    const r = this.queue.then(run);
    this.queue = r.catch(() => undefined);
    return r;
  });
  private reopenTimer: NodeJS.Timeout | null = null;
  private selection: Selection;

  private constructor(
    private readonly presets: PresetStore,
    private readonly o: ControlApiOptions,
    hasPulse: boolean,
  ) {
    this.selection = {
      voice: DEFAULT_VOICE,
      settings: { ...DEFAULT_SETTINGS },
      f0Method: 'yin',
      devices: { input: null, output: hasPulse ? VIRTUAL_OUTPUT : null, monitor: null },
      gains: { input: 0, output: 0, monitor: 0 },
      noiseSuppression: false,
      bypass: false,
    };
  }

  static async create(o: ControlApiOptions = {}): Promise<ControlApi> {
    const home = path.dirname(voicesDir());
    const api = new ControlApi(await PresetStore.open(path.join(home, 'presets.json')), o, (await pulseServer()) !== null);
    await api.refreshVoices();
    api.selection.settings = api.settingsFor(DEFAULT_VOICE);
    return api;
  }

  onEvent(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(e: HostEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        /* one broken client must not stop the others */
      }
    }
  }

  /**
   * Runs one command for a client (`lane`: its connection; callers without one share a lane); every failure
   * comes back as a ControlError, never as a throw. `args` may be anything: the command schema checks it
   * before anything waits. Commands that change things run one at a time (a voice switch and a device change
   * must not interleave their restarts), clients taking turns; a read answers at once; settings updates
   * still queued merge into one.
   */
  async call<C extends CommandName>(cmd: C, args: unknown, lane: object = this): Promise<CallResult<ControlCommands[C]['result']>> {
    const fail = (e: unknown) => ({ ok: false as const, error: toControlError(e, cmd === 'importVoice' ? 'import' : undefined) });
    let checked: Args<C>;
    try {
      if (!isCommandName(cmd)) throw new RequestError(`unknown command "${String(cmd)}"`);
      checked = parseArgs(cmd, args);
    } catch (e) {
      return fail(e);
    }
    if (cmd === 'getState') return { ok: true, result: this.state() as ControlCommands[C]['result'] };
    return new Promise((resolve) => {
      const answer = (p: Promise<unknown>) => p.then((result) => resolve({ ok: true, result: result as ControlCommands[C]['result'] }), (e: unknown) => resolve(fail(e)));
      const job: Job = cmd === 'setSettings'
        ? new SettingsBatch((update) => this.dispatch('setSettings', { settings: update }), (checked as Args<'setSettings'>).settings, answer)
        : { run: () => answer(this.dispatch(cmd, checked as Record<string, unknown>)) };
      this.lanes.push(lane, job);
    });
  }

  private async dispatch(cmd: CommandName, a: Record<string, unknown>): Promise<unknown> {
    switch (cmd) {
      case 'getState':
        return this.state();
      case 'start':
        await this.start();
        return this.changed();
      case 'stop':
        await this.stopSession();
        return this.changed();
      case 'setSettings':
        return this.setSettings((a as Args<'setSettings'>).settings);
      case 'setF0Method': {
        const m = (a as Args<'setF0Method'>).method;
        const previous = this.selection.f0Method;
        this.selection.f0Method = m;
        // The estimator lives in the inference worker: a running voice restarts with it. A failure (a missing
        // network file) is reported inline and the previous method comes back.
        if (this.session) {
          try {
            await this.restart();
          } catch (e) {
            this.selection.f0Method = previous;
            await this.start().catch(() => undefined);
            throw e instanceof RequestError ? e : new RequestError((e as Error).message, 'f0Method');
          }
        }
        return this.changed();
      }
      case 'setVoice':
        return this.setVoice((a as Args<'setVoice'>).voice);
      case 'importVoice':
        return this.importVoice(a as Args<'importVoice'>);
      case 'setDevice': {
        const { role, spec } = a as Args<'setDevice'>;
        return this.setDevice(role, spec);
      }
      case 'setGain': {
        const { role: r, db: given } = a as Args<'setGain'>;
        const db = checkLive(`${r}GainDb` as 'inputGainDb', given);
        this.selection.gains[r] = db;
        this.session?.setGain(r, db);
        return this.changed();
      }
      case 'setBypass':
        this.selection.bypass = (a as Args<'setBypass'>).on;
        this.session?.setBypass(this.selection.bypass);
        return this.changed();
      case 'setNoiseSuppression':
        this.selection.noiseSuppression = (a as Args<'setNoiseSuppression'>).on;
        this.session?.setNoiseSuppression(this.selection.noiseSuppression);
        return this.changed();
      case 'startRecording':
        await this.startRecording();
        return this.changed();
      case 'stopRecording':
        await this.stopRecording();
        return this.changed();
      case 'measureLatency': {
        if (!this.session) throw new RequestError('start the voice first: latency is measured through the running chain');
        const { capture, click } = a as Args<'measureLatency'>;
        const m = await this.session.measureLatency({ capture, ...(click ? { click } : {}) });
        return { voiceMs: m.voiceMs, deviceMs: m.deviceMs, algorithmicMs: m.algorithmicMs, prebufferMs: m.prebufferMs };
      }
      case 'listDevices':
        return this.listDevices();
      case 'listVoices':
        await this.refreshVoices();
        return { voices: this.voices, broken: this.broken };
      case 'nudgePitch': {
        const { by } = a as Args<'nudgePitch'>;
        const r = SETTING_RANGES.pitch;
        return this.setSettings({ pitch: Math.min(r.max, Math.max(r.min, this.selection.settings.pitch + by)) });
      }
      case 'stepVoice': {
        const i = this.voices.findIndex((v) => v.id === this.selection.voice);
        const n = this.voices.length;
        const next = this.voices[(((i + (a as Args<'stepVoice'>).by) % n) + n) % n]!;
        return this.setVoice(next.id);
      }
    }
  }

  state(): HostState {
    return {
      running: this.session !== null,
      busy: this.busy,
      selection: structuredClone(this.selection),
      recording: { ...this.recording },
      voices: this.voices,
      brokenVoices: this.broken,
    };
  }

  private changed(): HostState {
    const s = this.state();
    this.emit({ type: 'state', state: s });
    return s;
  }

  private async refreshVoices(): Promise<void> {
    const { voices, broken } = await listVoices();
    this.voices = voices;
    this.broken = broken;
  }

  /** The voice's preset if one was saved, else the defaults with the voice's own pitch and formant. */
  private settingsFor(voice: string): EngineSettings {
    const saved = this.presets.get(voice);
    if (saved) return saved;
    const v = this.voices.find((x) => x.id === voice);
    return { ...DEFAULT_SETTINGS, pitch: v?.defaultPitch ?? 0, formant: v?.defaultFormant ?? 0 };
  }

  private async setSettings(update: Partial<EngineSettings>): Promise<HostState> {
    // Checked here first: a bad value changes nothing, on the host or in the engine.
    const next = mergeSettings(this.selection.settings, update);
    if (this.session) this.session.update(update);
    this.selection.settings = next;
    // The write waits for a pause in changes (a slider drag is one write); close() flushes it.
    this.presets.set(this.selection.voice, next);
    return this.changed();
  }

  private async setVoice(voice: string): Promise<HostState> {
    if (!this.voices.some((v) => v.id === voice)) {
      await this.refreshVoices();
      if (!this.voices.some((v) => v.id === voice)) throw new VoiceNotFoundError(voice, this.voices.map((v) => v.id));
    }
    const previous = { voice: this.selection.voice, settings: this.selection.settings };
    this.selection.voice = voice;
    this.selection.settings = this.settingsFor(voice);
    // The live session's voice is fixed when it starts, so a switch restarts it with the same devices. If the
    // new voice fails to load, the previous one comes back rather than leaving the user silent.
    if (this.session) {
      try {
        await this.restart();
      } catch (e) {
        this.selection.voice = previous.voice;
        this.selection.settings = previous.settings;
        await this.start().catch(() => undefined);
        throw e;
      }
    }
    return this.changed();
  }

  private async importVoice(a: Args<'importVoice'>): Promise<{ voice: VoiceInfo; state: HostState }> {
    const name = path.basename(a.name);
    if (!/\.(onnx|zip|pth|pt)$/i.test(name)) {
      throw new RequestError(`"${name}" is not a voice file: import an RVC .onnx or .pth model, or a .zip of a voice folder`, 'file');
    }
    let src: string;
    let tmp: string | null = null;
    if (a.path !== undefined) {
      src = await checkVoiceSource(a.path);
    } else if (a.dataBase64 !== undefined) {
      tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'resona-upload-'));
      src = path.join(tmp, name);
      await fs.writeFile(src, Buffer.from(a.dataBase64, 'base64'));
    } else {
      throw new RequestError('importVoice needs the file (dataBase64) or its path', 'file');
    }
    try {
      const voice = await importToLibrary(src);
      await this.refreshVoices();
      return { voice, state: this.changed() };
    } catch (e) {
      // The upload's temporary path means nothing to the user: name their file instead.
      if (tmp && e instanceof Error) e.message = e.message.split(src).join(name);
      throw e;
    } finally {
      if (tmp) await fs.rm(tmp, { recursive: true, force: true });
    }
  }

  private liveOptions(): LiveOptions {
    const s = this.selection;
    const virtual = s.devices.output === VIRTUAL_OUTPUT;
    return {
      voice: s.voice,
      ...(s.f0Method !== 'yin' ? { f0: s.f0Method } : {}),
      settings: s.settings,
      ...(s.devices.input ? { input: s.devices.input } : {}),
      ...(s.devices.output && !virtual ? { output: s.devices.output } : {}),
      ...(s.devices.monitor ? { monitor: s.devices.monitor } : {}),
      virtualMic: virtual,
      inputGainDb: s.gains.input,
      outputGainDb: s.gains.output,
      monitorGainDb: s.gains.monitor,
      noiseSuppression: s.noiseSuppression,
      bypass: s.bypass,
      ...this.o.sessionDefaults,
      onEvent: (event) => {
        this.emit({ type: 'event', event });
        if (event.kind === 'device-lost') this.scheduleReopen();
      },
    };
  }

  private async start(): Promise<void> {
    if (this.session) return;
    this.busy = true;
    this.changed();
    try {
      // Device names are listed before the session opens PortAudio: only one audio worker may exist at a time.
      if (!this.portAudioCache) await this.listDevices().catch(() => undefined);
      this.session = await LiveSession.start(this.liveOptions());
    } finally {
      this.busy = false;
    }
    this.telemetryTimer = setInterval(() => {
      if (this.session) this.emit({ type: 'telemetry', telemetry: this.session.telemetry() });
    }, 1000 / TELEMETRY_HZ);
  }

  /**
   * The session waits for a lost PulseAudio device to be re-added, but a stream can also stall on a device
   * that never left (a starved machine, a server hiccup): then nothing would ever bring it back. While a
   * role is missing and its device still resolves, reopen it, a few times with growing pauses.
   */
  private scheduleReopen(attempt = 0): void {
    if (this.reopenTimer || attempt >= 6) return;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      const s = this.session;
      if (!s) return;
      const missing = s.telemetry().missing as DeviceRole[];
      if (missing.length === 0) return;
      const spec = (r: DeviceRole): string | null => {
        const d = this.selection.devices[r];
        return d === VIRTUAL_OUTPUT ? `pulse:${VIRTUAL_MIC.sinkName}` : d;
      };
      const run = this.queue.then(async () => {
        for (const r of missing) {
          if (this.session !== s) return;
          const sp = spec(r) ?? (r === 'monitor' ? null : 'default');
          if (!sp) continue;
          const ok = await s.setDevice(r, sp).then(() => true, () => false);
          if (ok) this.emit({ type: 'event', event: { at: Date.now(), kind: 'device-back', message: `${r} device reopened after it stalled` } });
        }
      });
      this.queue = run.catch(() => undefined);
      void run.finally(() => {
        if (this.session === s && s.telemetry().missing.length) this.scheduleReopen(attempt + 1);
      });
    }, 1000 * 2 ** Math.min(attempt, 3));
    this.reopenTimer.unref();
  }

  private async stopSession(): Promise<void> {
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    this.reopenTimer = null;
    if (this.telemetryTimer) clearInterval(this.telemetryTimer);
    this.telemetryTimer = null;
    const s = this.session;
    this.session = null;
    if (s) {
      if (this.recording.active) await this.stopRecording(s).catch(() => undefined);
      await s.stop();
    }
    this.recording.active = false;
  }

  private async restart(): Promise<void> {
    const wasRecording = this.recording.active;
    await this.stopSession();
    await this.start();
    if (wasRecording) await this.startRecording();
  }

  private async startRecording(): Promise<void> {
    if (!this.session) throw new RequestError('start the voice first: the recording is what the virtual microphone gets');
    if (this.recording.active) return;
    const dir = this.o.recordDir ?? path.join(path.dirname(voicesDir()), 'recordings');
    await fs.mkdir(dir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const file = path.join(dir, `resona-${stamp}-${this.selection.voice}.wav`);
    await this.session.startRecording(undefined, file);
    this.recording = { active: true, file };
  }

  private async stopRecording(s = this.session): Promise<void> {
    if (!s || !this.recording.active) return;
    await s.stopRecording();
    this.recording = { ...this.recording, active: false };
  }

  private async setDevice(r: DeviceRole, spec: string | null): Promise<HostState> {
    if (spec === '' || spec === 'default') spec = null;
    if (spec === null && r !== 'monitor' && this.session) {
      // "System default" for input/output: the session resolves it at start.
      this.selection.devices[r] = null;
      await this.restart();
      return this.changed();
    }
    if (spec === VIRTUAL_OUTPUT && r !== 'output') throw new RequestError('the virtual microphone is an output', r);
    const before = this.selection.devices[r];
    this.selection.devices[r] = spec;
    try {
      if (this.session) {
        // The virtual microphone exists only when the session created it: switching to or from it restarts.
        if (r === 'output' && (spec === VIRTUAL_OUTPUT || before === VIRTUAL_OUTPUT)) await this.restart();
        else await this.session.setDevice(r, spec);
      }
    } catch (e) {
      this.selection.devices[r] = before;
      throw e;
    }
    return this.changed();
  }

  private async listDevices(): Promise<DeviceList> {
    const inputs: DeviceChoice[] = [{ spec: '', label: 'System default' }];
    const outputs: DeviceChoice[] = [{ spec: '', label: 'System default' }];
    const hasPulse = (await pulseServer()) !== null;
    if (hasPulse) outputs.unshift({ spec: VIRTUAL_OUTPUT, label: `${VIRTUAL_MIC.description} (built in)` });
    // PortAudio is asked only while no session holds the audio worker; during a session the last list stands.
    if (!this.session) {
      const audio = AudioIO.start();
      try {
        const devs = await audio.listDevices();
        this.portAudioCache = devs.flatMap((d) => [
          ...(d.maxInputChannels > 0 ? [{ spec: String(d.id), label: `${d.name} (input)` }] : []),
          ...(d.maxOutputChannels > 0 ? [{ spec: String(d.id), label: `${d.name} (output)` }] : []),
        ]);
      } finally {
        await audio.stop();
      }
    }
    for (const c of this.portAudioCache ?? []) (c.label.endsWith('(input)') ? inputs : outputs).push({ spec: c.spec, label: c.label.replace(/ \((input|output)\)$/, '') });
    if (hasPulse) {
      for (const e of await listPulse()) {
        if (e.name.startsWith(VIRTUAL_MIC.sinkName) || e.name === VIRTUAL_MIC.sourceName) continue;
        (e.kind === 'source' ? inputs : outputs).push({ spec: `pulse:${e.name}`, label: `${e.description} (pulse:${e.name})` });
      }
    }
    return { inputs, outputs, virtualMic: hasPulse };
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.stopSession();
    await this.presets.flush();
    this.listeners.clear();
  }
}

/**
 * setSettings calls waiting for their turn: later updates merge into this one (a later value wins), so a
 * burst costs one engine update and one state broadcast; every caller is answered with the resulting state.
 */
class SettingsBatch implements Job {
  private readonly update: Partial<EngineSettings>;
  private readonly callers: ((result: Promise<unknown>) => void)[];

  constructor(
    private readonly apply: (update: Partial<EngineSettings>) => Promise<unknown>,
    update: Partial<EngineSettings>,
    caller: (result: Promise<unknown>) => void,
  ) {
    this.update = { ...update };
    this.callers = [caller];
  }

  absorb(next: Job): boolean {
    if (!(next instanceof SettingsBatch)) return false;
    Object.assign(this.update, next.update);
    this.callers.push(...next.callers);
    return true;
  }

  run(): Promise<void> {
    const result = this.apply(this.update);
    for (const c of this.callers) c(result);
    return result.then(() => undefined, () => undefined);
  }
}
