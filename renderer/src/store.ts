// The UI's state: a tiny external store read through React's useSyncExternalStore. No library: there is one
// source of truth (the host's state and telemetry, pushed to us) plus a few UI-only maps (inline errors), and
// a plain subscribe/snapshot pair keeps 25 Hz telemetry re-renders cheap and explicit.
import { useSyncExternalStore } from 'react';
import type { CommandName, ControlCommands, ControlError, DeviceList, HostEvent, HostState } from '../../protocol/control.js';
import type { LiveEvent, LiveTelemetry } from '../../protocol/telemetry.js';
import type { DownloadProgress } from '../../protocol/models.js';
import { CommandError, type ControlClient } from './client.js';

/** Ten seconds of telemetry at 25 Hz for the plots. */
export const HISTORY = 250;

export interface History {
  inputDb: number[];
  outputDb: number[];
  blockMs: number[];
  rtf: number[];
  prebufferMs: number[];
}

export interface UiState {
  connected: boolean;
  host: HostState | null;
  telemetry: LiveTelemetry | null;
  history: History;
  devices: DeviceList | null;
  /** Inline errors by field (a setting's key, 'file', 'input'/'output'/'monitor', …). */
  fieldErrors: Record<string, string>;
  /** Errors that belong to no field: shown in the banner until dismissed. */
  banner: ControlError[];
  events: LiveEvent[];
  pending: Partial<Record<CommandName, boolean>>;
  /** The last progress of each network download (by catalogue id), pushed by the host. */
  downloads: Record<string, DownloadProgress>;
  /** This window's push-to-talk mode (the host only knows muted or not; see push-to-talk.ts). */
  pushToTalk: boolean;
  /** The keyboard shortcuts list is open. */
  shortcutsOpen: boolean;
}

/** The UI-only switches a component may set directly. */
export type UiSwitches = Pick<UiState, 'pushToTalk' | 'shortcutsOpen'>;

const emptyHistory = (): History => ({ inputDb: [], outputDb: [], blockMs: [], rtf: [], prebufferMs: [] });

export class Store {
  private s: UiState = { connected: false, host: null, telemetry: null, history: emptyHistory(), devices: null, fieldErrors: {}, banner: [], events: [], pending: {}, downloads: {}, pushToTalk: false, shortcutsOpen: false };
  private subs = new Set<() => void>();

  constructor(readonly client: ControlClient) {
    client.onEvent((e) => this.onEvent(e));
    client.onConnection((connected) => {
      this.set({ connected });
      if (connected) void this.refresh();
    });
  }

  subscribe = (f: () => void): (() => void) => {
    this.subs.add(f);
    return () => this.subs.delete(f);
  };
  snapshot = (): UiState => this.s;

  private set(p: Partial<UiState>): void {
    this.s = { ...this.s, ...p };
    for (const f of this.subs) f();
  }

  private onEvent(e: HostEvent): void {
    if (e.type === 'state') this.set({ host: e.state, ...(e.state.running ? {} : { telemetry: null }) });
    else if (e.type === 'telemetry') this.onTelemetry(e.telemetry);
    else if (e.type === 'event') this.set({ events: [...this.s.events.slice(-49), e.event] });
    else if (e.type === 'error') this.set({ banner: [...this.s.banner, e.error] });
    else if (e.type === 'download') this.set({ downloads: { ...this.s.downloads, [e.download.id]: e.download } });
  }

  private onTelemetry(t: LiveTelemetry): void {
    const h = this.s.history;
    const push = (a: number[], v: number) => {
      const b = a.length >= HISTORY ? a.slice(1) : a.slice();
      b.push(v);
      return b;
    };
    const floor = (db: number) => (Number.isFinite(db) ? Math.max(-90, db) : -90);
    this.set({
      telemetry: t,
      history: {
        inputDb: push(h.inputDb, floor(t.inputPeakDb)),
        outputDb: push(h.outputDb, floor(t.outputPeakDb)),
        blockMs: push(h.blockMs, t.blockMs),
        rtf: push(h.rtf, t.rtf),
        prebufferMs: push(h.prebufferMs, t.latency.prebufferMs),
      },
    });
  }

  async refresh(): Promise<void> {
    await this.run('getState', {});
    await this.run('listDevices', {}).then((d) => d && this.set({ devices: d }));
  }

  /**
   * Runs a command. A failure lands beside its field when it names one (`fieldKey` says which field a
   * command's errors belong to when the host does not), otherwise in the banner. Success clears every error
   * shown: a message about a rejected value or a failed command is stale once the next command went through
   * (the fields show the values that are applied), so nothing lingers until dismissed.
   */
  async run<C extends CommandName>(cmd: C, args: ControlCommands[C]['args'], fieldKey?: string): Promise<ControlCommands[C]['result'] | undefined> {
    this.set({ pending: { ...this.s.pending, [cmd]: true } });
    try {
      const r = await this.client.call(cmd, args);
      const host = r && typeof r === 'object' && 'selection' in r ? (r as HostState) : r && typeof r === 'object' && 'state' in r ? (r as { state: HostState }).state : this.s.host;
      this.set({ fieldErrors: {}, banner: [], host });
      return r;
    } catch (e) {
      const err: ControlError = e instanceof CommandError ? e.error : { code: 'engine', message: (e as Error).message };
      const field = err.field ?? fieldKey;
      if (field) this.set({ fieldErrors: { ...this.s.fieldErrors, [field]: err.message } });
      else this.set({ banner: [...this.s.banner, err] });
      return undefined;
    } finally {
      this.set({ pending: { ...this.s.pending, [cmd]: false } });
    }
  }

  setUi(p: Partial<UiSwitches>): void {
    this.set(p);
  }

  setFieldError(field: string, message: string | null): void {
    const fe = { ...this.s.fieldErrors };
    if (message) fe[field] = message;
    else delete fe[field];
    this.set({ fieldErrors: fe });
  }

  dismiss(i: number): void {
    this.set({ banner: this.s.banner.filter((_, j) => j !== i) });
  }
}

export function useUi(store: Store): UiState {
  return useSyncExternalStore(store.subscribe, store.snapshot);
}
