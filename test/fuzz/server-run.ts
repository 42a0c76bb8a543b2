// Runs server cases against real `resona serve` processes (port 0, a temporary RESONA_HOME, loopback only):
// one without a token and one with, started on first use and again after a case brings one down. After every
// request the server must still be running, within the memory limit, and answer getState.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startServe, type Served } from '../ui/harness.js';
import { firstLine, type Verdict } from './classify.js';
import { TOKEN_PREFIX } from './fam-server.js';
import { rssBytes } from './pool.js';
import type { Limits, ServerCase } from './types.js';

const TOKEN = 'fuzz-token-0123456789abcdef';
/** Text that means an exception reached a client. */
const EXCEPTION_TEXT = /internal error|Error\b|\bat .+:\d+:\d+|Invalid URL|URI malformed|stack/;

interface Running {
  served: Served;
  host: string;
  home: string;
}

function sendRaw(host: string, raw: string, timeMs: number): Promise<string | null> {
  const [hostname, port] = [host.slice(0, host.lastIndexOf(':')), Number(host.slice(host.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    let got = '';
    const sock = net.connect({ host: hostname, port });
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(got || null);
    };
    const timer = setTimeout(done, timeMs);
    sock.on('data', (d) => {
      got += d.toString('latin1');
      // An upgrade answer (101 or a refusal) is complete at its blank line; the socket may stay open.
      if (/^HTTP\/1\.1 101/.test(got) && got.includes('\r\n\r\n')) done();
      if (got.length > 1 << 20) done();
    });
    sock.on('end', done);
    sock.on('error', done);
    sock.on('connect', () => sock.write(raw, 'latin1'));
  });
}

function httpVerdict(answer: string | null): Verdict {
  if (!answer) return { outcome: 'wrong-kind', message: 'the connection closed without an answer' };
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(answer);
  if (!m) return { outcome: 'wrong-kind', message: `not an HTTP answer: ${firstLine(answer, 120)}` };
  const status = Number(m[1]);
  const split = answer.indexOf('\r\n\r\n');
  const head = answer.slice(0, split);
  let body = answer.slice(split + 4);
  if (/transfer-encoding:\s*chunked/i.test(head)) body = body.replace(/(^|\r\n)[0-9a-f]+\r\n/gi, '$1');
  if (status >= 500) return { outcome: 'wrong-kind', message: `HTTP ${status}: ${firstLine(body, 200) || '(no body)'}` };
  if (EXCEPTION_TEXT.test(body)) return { outcome: 'wrong-kind', message: `HTTP ${status} with exception text: ${firstLine(body, 200)}` };
  return status >= 400 ? { outcome: 'clean-error', message: `HTTP ${status}` } : { outcome: 'success', message: `HTTP ${status}` };
}

function wsUrl(host: string): string {
  return `ws://${host}/ws`;
}

/** Opens a control connection, sends `message` and waits for the answer to it (a result or an error). */
function wsExchange(host: string, message: string, timeMs: number, token?: string): Promise<Verdict> {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl(host), { headers: { origin: `http://${host}`, ...(token ? { authorization: `Bearer ${token}` } : {}) } });
    const finish = (v: Verdict) => {
      clearTimeout(timer);
      ws.terminate();
      resolve(v);
    };
    const timer = setTimeout(() => finish({ outcome: 'wrong-kind', message: `no answer in ${timeMs / 1000} s` }), timeMs);
    ws.on('open', () => ws.send(message));
    ws.on('error', (e) => finish({ outcome: 'wrong-kind', message: `connection error: ${e.message}` }));
    ws.on('close', (code) => finish(code === 1009 ? { outcome: 'clean-error', message: 'closed: message too big (1009)' } : { outcome: 'wrong-kind', message: `closed (${code}) without an answer` }));
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { type: string; ok?: boolean; error?: { code?: string; message?: string } };
      if (m.type === 'error') finish({ outcome: 'clean-error', message: m.error?.message ?? '' });
      else if (m.type === 'result' && m.ok) finish({ outcome: 'success', message: 'ok' });
      else if (m.type === 'result') {
        const e = m.error ?? {};
        const bad = e.code === 'engine' || /internal error|unexpected failure/.test(e.message ?? '') || /\n/.test(e.message ?? '');
        finish({ outcome: bad ? 'wrong-kind' : 'clean-error', message: `${e.code}: ${firstLine(e.message ?? '')}` });
      }
    });
  });
}

/** Whether the server answers getState on a fresh connection within the time limit. */
async function answersGetState(host: string, timeMs: number, token?: string): Promise<boolean> {
  const v = await wsExchange(host, JSON.stringify({ id: 1, cmd: 'getState', args: {} }), timeMs, token);
  return v.outcome === 'success';
}

export class ServerRunner {
  private readonly servers = new Map<'plain' | 'token', Running>();

  private async server(which: 'plain' | 'token'): Promise<Running> {
    let s = this.servers.get(which);
    if (!s) {
      const home = mkdtempSync(path.join(os.tmpdir(), 'resona-fuzz-serve-'));
      // startServe leaves an exit hook on this process per server; a run that restarts many crashed servers adds many.
      process.setMaxListeners(Math.max(process.getMaxListeners(), 1000));
      const served = await startServe(home, which === 'token' ? ['--token', TOKEN] : []);
      s = { served, host: new URL(served.url).host, home };
      this.servers.set(which, s);
    }
    return s;
  }

  private async drop(which: 'plain' | 'token'): Promise<void> {
    const s = this.servers.get(which);
    if (!s) return;
    this.servers.delete(which);
    s.served.proc.kill('SIGKILL');
    rmSync(s.home, { recursive: true, force: true });
  }

  async run(c: ServerCase, limits: Limits): Promise<Verdict> {
    const which = c.kind !== 'ws' && c.raw.startsWith(TOKEN_PREFIX) ? 'token' : 'plain';
    const s = await this.server(which);
    const proc = s.served.proc;
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(proc.pid!))), 20);
    let verdict: Verdict;
    try {
      if (c.kind === 'ws') {
        verdict = await wsExchange(s.host, c.message, limits.timeMs);
      } else {
        const raw = c.raw.replace(TOKEN_PREFIX, '').replaceAll('{HOST}', s.host);
        const answer = await sendRaw(s.host, raw, limits.timeMs);
        verdict = httpVerdict(answer);
        if (c.kind === 'upgrade' && answer && /^HTTP\/1\.1 101/.test(answer)) verdict = { outcome: 'success', message: 'upgraded' };
      }
      // The server must survive: still running, within its memory, answering.
      await new Promise((r) => setTimeout(r, 30));
      peak = Math.max(peak, rssBytes(proc.pid!));
      if (proc.exitCode !== null || proc.signalCode !== null) {
        // The uncaught exception's own line says what killed it; the stack and Node's banner do not.
        const lines = s.served.log().trim().split('\n');
        const log = lines.find((l) => /^\w*(Error|Exception)\b/.test(l)) ?? lines.filter((l) => !/^\s+at /.test(l)).slice(-2).join(' | ');
        verdict = { outcome: 'crash', message: firstLine(`the server died (${proc.signalCode ?? `exit ${proc.exitCode}`}): ${log}`) };
      } else if (peak > limits.memoryBytes) {
        verdict = { outcome: 'memory', message: `the server's resident memory reached ${Math.round(peak / 2 ** 20)} MB` };
      } else if (!(await answersGetState(s.host, limits.timeMs, which === 'token' ? TOKEN : undefined))) {
        verdict = { outcome: 'hang', message: `the server no longer answers getState within ${limits.timeMs / 1000} s` };
      }
    } finally {
      clearInterval(sampler);
    }
    if (verdict.outcome === 'crash' || verdict.outcome === 'memory' || verdict.outcome === 'hang') await this.drop(which);
    return verdict;
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.keys()].map((k) => this.drop(k)));
  }
}
