// The downloader against a real HTTP server on 127.0.0.1: resume, servers that ignore Range, redirects,
// bad files, dead hosts, stalls and cancellation. Every case checks what is left on disk, since the promise
// is that a final name only ever holds a verified file.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { downloadModel, DownloadError, type DownloadTarget } from '../../../models/catalogue/download.js';
import { MARKER_SUFFIX } from '../../../models/catalogue/catalogue.js';
import { tempDir } from '../../helpers.js';

const DATA = randomBytes(3 * 1024 * 1024 + 12345);
const SHA = createHash('sha256').update(DATA).digest('hex');
const HALF = Math.floor(DATA.length / 2);

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
let handler: Handler = () => {};
let requests: { url: string; range: string | undefined }[] = [];
let server: http.Server;
let base = '';
let dir = '';
let cleanup = () => {};
let n = 0;

/** A fresh destination folder per test, so no .part leaks from one case into the next. */
function dest(): string {
  const d = path.join(dir, `case-${++n}`);
  mkdirSync(d, { recursive: true });
  return d;
}

function target(over: Partial<DownloadTarget> = {}): DownloadTarget {
  return { url: `${base}/file`, file: 'model.onnx', size: DATA.length, sha256: SHA, id: 'test-model', ...over };
}

/** Serves DATA honouring `Range: bytes=N-` (206, or 416 past the end) unless told to ignore it. */
function serve(req: http.IncomingMessage, res: http.ServerResponse, o: { ignoreRange?: boolean; body?: Buffer } = {}): void {
  const body = o.body ?? DATA;
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (!m || o.ignoreRange) {
    res.writeHead(200, { 'content-length': body.length });
    res.end(body);
    return;
  }
  const start = Number(m[1]);
  if (start >= body.length) {
    res.writeHead(416, { 'content-range': `bytes */${body.length}` });
    res.end();
    return;
  }
  res.writeHead(206, { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'content-length': body.length - start });
  res.end(body.subarray(start));
}

/** Sends the first half of the file under a full Content-Length, then cuts the connection. */
function halfThenDie(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-length': DATA.length });
  res.write(DATA.subarray(0, HALF), () => setTimeout(() => res.socket?.destroy(), 50));
}

function hashOf(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

async function rejectsWith(p: Promise<unknown>, code: DownloadError['reason']): Promise<DownloadError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof DownloadError, `expected a DownloadError, got ${String(e)}`);
    assert.equal(e.reason, code, e.message);
    return e;
  }
  assert.fail(`expected a DownloadError (${code}), but the download succeeded`);
}

before(async () => {
  ({ dir, cleanup } = tempDir());
  server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', range: req.headers.range });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  cleanup();
});

beforeEach(() => {
  requests = [];
  handler = (req, res) => serve(req, res);
});

describe('downloadModel', () => {
  test('downloads the whole file with monotonic progress that ends at the total, and marks it verified', async () => {
    const d = dest();
    const seen: [number, number | null][] = [];
    const r = await downloadModel(target(), d, { onProgress: (done, total) => seen.push([done, total]) });
    assert.equal(r.path, path.join(d, 'model.onnx'));
    assert.equal(r.sha256, SHA);
    assert.equal(r.verified, true);
    assert.equal(r.resumedFrom, 0);
    assert.equal(hashOf(r.path), SHA);
    assert.equal(existsSync(r.path + '.part'), false);
    assert.ok(seen.length > 2, `only ${seen.length} progress calls`);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]![0] >= seen[i - 1]![0], `progress went back at call ${i}`);
    assert.deepEqual(seen.at(-1), [DATA.length, DATA.length]);
    assert.ok(seen.every(([, t]) => t === DATA.length));
    const marker = JSON.parse(readFileSync(r.path + MARKER_SUFFIX, 'utf8'));
    assert.equal(marker.sha256, SHA);
    assert.equal(marker.size, DATA.length);
  });

  test('resumes a cut transfer with a Range request and ends with the right file', async () => {
    const d = dest();
    handler = (_req, res) => halfThenDie(res);
    const cut = await rejectsWith(downloadModel(target(), d), 'network');
    const part = path.join(d, 'model.onnx.part');
    const have = statSync(part).size;
    assert.ok(have > 0 && have <= HALF, `part has ${have} bytes`);
    assert.match(cut.message, /kept in .*model\.onnx\.part.*resumes/);
    assert.equal(existsSync(path.join(d, 'model.onnx')), false);

    handler = (req, res) => serve(req, res);
    requests = [];
    const seen: number[] = [];
    const r = await downloadModel(target(), d, { onProgress: (done) => seen.push(done) });
    assert.equal(requests.length, 1);
    assert.equal(requests[0]!.range, `bytes=${have}-`);
    assert.equal(r.resumedFrom, have);
    assert.equal(seen[0], have, 'progress starts at the resumed offset');
    assert.equal(hashOf(r.path), SHA);
    assert.equal(existsSync(part), false);
  });

  test('a server that ignores Range (200) restarts from zero and still gives the right file', async () => {
    const d = dest();
    writeFileSync(path.join(d, 'model.onnx.part'), DATA.subarray(0, 1000));
    handler = (req, res) => serve(req, res, { ignoreRange: true });
    const seen: number[] = [];
    const r = await downloadModel(target(), d, { onProgress: (done) => seen.push(done) });
    assert.equal(requests[0]!.range, 'bytes=1000-');
    assert.equal(r.resumedFrom, 0);
    assert.equal(seen[0], 0);
    assert.equal(hashOf(r.path), SHA);
    assert.equal(statSync(r.path).size, DATA.length);
  });

  test('a stale part with other bytes is caught by the hash after resuming, and removed', async () => {
    const d = dest();
    writeFileSync(path.join(d, 'model.onnx.part'), randomBytes(1000));
    const e = await rejectsWith(downloadModel(target(), d), 'hash-mismatch');
    assert.equal(e.details.expected, SHA);
    assert.equal(existsSync(path.join(d, 'model.onnx.part')), false);
    assert.equal(existsSync(path.join(d, 'model.onnx')), false);
    // …and the next attempt starts clean.
    assert.equal(hashOf((await downloadModel(target(), d)).path), SHA);
  });

  test('a complete part is finished without the network', async () => {
    const d = dest();
    writeFileSync(path.join(d, 'model.onnx.part'), DATA);
    const r = await downloadModel(target(), d);
    assert.equal(requests.length, 0);
    assert.equal(hashOf(r.path), SHA);
  });

  test('416 for a part that is already complete: checked and kept (size unknown to the catalogue)', async () => {
    const d = dest();
    writeFileSync(path.join(d, 'model.onnx.part'), DATA);
    const r = await downloadModel(target({ size: null }), d);
    assert.deepEqual(
      requests.map((q) => q.range),
      [`bytes=${DATA.length}-`],
    );
    assert.equal(hashOf(r.path), SHA);
  });

  test('416 for a part longer than the file: thrown away and fetched again', async () => {
    const d = dest();
    writeFileSync(path.join(d, 'model.onnx.part'), Buffer.concat([DATA, Buffer.alloc(10)]));
    const r = await downloadModel(target({ size: null }), d);
    assert.deepEqual(
      requests.map((q) => q.range),
      [`bytes=${DATA.length + 10}-`, undefined],
    );
    assert.equal(hashOf(r.path), SHA);
  });

  test('follows a chain of redirects (relative and absolute), keeping Range on every hop', async () => {
    const d = dest();
    writeFileSync(path.join(d, 'model.onnx.part'), DATA.subarray(0, 5000));
    handler = (req, res) => {
      const m = /^\/r\/(\d+)$/.exec(req.url ?? '');
      if (!m) return serve(req, res);
      const left = Number(m[1]);
      const next = left > 1 ? `/r/${left - 1}` : '/file';
      const codes = [301, 302, 303, 307, 308];
      res.writeHead(codes[left % codes.length]!, { location: left % 2 ? `${base}${next}` : next });
      res.end('moved');
    };
    const r = await downloadModel(target({ url: `${base}/r/5` }), d);
    assert.equal(hashOf(r.path), SHA);
    assert.deepEqual(
      requests.map((q) => q.url),
      ['/r/5', '/r/4', '/r/3', '/r/2', '/r/1', '/file'],
    );
    assert.ok(requests.every((q) => q.range === 'bytes=5000-'));
    requests = [];
    await rejectsWith(downloadModel(target({ url: `${base}/r/6` }), dest()), 'redirects');
    assert.equal(requests.length, 6);
  });

  test('hash mismatch: DownloadError with both hashes, no final file, no part', async () => {
    const d = dest();
    const wrong = 'ab'.repeat(32);
    const e = await rejectsWith(downloadModel(target({ sha256: wrong }), d), 'hash-mismatch');
    assert.match(e.message, new RegExp(`expected ${wrong}, got ${SHA}`));
    assert.equal(e.details.actual, SHA);
    assert.equal(existsSync(path.join(d, 'model.onnx')), false);
    assert.equal(existsSync(path.join(d, 'model.onnx.part')), false);
    assert.equal(existsSync(path.join(d, 'model.onnx' + MARKER_SUFFIX)), false);
  });

  test('size mismatch, announced by Content-Length: refused before the body, nothing left', async () => {
    const d = dest();
    const e = await rejectsWith(downloadModel(target({ size: DATA.length + 100 }), d), 'size-mismatch');
    assert.match(e.message, new RegExp(`expected ${DATA.length + 100} bytes, the server has ${DATA.length}`));
    assert.deepEqual(readdir(d), []);
  });

  test('size mismatch without Content-Length (chunked): found after the body, nothing left', async () => {
    const d = dest();
    handler = (_req, res) => {
      res.writeHead(200); // no length: chunked
      res.end(DATA);
    };
    await rejectsWith(downloadModel(target({ size: DATA.length - 1 }), d), 'size-mismatch');
    await rejectsWith(downloadModel(target({ size: DATA.length + 1 }), d), 'size-mismatch');
    assert.deepEqual(readdir(d), []);
  });

  test('connection refused: one offline message naming the URL, the file and the folder', async () => {
    const d = dest();
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const url = `http://127.0.0.1:${port}/lj1995/rmvpe.onnx`;
    const e = await rejectsWith(downloadModel(target({ url }), d), 'offline');
    assert.match(e.message, /cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    assert.ok(e.message.includes(url), e.message);
    assert.ok(e.message.includes(d), e.message);
    assert.ok(e.message.includes('model.onnx') && e.message.includes(SHA), e.message);
    assert.equal(e.message.includes('\n'), false);
    assert.deepEqual(readdir(d), []);
  });

  test('an HTTP error status is reported with the status and leaves no file', async () => {
    const d = dest();
    handler = (_req, res) => {
      res.writeHead(404);
      res.end('no');
    };
    const e = await rejectsWith(downloadModel(target(), d), 'http');
    assert.equal(e.details.status, 404);
    assert.match(e.message, /404/);
    assert.deepEqual(readdir(d), []);
  });

  test('a folder that cannot be written is a disk error, not a network one', async () => {
    const blocker = path.join(dest(), 'not-a-folder');
    writeFileSync(blocker, '');
    const e = await rejectsWith(downloadModel(target(), path.join(blocker, 'models')), 'disk');
    assert.match(e.message, /cannot write .*not-a-folder/);
    assert.equal(requests.length, 0);
  });

  test('abort through an AbortSignal keeps the part, and a later call resumes it', async () => {
    const d = dest();
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': DATA.length });
      res.write(DATA.subarray(0, HALF)); // …and then nothing: the client has to give up
    };
    const ac = new AbortController();
    const p = downloadModel(target(), d, { signal: ac.signal, onProgress: (done) => done > 0 && ac.abort() });
    const e = await rejectsWith(p, 'aborted');
    const part = path.join(d, 'model.onnx.part');
    assert.ok(statSync(part).size > 0);
    assert.match(e.message, /cancelled.*kept/);
    assert.equal(existsSync(path.join(d, 'model.onnx')), false);
    server.closeAllConnections();

    handler = (req, res) => serve(req, res);
    requests = [];
    const r = await downloadModel(target(), d);
    assert.equal(requests[0]!.range, `bytes=${r.resumedFrom}-`);
    assert.ok(r.resumedFrom > 0);
    assert.equal(hashOf(r.path), SHA);
  });

  test('a stall longer than the idle timeout is an error that keeps the part', async () => {
    const d = dest();
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': DATA.length });
      res.write(DATA.subarray(0, HALF));
    };
    const e = await rejectsWith(downloadModel(target(), d, { idleTimeoutMs: 300 }), 'timeout');
    assert.match(e.message, /no data from 127\.0\.0\.1:\d+ for 0\.3 s/);
    assert.ok(statSync(path.join(d, 'model.onnx.part')).size > 0);
    server.closeAllConnections();
  });

  test('an entry without a published hash is refused unless allowUnverified, then fetched unverified', async () => {
    const d = dest();
    const e = await rejectsWith(downloadModel(target({ sha256: null, size: null }), d), 'unverified');
    assert.match(e.message, /allowUnverified/);
    assert.match(e.message, /--allow-unverified/);
    assert.equal(requests.length, 0);
    const r = await downloadModel(target({ sha256: null, size: null }), d, { allowUnverified: true });
    assert.equal(r.verified, false);
    assert.equal(r.sha256, SHA);
    assert.equal(existsSync(r.path + MARKER_SUFFIX), false);
  });

  test('replacing a file drops the marker that vouched for the old one', async () => {
    const d = dest();
    writeFileSync(path.join(d, 'model.onnx'), 'old');
    writeFileSync(path.join(d, 'model.onnx' + MARKER_SUFFIX), '{"sha256":"x"}');
    const r = await downloadModel(target({ sha256: null }), d, { allowUnverified: true });
    assert.equal(hashOf(r.path), SHA);
    assert.equal(existsSync(r.path + MARKER_SUFFIX), false);
  });
});

function readdir(d: string): string[] {
  return existsSync(d) ? readdirSync(d) : [];
}
