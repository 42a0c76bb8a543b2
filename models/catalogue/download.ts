// Downloads one model file so that an interrupted or bad transfer never leaves a file under its final name:
// bytes go to `<file>.part`, a later call resumes it with an HTTP Range request, the SHA-256 is computed while
// streaming, and only a verified file is renamed into place.
//
// Global fetch rather than node:http: one code path for http and https, AbortSignal and an injectable fetch for
// callers that need a proxy agent. Its quirks are handled here: redirects are followed by hand (to cap them at
// 5 and resend Range to the CDN), `Accept-Encoding: identity` keeps byte ranges about the file itself, and
// socket errors are dug out of `cause` to tell "offline" from "connection lost".
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { MARKER_SUFFIX, writeMarker } from './catalogue.js';
import { UserError } from '../../protocol/errors.js';

export interface DownloadTarget {
  url: string;
  file: string;
  size: number | null;
  sha256: string | null;
  /** Catalogue id, for messages. */
  id?: string;
}

export interface DownloadOptions {
  /** Bytes in the file so far (resumed bytes included) and the total, null while unknown. Never decreases. */
  onProgress?(done: number, total: number | null): void;
  signal?: AbortSignal;
  fetchImpl?: typeof fetch;
  /** Accept a target without a published SHA-256. */
  allowUnverified?: boolean;
  /** Give up when no byte arrives for this long; the .part is kept. Default 30 s. */
  idleTimeoutMs?: number;
  /** Default 5. */
  maxRedirects?: number;
}

export interface DownloadResult {
  path: string;
  size: number;
  sha256: string;
  /** False when the target had no published hash to compare with. */
  verified: boolean;
  /** Bytes reused from an earlier .part (0 for a fresh download). */
  resumedFrom: number;
}

export type DownloadErrorCode =
  | 'unverified' // no published hash and allowUnverified not given
  | 'offline' // the host could not be reached at all
  | 'network' // the connection broke mid-transfer
  | 'timeout'
  | 'aborted'
  | 'http' // an unexpected HTTP status
  | 'disk' // the folder or the part could not be written (permissions, a full disk)
  | 'redirects'
  | 'size-mismatch'
  | 'hash-mismatch';

export class DownloadError extends UserError {
  override name = 'DownloadError';
  constructor(
    readonly reason: DownloadErrorCode,
    message: string,
    readonly details: { expected?: string | number; actual?: string | number; status?: number; partKept?: boolean } = {},
  ) {
    super(message, 'model');
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Errors that mean the host was never reached: no network, no DNS, nothing listening. */
const OFFLINE_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT']);
/** Errors of a connection that was up and broke; undici's own codes (UND_ERR_*) count too. */
const NETWORK_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_SSL_WRONG_VERSION_NUMBER', 'CERT_HAS_EXPIRED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);

/** The first error code found in an error, its `cause` chain or an AggregateError's members. */
function errorCode(e: unknown, depth = 0): string | undefined {
  if (!e || typeof e !== 'object' || depth > 5) return undefined;
  const o = e as { code?: unknown; cause?: unknown; errors?: unknown };
  if (Array.isArray(o.errors)) {
    for (const x of o.errors) {
      const c = errorCode(x, depth + 1);
      if (c) return c;
    }
  }
  const inner = errorCode(o.cause, depth + 1);
  return inner ?? (typeof o.code === 'string' ? o.code : undefined);
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

async function hashInto(h: Hash, file: string): Promise<void> {
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
}

// Content-Range `bytes a-b/total`, or `bytes *` + `/total` on a 416, as its parts; null when absent or malformed.
function contentRange(res: Response): { start: number | null; total: number | null } | null {
  const m = /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/i.exec(res.headers.get('content-range')?.trim() ?? '');
  if (!m) return null;
  return { start: m[1] === undefined ? null : Number(m[1]), total: m[2] === '*' ? null : Number(m[2]) };
}

function contentLength(res: Response): number | null {
  const v = res.headers.get('content-length');
  return v !== null && /^\d+$/.test(v.trim()) ? Number(v) : null;
}

/**
 * Fetches `target.url` into `destDir/target.file`. An existing `<file>.part` is resumed (Range) when the server
 * agrees (206) and replaced when it answers with the whole file (200); a part the catalogue's size says is
 * complete is checked without the network. Transfer errors, timeouts and aborts keep the part for the next
 * call; a size or hash mismatch deletes it. Only a file whose hash matched (or, with allowUnverified, any
 * complete file) is renamed to its final name, and a verified one gets the marker findModel trusts.
 */
export async function downloadModel(target: DownloadTarget, destDir: string, o: DownloadOptions = {}): Promise<DownloadResult> {
  return new Download(target, destDir, o).run();
}

class Download {
  private readonly final: string;
  private readonly part: string;
  private readonly name: string;
  private readonly fetchImpl: typeof fetch;
  private readonly idleMs: number;
  private readonly ac = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private timedOut = false;
  /** The URL being fetched now (a redirect target, when there was one), for messages. */
  private currentUrl: string;
  private lastDone = -1;
  private lastTotal: number | null = null;

  constructor(
    private readonly t: DownloadTarget,
    private readonly destDir: string,
    private readonly o: DownloadOptions,
  ) {
    this.final = path.join(destDir, t.file);
    this.part = this.final + '.part';
    this.name = t.id ? `model "${t.id}" (${t.file})` : t.file;
    this.fetchImpl = o.fetchImpl ?? fetch;
    this.idleMs = o.idleTimeoutMs ?? 30_000;
    this.currentUrl = t.url;
  }

  async run(): Promise<DownloadResult> {
    if (this.t.sha256 === null && !this.o.allowUnverified) {
      const how = this.t.id ? ` ('resona models download ${this.t.id} --allow-unverified')` : '';
      throw new DownloadError(
        'unverified',
        `${this.name}: no SHA-256 is published for this file, so a download cannot be checked; ` +
          `pass allowUnverified${how} to fetch it anyway from ${this.t.url}`,
      );
    }
    const user = this.o.signal;
    if (user?.aborted) throw this.aborted();
    const onAbort = () => this.ac.abort(user!.reason);
    user?.addEventListener('abort', onAbort, { once: true });
    try {
      await mkdir(this.destDir, { recursive: true });
      return await this.attempts();
    } catch (e) {
      throw await this.explain(e);
    } finally {
      clearTimeout(this.timer);
      user?.removeEventListener('abort', onAbort);
    }
  }

  private async attempts(): Promise<DownloadResult> {
    let offset = await fileSize(this.part);
    const size = this.t.size;
    if (size !== null && offset > size) offset = await this.discardPart();
    if (size !== null && offset === size) {
      // A part that already has every byte needs no network: keep it if it hashes right.
      const h = createHash('sha256');
      await hashInto(h, this.part);
      const done = await this.finishIfGood(h, offset, offset, 'keep-on-mismatch');
      if (done) return done;
      offset = await this.discardPart();
    }
    // One restart from zero at most, for a part the server says is wrong (416, or a range it did not ask for).
    for (let restarted = false; ; restarted = true) {
      const r = await this.transfer(offset, restarted);
      if (r !== 'restart') return r;
      offset = await this.discardPart();
    }
  }

  /** One GET (with Range when resuming). 'restart' when the part must be thrown away and fetched again. */
  private async transfer(offset: number, restarted: boolean): Promise<DownloadResult | 'restart'> {
    // The part's bytes are hashed before asking, so that the idle timer never runs while we hash.
    const resumed = createHash('sha256');
    if (offset > 0) await hashInto(resumed, this.part);
    const res = await this.get(offset > 0 ? { Range: `bytes=${offset}-` } : {});
    const size = this.t.size;

    if (res.status === 416 && offset > 0) {
      // Nothing after our last byte: the part is complete if the server's total is its size, else it is bad.
      await cancel(res);
      const total = contentRange(res)?.total ?? null;
      if (total === offset && (size === null || size === offset)) {
        const done = await this.finishIfGood(resumed, offset, offset, 'keep-on-mismatch');
        if (done) return done;
      }
      if (restarted) throw this.httpError(res);
      return 'restart';
    }
    if (res.status !== 200 && res.status !== 206) {
      await cancel(res);
      throw this.httpError(res);
    }

    let start = 0;
    let total: number | null;
    if (res.status === 206) {
      const cr = contentRange(res);
      if (!cr || cr.start !== offset) {
        await cancel(res);
        if (restarted) throw new DownloadError('http', `${this.name}: the server answered a range request with another range (${res.headers.get('content-range')}) at ${this.currentUrl}`);
        return 'restart';
      }
      start = offset;
      total = cr.total;
    } else {
      // 200: the server ignored Range (or there was none), so the body is the whole file from byte 0.
      total = contentLength(res);
    }
    if (size !== null && total !== null && total !== size) {
      // Known before a byte is read: no point fetching hundreds of MB of the wrong file.
      await cancel(res);
      await this.discardPart();
      throw this.sizeMismatch(total);
    }
    const hash = start > 0 ? resumed : createHash('sha256');
    const written = await this.stream(res, start, total ?? size, hash);
    if (size !== null && written !== size) {
      await this.discardPart();
      throw this.sizeMismatch(written);
    }
    return (await this.finishIfGood(hash, written, start, 'discard-on-mismatch'))!;
  }

  /** GET following redirects by hand, with the idle timer armed while waiting for headers. */
  private async get(extra: Record<string, string>): Promise<Response> {
    const max = this.o.maxRedirects ?? 5;
    this.currentUrl = this.t.url;
    for (let hops = 0; ; hops++) {
      this.poke();
      const res = await this.fetchImpl(this.currentUrl, {
        headers: { 'Accept-Encoding': 'identity', 'User-Agent': 'resona-model-downloader', ...extra },
        redirect: 'manual',
        signal: this.ac.signal,
      });
      if (!REDIRECTS.has(res.status)) return res;
      await cancel(res);
      const loc = res.headers.get('location');
      if (!loc) throw this.httpError(res);
      if (hops >= max) throw new DownloadError('redirects', `${this.name}: more than ${max} redirects from ${this.t.url}`);
      this.currentUrl = new URL(loc, this.currentUrl).toString();
    }
  }

  /** Writes the body to the part from `start` (truncating it for a whole-file reply); returns the part's size. */
  private async stream(res: Response, start: number, total: number | null, hash: Hash): Promise<number> {
    const fh = await open(this.part, start > 0 ? 'a' : 'w');
    let done = start;
    try {
      this.report(done, total);
      const reader = res.body?.getReader();
      for (;;) {
        if (!reader) break;
        this.poke();
        const { done: end, value } = await reader.read();
        if (end) break;
        if (this.t.size !== null && done + value.byteLength > this.t.size) {
          await reader.cancel().catch(() => {});
          await fh.close();
          await this.discardPart();
          throw this.sizeMismatch(`more than ${this.t.size}`);
        }
        hash.update(value);
        await fh.write(value);
        done += value.byteLength;
        this.report(done, total);
      }
      clearTimeout(this.timer);
      await fh.sync();
    } finally {
      await fh.close().catch(() => {});
    }
    return done;
  }

  /**
   * Renames a part whose hash matches into place. On a mismatch, a part that was just downloaded is deleted
   * and reported; one found on disk before any transfer ('keep-on-mismatch') gives null so it is fetched again.
   */
  private async finishIfGood(hash: Hash, size: number, resumedFrom: number, onMismatch: 'keep-on-mismatch' | 'discard-on-mismatch'): Promise<DownloadResult | null> {
    const actual = hash.digest('hex');
    const expected = this.t.sha256;
    if (expected !== null && actual !== expected) {
      if (onMismatch === 'keep-on-mismatch') return null;
      await this.discardPart();
      throw new DownloadError(
        'hash-mismatch',
        `${this.name}: SHA-256 mismatch: expected ${expected}, got ${actual}; the download from ${this.t.url} was discarded`,
        { expected, actual },
      );
    }
    // Drop a marker that vouched for an older file before the new one takes its name.
    await rm(this.final + MARKER_SUFFIX, { force: true });
    await rename(this.part, this.final);
    if (expected !== null) await writeMarker(this.final, actual);
    this.report(size, size);
    return { path: this.final, size, sha256: actual, verified: expected !== null, resumedFrom };
  }

  private async discardPart(): Promise<0> {
    await rm(this.part, { force: true });
    return 0;
  }

  private poke(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.ac.abort(new Error('idle timeout'));
    }, this.idleMs);
  }

  /** Progress never goes backwards within a call, even when a restart from zero resets the part. */
  private report(done: number, total: number | null): void {
    if (done < this.lastDone || (done === this.lastDone && total === this.lastTotal)) return;
    this.lastDone = done;
    this.lastTotal = total;
    this.o.onProgress?.(done, total);
  }

  private manual(): string {
    const facts = this.t.sha256 === null ? 'no published size or SHA-256' : `${this.t.size?.toLocaleString('en-US') ?? '?'} bytes, SHA-256 ${this.t.sha256}`;
    return `to install it by hand, download ${this.t.url} (${facts}) and save it as ${this.t.file} in ${this.destDir}`;
  }

  private httpError(res: Response): DownloadError {
    return new DownloadError('http', `${this.name}: the server answered ${res.status} ${res.statusText} for ${this.currentUrl}; ${this.manual()}`, {
      status: res.status,
    });
  }

  private sizeMismatch(actual: number | string): DownloadError {
    return new DownloadError(
      'size-mismatch',
      `${this.name}: size mismatch: expected ${this.t.size} bytes, the server has ${actual}; the download from ${this.t.url} was discarded`,
      { expected: this.t.size ?? undefined, actual },
    );
  }

  private aborted(): DownloadError {
    return new DownloadError('aborted', `${this.name}: download cancelled; the partial file ${this.part} is kept and the next download resumes it`, {
      partKept: true,
    });
  }

  /** Turns whatever went wrong into a DownloadError that says what to do next. */
  private async explain(e: unknown): Promise<unknown> {
    if (e instanceof DownloadError) return e;
    if (this.o.signal?.aborted) return this.aborted();
    const have = await fileSize(this.part);
    const resume = have > 0 ? `; the ${have.toLocaleString('en-US')} bytes received are kept in ${this.part} and the next download resumes them` : '';
    const host = new URL(this.currentUrl).host;
    if (this.timedOut) {
      return new DownloadError('timeout', `${this.name}: no data from ${host} for ${this.idleMs / 1000} s${resume}`, { partKept: have > 0 });
    }
    // Node's file system errors carry the path they were about; network errors from fetch do not.
    const fsPath = (e as { path?: unknown }).path;
    if (typeof fsPath === 'string') {
      return new DownloadError('disk', `${this.name}: cannot write ${fsPath}: ${(e as Error).message}${resume}`, { partKept: have > 0 });
    }
    const code = errorCode(e);
    if (code && OFFLINE_CODES.has(code)) {
      return new DownloadError('offline', `cannot reach ${host} (${code}): are you offline? ${this.name} is needed; ${this.manual()}`, { partKept: have > 0 });
    }
    if (e instanceof TypeError || (code && (NETWORK_CODES.has(code) || code.startsWith('UND_ERR')))) {
      const cause = (e as Error).cause instanceof Error ? `: ${((e as Error).cause as Error).message}` : '';
      return new DownloadError('network', `${this.name}: the connection to ${host} failed (${(e as Error).message}${cause})${resume}`, { partKept: have > 0 });
    }
    return e;
  }
}

async function cancel(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => {});
}
