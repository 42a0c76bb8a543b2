// Server mode takes whatever the network sends: requests found by fuzzing that used to kill the process or
// leak what they should not. Each is sent to the real `resona serve` (no browser), and after each the server
// must still answer a getState. Also: a burst from one client does not starve another, and the presets
// file gets the burst's final value once, after the changes pause.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import type { ServerMessage } from '../../protocol/control.js';
import { SETTING_RANGES } from '../../protocol/settings.js';
import { PRESET_WRITE_DELAY_MS } from '../../host/control/presets.js';
import { REPO, startServe, type Served } from '../ui/harness.js';

let home: string;
let served: Served;
let host: string;

/** A voice folder the library lists (its model is never loaded here) with the given preview file. */
function voiceFolder(id: string, makePreview: (file: string) => void): void {
  const dir = path.join(home, 'voices', id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'voice.json'), JSON.stringify({
    format: 1, id, name: id, family: 'rvc', contract: 'webui', version: 'v2', sampleRate: 40000, featureSize: 768, encoderLayer: 12,
    f0: true, speakers: 1, defaultPitch: 0, model: 'model.onnx', index: null, preview: 'preview.png',
  }));
  makePreview(path.join(dir, 'preview.png'));
}

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

before(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'resona-hostile-'));
  voiceFolder('plain', (f) => writeFileSync(f, PNG));
  voiceFolder('linked', (f) => symlinkSync('/etc/passwd', f));
  voiceFolder('piped', (f) => execFileSync('mkfifo', [f]));
  served = await startServe(home);
  host = new URL(served.url).host;
});
after(async () => {
  await served?.stop();
  rmSync(home, { recursive: true, force: true });
});

/** A WebSocket client from the page's own Origin that matches answers to requests by id. */
class Client {
  private next = 1;
  private readonly waiting = new Map<number, (m: ServerMessage) => void>();
  readonly errors: ServerMessage[] = [];
  states = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as ServerMessage;
      if (m.type === 'result') this.waiting.get(m.id)?.(m);
      else if (m.type === 'error') this.errors.push(m);
      else if (m.type === 'state') this.states++;
    });
  }

  static async open(): Promise<Client> {
    const ws = new WebSocket(`ws://${host}/ws`, { headers: { origin: `http://${host}` } });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new Client(ws);
  }

  /** Sends a request (an object, or raw text with the id given) and resolves with its answer. */
  request(cmd: string, args: unknown = {}): Promise<ServerMessage & { type: 'result' }> {
    const id = this.next++;
    return this.raw(JSON.stringify({ id, cmd, args }), id);
  }

  raw(text: string, id: number): Promise<ServerMessage & { type: 'result' }> {
    const answer = new Promise<ServerMessage & { type: 'result' }>((resolve) => this.waiting.set(id, (m) => resolve(m as ServerMessage & { type: 'result' })));
    this.ws.send(text);
    return answer;
  }

  /** Resolves with the next unasked error message. */
  async nextError(send: () => void): Promise<ServerMessage> {
    const before = this.errors.length;
    send();
    for (let i = 0; i < 200 && this.errors.length === before; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(this.errors.length > before, 'the server answered with a protocol error');
    return this.errors.at(-1)!;
  }

  close(): void {
    this.ws.close();
  }
}

/** The server is alive and serving: a fresh client's getState is answered. */
async function assertServing(): Promise<void> {
  assert.equal(served.proc.exitCode, null, `the server exited:\n${served.log()}`);
  const c = await Client.open();
  try {
    const r = await c.request('getState');
    assert.ok(r.ok, 'getState answered');
  } finally {
    c.close();
  }
}

/** Sends raw bytes and resolves with the status line and body of the answer. */
function rawHttp(text: string, u = new URL(served.url)): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(u.port), u.hostname, () => s.write(text));
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.on('error', reject);
    s.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0);
      resolve({ status, body: got.split('\r\n\r\n').slice(1).join('\r\n\r\n') });
    });
    s.setTimeout(5000, () => s.destroy());
  });
}

function upgrade(target: string, extra = '', to = host): string {
  return `GET ${target} HTTP/1.1\r\nHost: ${to}\r\nOrigin: http://${to}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

function get(pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http.get(`http://${host}${pathname}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

test('a WebSocket upgrade with a malformed %-escape in the token cookie is answered 400; the server lives on', { timeout: 30_000 }, async () => {
  const r = await rawHttp(upgrade('/ws', 'Cookie: resona_token=%E0%A4%A\r\n'));
  assert.equal(r.status, 400);
  assert.match(r.body, /^bad request: the token cookie has a malformed %-escape$/);
  await assertServing();
});

test('an upgrade to //[ (no path) is answered 400; the server lives on', { timeout: 30_000 }, async () => {
  const r = await rawHttp(upgrade('//['));
  assert.equal(r.status, 400);
  assert.doesNotMatch(r.body, /Invalid URL|TypeError/);
  await assertServing();
});

test('HTTP requests with bad escapes get 400 and a short reason, never the exception text', { timeout: 30_000 }, async () => {
  for (const [target, headers] of [['/%E0%A4%A', {}], ['/assets/%', {}], ['/voice-preview/%ZZ', {}], ['/', { cookie: 'resona_token=%' }], ['/%00', {}]] as const) {
    const r = await get(target, headers);
    assert.equal(r.status, 400, target);
    const text = r.body.toString();
    assert.match(text, /^bad request: /, target);
    assert.doesNotMatch(text, /URIError|URI malformed|at .*\.js/, target);
  }
  await assertServing();
});

test('the WebSocket messages null, a bare number, binary and broken UTF-8 get protocol errors; the server lives on', { timeout: 30_000 }, async () => {
  const c = await Client.open();
  try {
    for (const text of ['null', '42', '[]', '"getState"', '{"cmd":"getState"}']) {
      const e = await c.nextError(() => c.ws.send(text));
      assert.ok(e.type === 'error' && e.error.code === 'request', text);
      assert.match(e.error.message, /^(a message must be a JSON object \{id, cmd, args\}|id must be a whole number)$/, text);
    }
    const noCmd = await c.raw('{"id":9}', 9);
    assert.ok(!noCmd.ok && noCmd.error.message === 'cmd must be a command name', 'an answer to the id it carried');
    const bin = await c.nextError(() => c.ws.send(Buffer.from('{"id":1,"cmd":"getState"}'), { binary: true }));
    assert.ok(bin.type === 'error' && /not binary/.test(bin.error.message));
    // An unknown own key in the envelope, and "__proto__" as one, are refused by name with the request's id.
    const proto = await c.raw('{"id":7,"cmd":"getState","args":{},"__proto__":{"x":1}}', 7);
    assert.ok(!proto.ok && /no field "__proto__"/.test(proto.error.message));
    assert.ok((await c.request('getState')).ok, 'the same connection still works');
  } finally {
    c.close();
  }
  // Invalid UTF-8 in a text frame: ws closes that connection with 1007; the process must not die of it.
  const bad = await Client.open();
  const closed = new Promise<number>((r) => bad.ws.once('close', r));
  bad.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
  assert.equal(await closed, 1007);
  await assertServing();
});

test('a command over 64 KiB is refused with its id unless it is an upload; the server lives on', { timeout: 30_000 }, async () => {
  const c = await Client.open();
  try {
    const r = await c.raw(JSON.stringify({ id: 3, cmd: 'setVoice', args: { voice: 'x'.repeat(70 * 1024) } }), 3);
    assert.ok(!r.ok && r.error.code === 'request');
    assert.match(r.error.message, /^a setVoice message may be at most 64 KiB \(this one was 71 KiB\)$/);
    // Arguments first: the size is refused before the message is parsed, and the id is still found.
    const late = await c.raw(`{"id":4,"args":{"voice":"${'y'.repeat(70 * 1024)}"},"cmd":"importVoice"}`, 4);
    assert.ok(!late.ok && /^a message over 64 KiB must be an importVoice request with "cmd" ahead of its data/.test(late.error.message));
    // An upload may be larger: it reaches the import, which judges the file itself.
    const upload = await c.request('importVoice', { name: 'big.onnx', dataBase64: Buffer.alloc(300 * 1024, 7).toString('base64') });
    assert.ok(!upload.ok);
    assert.equal(upload.error.code, 'import');
    assert.match(upload.error.message, /big\.onnx/);
    assert.doesNotMatch(upload.error.message, /KiB|resona-upload-/);
  } finally {
    c.close();
  }
  await assertServing();
});

test('prototype keys are refused as settings by name and never saved', { timeout: 30_000 }, async () => {
  const c = await Client.open();
  try {
    for (const key of ['toString', 'valueOf', 'constructor', 'hasOwnProperty', '__proto__']) {
      // Raw text: an object literal would not carry "__proto__" as a key.
      const r = await c.raw(`{"id":${100 + key.length},"cmd":"setSettings","args":{"settings":{"${key}":1}}}`, 100 + key.length);
      assert.ok(!r.ok, key);
      assert.equal(r.error.code, 'setting', key);
      assert.equal(r.error.field, key);
      assert.match(r.error.message, new RegExp(`^unknown setting "${key}": the settings are blockMs, `));
    }
    const ok = await c.request('setSettings', { settings: { formant: 3 } });
    assert.ok(ok.ok, 'a real setting still applies');
  } finally {
    c.close();
  }
  await new Promise((r) => setTimeout(r, PRESET_WRITE_DELAY_MS + 400));
  const saved = JSON.parse(readFileSync(path.join(home, 'presets.json'), 'utf8')) as Record<string, Record<string, unknown>>;
  for (const [voice, preset] of Object.entries(saved)) {
    assert.deepEqual(Object.keys(preset).filter((k) => !Object.hasOwn(SETTING_RANGES, k)), [], voice);
  }
  assert.equal(saved.deeper?.formant, 3);
  await assertServing();
});

test('a voice preview is served only when it is a regular image inside the voice folder (no symlink, no FIFO)', { timeout: 30_000 }, async () => {
  const plain = await get('/voice-preview/plain');
  assert.equal(plain.status, 200, 'a real preview is served');
  assert.deepEqual(plain.body, PNG);
  const linked = await get('/voice-preview/linked');
  assert.equal(linked.status, 404);
  assert.doesNotMatch(linked.body.toString(), /root:/);
  const piped = await get('/voice-preview/piped');
  assert.equal(piped.status, 404, 'a FIFO is refused without blocking');
  await assertServing();
});

test('importVoice by path never lists a folder; a folder that is no voice gets one line', { timeout: 30_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resona-notvoice-'));
  writeFileSync(path.join(dir, 'secret-notes.txt'), 'x');
  mkdirSync(path.join(dir, 'private-photos'));
  const c = await Client.open();
  try {
    for (const p of [dir, '/root', '/etc', path.join(dir, 'secret-notes.txt'), path.join(dir, 'missing')]) {
      const r = await c.request('importVoice', { name: 'voice.onnx', path: p });
      assert.ok(!r.ok, p);
      assert.equal(r.error.code, 'import', p);
      // The path given is named back; nothing else that is on the disk is.
      assert.doesNotMatch(r.error.message.split(p).join('<path>'), /secret-notes|private-photos|passwd|hostname|\.bashrc|found:/, p);
      assert.match(r.error.message, /pick the voice's \.onnx or \.pth model, a \.zip of its folder, or the folder that holds them$/, p);
      assert.doesNotMatch(r.error.message, /\n/);
    }
  } finally {
    c.close();
    rmSync(dir, { recursive: true, force: true });
  }
  await assertServing();
});

/**
 * The bursting client runs in its own process, so the time measured here is the server's alone and not this
 * process parsing the burst's 2,000 answers. It prints how many answers were ok, the last one's pitch and the
 * number of state broadcasts it saw.
 */
const BURST_CLIENT = `
import WebSocket from 'ws';
const [url, origin, n] = process.argv.slice(1);
const ws = new WebSocket(url, { headers: { origin } });
ws.on('open', () => {
  let ok = 0, answered = 0, last = null, states = 0;
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    if (m.type === 'state') states++;
    if (m.type !== 'result') return;
    answered++;
    if (m.ok) ok++;
    if (m.id === Number(n)) last = m.result.selection.settings.pitch;
    if (answered === Number(n)) {
      console.log(JSON.stringify({ ok, last, states }));
      ws.close();
    }
  });
  console.error('sending');
  for (let i = 1; i <= Number(n); i++) {
    const pitch = i === Number(n) ? 11 : (i % 49) - 24;
    ws.send(JSON.stringify({ id: i, cmd: 'setSettings', args: { settings: { pitch } } }));
  }
});
`;

test('2,000 setSettings in a burst from one client do not delay another client\'s getState; presets get the final value', { timeout: 60_000 }, async () => {
  const other = await Client.open();
  try {
    const n = 2000;
    const child = spawn(process.execPath, ['--input-type=module', '-e', BURST_CLIENT, `ws://${host}/ws`, `http://${host}`, String(n)], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    let done = false;
    void exited.then(() => (done = true));
    const t0 = performance.now();
    // Reads from this client, every 10 ms, from before the burst is sent until its last answer arrives.
    const waits: number[] = [];
    while (!done) {
      const t = performance.now();
      const r = await other.request('getState');
      assert.ok(r.ok);
      if (err.includes('sending')) waits.push(performance.now() - t);
      await new Promise((r2) => setTimeout(r2, 10));
    }
    const drained = performance.now() - t0;
    assert.equal(await exited, 0, err);
    const burst = JSON.parse(out) as { ok: number; last: number; states: number };
    assert.equal(burst.ok, n, 'every caller is answered');
    assert.equal(burst.last, 11, 'the last caller sees the final value');
    assert.ok(waits.length > 0, 'getState was measured during the burst');
    const worst = Math.max(...waits);
    console.log(`burst of ${n} setSettings: client started, sent and answered in ${drained.toFixed(0)} ms; the other client's ${waits.length} getState during it waited at most ${worst.toFixed(1)} ms (median ${waits.sort((a, b) => a - b)[waits.length >> 1]!.toFixed(1)} ms); ${burst.states} state broadcasts for ${n} updates`);
    assert.ok(worst < 1000, `getState waited ${worst.toFixed(0)} ms behind another client's burst`);
    assert.ok(burst.states < n / 4, `queued updates merge: ${burst.states} state broadcasts for ${n} updates`);
    await new Promise((r) => setTimeout(r, PRESET_WRITE_DELAY_MS + 500));
    const saved = JSON.parse(readFileSync(path.join(home, 'presets.json'), 'utf8')) as Record<string, { pitch: number }>;
    assert.equal(saved.deeper?.pitch, 11, 'presets.json holds the final value');
  } finally {
    other.close();
  }
  await assertServing();
});

test('with a token: a malformed token cookie is a 400 before any access check; the right token still gets in; stopping flushes presets', { timeout: 60_000 }, async () => {
  const token = 'a-long-enough-test-token-5678';
  const h2 = mkdtempSync(path.join(os.tmpdir(), 'resona-hostile-'));
  const s = await startServe(h2, ['--token', token]);
  try {
    const u = new URL(s.url);
    const status = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => http.get(`http://${u.host}/voice-preview/none`, { headers }, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject));
    assert.equal(await status({ cookie: 'resona_token=%E0%A4%A' }), 400);
    assert.equal(await status({ cookie: 'resona_token=wrong-token-wrong-token' }), 401);
    assert.equal(await status({ cookie: `resona_token=${encodeURIComponent(token)}` }), 404, 'past the checks: no such voice');
    // The first visit's redirect stays on this server, whatever the path decodes or normalises to.
    for (const p of ['/a/..//evil.example', '/%2Fevil.example', '//evil.example']) {
      const location = await new Promise<string | undefined>((resolve, reject) =>
        http.get({ host: u.hostname, port: u.port, path: `${p}?token=${token}` }, (res) => (res.resume(), resolve(res.statusCode === 303 ? res.headers.location : `status ${res.statusCode}`))).on('error', reject));
      assert.ok(location === 'status 400' || /^\/(?!\/)/.test(location ?? ''), `${p} → ${location}`);
    }
    const refused = await rawHttp(upgrade('/ws', 'Cookie: resona_token=%\r\n', u.host), u);
    assert.equal(refused.status, 400);
    const ws = new WebSocket(`ws://${u.host}/ws`, { headers: { authorization: `Bearer ${token}` } });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const results = new Map<number, (m: ServerMessage) => void>();
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as ServerMessage;
      if (m.type === 'result') results.get(m.id)?.(m);
    });
    const answer = (id: number) => new Promise<ServerMessage>((resolve) => results.set(id, resolve));
    ws.send('null');
    ws.send(JSON.stringify({ id: 1, cmd: 'getState', args: {} }));
    const r = await answer(1);
    assert.ok(r.type === 'result' && r.ok && r.id === 1);
    // A change answered just before the server stops is in presets.json: the delayed write is flushed on close.
    const set = answer(2);
    ws.send(JSON.stringify({ id: 2, cmd: 'setSettings', args: { settings: { pitch: -7 } } }));
    assert.ok((await set).type === 'result');
    ws.close();
    assert.equal(s.proc.exitCode, null);
    await s.stop();
    const saved = JSON.parse(readFileSync(path.join(h2, 'presets.json'), 'utf8')) as Record<string, { pitch: number }>;
    assert.equal(saved.deeper?.pitch, -7);
  } finally {
    await s.stop();
    rmSync(h2, { recursive: true, force: true });
  }
});
