// Electron's main process, kept thin: the window, the tray, global hotkeys and the IPC bridge. The engine
// (audio, inference, voices) lives in a utility process, restarted if it dies; the window stays up and
// shows the loss as an error banner meanwhile.
import { app, BrowserWindow, globalShortcut, ipcMain, Menu, nativeImage, net, protocol, session, shell, Tray, utilityProcess, type UtilityProcess } from 'electron';
import { unwatchFile, watchFile } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isCommandName, type CommandName, type ControlCommands, type HostState } from '../protocol/control.js';
import type { FromEngine, ToEngine } from './engine-host.js';
import { IPC_CALL, IPC_EVENT } from './preload-methods.js';
import { DEFAULT_HOTKEYS, HOTKEY_ACTIONS, HOTKEY_LABELS, hotkeyCommand, type HotkeyBindings, PushToTalk } from './hotkeys.js';
import { ensureSettingsFile, readHotkeySettings } from './hotkey-settings.js';
import { PREVIEW_URL_PREFIX, previewPath } from '../host/preview/preview-files.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const rendererDir = path.join(here, '..', 'renderer');
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'";

// The renderer is served from resona://app/ (not file://): a real origin for the CSP, and a place to serve
// voice preview images by id without giving the page file access.
protocol.registerSchemesAsPrivileged([{ scheme: 'resona', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

let engine: UtilityProcess | null = null;
let engineReady: Promise<void> = Promise.resolve();
let nextId = 1;
const pending = new Map<number, (reply: unknown) => void>();
let win: BrowserWindow | null = null;
let tray: Tray | null = null;
let lastState: HostState | null = null;
let quitting = false;
// Push-to-talk drives the engine's mute (true silence), so the user's gains are never touched.
const ptt = new PushToTalk((on) => void call('setMute', { on }));
let hotkeys: HotkeyBindings = { ...DEFAULT_HOTKEYS };
/** The app's settings file: the hotkeys live here (tray → Edit hotkeys…), re-read when it changes. */
const settingsFile = () => path.join(app.getPath('userData'), 'settings.json');

function startEngine(): void {
  // Live audio blocks one libuv pool thread per open stream: the engine process gets a pool of 16.
  const child = utilityProcess.fork(path.join(here, 'engine-host.js'), [], {
    serviceName: 'Resona engine',
    env: { ...process.env, UV_THREADPOOL_SIZE: '16' },
    stdio: 'inherit',
  });
  engine = child;
  engineReady = new Promise((resolve) => {
    child.on('message', (m: FromEngine) => {
      if (m.kind === 'ready') resolve();
      else if (m.kind === 'result') {
        pending.get(m.id)?.(m.reply);
        pending.delete(m.id);
      } else {
        if (m.event.type === 'state') {
          lastState = m.event.state;
          updateTray();
        }
        win?.webContents.send(IPC_EVENT, m.event);
      }
    });
  });
  child.on('exit', (code) => {
    engine = null;
    for (const r of pending.values()) r({ ok: false, error: { code: 'engine', message: 'the engine stopped unexpectedly; restarting it' } });
    pending.clear();
    if (quitting) return;
    win?.webContents.send(IPC_EVENT, { type: 'error', error: { code: 'engine', message: `the engine process exited (code ${code}); it is restarting` } });
    setTimeout(startEngine, 1000);
  });
}

async function call<C extends CommandName>(cmd: C, args: ControlCommands[C]['args']): Promise<unknown> {
  await engineReady;
  if (!engine) return { ok: false, error: { code: 'engine', message: 'the engine is restarting; try again in a moment' } };
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    engine!.postMessage({ kind: 'call', id, cmd, args } satisfies ToEngine);
  });
}

function createWindow(): void {
  win = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 960,
    minHeight: 640,
    title: 'Resona',
    backgroundColor: '#12141a',
    webPreferences: {
      preload: path.join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  // No navigation away and no new windows: the page is the app, nothing else.
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  win.on('close', (e) => {
    // Closing the window keeps the voice running in the tray; Quit is in the tray menu.
    if (!quitting && tray) {
      e.preventDefault();
      win?.hide();
    }
  });
  void win.loadURL('resona://app/index.html');
}

function updateTray(): void {
  if (!tray) return;
  const s = lastState;
  const voice = s?.voices.find((v) => v.id === s.selection.voice)?.name ?? s?.selection.voice ?? '';
  tray.setToolTip(`Resona — ${s?.running ? voice : 'stopped'}${s?.selection.bypass ? ' (bypass)' : ''}`);
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: 'Show Resona', click: () => (win ? win.show() : createWindow()) },
      { type: 'separator' },
      { label: s?.running ? 'Stop' : 'Start', click: () => void call(s?.running ? 'stop' : 'start', {}) },
      { label: 'Bypass', type: 'checkbox', checked: Boolean(s?.selection.bypass), click: () => void call('setBypass', { on: !s?.selection.bypass }) },
      {
        label: 'Voice',
        submenu: (s?.voices ?? []).map((v) => ({ label: v.name, type: 'radio' as const, checked: v.id === s?.selection.voice, click: () => void call('setVoice', { voice: v.id }) })),
      },
      { label: 'Mute', type: 'checkbox', checked: Boolean(s?.selection.muted), accelerator: hotkeys.mute || undefined, registerAccelerator: false, click: () => void call('setMute', { on: !s?.selection.muted }) },
      { label: 'Push-to-talk', type: 'checkbox', checked: ptt.mode, accelerator: hotkeys['push-to-talk'] || undefined, registerAccelerator: false, click: () => { ptt.setMode(!ptt.mode); updateTray(); } },
      { type: 'separator' },
      { label: 'Edit hotkeys…', click: () => void ensureSettingsFile(settingsFile()).then(() => shell.openPath(settingsFile())) },
      { type: 'separator' },
      { label: 'Quit', click: () => app.quit() },
    ]),
  );
}

/** Tells the user in the window's banner (and the log) about a hotkey they should look at. */
function warn(message: string): void {
  console.warn(`resona: ${message}`);
  win?.webContents.send(IPC_EVENT, { type: 'error', error: { code: 'file', message } });
}

/** (Re)reads the hotkeys from the settings file and registers them; a bad entry keeps its default. */
async function loadHotkeys(): Promise<void> {
  const { bindings, problems } = await readHotkeySettings(settingsFile());
  for (const p of problems) warn(p.message);
  hotkeys = bindings;
  globalShortcut.unregisterAll();
  for (const action of HOTKEY_ACTIONS) {
    const acc = bindings[action];
    if (!acc) continue;
    const ok = globalShortcut.register(acc, () => {
      if (action === 'push-to-talk') return ptt.press();
      const run = hotkeyCommand(action, lastState);
      if (run) void call(run.cmd, run.args as never);
    });
    if (!ok) warn(`the hotkey ${acc} (${HOTKEY_LABELS[action]}) is taken by another program: choose another in ${settingsFile()}`);
  }
  updateTray();
}

app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, cb) => {
    cb({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  protocol.handle('resona', async (req) => {
    const url = new URL(req.url);
    if (url.pathname.startsWith('/voice-preview/')) {
      const id = decodeURIComponent(url.pathname.slice('/voice-preview/'.length));
      const file = lastState?.voices.find((v) => v.id === id)?.preview;
      return file ? net.fetch(pathToFileURL(file).toString()) : new Response(null, { status: 404 });
    }
    if (url.pathname.startsWith(PREVIEW_URL_PREFIX)) {
      // A rendered voice preview, by its cache key (the engine renders it on renderPreview); never a path.
      const file = previewPath(decodeURIComponent(url.pathname.slice(PREVIEW_URL_PREFIX.length)));
      return file ? net.fetch(pathToFileURL(file).toString()) : new Response(null, { status: 404 });
    }
    const file = path.resolve(rendererDir, decodeURIComponent(url.pathname).replace(/^\/+/, '') || 'index.html');
    if (!file.startsWith(rendererDir + path.sep)) return new Response(null, { status: 404 });
    return net.fetch(pathToFileURL(file).toString());
  });
  ipcMain.handle(IPC_CALL, (e, cmd: unknown, args: unknown) => {
    // Only our own page may drive the engine.
    if (!e.senderFrame?.url.startsWith('resona://app/')) return { ok: false, error: { code: 'auth', message: 'not allowed' } };
    if (!isCommandName(cmd)) return { ok: false, error: { code: 'request', message: `unknown command "${String(cmd)}"` } };
    return call(cmd, (args ?? {}) as never);
  });
  startEngine();
  createWindow();
  tray = new Tray(nativeImage.createFromPath(path.join(rendererDir, 'tray.png')));
  updateTray();
  void loadHotkeys();
  // Editors save by rename: polling the file's stat sees that too.
  watchFile(settingsFile(), { interval: 1000 }, () => void loadHotkeys());
  void call('getState', {}).then((r) => {
    const reply = r as { ok: boolean; result?: HostState };
    if (reply.ok && reply.result) {
      lastState = reply.result;
      updateTray();
    }
  });
});

app.on('before-quit', () => {
  quitting = true;
  globalShortcut.unregisterAll();
  unwatchFile(settingsFile());
  engine?.postMessage({ kind: 'shutdown' } satisfies ToEngine);
});
app.on('window-all-closed', () => {
  if (!tray) app.quit();
});
