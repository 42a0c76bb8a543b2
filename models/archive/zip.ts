// The one reader for zips from strangers (PyTorch checkpoints, shared voice folders). A general unzipper trusts
// the archive: it walks however many entries the directory claims, inflates every entry, and believes the sizes
// it is told, so a 1 MB file can claim four billion entries or make four entries share one 1 GiB deflated stream.
// This reader reads the central directory itself (zip64 included), checks it against a budget before anything
// is inflated, refuses entries whose bytes overlap, and inflates only the entries asked for, stopping at the size
// the directory declared.
//
//   const zip = openZip(bytes, CHECKPOINT_ZIP, { name: file, error: (m) => new CheckpointError(m) });
//   zip.names          // files in directory order (folders left out)
//   zip.read('a/b')    // the entry's bytes: a view for a stored entry, inflated for a deflated one
//
// Budget failures are LimitErrors (a UserError with code 'limit'); a damaged or unsupported zip is the caller's
// own error class, so a checkpoint says CheckpointError and a voice zip VoiceFormatError.
import { Inflate } from 'fflate';
import { byteSize, count, type Limit, overLimit } from './limit.js';

export interface ZipBudget {
  /** Entries in the central directory, folders included. */
  readonly entries: Limit;
  /** All entries together, uncompressed, as the directory declares them. */
  readonly totalBytes: Limit;
  /** How far one deflated entry may expand (uncompressed / compressed), past a few KiB that anything may. */
  readonly ratio: Limit;
}

export interface ZipEntry {
  readonly name: string;
  /** Uncompressed bytes, as the directory declares them (read() returns exactly this many). */
  readonly size: number;
  readonly compressedSize: number;
  /** 0 stored, 8 deflated; others are refused when read. */
  readonly method: number;
}

export interface ZipReader {
  /** File entries in directory order; folder entries ("x/") are left out. */
  readonly names: readonly string[];
  entry(name: string): ZipEntry | undefined;
  /** The entry's bytes. Stored entries are views into the archive; read each once. */
  read(name: string): Uint8Array;
}

export interface ZipOptions {
  /** Names the archive in messages, usually its path. */
  name: string;
  /** The caller's error for a zip that is damaged or uses what this reader does not (encryption, bzip2…). */
  error(message: string): Error;
}

/** Entries this small may expand by any ratio: a few KiB of zeros is real (biases) and harmless. */
const SMALL_ENTRY = 4096;
/** Compressed bytes pushed to the inflater at a time: bounds what one push can produce to ~32 MiB. */
const CHUNK = 32 * 1024;

const SIG = { local: 0x04034b50, central: 0x02014b50, end: 0x06054b50, end64: 0x06064b50, locator64: 0x07064b50 } as const;

interface Located extends ZipEntry {
  flags: number;
  headerAt: number;
  dataAt: number;
}

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6));
}

export function openZip(input: Uint8Array, budget: ZipBudget, o: ZipOptions): ZipReader {
  // A plain Uint8Array view, not a Buffer: Buffer's slice() shares memory, and callers slice() entries to copy.
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const damaged = (why: string): never => {
    throw o.error(`${o.name}: not a readable zip (${why}): the file is truncated or damaged; copy it again`);
  };
  const u16 = (at: number): number => view.getUint16(at, true);
  const u32 = (at: number): number => view.getUint32(at, true);
  // Offsets and sizes past 2^53 are damage anyway; as numbers they only need to compare larger than the file.
  const u64 = (at: number): number => Number(view.getBigUint64(at, true));

  const end = findEnd(bytes, view);
  if (end < 0) return damaged('no end-of-directory record');
  if (u16(end + 4) !== 0 || u16(end + 6) !== 0) return damaged('it is one part of a zip split across several files; join the parts first');
  let entries = u16(end + 10);
  let dirSize = u32(end + 12);
  let dirAt = u32(end + 16);
  let dirLimit = end;
  if (entries === 0xffff || dirSize === 0xffffffff || dirAt === 0xffffffff) {
    const loc = end - 20;
    if (loc >= 0 && u32(loc) === SIG.locator64) {
      const at = u64(loc + 8);
      if (at > loc - 56) return damaged('its zip64 directory record lies outside the file');
      if (u32(at) !== SIG.end64) return damaged('no zip64 directory record where its locator points');
      entries = u64(at + 32);
      dirSize = u64(at + 40);
      dirAt = u64(at + 48);
      dirLimit = at;
    }
  }
  if (entries > budget.entries.max) throw overLimit(`${o.name}:`, `has ${count(entries)} entries in its directory,`, budget.entries);
  if (dirAt + dirSize > dirLimit || dirSize < entries * 46) return damaged(`its directory of ${count(entries)} entries does not fit in the file`);

  const utf8 = new TextDecoder('utf-8');
  const byName = new Map<string, Located>();
  const located: Located[] = [];
  let p = dirAt;
  for (let i = 0; i < entries; i++) {
    if (p + 46 > dirAt + dirSize || u32(p) !== SIG.central) return damaged(`directory entry ${i + 1} of ${count(entries)} is missing`);
    const flags = u16(p + 8);
    const method = u16(p + 10);
    let compressedSize = u32(p + 20);
    let size = u32(p + 24);
    const nameLen = u16(p + 28);
    const extraLen = u16(p + 30);
    const commentLen = u16(p + 32);
    let headerAt = u32(p + 42);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > dirAt + dirSize) return damaged(`directory entry ${i + 1} runs past the directory`);
    const name = utf8.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // zip64: the real values of the fields set to 0xffffffff, in this order, in extra field 0x0001.
    if (size === 0xffffffff || compressedSize === 0xffffffff || headerAt === 0xffffffff) {
      let x = p + 46 + nameLen;
      const xEnd = x + extraLen;
      let found = false;
      while (x + 4 <= xEnd) {
        const id = u16(x);
        const len = u16(x + 2);
        let q = x + 4;
        if (q + len > xEnd) break;
        if (id === 0x0001) {
          const field = (): number => {
            if (q + 8 > x + 4 + len) return damaged(`entry ${name} has a short zip64 field`);
            const v = u64(q);
            q += 8;
            return v;
          };
          if (size === 0xffffffff) size = field();
          if (compressedSize === 0xffffffff) compressedSize = field();
          if (headerAt === 0xffffffff) headerAt = field();
          found = true;
          break;
        }
        x = q + len;
      }
      if (!found) return damaged(`entry ${name} needs a zip64 field it does not have`);
    }
    if (byName.has(name)) return damaged(`two entries are named ${JSON.stringify(name.slice(0, 80))}`);
    if (headerAt + 30 > dirAt || u32(headerAt) !== SIG.local) return damaged(`entry ${name} has no local header where the directory points`);
    const dataAt = headerAt + 30 + u16(headerAt + 26) + u16(headerAt + 28);
    if (dataAt + compressedSize > dirAt) return damaged(`entry ${name} runs past the end of the file's data`);
    if (method === 0 && compressedSize !== size) return damaged(`stored entry ${name} declares ${size} bytes but holds ${compressedSize}`);
    const e: Located = { name, size, compressedSize, method, flags, headerAt, dataAt };
    byName.set(name, e);
    located.push(e);
    p = next;
  }

  // Each entry's bytes (header through data) must be its own: entries sharing a stream multiply what a small
  // file unpacks to, and no zip writer produces them.
  const byOffset = [...located].sort((a, b) => a.headerAt - b.headerAt);
  for (let i = 1; i < byOffset.length; i++) {
    const prev = byOffset[i - 1]!;
    const cur = byOffset[i]!;
    if (cur.headerAt < prev.dataAt + prev.compressedSize) {
      throw o.error(`${o.name}: entries ${prev.name} and ${cur.name} share compressed bytes, which no zip writer produces; the file is damaged or malicious`);
    }
  }
  let total = 0;
  for (const e of located) {
    if (e.method !== 0 && e.size > e.compressedSize * budget.ratio.max + SMALL_ENTRY) {
      throw overLimit(`${o.name}: entry ${e.name} would expand ${count(e.compressedSize)} bytes to ${count(e.size)},`, 'a ratio', budget.ratio);
    }
    total += e.size;
    if (total > budget.totalBytes.max) throw overLimit(`${o.name}:`, 'holds', budget.totalBytes, (n) => `${byteSize(n)} uncompressed`);
  }

  const names = located.filter((e) => !e.name.endsWith('/')).map((e) => e.name);
  return {
    names,
    entry: (name) => {
      const e = byName.get(name);
      return e && { name: e.name, size: e.size, compressedSize: e.compressedSize, method: e.method };
    },
    read(name) {
      const e = byName.get(name);
      if (!e) throw o.error(`${o.name}: has no entry ${JSON.stringify(name)}`);
      if (e.flags & 1) throw o.error(`${o.name}: entry ${name} is encrypted; unpack it with the password and import the file itself`);
      const src = bytes.subarray(e.dataAt, e.dataAt + e.compressedSize);
      if (e.method === 0) return src;
      if (e.method !== 8) throw o.error(`${o.name}: entry ${name} uses compression method ${e.method}; re-zip it with ordinary (deflate) compression`);
      return inflateEntry(src, e.size, (why) => damaged(`entry ${name} ${why}`));
    },
  };
}

/** The end-of-directory record: the last signature whose comment runs exactly to the end of the file. */
function findEnd(bytes: Uint8Array, view: DataView): number {
  const last = bytes.length - 22;
  for (let i = last; i >= 0 && i >= last - 0xffff; i--) {
    if (bytes[i] === 0x50 && view.getUint32(i, true) === SIG.end && i + 22 + view.getUint16(i + 20, true) === bytes.length) return i;
  }
  return -1;
}

/** Inflates into exactly `size` bytes, stopping as soon as the stream would produce more. */
function inflateEntry(src: Uint8Array, size: number, fail: (why: string) => never): Uint8Array {
  const out = new Uint8Array(size);
  let n = 0;
  let over = false;
  const inflater = new Inflate((chunk) => {
    if (n + chunk.length > size) {
      over = true;
      throw new RangeError('over');
    }
    out.set(chunk, n);
    n += chunk.length;
  });
  try {
    if (src.length === 0) inflater.push(src, true);
    for (let i = 0; i < src.length; i += CHUNK) inflater.push(src.subarray(i, i + CHUNK), i + CHUNK >= src.length);
  } catch (e) {
    if (over) return fail(`inflates to more than the ${count(size)} bytes its directory declares`);
    return fail(`does not inflate: ${(e as Error).message}`);
  }
  if (n !== size) fail(`inflates to ${count(n)} bytes where its directory declares ${count(size)}`);
  return out;
}
