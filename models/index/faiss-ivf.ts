// Reads and writes FAISS IVF-Flat `.index` files: the feature index that comes with RVC voices
// (`added_IVF<nlist>_Flat_nprobe_1_<name>_<v1|v2>.index`, written by `faiss.write_index` of
// `faiss.index_factory(d, "IVF<nlist>,Flat")`, which is a bare IndexIVFFlat with an IndexFlatL2 quantizer).
//
// Layout followed: faiss/impl/index_write.cpp and index_read.cpp of FAISS 1.7.3 (the version RVC pins) and of
// the main branch at 1.15.0 (commit 02dbb4e); the bytes of this path are the same in both, and in 1.5.3 / 1.6.x
// (index_io.cpp / impl/index_write.cpp), where the direct-map byte was a bool of the same value. The writer's
// output is byte-identical to files written by faiss-cpu 1.15.1 (the fixtures in the test).
// Everything is little-endian, as FAISS writes host order and runs on little-endian machines:
//
//   u32  fourcc "IwFl"                                    (IndexIVFFlat)
//   index header:  i32 d, i64 ntotal, i64 dummy, i64 dummy (both 1<<20), u8 is_trained, i32 metric_type
//                  (+ f32 metric_arg only when metric_type > 1; L2 is 1, inner product 0)
//   u64  nlist, u64 nprobe
//   quantizer, written recursively: u32 "IxF2" (IndexFlatL2), index header (d, ntotal = nlist, …),
//        u64 count of floats (= nlist·d), then nlist·d f32
//   direct map: u8 type (0 none, 1 array, 2 hashtable), u64 n + n i64, and for a hashtable u64 m + m (i64,i64)
//   inverted lists: u32 "ilar", u64 nlist, u64 code_size (= 4·d), u32 list type and sizes:
//        "full": u64 count (= nlist) + count u64 list sizes
//        "sprs": u64 count (even) + count/2 pairs (u64 list number, u64 size) of the non-empty lists
//        FAISS writes "full" when more than nlist/2 lists are non-empty, "sprs" otherwise; it reads either.
//   then for each non-empty list in order: size·d f32 codes, then size i64 ids.
//
// What RVC writes is exactly that, so anything else is refused with a message saying what to do: other
// fourccs (an IndexIDMap "IxMp"/"IxM2" or pre-transform "IxPT" wrapper cannot come out of RVC's "IVF…,Flat"
// factory string, and RVC could not reconstruct_n() through an IDMap anyway), other metrics, other list
// storages, ids outside 0..ntotal−1 (RVC looks vectors up by id in reconstruct_n(0, ntotal)), and trailing
// bytes. Every count is checked against the bytes left before anything is allocated from it.
//
// Bounded cost: IVF probing, not brute force. bench/feature-index.ts, one thread of a 2-vCPU AMD EPYC VM,
// Node 20, d = 768, k = 8, nlist = min(16·√N, N/39) as RVC's train step sets it (lists of ~39 vectors);
// ms per block of 25 query frames (RVC searches at 50 fps, so 500 ms of audio), median of 20 runs; recall@8
// against brute force on clustered synthetic data (64 clusters, each a 32-d patch in 768-d):
//
//   N      nlist  MB    nprobe 1         nprobe 4         nprobe 16        all lists (brute force)
//   10k    256    30    2.9 ms  r 0.50   6.1 ms  r 1.00   15.6 ms r 1.00   67 ms
//   50k    1282   150   6.8 ms  r 0.26   13.0 ms r 0.62   28.9 ms r 0.99   276 ms
//   200k   5128   601   22.4 ms r 0.17   34.2 ms r 0.42   66.4 ms r 0.80   1004 ms
//
// Brute force grows with N·d and at 200k costs 40 ms per frame, twice real time for a 50 fps search, so it is
// never the default. A probe costs one pass over the nlist centroids plus nprobe lists of ~39 vectors: at
// nprobe 1 the centroid pass is almost all of it (5128 vs 39 rows at 200k), so the cost is about N/39 rows
// (16·√N past 389k vectors) instead of N, and 0.9 ms per frame at 200k (11 ms for a 250 ms block of 12.5
// frames) fits a block with room to spare. The default is therefore the nprobe stored in the file, which RVC's train step sets to 1 and
// faiss.read_index hands to RVC's own search: the same neighbours RVC blends, so the same sound, even though
// its recall against exact search is low (the blend is a weighted average of 8 near vectors, not a lookup).
// Callers may raise nprobe; up to 16 stays within ~3× the default cost at 200k.
import { readRegularFile } from '../regular-file.js';
import { FeatureIndex, type IvfFlatData } from './feature-index.js';
import { UserError } from '../../protocol/errors.js';

export class IndexFormatError extends UserError {
  override name = 'IndexFormatError';
  constructor(message: string) {
    super(message, 'voice');
  }
}

const REEXPORT = "re-export the index with RVC's train step (an IVF-Flat L2 index, the added_IVF…_Flat….index file)";
const RECOPY = 'the file is incomplete or damaged; copy it again or ' + REEXPORT;
/** FAISS's own bound on d (index_read.cpp checks 0 ≤ d ≤ 2^20). */
const MAX_D = 1 << 20;
const METRIC_L2 = 1;
const METRIC_NAMES: Readonly<Record<number, string>> = {
  0: 'inner product',
  2: 'L1',
  3: 'L∞',
  4: 'Lp',
  20: 'Canberra',
  21: 'BrayCurtis',
  22: 'JensenShannon',
  23: 'Jaccard',
  24: 'NaNEuclidean',
  25: 'Gower',
};
/** Top-level fourccs someone may plausibly hand us, with why they are refused. */
const OTHER_INDEXES: Readonly<Record<string, string>> = {
  IxMp: 'an IndexIDMap wrapped around another index',
  IxM2: 'an IndexIDMap2 wrapped around another index',
  IxPT: 'an index behind a pre-transform (PCA/OPQ…)',
  IvFl: "FAISS's pre-2018 IVF-Flat layout",
  IvFL: "FAISS's pre-2018 IVF-Flat layout",
  IwFd: 'an IVF-Flat index with deduplication',
  IwPn: 'an IVF-Flat Panorama index',
  IwP2: 'an IVF-Flat Panorama index',
  IxF2: 'a flat index without inverted lists',
  IxFI: 'a flat inner-product index',
  IxFl: 'a flat index',
  IwSq: 'an IVF scalar-quantizer index',
  IwSQ: 'an IVF scalar-quantizer index',
  IwPQ: 'an IVF-PQ index',
  IvPQ: 'an IVF-PQ index',
  IHNf: 'an HNSW index',
  IxHf: 'an HNSW index',
};

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fourccOf(s: string): number {
  return (s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | (s.charCodeAt(3) << 24)) >>> 0;
}

function fourccText(x: number): string {
  const chars = [x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff];
  return chars.every((c) => c >= 0x20 && c < 0x7f) ? String.fromCharCode(...chars) : `0x${x.toString(16).padStart(8, '0')}`;
}

/** Bounds-checked little-endian reads; every failure is an IndexFormatError naming the file. */
class Cursor {
  pos = 0;
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get left(): number {
    return this.bytes.length - this.pos;
  }

  fail(what: string, hint: string = REEXPORT): IndexFormatError {
    return new IndexFormatError(`${this.file}: ${what}; ${hint}`);
  }

  need(n: number, what: string): void {
    if (n > this.left) throw this.fail(`truncated at byte ${this.pos} while reading ${what} (${n} bytes needed, ${this.left} left)`, RECOPY);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos++]!;
  }

  i32(what: string): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** An i64 or u64 that must lie in 0..max (max ≤ 2^53); `signed` only changes how a bad value is shown. */
  count(what: string, max: number, signed = false): number {
    this.need(8, what);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    if (hi >= 0x200000) {
      const big = signed ? this.view.getBigInt64(this.pos, true) : this.view.getBigUint64(this.pos, true);
      throw this.fail(`${what} is ${big} at byte ${this.pos}, outside 0..${max}`);
    }
    const v = hi * 0x100000000 + lo;
    if (v > max) throw this.fail(`${what} is ${v} at byte ${this.pos}, outside 0..${max}`);
    this.pos += 8;
    return v;
  }

  /** A count of items of `each` bytes that must still fit in the file; the file bounds it before any allocation. */
  countFits(what: string, each: number): number {
    const max = Math.floor(this.left / each);
    const at = this.pos;
    const v = this.count(what, Number.MAX_SAFE_INTEGER);
    if (v > max) throw this.fail(`${what} is ${v} at byte ${at}, more than the ${this.left} bytes left can hold (the file is truncated or damaged)`, RECOPY);
    return v;
  }

  skip(n: number, what: string): void {
    this.need(n, what);
    this.pos += n;
  }

  /** Copies n f32 values into dst at element offset `at` (the source may be unaligned). */
  floats(dst: Float32Array, at: number, n: number, what: string): void {
    this.need(n * 4, what);
    new Uint8Array(dst.buffer, dst.byteOffset + at * 4, n * 4).set(this.bytes.subarray(this.pos, this.pos + n * 4));
    this.pos += n * 4;
  }
}

interface IndexHeader {
  d: number;
  ntotal: number;
}

function readHeader(c: Cursor, what: string): IndexHeader {
  const d = c.i32(`${what} dimension`);
  if (d < 1 || d > MAX_D) throw c.fail(`${what} dimension d is ${d}, outside 1..${MAX_D}`);
  const ntotal = c.count(`${what} vector count (ntotal)`, 0x7fffffff, true);
  c.skip(16, `${what} header`);
  const trained = c.u8(`${what} is_trained flag`);
  if (trained > 1) throw c.fail(`${what} is_trained byte is ${trained}, not 0 or 1`, RECOPY);
  if (trained === 0) throw c.fail(`${what} was never trained`);
  const metric = c.i32(`${what} metric type`);
  if (metric !== METRIC_L2) {
    const name = METRIC_NAMES[metric] ?? `unknown (${metric})`;
    throw c.fail(`${what} uses the ${name} metric, not L2`);
  }
  return { d, ntotal };
}

/** Parses the bytes of a FAISS IVF-Flat L2 index; `name` (the file) appears in every error. */
export function parseFaissIndex(bytes: Uint8Array, name: string): FeatureIndex {
  if (!LITTLE_ENDIAN_HOST) throw new IndexFormatError(`${name}: FAISS index files are little-endian and this machine is not`);
  const c = new Cursor(bytes, name);
  if (bytes.length === 0) throw c.fail('the file is empty', RECOPY);
  const top = c.u32('the index type (fourcc)');
  if (top !== fourccOf('IwFl')) {
    const t = fourccText(top);
    const known = OTHER_INDEXES[t];
    throw c.fail(known ? `this is ${known} (FAISS type "${t}"), not an IVF-Flat index` : `not a FAISS IVF-Flat index (it starts with ${JSON.stringify(t)}, "IwFl" expected)`);
  }
  const { d, ntotal } = readHeader(c, 'the index');
  if (ntotal === 0) throw c.fail('the index holds no vectors (this is the trained_… file of RVC\'s train step)', "use the added_IVF…_Flat….index file beside it, or " + REEXPORT);
  const rowBytes = 4 * d;
  // The quantizer stores nlist rows, so the file bounds nlist before anything is sized from it.
  const nlist = c.countFits('nlist', rowBytes);
  if (nlist === 0) throw c.fail('nlist is 0');
  const nprobe = c.count('nprobe', Number.MAX_SAFE_INTEGER);

  const q = c.u32('the quantizer type (fourcc)');
  if (q !== fourccOf('IxF2')) throw c.fail(`the coarse quantizer is "${fourccText(q)}", a flat L2 quantizer ("IxF2") expected`);
  const qh = readHeader(c, 'the quantizer');
  if (qh.d !== d) throw c.fail(`the quantizer has d ${qh.d}, the index d ${d}`);
  if (qh.ntotal !== nlist) throw c.fail(`the quantizer holds ${qh.ntotal} centroids for nlist ${nlist}`);
  const nFloats = c.count('the quantizer code count', Number.MAX_SAFE_INTEGER);
  if (nFloats !== nlist * d) throw c.fail(`the quantizer stores ${nFloats} values, nlist ${nlist} × d ${d} = ${nlist * d} expected`);
  c.need(nFloats * 4, 'the centroids');
  const centroids = new Float32Array(nFloats);
  c.floats(centroids, 0, nFloats, 'the centroids');

  const mapType = c.u8('the direct-map type');
  if (mapType > 2) throw c.fail(`the direct-map type is ${mapType}, not 0, 1 or 2`, RECOPY);
  const mapLen = c.countFits('the direct-map length', 8);
  c.skip(mapLen * 8, 'the direct map');
  if (mapType === 2) c.skip(c.countFits('the direct-map hashtable length', 16) * 16, 'the direct-map hashtable');

  const il = c.u32('the inverted-lists type (fourcc)');
  if (il !== fourccOf('ilar')) {
    const t = fourccText(il);
    const why = t === 'il00' ? 'the index was saved without its inverted lists' : t === 'ilod' ? 'the inverted lists are in a separate on-disk file' : `the inverted lists are stored as "${t}"`;
    throw c.fail(`${why}; in-file array lists ("ilar") expected`);
  }
  const ilNlist = c.count('the inverted lists count', Number.MAX_SAFE_INTEGER);
  if (ilNlist !== nlist) throw c.fail(`the inverted lists count is ${ilNlist}, the index nlist ${nlist}`);
  const codeSize = c.count('the code size', Number.MAX_SAFE_INTEGER);
  if (codeSize !== rowBytes) throw c.fail(`the code size is ${codeSize} bytes, 4 × d ${d} = ${rowBytes} expected for IVF-Flat`);

  const entryBytes = rowBytes + 8;
  const sizes = new Float64Array(nlist);
  const listType = c.u32('the list-size format');
  if (listType === fourccOf('full')) {
    const n = c.countFits('the list-size count', 8);
    if (n !== nlist) throw c.fail(`${n} list sizes stored for nlist ${nlist}`);
    for (let l = 0; l < nlist; l++) sizes[l] = c.countFits(`the size of list ${l}`, entryBytes);
  } else if (listType === fourccOf('sprs')) {
    const n = c.countFits('the sparse list-size count', 8);
    if (n % 2 !== 0) throw c.fail(`the sparse list sizes hold ${n} values, an odd number`, RECOPY);
    const seen = new Uint8Array(nlist);
    for (let j = 0; j < n; j += 2) {
      const l = c.count('a sparse list number', nlist - 1);
      if (seen[l]) throw c.fail(`list ${l} appears twice in the sparse list sizes`, RECOPY);
      seen[l] = 1;
      sizes[l] = c.countFits(`the size of list ${l}`, entryBytes);
    }
  } else {
    throw c.fail(`the list-size format is "${fourccText(listType)}", "full" or "sprs" expected`, RECOPY);
  }
  let total = 0;
  for (let l = 0; l < nlist; l++) total += sizes[l]!;
  if (total !== ntotal) throw c.fail(`the lists hold ${total} vectors, the header says ntotal ${ntotal}`);
  c.need(total * entryBytes, `the ${total} vectors and ids of the lists`);
  if (total * d > 0xffffffff) throw c.fail(`${total} × ${d} values are too many to hold in memory`, 'use a smaller index');

  const vectors = new Float32Array(total * d);
  const ids = new Int32Array(total);
  const listOffsets = new Int32Array(nlist + 1);
  let row = 0;
  for (let l = 0; l < nlist; l++) {
    const n = sizes[l]!;
    listOffsets[l] = row;
    if (n === 0) continue;
    c.floats(vectors, row * d, n * d, `the vectors of list ${l}`);
    for (let j = 0; j < n; j++) ids[row + j] = c.count(`an id in list ${l}`, ntotal - 1, true);
    row += n;
  }
  listOffsets[nlist] = row;
  if (c.left !== 0) throw c.fail(`${c.left} unexpected bytes after the inverted lists (at byte ${c.pos})`, RECOPY);
  const bad = firstNonFinite(centroids);
  if (bad >= 0) throw c.fail(`centroid ${Math.floor(bad / d)} holds a non-finite value`, RECOPY);
  const badV = firstNonFinite(vectors);
  if (badV >= 0) throw c.fail(`vector id ${ids[Math.floor(badV / d)]} holds a non-finite value`, RECOPY);
  return new FeatureIndex({ d, nprobe: Math.min(Math.max(nprobe, 1), nlist), centroids, listOffsets, vectors, ids });
}

function firstNonFinite(x: Float32Array): number {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}

export async function readFaissIndex(file: string): Promise<FeatureIndex> {
  // Only a regular file (a FIFO or a device would block or never end), 2 GiB at most: fs's own ceiling, and
  // RVC indexes stay far below it (200k × 768 features is 0.6 GB).
  const bytes = await readRegularFile(file, {
    what: 'index file',
    limit: { max: 0x7fffffff, sizedFrom: 'the largest RVC indexes hold about 600 MB of features' },
    fail: (m) => new IndexFormatError(m),
  });
  return parseFaissIndex(bytes, file);
}

export interface WriteOptions {
  /** How list sizes are stored: FAISS's own choice ("auto": "full" when more than nlist/2 lists are non-empty), or forced. */
  listSizes?: 'auto' | 'full' | 'sprs';
}

/**
 * Serialises an index exactly as FAISS's write_index does for an IndexIVFFlat (metric L2, IndexFlatL2
 * quantizer, no direct map), so faiss.read_index can load the result.
 */
export function writeIvfFlatIndex(index: IvfFlatData, o: WriteOptions = {}): Uint8Array {
  const { d, centroids, listOffsets, vectors, ids } = index;
  const nlist = listOffsets.length - 1;
  const ntotal = ids.length;
  if (nlist < 1 || centroids.length !== nlist * d || vectors.length !== ntotal * d || listOffsets[nlist] !== ntotal) {
    throw new RangeError('writeIvfFlatIndex: centroids, list offsets, vectors and ids disagree in size');
  }
  let nonEmpty = 0;
  for (let l = 0; l < nlist; l++) if (listOffsets[l + 1]! > listOffsets[l]!) nonEmpty++;
  const mode = o.listSizes ?? 'auto';
  const full = mode === 'full' || (mode === 'auto' && nonEmpty > Math.floor(nlist / 2));
  const headerBytes = 4 + 8 + 8 + 8 + 1 + 4;
  const sizeValues = full ? nlist : 2 * nonEmpty;
  const total =
    4 + headerBytes + 8 + 8 + // IwFl, header, nlist, nprobe
    4 + headerBytes + 8 + nlist * d * 4 + // quantizer
    1 + 8 + // direct map: type 0, empty array
    4 + 8 + 8 + 4 + 8 + 8 * sizeValues + // ilar, nlist, code_size, list type, sizes
    ntotal * (4 * d + 8);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  let p = 0;
  const u32 = (x: number) => {
    v.setUint32(p, x, true);
    p += 4;
  };
  const i64 = (x: number) => {
    v.setBigInt64(p, BigInt(x), true);
    p += 8;
  };
  const header = (n: number) => {
    v.setInt32(p, d, true);
    p += 4;
    i64(n);
    i64(1 << 20);
    i64(1 << 20);
    out[p++] = 1; // is_trained
    v.setInt32(p, METRIC_L2, true);
    p += 4;
  };
  const f32s = (x: Float32Array) => {
    for (let i = 0; i < x.length; i++, p += 4) v.setFloat32(p, x[i]!, true);
  };
  u32(fourccOf('IwFl'));
  header(ntotal);
  i64(nlist);
  i64(index.nprobe);
  u32(fourccOf('IxF2'));
  header(nlist);
  i64(nlist * d);
  f32s(centroids);
  out[p++] = 0; // direct map: none
  i64(0);
  u32(fourccOf('ilar'));
  i64(nlist);
  i64(4 * d);
  u32(fourccOf(full ? 'full' : 'sprs'));
  i64(sizeValues);
  for (let l = 0; l < nlist; l++) {
    const n = listOffsets[l + 1]! - listOffsets[l]!;
    if (full) i64(n);
    else if (n > 0) {
      i64(l);
      i64(n);
    }
  }
  for (let l = 0; l < nlist; l++) {
    const a = listOffsets[l]!;
    const b = listOffsets[l + 1]!;
    if (b === a) continue;
    f32s(vectors.subarray(a * d, b * d));
    for (let r = a; r < b; r++) i64(ids[r]!);
  }
  if (p !== total) throw new Error(`writeIvfFlatIndex: wrote ${p} bytes, planned ${total}`);
  return out;
}
