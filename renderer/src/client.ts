// One typed client for both transports: Electron's preload (window.resona) and server mode's WebSocket.
// Everything above this file sees only `call(cmd, args)` and a stream of HostEvents.
import type { CallResult, CommandName, ControlCommands, ControlError, HostEvent, PreloadApi, ServerMessage } from '../../protocol/control.js';

export class CommandError extends Error {
  constructor(readonly error: ControlError) {
    super(error.message);
  }
}

export interface ControlClient {
  call<C extends CommandName>(cmd: C, args: ControlCommands[C]['args']): Promise<ControlCommands[C]['result']>;
  onEvent(l: (e: HostEvent) => void): void;
  onConnection(l: (connected: boolean) => void): void;
  /** How the UI names a voice's preview image. */
  previewUrl(voiceId: string): string;
  /** The address of a path the host serves (a rendered voice preview's WAV), for this transport. */
  hostUrl(path: string): string;
}


declare global {
  interface Window {
    resona?: PreloadApi;
  }
}

class PreloadClient implements ControlClient {
  constructor(private readonly api: PreloadApi) {}
  async call<C extends CommandName>(cmd: C, args: ControlCommands[C]['args']): Promise<ControlCommands[C]['result']> {
    const fn = this.api[cmd] as (a: ControlCommands[C]['args']) => Promise<CallResult<ControlCommands[C]['result']>>;
    const r = await fn(args);
    if (!r.ok) throw new CommandError(r.error);
    return r.result;
  }
  onEvent(l: (e: HostEvent) => void): void {
    this.api.onEvent(l);
  }
  onConnection(l: (c: boolean) => void): void {
    l(true);
  }
  previewUrl(id: string): string {
    return `resona://app/voice-preview/${encodeURIComponent(id)}`;
  }
  hostUrl(path: string): string {
    return `resona://app${path}`;
  }
}

class SocketClient implements ControlClient {
  private ws!: WebSocket;
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private listeners: ((e: HostEvent) => void)[] = [];
  private connListeners: ((c: boolean) => void)[] = [];
  private opened: Promise<void> = Promise.resolve();

  constructor(private readonly url: string) {
    this.connect();
  }

  private connect(): void {
    this.ws = new WebSocket(this.url);
    this.opened = new Promise((resolve) => this.ws.addEventListener('open', () => resolve(), { once: true }));
    this.ws.addEventListener('open', () => this.connListeners.forEach((l) => l(true)));
    this.ws.addEventListener('message', (m) => this.onMessage(JSON.parse(String(m.data)) as ServerMessage));
    this.ws.addEventListener('close', () => {
      this.connListeners.forEach((l) => l(false));
      for (const p of this.pending.values()) p.reject(new CommandError({ code: 'engine', message: 'the connection to the engine was lost' }));
      this.pending.clear();
      // The engine may be restarting: try again, gently.
      setTimeout(() => this.connect(), 1000);
    });
  }

  private onMessage(m: ServerMessage): void {
    if (m.type === 'result') {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (!p) return;
      if (m.ok) p.resolve(m.result);
      else p.reject(new CommandError(m.error));
      return;
    }
    for (const l of this.listeners) l(m);
  }

  async call<C extends CommandName>(cmd: C, args: ControlCommands[C]['args']): Promise<ControlCommands[C]['result']> {
    await this.opened;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.ws.send(JSON.stringify({ id, cmd, args }));
    });
  }
  onEvent(l: (e: HostEvent) => void): void {
    this.listeners.push(l);
  }
  onConnection(l: (c: boolean) => void): void {
    this.connListeners.push(l);
  }
  previewUrl(id: string): string {
    return `/voice-preview/${encodeURIComponent(id)}`;
  }
  hostUrl(path: string): string {
    return path;
  }
}

export function createClient(): ControlClient {
  if (window.resona) return new PreloadClient(window.resona);
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return new SocketClient(`${proto}//${location.host}/ws`);
}
