// A request's address and credentials, parsed once and checked before anything else looks at them: the
// access checks and the routes see only these values. Whatever cannot be parsed (a malformed %-escape, an
// address that is no path) is a RequestError with a short reason, answered 400; nothing here can throw
// anything else, so a hostile request line never reaches the process's error handler.
import type { IncomingMessage } from 'node:http';
import { RequestError } from '../control/errors.js';
import { TOKEN_COOKIE } from './security.js';

export interface ParsedRequest {
  /** The path, %-decoded. */
  path: string;
  /** The path as sent (still %-encoded), with one leading slash: safe to send back as a same-site Location. */
  rawPath: string;
  query: URLSearchParams;
  /** The token the request carries: Authorization: Bearer, the cookie set on the first visit, or ?token=. */
  token: string | null;
  host: string | undefined;
  origin: string | undefined;
}

function decode(s: string, what: string): string {
  let out: string;
  try {
    out = decodeURIComponent(s);
  } catch {
    throw new RequestError(`${what} has a malformed %-escape`);
  }
  if (out.includes('\0')) throw new RequestError(`${what} holds a NUL character`);
  return out;
}

export function parseRequest(req: IncomingMessage): ParsedRequest {
  const target = req.url ?? '';
  // Origin-form only ("/path?query"): "//host" or an absolute URL would be read as naming another server.
  if (!target.startsWith('/') || target.startsWith('//')) throw new RequestError('the address must be a path starting with one /');
  let url: URL;
  try {
    url = new URL(`http://resona${target}`);
  } catch {
    throw new RequestError('the address is not a valid URL path');
  }
  const path = decode(url.pathname, 'the address');
  let token: string | null = null;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) token = auth.slice(7);
  if (token === null) {
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0 || part.slice(0, eq).trim() !== TOKEN_COOKIE) continue;
      token = decode(part.slice(eq + 1).trim(), 'the token cookie');
      break;
    }
  }
  token ??= url.searchParams.get('token');
  const origin = req.headers.origin;
  return { path, rawPath: `/${url.pathname.replace(/^\/+/, '')}`, query: url.searchParams, token, host: req.headers.host, origin: typeof origin === 'string' ? origin : undefined };
}
