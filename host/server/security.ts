// Who may talk to the server. Bound to loopback, only this machine can connect, but any web page in the
// user's browser can still try: so the Host header must name the loopback server (defeats DNS rebinding) and a
// WebSocket's Origin must be the server's own. Bound anywhere else, a token is required as well.
import { timingSafeEqual } from 'node:crypto';
import { UserError } from '../../protocol/errors.js';

export class ServerConfigError extends UserError {
  override name = 'ServerConfigError';
  constructor(message: string) {
    super(message, 'usage');
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\./.test(host);
}

/** Refuses a non-loopback bind without a token, and a token too short to resist guessing. */
export function checkBind(host: string, token: string | undefined): void {
  if (!isLoopback(host) && !token) {
    throw new ServerConfigError(`binding ${host} exposes the voice changer to the network: give --token <secret> (or RESONA_TOKEN), or bind 127.0.0.1`);
  }
  if (token !== undefined && token.length < 16) throw new ServerConfigError('the token must be at least 16 characters');
}

export const TOKEN_COOKIE = 'resona_token';

export function tokenMatches(expected: string, given: string | undefined | null): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface AccessPolicy {
  bindHost: string;
  port: number;
  token?: string;
}

/** Host header check: with no token only loopback names are accepted (a rebinding page has its own name). */
export function hostAllowed(p: AccessPolicy, hostHeader: string | undefined): boolean {
  if (!hostHeader) return false;
  if (p.token) return true;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader);
  if (!m) return false;
  const name = m[1]!.replace(/^\[|\]$/g, '');
  return isLoopback(name) && Number(m[2] ?? 80) === p.port;
}

/**
 * A browser WebSocket must come from the page this server served. Without an Origin (not a browser), the
 * token is required: that is the only thing that tells a legitimate script from anything else.
 */
export function originAllowed(p: AccessPolicy, r: { origin: string | undefined; host: string | undefined; token: string | null }): boolean {
  if (!r.origin) return Boolean(p.token && tokenMatches(p.token, r.token));
  return r.origin === `http://${r.host}` && hostAllowed(p, r.host);
}

export function contentSecurityPolicy(host: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    `connect-src 'self' ws://${host}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}
