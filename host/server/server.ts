// Server mode: the React UI (static files from the vite build) and the control API over one HTTP port,
// commands and events as JSON over a WebSocket at /ws.
import { promises as fs } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { isCommandName, type HostEvent, type Request, type ServerMessage } from '../../protocol/control.js';
import type { ControlApi } from '../control/control-api.js';
import {
  type AccessPolicy, checkBind, contentSecurityPolicy, hostAllowed, originAllowed, requestToken, TOKEN_COOKIE, tokenMatches,
} from './security.js';

export interface ServerOptions {
  host: string;
  port: number;
  token?: string;
  /** The vite build of renderer/ (index.html and assets/). */
  staticDir: string;
  api: ControlApi;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

/** Voice files are imported as base64 in one message; 200 MB covers the largest RVC exports with room. */
const MAX_MESSAGE = 280 * 1024 * 1024;

export class ResonaServer {
  private constructor(
    private readonly http: http.Server,
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {}

  static async start(o: ServerOptions): Promise<ResonaServer> {
    checkBind(o.host, o.token);
    const policy: AccessPolicy = { bindHost: o.host, port: o.port, ...(o.token ? { token: o.token } : {}) };
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE });
    const server = http.createServer((req, res) => {
      handleHttp(req, res, o, policy).catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`internal error: ${(e as Error).message}`);
      });
    });
    server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const token = requestToken(req, url);
      const refuse = (code: number, why: string) => {
        socket.write(`HTTP/1.1 ${code} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        socket.destroy();
      };
      if (url.pathname !== '/ws') return refuse(404, 'Not Found');
      if (!hostAllowed(policy, req.headers.host)) return refuse(403, 'Forbidden');
      if (!originAllowed(policy, req, token)) return refuse(403, 'Forbidden');
      if (policy.token && !tokenMatches(policy.token, token)) return refuse(401, 'Unauthorized');
      wss.handleUpgrade(req, socket, head, (ws) => serveClient(ws, o.api));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => resolve());
    });
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : o.port;
    policy.port = port;
    const shown = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host.includes(':') ? `[${o.host}]` : o.host;
    return new ResonaServer(server, wss, `http://${shown}:${port}/`);
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
    await new Promise<void>((r) => this.http.close(() => r()));
  }
}

function serveClient(ws: WebSocket, api: ControlApi): void {
  const send = (m: ServerMessage) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
  };
  // Telemetry is dropped for a client that is not keeping up rather than queued without bound.
  const off = api.onEvent((e: HostEvent) => {
    if (e.type === 'telemetry' && ws.bufferedAmount > 1 << 20) return;
    send(e);
  });
  ws.on('close', off);
  ws.on('message', (data) => {
    let req: Partial<Request>;
    try {
      req = JSON.parse(data.toString()) as Partial<Request>;
    } catch {
      return send({ type: 'error', error: { code: 'request', message: 'a message was not valid JSON' } });
    }
    const id = typeof req.id === 'number' ? req.id : -1;
    if (!isCommandName(req.cmd)) {
      return send({ type: 'result', id, ok: false, error: { code: 'request', message: `unknown command "${String(req.cmd)}"` } });
    }
    void api.call(req.cmd, (req.args ?? {}) as never).then((r) => send(r.ok ? { type: 'result', id, ok: true, result: r.result } : { type: 'result', id, ok: false, error: r.error }));
  });
  send({ type: 'state', state: api.state() });
}

async function handleHttp(req: IncomingMessage, res: ServerResponse, o: ServerOptions, policy: AccessPolicy): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const base = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' };
  if (!hostAllowed(policy, req.headers.host)) {
    res.writeHead(403, { ...base, 'content-type': 'text/plain' });
    return void res.end('forbidden: unexpected Host header (open the address resona serve printed)');
  }
  if (policy.token) {
    const given = requestToken(req, url);
    if (!tokenMatches(policy.token, given)) {
      res.writeHead(401, { ...base, 'content-type': 'text/plain' });
      return void res.end('unauthorized: open the address with ?token=<token> once (resona serve printed it)');
    }
    if (url.searchParams.has('token')) {
      // First visit: keep the token in a cookie the page's scripts cannot read, and drop it from the address bar.
      res.writeHead(303, { ...base, 'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(given!)}; HttpOnly; SameSite=Strict; Path=/`, location: url.pathname });
      return void res.end();
    }
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...base, allow: 'GET, HEAD' });
    return void res.end();
  }
  if (url.pathname.startsWith('/voice-preview/')) return servePreview(decodeURIComponent(url.pathname.slice(15)), res, o, base);
  const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname).replace(/^\/+/, '');
  const file = path.resolve(o.staticDir, rel);
  if (!file.startsWith(path.resolve(o.staticDir) + path.sep)) {
    res.writeHead(404, base);
    return void res.end();
  }
  const body = await fs.readFile(file).catch(() => null);
  if (!body) {
    res.writeHead(404, { ...base, 'content-type': 'text/plain' });
    return void res.end(rel === 'index.html' ? 'the UI is not built: run npm run build' : 'not found');
  }
  const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  res.writeHead(200, {
    ...base,
    'content-type': type,
    ...(type.startsWith('text/html') ? { 'content-security-policy': contentSecurityPolicy(req.headers.host!), 'x-frame-options': 'DENY' } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** A voice's preview image, by voice id (never a path from the client). */
async function servePreview(id: string, res: ServerResponse, o: ServerOptions, base: Record<string, string>): Promise<void> {
  const v = o.api.state().voices.find((x) => x.id === id);
  const file = v?.preview ?? null;
  const body = file ? await fs.readFile(file).catch(() => null) : null;
  if (!file || !body) {
    res.writeHead(404, base);
    return void res.end();
  }
  res.writeHead(200, { ...base, 'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream' });
  res.end(body);
}
