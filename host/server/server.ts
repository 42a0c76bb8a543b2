// Server mode: the React UI (static files from the vite build) and the control API over one HTTP port,
// commands and events as JSON over a WebSocket at /ws.
import { promises as fs } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { UserError } from '../../protocol/errors.js';
import type { ControlApi } from '../control/control-api.js';
import { logInternal } from '../control/errors.js';
import { readPreview } from './preview.js';
import { PREVIEW_URL_PREFIX } from '../preview/preview-files.js';
import { type ParsedRequest, parseRequest } from './request.js';
import { type AccessPolicy, checkBind, contentSecurityPolicy, hostAllowed, originAllowed, TOKEN_COOKIE, tokenMatches } from './security.js';
import { MAX_IMPORT_BYTES, serveClient } from './ws-client.js';

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

const BASE_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' };

export class ResonaServer {
  private constructor(
    private readonly http: http.Server,
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {}

  static async start(o: ServerOptions): Promise<ResonaServer> {
    checkBind(o.host, o.token);
    const policy: AccessPolicy = { bindHost: o.host, port: o.port, ...(o.token ? { token: o.token } : {}) };
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_IMPORT_BYTES });
    const server = http.createServer((req, res) => {
      handleHttp(req, res, o, policy).catch((e: unknown) => answerFailure(res, e));
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // A client that resets mid-handshake makes the socket emit an error nobody else listens for.
      socket.on('error', () => undefined);
      const refuse = (code: number, status: string, why = '') => {
        const body = Buffer.from(why);
        socket.once('finish', () => socket.destroy());
        socket.end(`HTTP/1.1 ${code} ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n${why}`);
      };
      try {
        const r = parseRequest(req);
        if (r.path !== '/ws') return refuse(404, 'Not Found');
        if (!hostAllowed(policy, r.host)) return refuse(403, 'Forbidden');
        if (!originAllowed(policy, r)) return refuse(403, 'Forbidden');
        if (policy.token && !tokenMatches(policy.token, r.token)) return refuse(401, 'Unauthorized');
        wss.handleUpgrade(req, socket, head, (ws) => serveClient(ws, o.api));
      } catch (e) {
        if (e instanceof UserError) return refuse(400, 'Bad Request', `bad request: ${e.message}`);
        logInternal(e);
        refuse(500, 'Internal Server Error', 'internal error (details are in the server log)');
      }
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

/** A request that failed: its own fault (400, with the reason) or ours (500, logged, no details sent). */
function answerFailure(res: ServerResponse, e: unknown): void {
  const user = e instanceof UserError;
  if (!user) logInternal(e);
  if (res.headersSent) return void res.destroy();
  res.writeHead(user ? 400 : 500, { ...BASE_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
  res.end(user ? `bad request: ${e.message}` : 'internal error (details are in the server log)');
}

async function handleHttp(req: IncomingMessage, res: ServerResponse, o: ServerOptions, policy: AccessPolicy): Promise<void> {
  const r = parseRequest(req);
  const base = BASE_HEADERS;
  if (!hostAllowed(policy, r.host)) {
    res.writeHead(403, { ...base, 'content-type': 'text/plain' });
    return void res.end('forbidden: unexpected Host header (open the address resona serve printed)');
  }
  if (policy.token) {
    if (!tokenMatches(policy.token, r.token)) {
      res.writeHead(401, { ...base, 'content-type': 'text/plain' });
      return void res.end('unauthorized: open the address with ?token=<token> once (resona serve printed it)');
    }
    if (r.query.has('token')) {
      // First visit: keep the token in a cookie the page's scripts cannot read, and drop it from the address bar.
      res.writeHead(303, { ...base, 'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(r.token!)}; HttpOnly; SameSite=Strict; Path=/`, location: r.rawPath });
      return void res.end();
    }
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...base, allow: 'GET, HEAD' });
    return void res.end();
  }
  if (r.path.startsWith('/voice-preview/')) return servePreview(r.path.slice('/voice-preview/'.length), res, o);
  if (r.path.startsWith(PREVIEW_URL_PREFIX)) return serveSample(r.path.slice(PREVIEW_URL_PREFIX.length), req, res, o);
  return serveStatic(r, req, res, o);
}

async function serveStatic(r: ParsedRequest, req: IncomingMessage, res: ServerResponse, o: ServerOptions): Promise<void> {
  const base = BASE_HEADERS;
  const rel = r.path === '/' ? 'index.html' : r.path.replace(/^\/+/, '');
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
    ...(type.startsWith('text/html') ? { 'content-security-policy': contentSecurityPolicy(r.host!), 'x-frame-options': 'DENY' } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** A voice's preview image, by voice id (never a path from the client). */
async function servePreview(id: string, res: ServerResponse, o: ServerOptions): Promise<void> {
  const v = o.api.state().voices.find((x) => x.id === id);
  const image = v?.preview && v.path ? await readPreview(v.path, v.preview) : null;
  if (!image) {
    res.writeHead(404, BASE_HEADERS);
    return void res.end();
  }
  res.writeHead(200, { ...BASE_HEADERS, 'content-type': image.type });
  res.end(image.body);
}

/**
 * A voice's audio preview, by its cache key only: rendering happens through the renderPreview command (over
 * the WebSocket, with its rate limit); this route only hands out a file already rendered, so a flood of GETs
 * costs file reads, never renders.
 */
async function serveSample(name: string, req: IncomingMessage, res: ServerResponse, o: ServerOptions): Promise<void> {
  const body = await o.api.previewAudio(name);
  if (!body) {
    res.writeHead(404, BASE_HEADERS);
    return void res.end();
  }
  // The name is a hash of what shaped the audio: the same URL always holds the same bytes.
  res.writeHead(200, { ...BASE_HEADERS, 'content-type': 'audio/wav', 'content-length': body.length, 'cache-control': 'private, max-age=86400, immutable' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
