// The safe zip reader: what real zips read as, and how each budget and each kind of damage is refused.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, zipSync } from 'fflate';
import { LimitError } from '../../../models/archive/limit.js';
import { openZip, type ZipBudget } from '../../../models/archive/zip.js';
import { CHECKPOINT_ZIP } from '../../../models/torch/budgets.js';
import { UserError } from '../../../protocol/errors.js';
import { assertRefused, runCase } from './hostile.js';
import { buildZip, zeroStream } from './zip-writer.js';

class DamagedZip extends UserError {
  constructor(message: string) {
    super(message, 'file');
  }
}

const open = (bytes: Uint8Array, budget: ZipBudget = CHECKPOINT_ZIP) => openZip(bytes, budget, { name: 'test.zip', error: (m) => new DamagedZip(m) });
const text = (s: string) => new TextEncoder().encode(s);
const tight = (o: Partial<Record<keyof ZipBudget, number>>): ZipBudget => ({
  entries: { max: o.entries ?? 100, sizedFrom: 'test entries' },
  totalBytes: { max: o.totalBytes ?? 2 ** 20, sizedFrom: 'test total' },
  ratio: { max: o.ratio ?? 100, sizedFrom: 'test ratio' },
});

function refuses(f: () => unknown, kind: typeof LimitError | typeof DamagedZip, pattern: RegExp): void {
  assert.throws(f, (e: Error) => {
    assert.ok(e instanceof kind, `a ${kind.name}, not ${e.name}: ${e.message}`);
    assert.ok(!e.message.includes('\n'));
    assert.match(e.message, pattern);
    return true;
  });
}

describe('zips as writers make them', () => {
  test('stored and deflated entries read back exactly; folders are not listed', { timeout: 30_000 }, () => {
    const big = new Uint8Array(300_000).map((_, i) => (i * 7919) % 251);
    const zip = open(zipSync({ 'v/model.pth': [big, { level: 0 }], 'v/notes.txt': [text('hello '.repeat(500)), { level: 9 }], 'v/': new Uint8Array(0) }));
    assert.deepEqual(zip.names, ['v/model.pth', 'v/notes.txt']);
    assert.deepEqual(zip.entry('v/model.pth'), { name: 'v/model.pth', size: 300_000, compressedSize: 300_000, method: 0 });
    assert.equal(zip.entry('v/notes.txt')!.method, 8);
    assert.deepEqual(zip.read('v/model.pth'), big);
    assert.equal(new TextDecoder().decode(zip.read('v/notes.txt')), 'hello '.repeat(500));
    refuses(() => zip.read('v/other'), DamagedZip, /test\.zip: has no entry "v\/other"/);
  });

  test('a stored entry is a view that slice() copies, never a Buffer sharing the file', { timeout: 30_000 }, () => {
    const file = Buffer.from(zipSync({ a: [text('abcd'), { level: 0 }] }));
    const a = open(file).read('a');
    assert.equal(Object.getPrototypeOf(a), Uint8Array.prototype);
    a.slice().fill(0);
    assert.equal(new TextDecoder().decode(a), 'abcd');
  });

  test('zip64 records (sizes and offsets in extra fields, zip64 end record) read as the plain ones', { timeout: 30_000 }, () => {
    const data = text('zip64 entry');
    const deflated = deflateSync(text('x'.repeat(5000)));
    const zip = open(buildZip([{ name: 'a', data, method: 0, size: data.length }, { name: 'b', data: deflated, method: 8, size: 5000 }], { zip64: true }));
    assert.deepEqual(zip.names, ['a', 'b']);
    assert.equal(new TextDecoder().decode(zip.read('a')), 'zip64 entry');
    assert.equal(new TextDecoder().decode(zip.read('b')), 'x'.repeat(5000));
  });

  test('only the entries asked for are inflated: a broken one does not stop reading the others', { timeout: 30_000 }, () => {
    const good = deflateSync(text('fine'));
    const zip = open(buildZip([{ name: 'bad', data: new Uint8Array([0xff, 0xff, 0xff]), method: 8, size: 10 }, { name: 'good', data: good, method: 8, size: 4 }]));
    assert.equal(new TextDecoder().decode(zip.read('good')), 'fine');
    refuses(() => zip.read('bad'), DamagedZip, /entry bad does not inflate/);
  });
});

describe('budgets are LimitErrors naming the budget and what it was sized from', () => {
  test('entry count, before the directory is walked', { timeout: 30_000 }, () => {
    const e = { data: text('x'), method: 0 as const, size: 1 };
    refuses(() => open(buildZip(['a', 'b', 'c', 'd'].map((name) => ({ name, ...e }))), tight({ entries: 3 })), LimitError, /^test\.zip: has 4 entries in its directory, more than 3 \(test entries\); the file is damaged or malicious$/);
    refuses(() => open(buildZip([{ name: 'a', ...e }], { zip64: true, claimEntries: 4_000_000_000 })), LimitError, /has 4,000,000,000 entries in its directory, more than 20,000 \(the most in a real checkpoint.*2,200\)/);
  });

  test('total uncompressed bytes, as declared, before anything is inflated', { timeout: 30_000 }, () => {
    const d = deflateSync(new Uint8Array(400_000));
    const entries = ['a', 'b', 'c'].map((name) => ({ name, data: d, method: 8 as const, size: 400_000 }));
    refuses(() => open(buildZip(entries), tight({ ratio: 1000 })), LimitError, /^test\.zip: holds more than 1 MiB uncompressed \(test total\)/);
    assert.equal(open(buildZip(entries.slice(0, 2)), tight({ ratio: 1000 })).read('b').length, 400_000);
    // The real figure, as a user would read it.
    const claim = buildZip([{ name: 'a', data: zeroStream(60e6).data, method: 8, size: 2 ** 31 + 1 }]);
    refuses(() => open(claim, { ...CHECKPOINT_ZIP, ratio: { max: 1e6, sizedFrom: '' } }), LimitError, /holds more than 2 GiB uncompressed \(the largest real checkpoint, an RVC training D_\*\.pth with optimizer state, is about 900 MB\)/);
  });

  test('per-entry ratio: a deflated entry claiming far more than it could hold', { timeout: 30_000 }, () => {
    const d = deflateSync(new Uint8Array(100_000));
    refuses(() => open(buildZip([{ name: 'z', data: d, method: 8, size: 100_000 }])), LimitError, /entry z would expand \d+ bytes to 100,000, a ratio more than 100 \(torch\.save stores tensors uncompressed/);
    // Small entries may expand by any ratio (a few KiB of zeros is a real bias vector).
    assert.equal(open(buildZip([{ name: 'z', data: deflateSync(new Uint8Array(4000)), method: 8, size: 4000 }])).read('z').length, 4000);
  });
});

describe('damage is the caller\'s error class, one line', () => {
  test('entries sharing bytes, lying sizes, truncation, encryption, unknown methods', { timeout: 30_000 }, () => {
    const d = deflateSync(text('abc'.repeat(100)));
    refuses(() => open(buildZip([{ name: 'a', data: d, method: 8, size: 300 }, { name: 'b', data: d, method: 8, size: 300, shareWith: 'a' }])), DamagedZip, /entries a and b share compressed bytes, which no zip writer produces/);
    refuses(() => open(buildZip([{ name: 'a', data: d, method: 8, size: 100 }])).read('a'), DamagedZip, /entry a inflates to more than the 100 bytes its directory declares/);
    refuses(() => open(buildZip([{ name: 'a', data: d, method: 8, size: 301 }])).read('a'), DamagedZip, /entry a inflates to 300 bytes where its directory declares 301/);
    refuses(() => open(buildZip([{ name: 'a', data: text('abc'), method: 0, size: 4 }])), DamagedZip, /stored entry a declares 4 bytes but holds 3/);
    const whole = buildZip([{ name: 'a', data: text('abc'), method: 0, size: 3 }]);
    refuses(() => open(whole.subarray(0, whole.length - 5)), DamagedZip, /not a readable zip \(no end-of-directory record\): the file is truncated or damaged; copy it again/);
    refuses(() => open(new Uint8Array(0)), DamagedZip, /no end-of-directory record/);
    // One stored entry "a": its directory record starts 46 + 1 bytes before the 22-byte end record.
    const patched = (at: number, value: number): Uint8Array => {
      const z = buildZip([{ name: 'a', data: text('abc'), method: 0, size: 3 }]);
      const cd = z.length - 22 - 47;
      assert.equal(new DataView(z.buffer).getUint32(cd, true), 0x02014b50);
      z[cd + at] = value;
      return z;
    };
    refuses(() => open(patched(8, 1)).read('a'), DamagedZip, /entry a is encrypted/);
    refuses(() => open(patched(10, 12)).read('a'), DamagedZip, /entry a uses compression method 12; re-zip it/);
    refuses(() => open(buildZip([{ name: 'a', data: text('x'), method: 0, size: 1 }], { claimEntries: 5 })), DamagedZip, /directory of 5 entries does not fit in the file/);
  });
});

describe('the fuzzing campaign\'s bombs, each in its own process', () => {
  const cases = new URL('./zip-bombs.js', import.meta.url).href;
  const expected: [string, RegExp, string][] = [
    ['four entries share one 1 GiB stream', /entries a and b share compressed bytes/, 'file'],
    ['three entries share one stream, each declaring 600 MB', /entries a and b share compressed bytes/, 'file'],
    ['a zip64 file claiming 4 billion entries', /has 4,000,000,000 entries in its directory, more than 20,000/, 'limit'],
    ['an entry whose stream inflates past its declared size', /entry a inflates to more than the 100,000,000 bytes its directory declares/, 'file'],
  ];
  for (const [name, pattern, code] of expected) {
    test(name, { timeout: 60_000 }, async (t) => {
      const o = await runCase(cases, name);
      t.diagnostic(`${Math.round(o.ms)} ms, peak ${Math.round(o.maxRssMB)} MB resident: ${o.message}`);
      assertRefused(o, pattern, code);
    });
  }
});
