// The control API: one object that owns what the user chose (voice, settings, devices, gains) and the live
// session, and answers the protocol's commands. The session (devices, virtual microphone) opens at the first
// Start and stays until the host closes; Stop, voice, f0-method and settings changes act on the voice inside
// it, so the virtual microphone never disappears from under an app that listens to it. The WebSocket server and Electron's engine utility process
// both wrap this same object, so the app behaves exactly as server mode does (and is tested through it).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  type CallResult, type CommandName, type ControlCommands, type DeviceRole,
  type HostEvent, type HostState, isCommandName, type Selection, TELEMETRY_HZ,
} from '../../protocol/control.js';
import { checkLive } from '../../protocol/live-settings.js';
import { DEFAULT_SETTINGS, type EngineSettings, mergeSettings, SETTING_RANGES } from '../../protocol/settings.js';
import { checkVoiceSettings, settingsWithoutEffect } from '../../protocol/voice-params.js';
import { pulseServer } from '../../native-audio/pulse.js';
import { LiveSession, type LiveOptions } from '../live/session.js';
import type { VoiceChoice } from '../live/loaded-voice.js';
import { DEFAULT_VOICE, voicesDir, VoiceNotFoundError } from '../voices.js';
import { parseArgs } from './command-schema.js';
import { RequestError, toControlError } from './errors.js';
import { UserError } from '../../protocol/errors.js';
import { DEFAULT_RUNTIME, type ProviderStatus, type RuntimeOptions } from '../../protocol/runtime.js';
import { providerStatus } from '../../models/runtime.js';
import { type Job, Lanes } from './lanes.js';
import { PresetStore } from './presets.js';
import { DeviceDirectory, VIRTUAL_OUTPUT } from './device-directory.js';
import { SettingsBatch } from './settings-batch.js';
import { VoiceLibrary } from './voice-library.js';
import { FavouriteStore } from './favourites.js';
import { NamedPresetStore } from './named-presets.js';
import { ModelDirectory } from './model-directory.js';
import { previewCacheDir, VoicePreviews } from '../preview/voice-previews.js';
import { effectiveCatalogue } from '../catalogue-overrides.js';
import { modelsDir } from '../models.js';
import type { NetworkInfo } from '../../protocol/models.js';

export { VIRTUAL_OUTPUT };

export interface ControlApiOptions {
  /** Where recordings go; default $RESONA_HOME/recordings (beside the voice library). */
  recordDir?: string;
  /** Options for every session (tests pin the stream rate or the device buffer). */
  sessionDefaults?: Partial<Pick<LiveOptions, 'sampleRate' | 'bufferFrames'>>;
  /** Where the networks run until the user chooses (`resona serve --provider`); default: the best accelerator. */
  runtime?: Partial<RuntimeOptions>;
}

type Listener = (e: HostEvent) => void;

/** What the library keeps beside the presets: stars, named presets, rendered previews, the shared networks. */
interface Extras {
  favourites: FavouriteStore;
  named: NamedPresetStore;
  previews: VoicePreviews;
}

/**
 * Commands that neither change the session nor wait for one, answered outside the turn-taking queue: a
 * preview render or a download of hundreds of MB must not hold up a voice switch or a slider.
 */
const OUTSIDE_QUEUE = new Set<CommandName>(['renderPreview', 'listModels', 'downloadModel']);
type Args<C extends CommandName> = ControlCommands[C]['args'];

export class ControlApi {
  private session: LiveSession | null = null;
  private busy = false;
  private listeners = new Set<Listener>();
  private telemetryTimer: NodeJS.Timeout | null = null;
  private readonly library: VoiceLibrary;
  private recording: HostState['recording'] = { active: false, file: null };
  private readonly devices = new DeviceDirectory();
  private queue: Promise<unknown> = Promise.resolve();
  /** Clients take turns on the queue above, one command each. */
  private readonly lanes = new Lanes((run) => {
    const r = this.queue.then(run);
    this.queue = r.catch(() => undefined);
    return r;
  });
  private selection: Selection;
  private readonly models: ModelDirectory;
  private modelList: NetworkInfo[];

  private constructor(
    private readonly presets: PresetStore,
    private readonly x: Extras,
    private readonly o: ControlApiOptions,
    hasPulse: boolean,
    private readonly providers: ProviderStatus[],
  ) {
    this.library = new VoiceLibrary(presets);
    this.models = new ModelDirectory(effectiveCatalogue(), modelsDir(), (download) => {
      // A finished download changes what is present: every client gets the new list with the last event.
      if (download.phase !== 'downloading') this.modelList = this.models.list();
      this.emit({ type: 'download', download });
      if (download.phase !== 'downloading') this.changed();
    });
    this.modelList = this.models.list();
    this.selection = {
      voice: DEFAULT_VOICE,
      settings: { ...DEFAULT_SETTINGS },
      f0Method: 'yin',
      runtime: { ...DEFAULT_RUNTIME, ...o.runtime },
      devices: { input: null, output: hasPulse ? VIRTUAL_OUTPUT : null, monitor: null },
      gains: { input: 0, output: 0, monitor: 0 },
      noiseSuppression: false,
      bypass: false,
      muted: false,
      fallback: 'silence',
    };
  }

  static async create(o: ControlApiOptions = {}): Promise<ControlApi> {
    const home = path.dirname(voicesDir());
    // Which accelerators run here is probed once (a tiny model per provider) so the UI can offer them.
    const providers = await providerStatus();
    const extras: Extras = {
      favourites: await FavouriteStore.open(path.join(home, 'favourites.json')),
      named: await NamedPresetStore.open(path.join(home, 'named-presets.json')),
      previews: new VoicePreviews(previewCacheDir(home)),
    };
    const api = new ControlApi(await PresetStore.open(path.join(home, 'presets.json')), extras, o, (await pulseServer()) !== null, providers);
    await api.library.refresh();
    api.selection.settings = api.library.settingsFor(DEFAULT_VOICE);
    return api;
  }

  /** A cached voice preview's WAV by its file name (what VoicePreview.url names), or null. */
  previewAudio(name: string): Promise<Buffer | null> {
    return this.x.previews.read(name);
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
    // Mute is a flag the audio thread reads each buffer: it must act now (push-to-talk's release within a block),
    // not wait in the queue behind a voice load or a device restart that takes seconds.
    if (cmd === 'setMute') return { ok: true, result: this.setMute((checked as Args<'setMute'>).on) as ControlCommands[C]['result'] };
    if (OUTSIDE_QUEUE.has(cmd)) {
      return this.dispatch(cmd, checked as Record<string, unknown>).then(
        (result) => ({ ok: true as const, result: result as ControlCommands[C]['result'] }),
        fail,
      );
    }
    return new Promise((resolve) => {
      // Every failed command ends with a state push, so no front end stays in "starting…" or shows a choice
      // that did not happen.
      const failed = (e: unknown) => {
        this.busy = false;
        this.changed();
        resolve(fail(e));
      };
      const answer = (p: Promise<unknown>) => p.then((result) => resolve({ ok: true, result: result as ControlCommands[C]['result'] }), failed);
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
        await this.stopVoice();
        return this.changed();
      case 'setSettings':
        return this.setSettings((a as Args<'setSettings'>).settings);
      case 'setF0Method': {
        const m = (a as Args<'setF0Method'>).method;
        const previous = this.selection.f0Method;
        this.selection.f0Method = m;
        // The estimator lives in the inference worker: the voice reloads with it beside the running one. A
        // failure (a missing network file) is reported inline and the running voice keeps its method.
        try {
          await this.switchInSession();
        } catch (e) {
          this.selection.f0Method = previous;
          throw e instanceof UserError ? new RequestError(e.message, 'f0Method') : e;
        }
        return this.changed();
      }
      case 'setRuntime': {
        const { provider, threads } = a as Args<'setRuntime'>;
        const previous = this.selection.runtime;
        this.selection.runtime = { ...previous, ...(provider ? { provider } : {}), ...(threads ? { threads } : {}) };
        // The sessions are made in the inference worker: the voice reloads on the new provider beside the running
        // one. A voice that cannot load there leaves the running one as it was.
        try {
          await this.switchInSession();
        } catch (e) {
          this.selection.runtime = previous;
          throw e instanceof UserError ? new RequestError(e.message, provider ? 'provider' : 'threads') : e;
        }
        return this.changed();
      }
      case 'setFallback': {
        const f = (a as Args<'setFallback'>).fallback;
        this.selection.fallback = f;
        this.session?.setFallback(f);
        return this.changed();
      }
      case 'setVoice':
        return this.setVoice((a as Args<'setVoice'>).voice);
      case 'importVoice': {
        const voice = await this.library.import(a as Args<'importVoice'>);
        return { voice, state: this.changed() };
      }
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
      case 'setMute':
        return this.setMute((a as Args<'setMute'>).on);
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
        if (!this.session || !this.session.voiceRunning) throw new RequestError('start the voice first: latency is measured through the running chain');
        if (this.selection.muted) throw new RequestError('unmute first: the clicks are timed through the output, which is silent while muted', 'latency');
        const { capture, click } = a as Args<'measureLatency'>;
        const loop = capture === undefined ? this.devices.loopback(this.selection.devices) : { capture, ...(click ? { click } : {}) };
        const m = await this.session.measureLatency(loop);
        return { voiceMs: m.voiceMs, deviceMs: m.deviceMs, algorithmicMs: m.algorithmicMs, prebufferMs: m.prebufferMs };
      }
      case 'listDevices':
        return this.devices.list(this.session !== null);
      case 'listVoices':
        await this.library.refresh();
        return { voices: this.library.voices, broken: this.library.broken };
      case 'nudgePitch': {
        const { by } = a as Args<'nudgePitch'>;
        const r = this.library.find(this.selection.voice)?.params.find((p) => p.id === 'pitch') ?? SETTING_RANGES.pitch;
        return this.setSettings({ pitch: Math.min(r.max, Math.max(r.min, this.selection.settings.pitch + by)) });
      }
      case 'renderPreview': {
        const id = (a as Args<'renderPreview'>).voice;
        if (!this.library.has(id)) await this.library.refresh();
        const v = this.library.voices.find((x) => x.id === id);
        if (!v) throw new VoiceNotFoundError(id, this.library.voices.map((x) => x.id));
        // The selected voice previews what is set now; another voice what it would start with.
        const settings = id === this.selection.voice ? this.selection.settings : this.library.settingsFor(id);
        return this.x.previews.get(v, settings);
      }
      case 'setFavourite': {
        const { voice, on } = a as Args<'setFavourite'>;
        if (on && !this.library.has(voice)) throw new VoiceNotFoundError(voice, this.library.voices.map((x) => x.id));
        await this.x.favourites.set(voice, on);
        return this.changed();
      }
      case 'savePreset':
        await this.x.named.save(this.selection.voice, (a as Args<'savePreset'>).name, this.selection.settings);
        return this.changed();
      case 'applyPreset': {
        const name = (a as Args<'applyPreset'>).name;
        const p = this.x.named.get(this.selection.voice, name);
        if (!p) throw new RequestError(`this voice has no preset "${name.trim()}"`, 'presetName');
        // Through setSettings: the engine takes it between blocks and it becomes the voice's last-used preset. A
        // preset holds every setting; those the voice has no knob for (protect on a built-in voice) are left out,
        // so the voice's own check does not refuse the preset it saved.
        const voice = this.library.find(this.selection.voice);
        const unused = new Set<string>(voice ? settingsWithoutEffect(voice.params, { ...p.settings }) : []);
        const update = Object.fromEntries(Object.entries(p.settings).filter(([k]) => !unused.has(k))) as Partial<EngineSettings>;
        return this.setSettings(update);
      }
      case 'deletePreset':
        await this.x.named.delete(this.selection.voice, (a as Args<'deletePreset'>).name);
        return this.changed();
      case 'listModels':
        // Checked anew on disk (a file placed by hand shows), and pushed to every client with the state.
        this.modelList = this.models.list();
        this.changed();
        return this.modelList;
      case 'downloadModel': {
        const { id, allowUnverified } = a as Args<'downloadModel'>;
        return this.models.download(id, allowUnverified === true);
      }
      case 'stepVoice': {
        const voices = this.library.voices;
        const i = voices.findIndex((v) => v.id === this.selection.voice);
        const n = voices.length;
        const next = voices[(((i + (a as Args<'stepVoice'>).by) % n) + n) % n]!;
        return this.setVoice(next.id);
      }
    }
  }

  private setMute(on: boolean): HostState {
    this.selection.muted = on;
    this.session?.setMute(on);
    return this.changed();
  }

  state(): HostState {
    return {
      running: this.session !== null && this.session.voiceRunning,
      devicesOpen: this.session !== null,
      busy: this.busy,
      selection: structuredClone(this.selection),
      recording: { ...this.recording },
      voices: this.library.voices,
      brokenVoices: this.library.broken,
      providers: this.providers,
      favourites: this.x.favourites.list(),
      namedPresets: this.x.named.all(),
      models: this.modelList,
    };
  }

  private changed(): HostState {
    const s = this.state();
    this.emit({ type: 'state', state: s });
    return s;
  }

  private async setSettings(update: Partial<EngineSettings>): Promise<HostState> {
    // Checked here first: a bad value changes nothing, on the host or in the engine. The voice's own
    // parameters say which voice settings it has and their range (a speaker past its last, protect on a
    // built-in voice are refused by name rather than silently doing nothing).
    const next = mergeSettings(this.selection.settings, update);
    const voice = this.library.find(this.selection.voice);
    if (voice) checkVoiceSettings(voice, update);
    if (this.session) this.session.update(update);
    this.selection.settings = next;
    // The write waits for a pause in changes (a slider drag is one write); close() flushes it.
    this.presets.set(this.selection.voice, next);
    return this.changed();
  }

  private async setVoice(voice: string): Promise<HostState> {
    if (!this.library.has(voice)) {
      await this.library.refresh();
      if (!this.library.has(voice)) throw new VoiceNotFoundError(voice, this.library.voices.map((v) => v.id));
    }
    const previous = { voice: this.selection.voice, settings: this.selection.settings };
    this.selection.voice = voice;
    this.selection.settings = this.library.settingsFor(voice);
    // The new voice loads beside the running one and takes over with a crossfade; the devices stay. If it
    // fails to load, the running voice was never interrupted and the selection goes back to it.
    try {
      await this.switchInSession();
    } catch (e) {
      this.selection.voice = previous.voice;
      this.selection.settings = previous.settings;
      throw e;
    }
    return this.changed();
  }

  /** Loads the selected voice, f0 method and settings into the running session (if there is one). */
  private async switchInSession(): Promise<void> {
    if (!this.session) return;
    this.busy = true;
    this.changed();
    try {
      await this.session.switchVoice(this.voiceChoice());
    } finally {
      this.busy = false;
    }
  }

  /** The selected voice as the session runs it (yin, the engine's own estimator, is the default). */
  private voiceChoice(): VoiceChoice {
    const s = this.selection;
    return { voice: s.voice, ...(s.f0Method !== 'yin' ? { f0: s.f0Method } : {}), runtime: s.runtime, settings: s.settings };
  }

  private liveOptions(): LiveOptions {
    const s = this.selection;
    const virtual = s.devices.output === VIRTUAL_OUTPUT;
    return {
      ...this.voiceChoice(),
      ...(s.devices.input ? { input: s.devices.input } : {}),
      ...(s.devices.output && !virtual ? { output: s.devices.output } : {}),
      ...(s.devices.monitor ? { monitor: s.devices.monitor } : {}),
      virtualMic: virtual,
      inputGainDb: s.gains.input,
      outputGainDb: s.gains.output,
      monitorGainDb: s.gains.monitor,
      noiseSuppression: s.noiseSuppression,
      bypass: s.bypass,
      muted: s.muted,
      fallback: s.fallback,
      ...this.o.sessionDefaults,
      onEvent: (event) => this.emit({ type: 'event', event }),
    };
  }

  /** Starts the voice; the first start also opens the devices and the virtual microphone. */
  private async start(): Promise<void> {
    if (this.session) {
      this.session.startVoice();
      return;
    }
    this.busy = true;
    this.changed();
    try {
      // Device names are listed before the session opens PortAudio: only one audio worker may exist at a time.
      if (!this.devices.listed) await this.devices.list(false).catch(() => undefined);
      this.session = await LiveSession.start(this.liveOptions());
      // A mute that arrived while the session was opening (it is answered outside the queue) holds in it too.
      this.session.setMute(this.selection.muted);
    } finally {
      this.busy = false;
    }
    this.telemetryTimer = setInterval(() => {
      if (this.session) this.emit({ type: 'telemetry', telemetry: this.session.telemetry() });
    }, 1000 / TELEMETRY_HZ);
  }

  /** Stop from the user: the voice stops, the devices and the virtual microphone stay (silence goes out). */
  private async stopVoice(): Promise<void> {
    this.session?.stopVoice();
  }

  /** Closes the devices too: the host is ending, or a device change needs the session anew. */
  private async stopSession(): Promise<void> {
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

  /** Opens the session anew (only for switching to or from the virtual microphone, which the session owns). */
  private async restart(): Promise<void> {
    const wasRecording = this.recording.active;
    const wasRunning = this.session?.voiceRunning ?? true;
    await this.stopSession();
    await this.start();
    if (!wasRunning) this.session?.stopVoice();
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
      // "System default" for input/output: reopened in place (the virtual microphone, if chosen, stays).
      const before = this.selection.devices[r];
      if (r === 'output' && before === VIRTUAL_OUTPUT) {
        this.selection.devices[r] = null;
        await this.restart();
      } else {
        await this.session.setDevice(r, 'default');
        this.selection.devices[r] = null;
      }
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

  async close(): Promise<void> {
    await this.models.close();
    await this.queue.catch(() => undefined);
    await this.stopSession();
    await this.presets.flush();
    await this.x.favourites.flush();
    await this.x.named.flush();
    this.listeners.clear();
  }
}
