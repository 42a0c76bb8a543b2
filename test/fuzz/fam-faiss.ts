// FAISS IVF-Flat indexes: a valid one from the project's writer, its header fields forged, and random
// mutations. (The reader held up against 2,871 such cases; this keeps it that way.)
import { writeIvfFlatIndex } from '../../models/index/faiss-ivf.js';
import { buildIvfFlat } from '../../models/index/feature-index.js';
import { mulberry32 } from '../../models/random.js';
import { oneFile, type Built, type Family } from './family.js';
import { mutate, type Rng } from './rng.js';

const FILE = 'added_IVF4_Flat_nprobe_1_fuzz_v2.index';
const D = 16;
const NLIST = 4;
let base: Uint8Array | null = null;

function valid(): Uint8Array {
  if (!base) {
    const r = mulberry32(3);
    const n = 48;
    const vectors = Float32Array.from({ length: n * D }, () => r() - 0.5);
    const centroids = Float32Array.from({ length: NLIST * D }, () => r() - 0.5);
    const assign = Int32Array.from({ length: n }, (_, i) => i % NLIST);
    base = writeIvfFlatIndex(buildIvfFlat({ d: D, vectors, centroids, assign }));
  }
  return base;
}

/** Header fields of the file writeIvfFlatIndex writes: [name, offset, width in bytes]. */
function fields(): [string, number, 1 | 4 | 8][] {
  const after = 94 + NLIST * D * 4;
  return [
    ['d', 4, 4], ['ntotal', 8, 8], ['is_trained', 32, 1], ['metric', 33, 4], ['nlist', 37, 8], ['nprobe', 45, 8],
    ['quantizer fourcc', 53, 4], ['quantizer d', 57, 4], ['quantizer ntotal', 61, 8], ['quantizer code count', 86, 8],
    ['direct-map type', after, 1], ['direct-map length', after + 1, 8], ['lists fourcc', after + 9, 4],
    ['lists nlist', after + 13, 8], ['code size', after + 21, 8], ['list-size format', after + 29, 4],
    ['list-size count', after + 33, 8], ['size of list 0', after + 41, 8],
  ];
}

const VALUES: bigint[] = [0n, 1n, 0x7fn, 0xffn, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 2n ** 53n, 2n ** 63n - 1n, 2n ** 64n - 1n];

function forge(name: string, value: bigint): Uint8Array {
  const b = Uint8Array.from(valid());
  const [, at, width] = fields().find(([n]) => n === name)!;
  const v = new DataView(b.buffer);
  if (width === 1) b[at] = Number(value & 0xffn);
  else if (width === 4) v.setUint32(at, Number(value & 0xffffffffn), true);
  else v.setBigUint64(at, value & (2n ** 64n - 1n), true);
  return b;
}

export const faissFamily: Family = {
  name: 'faiss',
  async handmade() {
    const b = valid();
    const cases: Array<() => Built> = [
      () => oneFile('faiss', FILE, b, 'the valid base'),
      () => oneFile('faiss', FILE, new Uint8Array(0), 'empty file'),
      () => oneFile('faiss', FILE, b.subarray(0, 4), 'only the fourcc'),
      () => oneFile('faiss', FILE, b.subarray(0, b.length - 1), 'last byte cut'),
    ];
    for (const [name] of fields()) for (const value of [0xffffffffn, 2n ** 63n - 1n]) cases.push(() => oneFile('faiss', FILE, forge(name, value), `${name} = ${value}`));
    return cases;
  },
  async random(rng: Rng) {
    if (rng.next() < 0.4) {
      const [name] = rng.pick(fields());
      const value = rng.next() < 0.6 ? rng.pick(VALUES) : BigInt(rng.int(2 ** 32));
      return oneFile('faiss', FILE, forge(name, value), `${name} = ${value}`);
    }
    return oneFile('faiss', FILE, mutate(valid(), rng), 'random mutation');
  },
};
