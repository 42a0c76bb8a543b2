// The control protocol: one set of typed commands and events shared by the renderer, the server (WebSocket)
// and Electron (IPC to the engine's utility process). Pure data: the transport only moves these objects.
import type { UserErrorCode } from './errors.js';
import type { EngineSettings } from './settings.js';
import { SETTING_RANGES } from './settings.js';
import type { Fallback, LiveEvent, LiveTelemetry } from './telemetry.js';
import type { VoiceInfo } from './voices.js';
import type { ProviderChoice, ProviderStatus, RuntimeOptions } from './runtime.js';
import type { DownloadProgress, DownloadResultInfo, NetworkInfo } from './models.js';

export type DeviceRole = 'input' | 'output' | 'monitor';

/** The engine's pitch estimators the UI offers (a path to an ONNX pitch network is CLI-only). */
export const F0_METHODS = ['yin', 'pyin', 'swiftf0', 'crepe', 'rmvpe'] as const;
export type F0Method = (typeof F0_METHODS)[number];

/** One choosable device: `spec` is what the host resolves ("pulse:name", "3", "default"). */
export interface DeviceChoice {
  spec: string;
  /** The name a person recognises (PulseAudio's description, "System default"), not an ALSA plugin name. */
  label: string;
  /** The technical name behind the label ("pulse:alsa_output…", ALSA's "pulse"), for tooltips and the CLI. */
  detail?: string;
}

export interface DeviceList {
  inputs: DeviceChoice[];
  outputs: DeviceChoice[];
  /** Whether a built-in virtual microphone can be created (a PulseAudio / PipeWire-pulse server answers). */
  virtualMic: boolean;
}

/** What the user chose; kept by the host across start/stop and voice changes. */
export interface Selection {
  voice: string;
  settings: EngineSettings;
  f0Method: F0Method;
  /** Where the voice's networks run (provider, threads); a change reloads the voice beside the running one. */
  runtime: RuntimeOptions;
  /** null input/output: the system default; output "virtual" = Resona's virtual microphone. */
  devices: { input: string | null; output: string | null; monitor: string | null };
  gains: { input: number; output: number; monitor: number };
  noiseSuppression: boolean;
  bypass: boolean;
  /**
   * The voice output (virtual microphone) carries exact silence, and so does the monitor. Wins over bypass and
   * the dry fallback. Push-to-talk is this flag driven by a held key or button.
   */
  muted: boolean;
  /** While no converted voice exists (the engine restarting): silence (default) or your own voice. */
  fallback: Fallback;
}

export interface RecordingState {
  active: boolean;
  /** The output file (what the virtual microphone gets), while recording or the last one. */
  file: string | null;
}

export interface HostState {
  /** The voice is converting. */
  running: boolean;
  /**
   * The devices and the virtual microphone are open. They open at the first start and stay until the host
   * ends: Stop only stops the voice (silence goes out), so apps listening to the virtual microphone stay on it.
   */
  devicesOpen: boolean;
  /** A start or a voice switch is under way. */
  busy: boolean;
  selection: Selection;
  recording: RecordingState;
  voices: VoiceInfo[];
  /** Library folders that failed their checks, one line each. */
  brokenVoices: string[];
  /** The execution providers of this machine, whether each runs and why not (what each network got: telemetry). */
  providers: ProviderStatus[];
  /** Voice ids the user starred; the library lists them first. */
  favourites: string[];
  /** Settings saved under a name, per voice id (beside the one "last used" preset each voice keeps). */
  namedPresets: Record<string, NamedPreset[]>;
  /** The shared networks (pitch networks, content encoders): present or not, and whether they can be fetched. */
  models: NetworkInfo[];
}

export interface NamedPreset {
  name: string;
  settings: EngineSettings;
}

/** A voice's audio preview: the reference phrase rendered by the voice with its remembered settings. */
export interface VoicePreview {
  voice: string;
  /** Where the page fetches the WAV (same origin; the file is named by its content's cache key). */
  url: string;
  durationMs: number;
  sampleRate: number;
  /** Time spent rendering it now; 0 when it came from the cache. */
  renderMs: number;
  cached: boolean;
}

export interface ControlError {
  /** A UserError's code (protocol/errors.ts); 'engine' for an internal error (a bug, logged on the host). */
  code: UserErrorCode | 'engine';
  message: string;
  field?: string;
}

export interface LatencyResult {
  /** The click through the whole chain with the voice on (the figure the headline shows once measured). */
  voiceMs: number;
  deviceMs: number;
  algorithmicMs: number;
  prebufferMs: number;
}

/** Every command, its arguments and its result. */
export interface ControlCommands {
  getState: { args: Record<string, never>; result: HostState };
  start: { args: Record<string, never>; result: HostState };
  stop: { args: Record<string, never>; result: HostState };
  setSettings: { args: { settings: Partial<EngineSettings> }; result: HostState };
  setF0Method: { args: { method: F0Method }; result: HostState };
  /** Provider and/or threads for the voice's networks: the voice reloads with them beside the running one. */
  setRuntime: { args: { provider?: ProviderChoice; threads?: number }; result: HostState };
  setVoice: { args: { voice: string }; result: HostState };
  /** A voice file: bytes (base64, from a browser) or a path on the host (Electron's file dialog, the CLI). */
  importVoice: { args: { name: string; dataBase64?: string; path?: string }; result: { voice: VoiceInfo; state: HostState } };
  setDevice: { args: { role: DeviceRole; spec: string | null }; result: HostState };
  setGain: { args: { role: DeviceRole; db: number }; result: HostState };
  setBypass: { args: { on: boolean }; result: HostState };
  /** Mute the output (true silence after a 5 ms fade); answered at once, never queued behind a voice load. */
  setMute: { args: { on: boolean }; result: HostState };
  setNoiseSuppression: { args: { on: boolean }; result: HostState };
  startRecording: { args: Record<string, never>; result: HostState };
  stopRecording: { args: Record<string, never>; result: HostState };
  /**
   * Clicks timed through the whole chain. Without arguments the host finds the loopback itself (the virtual
   * microphone or the output's monitor hears the output; a test input that is a sink's monitor hears clicks
   * played into that sink); otherwise the error says what to connect.
   */
  measureLatency: { args: { capture?: string; click?: string }; result: LatencyResult };
  setFallback: { args: { fallback: Fallback }; result: HostState };
  listDevices: { args: Record<string, never>; result: DeviceList };
  listVoices: { args: Record<string, never>; result: { voices: VoiceInfo[]; broken: string[] } };
  /** Pitch up/down and next/previous voice, for hotkeys and the tray. */
  nudgePitch: { args: { by: number }; result: HostState };
  stepVoice: { args: { by: 1 | -1 }; result: HostState };
  /** Renders (or finds cached) the voice's preview of the reference phrase. */
  renderPreview: { args: { voice: string }; result: VoicePreview };
  setFavourite: { args: { voice: string; on: boolean }; result: HostState };
  /** Named presets of the selected voice: save its current settings, apply one (all its settings), delete one. */
  savePreset: { args: { name: string }; result: HostState };
  applyPreset: { args: { name: string }; result: HostState };
  deletePreset: { args: { name: string }; result: HostState };
  /** The shared networks' status, checked anew on disk. */
  listModels: { args: Record<string, never>; result: NetworkInfo[] };
  /**
   * Fetches a catalogue network (resuming a partial download); progress comes as 'download' events. A network
   * with no published SHA-256 needs allowUnverified: the answer then carries the hash of what arrived, pinned.
   */
  downloadModel: { args: { id: string; allowUnverified?: boolean }; result: DownloadResultInfo };
}

export type CommandName = keyof ControlCommands;

export const COMMAND_NAMES = [
  'getState', 'start', 'stop', 'setSettings', 'setF0Method', 'setVoice', 'importVoice', 'setDevice', 'setGain', 'setBypass',
  'setNoiseSuppression', 'startRecording', 'stopRecording', 'measureLatency', 'listDevices', 'listVoices', 'nudgePitch', 'stepVoice',
  'setFallback', 'setRuntime', 'renderPreview', 'setFavourite', 'savePreset', 'applyPreset', 'deletePreset', 'listModels', 'downloadModel',
  'setMute',
] as const satisfies readonly CommandName[];

/** Fails to compile when a command is added to ControlCommands but not to COMMAND_NAMES (the preload's list). */
export const COMMAND_NAMES_COMPLETE: Exclude<CommandName, (typeof COMMAND_NAMES)[number]> extends never ? true : never = true;

export function isCommandName(x: unknown): x is CommandName {
  return typeof x === 'string' && (COMMAND_NAMES as readonly string[]).includes(x);
}

/** Client → host. */
export interface Request<C extends CommandName = CommandName> {
  id: number;
  cmd: C;
  args: ControlCommands[C]['args'];
}

/** Host → client: the answer to one request. */
export type Response =
  | { type: 'result'; id: number; ok: true; result: unknown }
  | { type: 'result'; id: number; ok: false; error: ControlError };

/** Host → client, unasked. */
export type HostEvent =
  | { type: 'telemetry'; telemetry: LiveTelemetry }
  | { type: 'state'; state: HostState }
  | { type: 'event'; event: LiveEvent }
  | { type: 'download'; download: DownloadProgress }
  | { type: 'error'; error: ControlError };

export type ServerMessage = Response | HostEvent;

/** Telemetry rate: enough for smooth meters, small enough for a remote browser. */
export const TELEMETRY_HZ = 25;

export interface LatencyPreview {
  totalMs: number;
  blockMs: number;
  crossfadeMs: number;
  searchMs: number;
}

/**
 * What a block/crossfade/search choice costs before it is applied: the engine's algorithmic latency, the same
 * sum the engine reports (resampler delay and device buffering come on top and are shown once running).
 */
export function latencyPreview(s: Pick<EngineSettings, 'blockMs' | 'crossfadeMs' | 'searchMs'>): LatencyPreview {
  // The engine rounds the block to whole 10 ms frames.
  const blockMs = Math.max(10, Math.round(s.blockMs / 10) * 10);
  return { blockMs, crossfadeMs: s.crossfadeMs, searchMs: s.searchMs, totalMs: blockMs + s.crossfadeMs + s.searchMs };
}

export { SETTING_RANGES };

/** What one command answers over IPC (the preload) — the same shape the WebSocket carries in a Response. */
export type CallResult<T> = { ok: true; result: T } | { ok: false; error: ControlError };

/** window.resona in Electron: one named method per command, plus onEvent; built by electron/preload.ts. */
export type PreloadApi = { [C in CommandName]: (args: ControlCommands[C]['args']) => Promise<CallResult<ControlCommands[C]['result']>> } & {
  onEvent(listener: (e: HostEvent) => void): void;
};
