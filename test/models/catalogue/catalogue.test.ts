// The catalogue's entries, the models folder on each platform, and finding a model: present, wrong size,
// verified by hash (with the marker that saves hashing again), and the message when it is missing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  CATALOGUE,
  catalogueEntry,
  findModel,
  MARKER_SUFFIX,
  ModelMissingError,
  modelsDir,
  modelStatus,
  requireModel,
  UnknownModelError,
  type CatalogueEntry,
} from '../../../models/catalogue/catalogue.js';
import { sharedPath, tempDir } from '../../helpers.js';

describe('catalogue entries', () => {
  test('every entry is well-formed', () => {
    assert.ok(CATALOGUE.length >= 4);
    assert.equal(new Set(CATALOGUE.map((e) => e.id)).size, CATALOGUE.length, 'ids are unique');
    assert.equal(new Set(CATALOGUE.map((e) => e.file)).size, CATALOGUE.length, 'files are unique');
    for (const e of CATALOGUE) {
      const at = `entry ${e.id}`;
      assert.match(e.id, /^[a-z0-9][a-z0-9-]*$/, at);
      assert.ok(['content-encoder', 'f0'].includes(e.kind), at);
      assert.ok(e.description.length > 10, at);
      assert.match(e.file, /^[\w.-]+\.(onnx|pt)$/, at);
      assert.equal(e.format, e.file.endsWith('.pt') ? 'torch' : 'onnx', at);
      const url = new URL(e.url);
      assert.equal(url.protocol, 'https:', at);
      assert.ok(url.pathname.endsWith(`/${e.file}`), `${at}: the URL names the file`);
      assert.ok(e.sha256 === null || /^[0-9a-f]{64}$/.test(e.sha256), `${at}: sha256 is 64 lowercase hex or null`);
      assert.ok(e.size === null || (Number.isSafeInteger(e.size) && e.size > 0), `${at}: size is positive or null`);
      assert.equal(e.size === null, e.sha256 === null, `${at}: size and hash are published together`);
      if (e.kind === 'content-encoder') {
        const c = e.encoder;
        assert.deepEqual([c.sampleRate, c.hop, c.receptiveField], [16000, 320, 400], at);
        assert.ok(c.features.length > 0, at);
        for (const f of c.features) assert.equal(f.dims, f.layer === 9 ? 256 : 768, `${at}: RVC's layer 9 is 256-d, layer 12 768-d`);
        if (c.style === 'vec') assert.equal(c.features.length, 1, at);
        if (c.style === 'units') {
          assert.equal(c.input, 'audio', at);
          assert.ok(c.features.every((f) => f.output), `${at}: every units stream is named`);
        }
        assert.equal(c.style === 'fairseq', e.format === 'torch', at);
      } else {
        const c = e.f0;
        assert.equal(c.form, 'mel-salience', at);
        assert.equal(c.bins, 360, at);
        // Bin 0 is C1-ish (≈ 31.7 Hz); the top bin is near 2 kHz, as CREPE's grid.
        const hz = (k: number) => 10 * 2 ** ((c.centsAtBin0 + c.centsPerBin * k) / 1200);
        assert.ok(Math.abs(hz(0) - 31.7) < 0.1 && Math.abs(hz(359) - 2005.5) < 1, at);
      }
    }
  });

  test("published sizes and hashes are the ones in ../shared/models/README.md, with RVC's URLs", () => {
    const readme = readFileSync(sharedPath('models', 'README.md'), 'utf8');
    let checked = 0;
    for (const m of readme.matchAll(/^- ([\w./-]+?)[: ].*?([\d,]+) B, sha256 ([0-9a-f]{64})/gm)) {
      const [, file, size, sha] = m;
      const entry = CATALOGUE.find((e) => e.file === path.basename(file!));
      if (!entry) continue; // e.g. f0G40k.pth, a training asset, not a shared inference network
      assert.equal(entry.size, Number(size!.replaceAll(',', '')), file);
      assert.equal(entry.sha256, sha, file);
      assert.equal(entry.url, `https://huggingface.co/lj1995/VoiceConversionWebUI/resolve/main/${entry.file}`);
      checked++;
    }
    assert.equal(checked, 3, 'hubert_base.pt, rmvpe.pt and rmvpe.onnx');
  });

  test('unknown ids are refused with the list of known ones', () => {
    assert.throws(() => catalogueEntry('nope'), (e: unknown) => e instanceof UnknownModelError && /rmvpe/.test(e.message));
  });
});

describe('modelsDir', () => {
  const home = '/home/ann';
  test('honours RESONA_HOME on every platform', () => {
    assert.equal(modelsDir({ RESONA_HOME: '/srv/resona' }, 'linux', home), '/srv/resona/models');
    assert.equal(modelsDir({ RESONA_HOME: '/srv/resona', XDG_DATA_HOME: '/x' }, 'darwin', home), '/srv/resona/models');
    assert.equal(modelsDir({ RESONA_HOME: 'D:\\Resona', APPDATA: 'C:\\A' }, 'win32', 'C:\\Users\\ann'), 'D:\\Resona\\models');
  });
  test('Linux: $XDG_DATA_HOME/resona, else ~/.local/share/resona; a relative XDG_DATA_HOME is ignored', () => {
    assert.equal(modelsDir({ XDG_DATA_HOME: '/data' }, 'linux', home), '/data/resona/models');
    assert.equal(modelsDir({}, 'linux', home), '/home/ann/.local/share/resona/models');
    assert.equal(modelsDir({ XDG_DATA_HOME: 'rel' }, 'linux', home), '/home/ann/.local/share/resona/models');
    assert.equal(modelsDir({ RESONA_HOME: '' }, 'linux', home), '/home/ann/.local/share/resona/models');
  });
  test('Windows: %APPDATA%\\Resona; macOS: ~/Library/Application Support/Resona', () => {
    assert.equal(modelsDir({ APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' }, 'win32', 'C:\\Users\\ann'), 'C:\\Users\\ann\\AppData\\Roaming\\Resona\\models');
    assert.equal(modelsDir({}, 'darwin', '/Users/ann'), '/Users/ann/Library/Application Support/Resona/models');
  });
  test('defaults to the process environment', () => {
    const saved = process.env.RESONA_HOME;
    process.env.RESONA_HOME = '/tmp/resona-home-test';
    try {
      assert.equal(modelsDir(), path.join('/tmp/resona-home-test', 'models'));
    } finally {
      if (saved === undefined) delete process.env.RESONA_HOME;
      else process.env.RESONA_HOME = saved;
    }
  });
});

describe('findModel and requireModel', () => {
  let dir = '';
  let cleanup = () => {};
  const content = Buffer.from('not really a network, but exactly these bytes');
  // A real entry's contract with a tiny file of known bytes.
  const entry: CatalogueEntry = {
    ...catalogueEntry('rmvpe'),
    id: 'tiny',
    description: 'a tiny test entry',
    file: 'tiny.onnx',
    url: 'https://example.org/models/tiny.onnx',
    size: content.length,
    sha256: createHash('sha256').update(content).digest('hex'),
  };
  const unpublished: CatalogueEntry = { ...entry, id: 'loose', file: 'loose.onnx', url: 'https://example.org/models/loose.onnx', size: null, sha256: null };
  const catalogue = [entry, unpublished];
  const file = () => path.join(dir, 'tiny.onnx');

  before(() => {
    ({ dir, cleanup } = tempDir());
    dir = path.join(dir, 'models');
    mkdirSync(dir);
  });
  after(() => cleanup());

  test('a missing file: null, and requireModel says what, from where, where to and how', async () => {
    assert.equal(await findModel('tiny', { dir, catalogue }), null);
    assert.equal(modelStatus(entry, dir).state, 'missing');
    await assert.rejects(requireModel('tiny', { dir, catalogue }), (e: unknown) => {
      assert.ok(e instanceof ModelMissingError);
      for (const part of [file(), entry.url, dir, 'resona models download tiny', entry.sha256!, `${content.length} bytes`]) {
        assert.ok(e.message.includes(part), `message lacks "${part}": ${e.message}`);
      }
      assert.equal(e.message.includes('\n'), false);
      return true;
    });
  });

  test('a wrong-size file is ignored and named as such', async () => {
    writeFileSync(file(), content.subarray(1));
    assert.equal(await findModel('tiny', { dir, catalogue }), null);
    assert.equal(modelStatus(entry, dir).state, 'wrong-size');
    await assert.rejects(requireModel('tiny', { dir, catalogue }), new RegExp(`has ${content.length - 1} bytes, expected ${content.length} bytes`));
  });

  test('a file of the right size is found; verify hashes it once and leaves a marker', async () => {
    writeFileSync(file(), content);
    assert.equal(await findModel('tiny', { dir, catalogue }), file());
    assert.equal(modelStatus(entry, dir).state, 'unverified');
    assert.equal(await findModel('tiny', { dir, catalogue, verify: true }), file());
    assert.ok(existsSync(file() + MARKER_SUFFIX));
    assert.equal(modelStatus(entry, dir).state, 'verified');
    assert.equal(await requireModel('tiny', { dir, catalogue, verify: true }), file());
  });

  test('a file changed after verification (same size) loses its marker and fails verification', async () => {
    const bad = Buffer.from(content);
    bad[0] ^= 1;
    writeFileSync(file(), bad);
    utimesSync(file(), new Date(), new Date(Date.now() + 5000)); // a different mtime, whatever the clock's resolution
    assert.equal(modelStatus(entry, dir).state, 'unverified');
    assert.equal(await findModel('tiny', { dir, catalogue }), file(), 'size alone still passes without verify');
    assert.equal(await findModel('tiny', { dir, catalogue, verify: true }), null);
    await assert.rejects(requireModel('tiny', { dir, catalogue, verify: true }), /SHA-256 [0-9a-f]{64}, expected/);
  });

  test('an entry with no published hash: found on presence, and the message asks for --allow-unverified', async () => {
    await assert.rejects(requireModel('loose', { dir, catalogue }), /resona models download loose --allow-unverified.*size and SHA-256 not published/);
    writeFileSync(path.join(dir, 'loose.onnx'), 'x');
    assert.equal(await findModel('loose', { dir, catalogue, verify: true }), path.join(dir, 'loose.onnx'));
    assert.equal(modelStatus(unpublished, dir).state, 'unverified');
  });

  test('RESONA_HOME decides where the real catalogue is looked for', async () => {
    const saved = process.env.RESONA_HOME;
    process.env.RESONA_HOME = path.dirname(dir);
    try {
      assert.equal(await findModel('rmvpe'), null);
      await assert.rejects(requireModel('rmvpe'), (e: unknown) => {
        assert.ok(e instanceof ModelMissingError);
        assert.ok(e.message.includes(`put it in ${dir} as rmvpe.onnx`), e.message);
        assert.ok(e.message.includes('https://huggingface.co/lj1995/VoiceConversionWebUI/resolve/main/rmvpe.onnx'));
        assert.ok(e.message.includes("'resona models download rmvpe'"));
        assert.ok(e.message.includes('361,688,443 bytes'));
        return true;
      });
    } finally {
      if (saved === undefined) delete process.env.RESONA_HOME;
      else process.env.RESONA_HOME = saved;
    }
  });
});
