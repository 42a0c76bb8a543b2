// What the UI tests share: the real `resona serve` as a child process (its own RESONA_HOME, the test's
// private PulseAudio, a 16-thread pool), Debian's Chromium driven by playwright-core, and a plain WebSocket
// client that reads the host's state directly, so assertions never trust the UI about the engine.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import WebSocket from 'ws';
import type { CommandName, ControlCommands, HostEvent, ServerMessage } from '../../protocol/control.js';
import { PulseEnv } from '../live/pulse-env.js';
import { buildTinyEncoder, buildTinySynth } from '../models/tiny-models.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '..', '..', '..');
export const CLI = path.join(REPO, 'dist', 'cli', 'resona.js');
export const SCREENSHOTS = path.join(REPO, 'out', 'screenshots');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface Served {
  url: string;
  proc: ChildProcess;
  log: () => string;
  stop: () => Promise<void>;
}

/** Starts `resona serve --port 0` and resolves with the address it prints. */
export function startServe(home: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], {
    env: { ...process.env, UV_THREADPOOL_SIZE: '16', RESONA_HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  process.once('exit', () => proc.kill('SIGKILL'));
  const stop = async () => {
    if (proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 8000);
    await exited;
    clearTimeout(t);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`resona serve printed no address in 20 s: ${out}`)), 20000);
    const onData = () => {
      const m = /open (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.stdout!.off('data', onData);
        resolve({ url: m[1]!, proc, log: () => out, stop });
      }
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`resona serve exited with ${code}: ${out}`));
    });
  });
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (scripts/setup.sh does)`);
  // The browser must not join the test's private PulseAudio server: its audio service would open and
  // probe streams there, beside the engine's. It gets a server address that leads nowhere.
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'PULSE_SERVER') env[k] = v;
  return chromium.launch({
    executablePath: CHROMIUM,
    env: { ...env, PULSE_SERVER: 'unix:/nonexistent/resona-no-audio' },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--mute-audio'],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** A control client outside the browser: same protocol, with the Origin a browser on the page would send. */
export class ProbeClient {
  private id = 1;
  private pending = new Map<number, (m: ServerMessage) => void>();
  readonly events: HostEvent[] = [];
  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as ServerMessage;
      if (m.type === 'result') {
        this.pending.get(m.id)?.(m);
        this.pending.delete(m.id);
      } else if (m.type !== 'telemetry') this.events.push(m);
      else this.lastTelemetry = m.telemetry;
    });
  }
  lastTelemetry: Extract<HostEvent, { type: 'telemetry' }>['telemetry'] | null = null;

  static connect(url: string): Promise<ProbeClient> {
    const u = new URL(url);
    const ws = new WebSocket(`ws://${u.host}/ws`, { headers: { origin: `http://${u.host}` } });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new ProbeClient(ws)));
      ws.once('error', reject);
    });
  }

  async call<C extends CommandName>(cmd: C, args: ControlCommands[C]['args']): Promise<ControlCommands[C]['result']> {
    const id = this.id++;
    const m = await new Promise<ServerMessage>((resolve) => {
      this.pending.set(id, resolve);
      this.ws.send(JSON.stringify({ id, cmd, args }));
    });
    if (m.type !== 'result') throw new Error('unexpected message');
    if (!m.ok) throw new Error(`${cmd}: ${m.error.code}: ${m.error.message}`);
    return m.result as ControlCommands[C]['result'];
  }

  close(): void {
    this.ws.close();
  }
}

/** Polls until `f` returns a truthy value (the engine answers in its own time). */
export async function until<T>(what: string, f: () => Promise<T> | T, timeoutMs = 15000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface UiSessionOptions {
  /** The temporary RESONA_HOME's name prefix (which test left it behind, if one is left). */
  name: string;
  /** Fills RESONA_HOME before the host starts (models, voices, overrides). */
  prepare?: (home: string, env: PulseEnv) => void | Promise<void>;
  /** Environment for `resona serve` beyond the test's PulseAudio server. */
  serveEnv?: (home: string) => NodeJS.ProcessEnv;
  viewport?: { width: number; height: number };
}

/**
 * One UI test file's world, started and torn down in one order: a private PulseAudio server, a RESONA_HOME, the
 * real `resona serve` on that server, a probe client, and Chromium with one page. The host can be restarted
 * (what a user's settings must survive) without the browser.
 */
export class UiSession {
  served!: Served;
  probe!: ProbeClient;
  page!: Page;
  browser!: Browser;
  private constructor(
    readonly env: PulseEnv,
    readonly home: string,
    private readonly o: UiSessionOptions,
  ) {}

  static async start(o: UiSessionOptions): Promise<UiSession> {
    const env = await PulseEnv.start();
    const ui = new UiSession(env, mkdtempSync(path.join(os.tmpdir(), `${o.name}-`)), o);
    try {
      await o.prepare?.(ui.home, env);
      await ui.startHost();
      ui.browser = await launchBrowser();
      ui.page = await ui.browser.newPage({ viewport: o.viewport ?? { width: 1280, height: 800 } });
    } catch (e) {
      await ui.close();
      throw e;
    }
    return ui;
  }

  /** Starts `resona serve` (again, after stopHost) and connects the probe. */
  async startHost(): Promise<void> {
    this.served = await startServe(this.home, [], { PULSE_SERVER: this.env.server, ...this.o.serveEnv?.(this.home) });
    this.probe = await ProbeClient.connect(this.served.url);
  }

  async stopHost(): Promise<void> {
    this.probe?.close();
    await this.served?.stop();
  }

  /** Loads the page and waits until it has connected to the host. */
  async openPage(): Promise<void> {
    await this.page.goto(this.served.url);
    await this.page.getByTestId('start-stop').waitFor();
    await until('the UI to connect', async () => !/disconnected|connecting/.test((await this.page.getByTestId('engine-state').textContent()) ?? ''));
  }

  async close(): Promise<void> {
    await this.browser?.close();
    await this.stopHost();
    await this.env.stop();
    rmSync(this.home, { recursive: true, force: true });
  }
}

/**
 * A tiny RVC voice file ("Tiny Alto.onnx", not yet imported) in RESONA_HOME, and the shared content encoder it
 * needs under the catalogue's file name in RESONA_HOME/models. Returns the voice file's path.
 */
export function writeTinyAlto(home: string): string {
  mkdirSync(path.join(home, 'models'), { recursive: true });
  writeFileSync(path.join(home, 'models', 'vec-768-layer-12.onnx'), buildTinyEncoder('vec', 768));
  const voiceFile = path.join(home, 'Tiny Alto.onnx');
  writeFileSync(voiceFile, buildTinySynth({ contract: 'vcclient-skip', rate: 40000, f0: true, channels: 768 }));
  return voiceFile;
}
