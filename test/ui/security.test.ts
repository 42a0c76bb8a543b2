// Server mode's doors: a non-local bind needs a token, the token is checked on HTTP and WebSocket, a
// WebSocket from a foreign Origin (or with a foreign Host: DNS rebinding) is refused. And Electron's preload
// exposes exactly the named methods, nothing more.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import WebSocket from 'ws';
import { PRELOAD_METHODS } from '../../electron/preload-methods.js';
import { CLI, REPO, startServe, type Served } from './harness.js';

const TOKEN = 'a-long-enough-test-token-1234';
let home: string;
let local: Served;

before(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'resona-sec-'));
  local = await startServe(home);
});
after(async () => {
  await local?.stop();
  rmSync(home, { recursive: true, force: true });
});

/** Opens a WebSocket with the given headers; resolves with 'open' or the HTTP status it was refused with. */
function tryWs(url: string, headers: Record<string, string>): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => undefined);
  });
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    }).on('error', reject);
  });
}

test('a non-local bind without a token is refused with a one-line error', () => {
  const r = spawnSync(process.execPath, [CLI, 'serve', '--host', '0.0.0.0', '--port', '0'], {
    env: { ...process.env, UV_THREADPOOL_SIZE: '16', RESONA_HOME: home, RESONA_TOKEN: '' },
    encoding: 'utf8',
    timeout: 20000,
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^resona: error: binding 0\.0\.0\.0 exposes the voice changer to the network: give --token/);
  const short = spawnSync(process.execPath, [CLI, 'serve', '--host', '0.0.0.0', '--port', '0', '--token', 'short'], { env: { ...process.env, UV_THREADPOOL_SIZE: '16', RESONA_HOME: home }, encoding: 'utf8', timeout: 20000 });
  assert.match(short.stderr, /token must be at least 16 characters/);
});

test('loopback server: the page carries a strict CSP; a foreign Host (DNS rebinding) is refused', async () => {
  const page = await get(local.url);
  assert.equal(page.status, 200);
  assert.match(String(page.headers['content-security-policy']), /default-src 'self'; script-src 'self'/);
  assert.doesNotMatch(String(page.headers['content-security-policy']), /unsafe-inline|unsafe-eval/);
  const rebound = await get(local.url, { host: `attacker.example:${new URL(local.url).port}` });
  assert.equal(rebound.status, 403);
});

test('a WebSocket from a foreign Origin is refused; the page\'s own Origin is accepted', async () => {
  const u = new URL(local.url);
  const ws = `ws://${u.host}/ws`;
  assert.equal(await tryWs(ws, { origin: 'http://evil.example' }), 403);
  assert.equal(await tryWs(ws, { origin: `http://${u.host}`, host: `evil.example:${u.port}` }), 403);
  assert.equal(await tryWs(ws, {}), 403, 'no Origin and no token');
  assert.equal(await tryWs(ws, { origin: `http://${u.host}` }), 'open');
});

test('with a token (any bind): HTTP and WebSocket need it; the first visit turns ?token= into an HttpOnly cookie', async () => {
  const h2 = mkdtempSync(path.join(os.tmpdir(), 'resona-sec-'));
  const s = await startServe(h2, ['--host', '0.0.0.0', '--token', TOKEN]);
  try {
    assert.match(s.url, /\?token=/);
    const base = s.url.replace(/\?.*$/, '');
    const u = new URL(base);
    assert.equal((await get(base)).status, 401);
    assert.equal((await get(`${base}?token=wrong-token-wrong-token`)).status, 401);
    const first = await get(`${base}?token=${TOKEN}`);
    assert.equal(first.status, 303);
    const cookie = String(first.headers['set-cookie']);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.equal((await get(base, { cookie: cookie.split(';')[0]! })).status, 200);
    const ws = `ws://${u.host}/ws`;
    assert.equal(await tryWs(ws, { origin: `http://${u.host}` }), 401, 'right Origin, no token');
    assert.equal(await tryWs(ws, { origin: 'http://evil.example', cookie: cookie.split(';')[0]! }), 403, 'token, foreign Origin');
    assert.equal(await tryWs(ws, { authorization: `Bearer ${TOKEN}` }), 'open', 'a non-browser client with the token');
    assert.equal(await tryWs(ws, { origin: `http://${u.host}`, cookie: cookie.split(';')[0]! }), 'open');
  } finally {
    await s.stop();
    rmSync(h2, { recursive: true, force: true });
  }
});

const EXPECTED_PRELOAD = [
  'getState', 'start', 'stop', 'setSettings', 'setF0Method', 'setVoice', 'importVoice', 'setDevice', 'setGain', 'setBypass', 'setNoiseSuppression',
  'startRecording', 'stopRecording', 'measureLatency', 'listDevices', 'listVoices', 'nudgePitch', 'stepVoice', 'setFallback', 'onEvent',
  // The provider selector; then voice cards (previews, favourites, named presets) and the Networks downloads.
  'setRuntime', 'renderPreview', 'setFavourite', 'savePreset', 'applyPreset', 'deletePreset', 'listModels', 'downloadModel',
  // Mute and push-to-talk.
  'setMute',
];

test('the preload exposes exactly the named methods, frozen, and forwards each by name only', () => {
  assert.deepEqual([...PRELOAD_METHODS].sort(), [...EXPECTED_PRELOAD].sort());
  // Run the real bundled preload against a stand-in for Electron's modules and see what it exposes.
  const exposed: Record<string, Record<string, unknown>> = {};
  const invoked: unknown[][] = [];
  const fakeElectron = {
    contextBridge: { exposeInMainWorld: (key: string, api: Record<string, unknown>) => (exposed[key] = api) },
    ipcRenderer: { invoke: (...a: unknown[]) => (invoked.push(a), Promise.resolve({ ok: true })), on: () => undefined },
  };
  const code = readFileSync(path.join(REPO, 'dist', 'electron', 'preload.cjs'), 'utf8');
  const required: string[] = [];
  vm.runInNewContext(code, {
    require: (m: string) => {
      required.push(m);
      if (m !== 'electron') throw new Error(`a sandboxed preload cannot require ${m}`);
      return fakeElectron;
    },
    module: { exports: {} },
    exports: {},
  });
  assert.deepEqual(required, ['electron']);
  assert.deepEqual(Object.keys(exposed), ['resona'], 'one object, window.resona');
  const api = exposed.resona!;
  assert.deepEqual(Object.keys(api).sort(), [...EXPECTED_PRELOAD].sort());
  assert.ok(Object.isFrozen(api));
  for (const k of EXPECTED_PRELOAD) assert.equal(typeof api[k], 'function', k);
  void (api.setBypass as (a: unknown) => Promise<unknown>)({ on: true });
  assert.deepEqual(invoked, [['resona:call', 'setBypass', { on: true }]]);
});
