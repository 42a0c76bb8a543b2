// `resona models` called as a function, with RESONA_HOME in a temp folder and a catalogue whose URLs point at
// a local server (the command's second parameter; the command line has no such override).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { modelsCommand, type ModelsCommandIO } from '../../cli/models-command.js';
import { CATALOGUE, type CatalogueEntry } from '../../host/models.js';
import { tempDir } from '../helpers.js';

const DATA = randomBytes(2_500_000);
const SHA = createHash('sha256').update(DATA).digest('hex');

let server: http.Server;
let base = '';
let home = '';
let cleanup = () => {};
let catalogue: CatalogueEntry[] = [];

class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

async function resona(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return resonaWith({ catalogue, userSupplied: [] }, ...argv);
}

/** The command with the real catalogue and networks where `io` leaves them out. */
async function resonaWith(io: Omit<ModelsCommandIO, 'env' | 'stdout' | 'stderr'>, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await modelsCommand(argv, { ...io, env: { RESONA_HOME: home }, stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const models = () => path.join(home, 'models');

before(async () => {
  ({ dir: home, cleanup } = tempDir());
  server = http.createServer((req, res) => {
    if (req.url?.startsWith('/file')) {
      res.writeHead(200, { 'content-length': DATA.length });
      res.end(DATA);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const rmvpe = CATALOGUE.find((e) => e.id === 'rmvpe')!;
  catalogue = [
    { ...rmvpe, id: 'tiny', file: 'tiny.onnx', url: `${base}/file/tiny.onnx`, size: DATA.length, sha256: SHA },
    { ...rmvpe, id: 'loose', file: 'loose.onnx', url: `${base}/file/loose.onnx`, size: null, sha256: null },
    { ...rmvpe, id: 'gone', file: 'gone.onnx', url: `${base}/missing/gone.onnx`, size: 10, sha256: 'a'.repeat(64) },
  ];
});

after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  cleanup();
});

describe('resona models', () => {
  test('path prints $RESONA_HOME/models', async () => {
    const r = await resona('path');
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${models()}\n`);
  });

  test('the default listing shows every entry as missing, with its path', async () => {
    const r = await resona();
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], `models folder: ${models()}`);
    assert.equal(lines.length, 1 + catalogue.length);
    for (const e of catalogue) assert.match(r.stdout, new RegExp(`^${e.id} +f0 +missing .*${path.join(models(), e.file)}`, 'm'));
  });

  test('download fetches, verifies and reports; the listing then says present; a second download is a no-op', async () => {
    const r = await resona('download', 'tiny');
    assert.equal(r.code, 0, r.stderr);
    const file = path.join(models(), 'tiny.onnx');
    assert.match(r.stdout, new RegExp(`tiny: saved ${file} \\(2\\.5 MB, SHA-256 verified\\)`));
    assert.match(r.stderr, /tiny\.onnx: 0% /);
    assert.match(r.stderr, /tiny\.onnx: 100% \(2\.5 MB of 2\.5 MB\)\n$/);
    assert.deepEqual(readFileSync(file), DATA);
    assert.match((await resona('list')).stdout, /^tiny +f0 +present /m);
    const again = await resona('download', 'tiny');
    assert.equal(again.code, 0);
    assert.match(again.stdout, /already present and verified/);
  });

  test('a file put there by hand is listed unverified, and download checks it instead of fetching', async () => {
    const file = path.join(models(), 'tiny.onnx');
    writeFileSync(file, DATA); // rewritten: new mtime, so the marker no longer vouches for it
    assert.match((await resona()).stdout, /^tiny +f0 +unverified .*SHA-256 not checked yet/m);
    const r = await resona('download', 'tiny');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /checking the SHA-256/);
    assert.match(r.stdout, /already present and verified/);
  });

  test('an entry without a published hash needs --allow-unverified', async () => {
    const refused = await resona('download', 'loose');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^resona: error: .*--allow-unverified.*\n$/);
    assert.equal(refused.stderr.split('\n').length, 2, 'one line');
    const r = await resona('download', 'loose', '--allow-unverified');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`SHA-256 ${SHA}, not verified: none is published; pinned`));
    // Pinned: listed as present with the hash of what arrived and its size on disk.
    assert.match((await resona()).stdout, new RegExp(`^loose +f0 +present +2\\.5 MB .*no published SHA-256; pinned at download: ${SHA}`, 'm'));
    // A file that changes after the download is no longer the pinned one, and the listing says so.
    const file = path.join(models(), 'loose.onnx');
    writeFileSync(file, Buffer.concat([DATA, Buffer.from('x')]));
    assert.match((await resona()).stdout, /^loose +f0 +changed .*differs from the download whose SHA-256 was pinned/m);
    rmSync(file);
  });

  test('refusing an unpublished hash explains in words what it means and the command that proceeds', { timeout: 10_000 }, async () => {
    const r = await resona('download', 'loose');
    assert.equal(r.code, 1);
    assert.equal(r.stderr.split('\n').length, 2, 'one line');
    assert.match(r.stderr, /nobody publishes a SHA-256 for loose \(loose\.onnx\), so Resona cannot check that the download is the intended file/);
    assert.match(r.stderr, /run 'resona models download loose --allow-unverified': Resona then prints the SHA-256 of what it got and pins it/);
    assert.doesNotMatch(r.stderr, /allowUnverified/, 'no API option names in a user message');
  });

  test('the real listing shows every network the product can use, with sizes in words where none is published', { timeout: 10_000 }, async () => {
    const r = await resonaWith({});
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /\? MB/);
    for (const e of CATALOGUE) assert.match(r.stdout, new RegExp(`^${e.id} `, 'm'));
    assert.match(r.stdout, /^contentvec-768-l12 +content-encoder +missing +unpublished /m);
    assert.match(r.stdout, /^rmvpe +f0 +missing +361\.7 MB /m);
    assert.match(r.stdout, /^pitch networks you supply yourself/m);
    assert.match(r.stdout, new RegExp(`^swiftf0 +f0 +missing +${path.join(models(), 'swiftf0.onnx').replace(/[.\\]/g, '\\$&')}`, 'm'));
    assert.match(r.stdout, new RegExp(`^crepe +f0 +missing +${path.join(models(), 'crepe_tiny.onnx').replace(/[.\\]/g, '\\$&')}`, 'm'));
    mkdirSync(models(), { recursive: true });
    writeFileSync(path.join(models(), 'swiftf0.onnx'), DATA);
    assert.match((await resonaWith({})).stdout, /^swiftf0 +f0 +present +2\.5 MB /m);
    rmSync(path.join(models(), 'swiftf0.onnx'));
  });

  test('errors are one line: unknown id, no id, unknown subcommand, HTTP failure, offline', async () => {
    const unknown = await resona('download', 'nope');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^resona: error: unknown model "nope": choose one of tiny, loose, gone\n$/);
    assert.equal((await resona('download')).code, 2);
    const bad = await resona('frobnicate');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^resona: error: unknown models command "frobnicate"/);
    const gone = await resona('download', 'gone');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^resona: error: .*404.*\n$/);

    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const saved = catalogue;
    catalogue = [{ ...saved[0]!, id: 'far', file: 'far.onnx', url: `http://127.0.0.1:${port}/far.onnx` }];
    try {
      const off = await resona('download', 'far');
      assert.equal(off.code, 1);
      assert.match(off.stderr, /^resona: error: cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\).*\n$/);
      assert.ok(off.stderr.includes(`http://127.0.0.1:${port}/far.onnx`) && off.stderr.includes(models()), off.stderr);
      assert.equal(existsSync(path.join(models(), 'far.onnx')), false);
    } finally {
      catalogue = saved;
    }
  });

  test('a partial download shows in the listing with the command that resumes it', async () => {
    mkdirSync(models(), { recursive: true });
    const saved = catalogue;
    catalogue = [{ ...saved[0]!, id: 'half', file: 'half.onnx' }];
    try {
      writeFileSync(path.join(models(), 'half.onnx.part'), DATA.subarray(0, 1_000_000));
      assert.match((await resona()).stdout, /^half +f0 +missing .*partial download of 1\.0 MB: 'resona models download half' resumes it/m);
    } finally {
      catalogue = saved;
    }
  });

  test('--help prints the usage', async () => {
    const r = await resona('--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^usage: resona models/);
  });
});
