// FAISS IVF-Flat index files and RVC's retrieval blend. The two fixtures below were written by real FAISS
// (faiss-cpu 1.15.1, `faiss.index_factory(d, "IVF<n>,Flat")` as RVC's train step calls it), so the reader and
// the writer are checked against FAISS's bytes and FAISS's search results, not only against each other.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { IndexFormatError, parseFaissIndex, readFaissIndex, writeIvfFlatIndex } from '../../../models/index/faiss-ivf.js';
import { BLEND_K, buildIvfFlat, FeatureIndex, MISSING_DIST, MISSING_ID } from '../../../models/index/feature-index.js';
import { rng, tempDir } from '../../helpers.js';

// d = 4, 40 vectors with coordinates in quarter steps, IVF4 (all lists non-empty: sizes stored "full"), nprobe 1.
const FAISS_SMALL = `
SXdGbAQAAAAoAAAAAAAAAAAAEAAAAAAAAAAQAAAAAAABAQAAAAQAAAAAAAAAAQAAAAAAAABJeEYyBAAAAAQAAAAAAAAAAAAQAAAA
AAAAABAAAAAAAAEBAAAAEAAAAAAAAAC3bRu/JUkSvbdtm7+TJKm/2Ykdv9mJHb6e2Ek/ip2YPxhdlD/poou+0kVXv9JFFz9VVdW+
chzHPsdxnD85jmO/AAAAAAAAAAAAaWxhcgQAAAAAAAAAEAAAAAAAAABmdWxsBAAAAAAAAAAHAAAAAAAAAA0AAAAAAAAACwAAAAAA
AAAJAAAAAAAAAAAAgL8AAKA/AACAvwAAAL8AAAA/AAAAAAAA4L8AAADAAADgvwAAgL8AAOC/AACAvgAAAMAAAIA/AAAAwAAAgL8A
AAC/AAAAAAAAgL8AAOC/AACgPwAAgL4AAEC/AAAAwAAAQL8AAKC/AACAvgAA4L8DAAAAAAAAAAQAAAAAAAAABwAAAAAAAAAKAAAA
AAAAAA8AAAAAAAAAEwAAAAAAAAAbAAAAAAAAAAAAgL4AAAAAAACAPwAA4D8AAADAAADAvwAAoD8AAOA/AAAAvwAAgD4AAIC+AACA
PwAAQL8AAIA+AACAPwAAwD8AAAC/AAAAwAAAQD8AAAAAAACAvgAAAD8AAIA/AACgPwAAAD8AAAAAAADgPwAAgD8AAADAAADAvwAA
AAAAAKA/AADgvwAAAD8AAIA/AACAPwAAoL8AAKA/AAAAPwAAoD8AAIC+AACgvwAAQD8AAAA/AACgPwAAgD8AAOA/AADgPwAAgL4A
AAA/AACAvgAAwD8AAAAAAAAAAAEAAAAAAAAAEAAAAAAAAAARAAAAAAAAABIAAAAAAAAAFAAAAAAAAAAXAAAAAAAAABgAAAAAAAAA
GQAAAAAAAAAcAAAAAAAAACEAAAAAAAAAIgAAAAAAAAAmAAAAAAAAAAAAoD8AAEC/AACAvgAAgD8AAOA/AADAvwAAAL8AAAC/AADA
PwAAoL8AAAAAAACAvwAAgL4AAIC+AADgvwAA4D8AAEA/AADgPwAA4L8AAEA/AABAPwAAwL8AAEC/AADgPwAAoD8AAKC/AAAAAAAA
gD8AAKA/AADAPwAAgL8AAIC+AACgPwAAAD8AAIC/AABAPwAAwD8AAMC/AAAAwAAAgL4AAOA/AACgPwAAgL4AAMA/BgAAAAAAAAAI
AAAAAAAAAAkAAAAAAAAACwAAAAAAAAAMAAAAAAAAAA4AAAAAAAAAGgAAAAAAAAAdAAAAAAAAAB8AAAAAAAAAIwAAAAAAAAAnAAAA
AAAAAAAAoL8AAIC/AACgPwAAAL8AAKA/AACAPwAAoD8AAAAAAACAvwAAAAAAAMA/AACAvwAAoL8AAIA+AACAPwAAgL8AAEC/AACg
PwAAgD4AAAAAAACAPgAAgL8AAMA/AAAAwAAAAL8AAKA/AADgPwAAgL8AAEC/AADAPwAAgD8AAAC/AACAPgAAgD4AAMA/AAAAwAIA
AAAAAAAABQAAAAAAAAANAAAAAAAAABUAAAAAAAAAFgAAAAAAAAAeAAAAAAAAACAAAAAAAAAAJAAAAAAAAAAlAAAAAAAAAA==
`;
// d = 16, IVF16 trained on 1000 Gaussian vectors, only 3 added (3 non-empty lists: sizes stored "sprs"), nprobe 2.
const FAISS_SPARSE = `
SXdGbBAAAAADAAAAAAAAAAAAEAAAAAAAAAAQAAAAAAABAQAAABAAAAAAAAAAAgAAAAAAAABJeEYyEAAAABAAAAAAAAAAAAAQAAAA
AAAAABAAAAAAAAEBAAAAAAEAAAAAAABw+sg+5XBdvXNIUz6hzAu/DmSWPtscUD+jkZW+6fY4v6oA9j3htvK+te0/PySnNb/31BU+
sRIsv9WwHj4F7AO9rM/PPljwXD7Tuds+R7h0Pph14TxWvGA9Cuj3O1ChTT6qY1y+kjK5vofIsz4TfGa9Tg3Uv53J6L4FvF281cdJ
PnJBKr78hZM+7beNP+fLbj8xR8W+a12LPhHcHjxVCkc/Z1c0Px07Ar9dkdS+WL+6Pf35Hj5SOJg/UWBQvqyiAj95i/089/0nP3Bc
bD/r88A+047ZvjsTDj+8RVa+COiGPhQ8Yj6LbZw+USeev+jhiD7RN7g9R9Q4v17JiT7N3U2+HK4MPtswWD9t/4S/lCXePOrUGz+K
PM2+yLSEvvuYWr4zdIe97BK9vibXpb4tkcw++6KYveivCz72o4U8rCl/Pzt5TL7n9FC/ZgVmv4ukvD0K+00+Lvzevommnb5B4kc/
kQdYPxVVr72M1Cs/lQBWPevX/D4172K+79dOvqT+mzzTSB2/Dno/v07O6j7APOW+KEkfPmo2bb4aUI0+4A68voJAvb6oY4g/Kk9j
vWht3b5Y+wA/xmBdv2VIfz4Cy1O+gEJ0P+yNTz7lr0E+tPJkvzrQhj0kmIe/nNijvumyNT+r19o+nkCWPvi78L3761s9qNaDPGT4
vb5t7aO+JDXCvVVhr71PxFE8vcUYvtonvz7J9zA/vLyXPp9ZsD8YmC4+Q7qbvUd4rL7z4wC9TxqXv+vziT4ePR4/RwAnPztpz76g
L/O+8EzFvsB/rz2CbMM+5+L0Pogzv75fxzQ8TeFRvzcLKD+EdAi+mgHBvkvekD8SzLU9mkDHvts0Xz8wLKy9uAOHPpeVlL2q1ru+
A0Qgvl3JIL9Ucu4+2rCBPhDnBb+nTcW+G+2tPntSsj4NRNw9x7+ZvbzfOj+g9bg/rLUsP06XDb/hr/i+82wOv6kOgr8qvow99COn
vvugmj5hE+K+O4NsvoaRkr+Atoi+45zWvVyOlb4KTA8/1xQDv5QyXLy6FXy/AapOPS1YX75hCDo/MGpAv8YGib1uTYK/bAuwvX3X
VL5tFhQ+eQicPrFSkr7eURG/x2gcvqwxxr5cdmU+goLOPo/y5D4yQT++z0Jav3jvlr78DHY/PxzKPjimWL5aViw+yXwSP1Fx6702
DBM/UYICPoIdOT+HFpm+IOctvgIbuD4st/i9xloyvkb7gz9uE9g+JdRHPlVx072vqq++6IEUvQWbnD4ZJUW/hryHvgNXVj7vlNQ+
Oplvv370LL8LQ3A+aVNRvhArWz489sU+LliWvuVwCb5wntM9NC0sP7u5i79dJiQ+79n5Pi4PtzzlnXY/z3YuvoJ9nj77hc++AAAA
AAAAAAAAaWxhchAAAAAAAAAAQAAAAAAAAABzcHJzBgAAAAAAAAAMAAAAAAAAAAEAAAAAAAAADQAAAAAAAAABAAAAAAAAAA8AAAAA
AAAAAQAAAAAAAACUwH2/MjtGPw3Uob4ndJY/KkSBv3BCPj6Lsik+m5zIP9vACj4u07+9Xqjzvhh8ML4lio6/qStJP0hrh79XXfG/
AAAAAAAAAAAQ8h4/cp8lPwJCUj8cX+y/UNhxvsE60T82cwe/Z2LEO6ytIL9jJBC+DLQOP2eXlT8s23k/WPuWPpVAmj1P/QHAAQAA
AAAAAACl0B6/hiGoPouneL4uCyQ+IFBGv0VLEL+8Rns/Ctz3vUIXBcC9Y6S/9nOhP21Va7/7bXQ/JqOVP9buUb6IJbu+AgAAAAAA
AAA=
`;
const fromBase64 = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'base64'));

/** Byte offsets of the fields of an IVF-Flat file, from FAISS's index_write.cpp (independent of the reader). */
function layout(d: number, nlist: number) {
  const header = 4 + 8 + 8 + 8 + 1 + 4; // d, ntotal, 2 dummies, is_trained, metric
  const metric = 4 + 4 + 8 + 8 + 8 + 1;
  const nlistAt = 4 + header;
  const quantizer = nlistAt + 16;
  const centroids = quantizer + 4 + header + 8;
  const directMap = centroids + nlist * d * 4;
  const ilar = directMap + 1 + 8;
  return { metric, ntotal: 8, nlistAt, nprobeAt: nlistAt + 8, quantizer, quantizerD: quantizer + 4, quantizerMetric: quantizer + metric, centroids, directMap, ilar, codeSize: ilar + 12, listType: ilar + 20, sizesCount: ilar + 24, sizes: ilar + 32 };
}


function gaussian(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return x;
}

/** Straightforward k-NN over vectors addressed by id: sum of squares in id order, sort by (distance, id). */
function bruteForce(vectors: Float32Array, d: number, query: Float32Array, qo: number, k: number): { ids: number[]; dist: number[] } {
  const n = vectors.length / d;
  const all: { id: number; dist: number }[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += (query[qo + c]! - vectors[i * d + c]!) ** 2;
    all.push({ id: i, dist: s });
  }
  all.sort((a, b) => a.dist - b.dist || a.id - b.id);
  const top = all.slice(0, k);
  return { ids: top.map((e) => e.id), dist: top.map((e) => Math.fround(e.dist)) };
}

/** Random data with its first `nlist` vectors as centroids (k-means is not needed for exactness). */
function randomIndex(n: number, d: number, nlist: number, seed: number, nprobe = 1) {
  const vectors = gaussian(n * d, seed);
  const centroids = vectors.slice(0, nlist * d);
  return { vectors, index: buildIvfFlat({ d, vectors, centroids, nprobe }) };
}

function expectFormatError(fn: () => unknown, file: string, pattern?: RegExp): IndexFormatError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof IndexFormatError, `expected IndexFormatError, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  assert.ok(caught.message.startsWith(`${file}: `), `message should name the file: ${caught.message}`);
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}

function fourccAt(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + 4));
}

describe('FAISS files written by FAISS', () => {
  test('the small IVF4,Flat file is read and rewritten byte for byte', () => {
    const bytes = fromBase64(FAISS_SMALL);
    const idx = parseFaissIndex(bytes, 'small.index');
    assert.equal(idx.d, 4);
    assert.equal(idx.ntotal, 40);
    assert.equal(idx.nlist, 4);
    assert.equal(idx.nprobe, 1);
    assert.deepEqual([...idx.listOffsets], [0, 7, 20, 31, 40]);
    assert.deepEqual([...idx.ids].sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
    for (const v of idx.vectors) assert.equal(v * 4, Math.round(v * 4), 'vectors were quarter steps');
    assert.equal(fourccAt(bytes, layout(4, 4).listType), 'full');
    assert.deepEqual(writeIvfFlatIndex(idx), bytes);
  });

  test('search returns what FAISS returned for the same file', () => {
    const idx = parseFaissIndex(fromBase64(FAISS_SMALL), 'small.index');
    const q = new Float32Array([0, 0, 0, 0, 1, -1, 0.5, 0.25, -1.5, 1, 1, -2]);
    // index.search(q, 8) in faiss 1.15.1 at nprobe 1 and 4 (= nlist).
    const expected: Record<number, { I: number[][]; D: number[][] }> = {
      1: {
        I: [[16, 33, 38, 20, 17, 0, 23, 18], [26, 6, 9, 8, 14, 31, 35, 39], [21, 13, 32, 36, 37, 22, 2, 30]],
        D: [[1.375, 2.4375, 2.625, 2.875, 3.875, 4.125, 4.3125, 4.8125], [0.9375, 1.25, 2.125, 2.375, 4.125, 4.8125, 7, 7.75], [1.625, 2.5, 2.625, 3.0625, 3.875, 5.1875, 6.375, 7.3125]],
      },
      4: {
        I: [[16, 22, 33, 38, 20, 6, 31, 21], [26, 6, 33, 9, 8, 18, 23, 14], [21, 13, 32, 36, 37, 22, 15, 2]],
        D: [[1.375, 2.1875, 2.4375, 2.625, 2.875, 3.1875, 3.375, 3.625], [0.9375, 1.25, 1.75, 2.125, 2.375, 3.375, 3.375, 4.125], [1.625, 2.5, 2.625, 3.0625, 3.875, 5.1875, 6.0625, 6.375]],
      },
    };
    for (const nprobe of [1, 4]) {
      const I = new Int32Array(24);
      const D = new Float32Array(24);
      idx.search(q, 3, 8, I, D, nprobe);
      for (let r = 0; r < 3; r++) {
        assert.deepEqual([...I.subarray(r * 8, r * 8 + 8)], expected[nprobe]!.I[r], `ids, query ${r}, nprobe ${nprobe}`);
        assert.deepEqual([...D.subarray(r * 8, r * 8 + 8)], expected[nprobe]!.D[r], `distances, query ${r}, nprobe ${nprobe}`);
      }
    }
  });

  test('the sparse ("sprs") file is read and rewritten byte for byte; missing neighbours are −1 / FLT_MAX', () => {
    const bytes = fromBase64(FAISS_SPARSE);
    const idx = parseFaissIndex(bytes, 'sparse.index');
    assert.equal(fourccAt(bytes, layout(16, 16).listType), 'sprs');
    assert.equal(idx.ntotal, 3);
    assert.equal(idx.nlist, 16);
    assert.equal(idx.nprobe, 2);
    assert.deepEqual([...idx.listOffsets], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 2, 3]);
    assert.deepEqual(writeIvfFlatIndex(idx), bytes);
    const I = new Int32Array(4);
    const D = new Float32Array(4);
    idx.search(new Float32Array(16), 1, 4, I, D); // FAISS: [2, −1, −1, −1] at the stored nprobe 2
    assert.deepEqual([...I], [2, MISSING_ID, MISSING_ID, MISSING_ID]);
    assert.ok(Math.abs(D[0]! - 13.33713150024414) <= 2e-7 * 13.34);
    assert.deepEqual([...D.subarray(1)], [MISSING_DIST, MISSING_DIST, MISSING_DIST]);
    idx.search(new Float32Array(16), 1, 4, I, D, 16); // FAISS: [2, 0, 1, −1]
    assert.deepEqual([...I], [2, 0, 1, MISSING_ID]);
    // FAISS sums in float32 SIMD lanes, this reader in float64: equal to within float32 rounding.
    [13.33713150024414, 13.417778015136719, 15.157276153564453].forEach((want, j) => assert.ok(Math.abs(D[j]! - want) <= 2e-7 * want, `distance ${j}: ${D[j]} vs ${want}`));
  });
});

describe('round trip through writeIvfFlatIndex', () => {
  for (const { d, n } of [
    { d: 16, n: 2000 },
    { d: 768, n: 300 },
  ]) {
    for (const listSizes of ['full', 'sprs'] as const) {
      test(`d ${d}, ${n} vectors, nlist 8, sizes "${listSizes}": nprobe = nlist is brute force`, async () => {
        const { vectors, index } = randomIndex(n, d, 8, d * 7 + n, 3);
        const bytes = writeIvfFlatIndex(index, { listSizes });
        assert.equal(fourccAt(bytes, layout(d, 8).listType), listSizes);
        const { dir, cleanup } = tempDir();
        let back: FeatureIndex;
        try {
          const file = path.join(dir, `added_IVF8_Flat_nprobe_3_test_${listSizes}.index`);
          writeFileSync(file, bytes);
          back = await readFaissIndex(file);
        } finally {
          cleanup();
        }
        assert.equal(back.nprobe, 3);
        assert.deepEqual(back.listOffsets, index.listOffsets);
        assert.deepEqual(back.ids, index.ids);
        assert.deepEqual(back.vectors, index.vectors);
        assert.deepEqual(back.centroids, index.centroids);
        const nq = 40;
        const queries = gaussian(nq * d, 99);
        const I = new Int32Array(nq * 8);
        const D = new Float32Array(nq * 8);
        back.search(queries, nq, 8, I, D, 8);
        for (let q = 0; q < nq; q++) {
          const bf = bruteForce(vectors, d, queries, q * d, 8);
          assert.deepEqual([...I.subarray(q * 8, q * 8 + 8)], bf.ids, `query ${q}`);
          assert.deepEqual([...D.subarray(q * 8, q * 8 + 8)], bf.dist, `query ${q}`);
        }
      });
    }
  }

  test('"auto" stores sizes as FAISS does: "full" when more than nlist/2 lists are non-empty', () => {
    const d = 2;
    const centroids = new Float32Array([0, 0, 10, 0, 20, 0, 30, 0]);
    const two = buildIvfFlat({ d, centroids, vectors: new Float32Array([1, 0, 11, 0]) });
    const three = buildIvfFlat({ d, centroids, vectors: new Float32Array([1, 0, 11, 0, 21, 0]) });
    assert.equal(fourccAt(writeIvfFlatIndex(two), layout(d, 4).listType), 'sprs');
    assert.equal(fourccAt(writeIvfFlatIndex(three), layout(d, 4).listType), 'full');
  });

  test('nprobe 1 searches exactly the list of the nearest centroid', () => {
    const d = 16;
    const { vectors, index } = randomIndex(2000, d, 8, 5);
    const queries = gaussian(30 * d, 6);
    const I = new Int32Array(30 * 8);
    const D = new Float32Array(30 * 8);
    index.search(queries, 30, 8, I, D); // the index's own nprobe, 1
    let differsFromBruteForce = 0;
    for (let q = 0; q < 30; q++) {
      const nearest = bruteForce(index.centroids, d, queries, q * d, 1).ids[0]!;
      const members = Array.from(index.ids.subarray(index.listOffsets[nearest]!, index.listOffsets[nearest + 1]!));
      const sub = new Float32Array(members.length * d);
      members.forEach((id, j) => sub.set(vectors.subarray(id * d, id * d + d), j * d));
      const bf = bruteForce(sub, d, queries, q * d, 8);
      assert.deepEqual([...I.subarray(q * 8, q * 8 + 8)], bf.ids.map((j) => members[j]!), `query ${q}`);
      const all = bruteForce(vectors, d, queries, q * d, 8);
      if (all.ids.join() !== bf.ids.map((j) => members[j]!).join()) differsFromBruteForce++;
    }
    assert.ok(differsFromBruteForce > 0, 'at nprobe 1 some queries should miss neighbours in other lists');
  });

  test('ties are broken by the lower id even when the higher id is met first', () => {
    // List 0 holds id 1 at (−6, 0) (and id 2), list 1 holds id 0 at (6, 0); both are 36 from the origin.
    const index = buildIvfFlat({ d: 2, centroids: new Float32Array([-5, 0, 5, 0]), vectors: new Float32Array([6, 0, -6, 0, 0, 9]) });
    assert.deepEqual([...index.ids], [1, 2, 0]);
    const I = new Int32Array(3);
    const D = new Float32Array(3);
    index.search(new Float32Array([0, 0]), 1, 3, I, D, 2);
    assert.deepEqual([...I], [0, 1, 2]);
    assert.deepEqual([...D], [36, 36, 81]);
    // k = 1: id 1 is met first and id 0 must displace it on the tie.
    index.search(new Float32Array([0, 0]), 1, 1, I, D, 2);
    assert.deepEqual([I[0], D[0]], [0, 36]);
  });

  test('the stored nprobe is the default and is clamped to nlist', () => {
    const { index } = randomIndex(100, 4, 4, 1, 99);
    assert.equal(index.nprobe, 4);
    const bytes = writeIvfFlatIndex(index);
    const v = new DataView(bytes.buffer);
    v.setBigUint64(layout(4, 4).nprobeAt, 0n, true);
    assert.equal(parseFaissIndex(bytes, 'zero-nprobe.index').nprobe, 1);
    v.setBigUint64(layout(4, 4).nprobeAt, 99n, true);
    assert.equal(parseFaissIndex(bytes, 'many-nprobe.index').nprobe, 4);
  });
});

describe('blend', () => {
  // One list; around `o`: two near vectors and six far ones in symmetric pairs that cancel in Σw·v.
  function handIndex(o: [number, number]) {
    const pts = [[1, 0], [0, 2], [40, 0], [-40, 0], [0, 40], [0, -40], [40, 40], [-40, -40]];
    const vectors = new Float32Array(pts.flatMap(([x, y]) => [x! + o[0], y! + o[1]]));
    return buildIvfFlat({ d: 2, vectors, centroids: new Float32Array(o) });
  }
  // Squared distances 1, 4, 1600 ×4, 3200 ×2; RVC's weights are 1/score²: 1, 1/16, 1/1600² ×4, 1/3200² ×2.
  const wSum = 1 + 1 / 16 + 4 / 1600 ** 2 + 2 / 3200 ** 2;
  const retrieved = [1 / wSum, 2 / 16 / wSum];

  test('weights are 1/score² of the squared-L2 scores, normalised, mixed by the ratio', () => {
    const idx = handIndex([0, 0]);
    const f = new Float32Array([0, 0]);
    idx.blend(f, 1, 1, 0.5, null);
    assert.ok(Math.abs(f[0]! - retrieved[0]!) < 1e-6 && Math.abs(f[1]! - retrieved[1]!) < 1e-6, `got ${[...f]}, want ${retrieved}`);
    const shifted = handIndex([5, -3]);
    const g = new Float32Array([5, -3, 5, -3]);
    shifted.blend(g, 2, 0.25, 0.5, null);
    const want = [5 + 0.25 * retrieved[0]!, -3 + 0.25 * retrieved[1]!];
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(g[i]! - want[i % 2]!) < 1e-5, `got ${[...g]}, want ${want}`);
  });

  test('a query equal to a stored vector takes that vector (no NaN from a zero distance)', () => {
    const idx = handIndex([0, 0]);
    const f = new Float32Array([0, 2]);
    idx.blend(f, 1, 1, 0.5, null);
    assert.ok(Math.abs(f[0]!) < 1e-12 && Math.abs(f[1]! - 2) < 1e-12, `got ${[...f]}`);
  });

  test('ratio 0 leaves feats bit-identical and does not search', () => {
    const { index } = randomIndex(500, 16, 8, 3);
    (index as unknown as { searchRows: () => void }).searchRows = () => {
      throw new Error('searched');
    };
    const feats = gaussian(10 * 16, 4);
    const before = new Uint8Array(feats.buffer.slice(0));
    index.blend(feats, 10, 0, 0.2, new Float32Array(10));
    assert.deepEqual(new Uint8Array(feats.buffer), before);
  });

  test('protect mixes only `protect` of the blend into frames with f0 < 1 Hz; 0.5 turns it off', () => {
    const d = 16;
    const T = 6;
    const { vectors, index } = randomIndex(1500, d, 8, 11);
    const feats0 = gaussian(T * d, 12);
    const f0 = new Float32Array([180, 0, 0.5, 1, -3, 95]);
    const unvoiced = [false, true, true, false, true, false]; // RVC: pitchf > 0 → 1, then pitchf < 1 → protect
    const ratio = 0.75;
    const expectBlend = (t: number): number[] => {
      const bf = bruteForce(vectors, d, feats0, t * d, BLEND_K);
      const w = bf.dist.map((s) => 1 / (s * s));
      const sum = w.reduce((a, b) => a + b, 0);
      return Array.from({ length: d }, (_, c) => {
        const r = bf.ids.reduce((acc, id, j) => acc + (w[j]! / sum) * vectors[id * d + c]!, 0);
        return ratio * r + (1 - ratio) * feats0[t * d + c]!;
      });
    };
    for (const protect of [0, 0.33, 0.5]) {
      const f = feats0.slice();
      index.blend(f, T, ratio, protect, f0, index.nlist);
      for (let t = 0; t < T; t++) {
        const b = expectBlend(t);
        const m = unvoiced[t] && protect < 0.5 ? protect : 1;
        for (let c = 0; c < d; c++) {
          const x = feats0[t * d + c]!;
          const want = b[c]! * m + x * (1 - m);
          assert.ok(Math.abs(f[t * d + c]! - want) < 1e-5, `protect ${protect}, frame ${t}, dim ${c}: ${f[t * d + c]} vs ${want}`);
          if (m === 0) assert.equal(f[t * d + c], x, 'protect 0 keeps unvoiced frames exactly');
        }
      }
    }
    const noF0 = feats0.slice();
    index.blend(noF0, T, ratio, 0, null, index.nlist);
    for (let c = 0; c < d; c++) assert.ok(Math.abs(noF0[d + c]! - expectBlend(1)[c]!) < 1e-5, 'without f0 nothing is protected');
  });

  test('reserve sizes the scratch once; later blocks reuse it', () => {
    const { index } = randomIndex(500, 16, 8, 3);
    index.reserve(25);
    const scratch = index as unknown as { blendIdx: Int32Array; heapDist: Float64Array };
    const idxBuf = scratch.blendIdx;
    const heap = scratch.heapDist;
    const feats = gaussian(25 * 16, 8);
    for (let i = 0; i < 3; i++) index.blend(feats, 25, 0.5, 0.33, new Float32Array(25));
    assert.equal(scratch.blendIdx, idxBuf);
    assert.equal(scratch.heapDist, heap);
    assert.ok(feats.every(Number.isFinite));
  });

  test('out-of-range settings are refused', () => {
    const { index } = randomIndex(100, 4, 2, 3);
    const f = new Float32Array(8);
    assert.throws(() => index.blend(f, 2, 1.5, 0.3, null), RangeError);
    assert.throws(() => index.blend(f, 2, 0.5, 0.7, null), RangeError);
    assert.throws(() => index.blend(f, 3, 0.5, 0.3, null), RangeError);
    assert.throws(() => index.blend(f, 2, 0.5, 0.3, new Float32Array(1)), RangeError);
    assert.throws(() => index.search(f, 2, 8, new Int32Array(8), new Float32Array(8)), RangeError);
  });
});

describe('corrupt files', () => {
  const small = fromBase64(FAISS_SMALL);
  const L = layout(4, 4);
  const patched = (edit: (v: DataView, b: Uint8Array) => void): Uint8Array => {
    const b = small.slice();
    edit(new DataView(b.buffer), b);
    return b;
  };

  test('every truncation is an IndexFormatError naming the file, as are trailing bytes', () => {
    for (let n = 0; n < small.length; n++) expectFormatError(() => parseFaissIndex(small.subarray(0, n), 'cut.index'), 'cut.index', n === 0 ? /empty/ : /truncated/);
    const longer = new Uint8Array(small.length + 3);
    longer.set(small);
    expectFormatError(() => parseFaissIndex(longer, 'long.index'), 'long.index', /unexpected bytes/);
  });

  test('wrong fourccs say what the file is', () => {
    const tag = (s: string) => patched((_, b) => b.set(Buffer.from(s, 'latin1'), 0));
    expectFormatError(() => parseFaissIndex(tag('ABCD'), 'x.index'), 'x.index', /not a FAISS IVF-Flat index.*"ABCD"/);
    expectFormatError(() => parseFaissIndex(tag('IxMp'), 'x.index'), 'x.index', /IndexIDMap/);
    expectFormatError(() => parseFaissIndex(tag('IwPQ'), 'x.index'), 'x.index', /IVF-PQ/);
    expectFormatError(() => parseFaissIndex(patched((_, b) => b.set(Buffer.from('IxFI'), L.quantizer)), 'x.index'), 'x.index', /quantizer/);
    expectFormatError(() => parseFaissIndex(patched((_, b) => b.set(Buffer.from('ilod'), L.ilar)), 'x.index'), 'x.index', /on-disk/);
    expectFormatError(() => parseFaissIndex(patched((_, b) => b.set(Buffer.from('fuli'), L.listType)), 'x.index'), 'x.index', /"fuli"/);
  });

  test('a list size beyond the file, and sizes that disagree with ntotal', () => {
    const huge = patched((v) => v.setBigUint64(L.sizes, 1n << 40n, true));
    expectFormatError(() => parseFaissIndex(huge, 'big.index'), 'big.index', /size of list 0/);
    const plus = patched((v) => v.setBigUint64(L.sizes, 8n, true));
    expectFormatError(() => parseFaissIndex(plus, 'sum.index'), 'sum.index', /41 vectors.*ntotal 40/);
    const both = patched((v) => {
      v.setBigUint64(L.sizes, 8n, true);
      v.setBigInt64(L.ntotal, 41n, true);
    });
    expectFormatError(() => parseFaissIndex(both, 'short.index'), 'short.index', /truncated/);
  });

  test('metrics other than L2, and inconsistent headers', () => {
    const ip = patched((v) => v.setInt32(L.metric, 0, true));
    expectFormatError(() => parseFaissIndex(ip, 'ip.index'), 'ip.index', /inner product metric.*IVF-Flat L2/);
    expectFormatError(() => parseFaissIndex(patched((v) => v.setInt32(L.quantizerMetric, 0, true)), 'q.index'), 'q.index', /quantizer uses the inner product/);
    expectFormatError(() => parseFaissIndex(patched((v) => v.setBigUint64(L.nlistAt, 0n, true)), 'n0.index'), 'n0.index', /nlist is 0/);
    expectFormatError(() => parseFaissIndex(patched((v) => v.setBigUint64(L.nlistAt, 1n << 50n, true)), 'nbig.index'), 'nbig.index', /nlist/);
    expectFormatError(() => parseFaissIndex(patched((v) => v.setInt32(L.quantizerD, 5, true)), 'qd.index'), 'qd.index', /quantizer has d 5/);
    expectFormatError(() => parseFaissIndex(patched((v) => v.setBigUint64(L.codeSize, 20n, true)), 'cs.index'), 'cs.index', /code size is 20/);
    expectFormatError(() => parseFaissIndex(patched((v) => v.setInt32(4, 0, true)), 'd0.index'), 'd0.index', /dimension d is 0/);
    expectFormatError(() => parseFaissIndex(patched((v) => v.setBigInt64(L.ntotal, -1n, true)), 'neg.index'), 'neg.index', /ntotal/);
    expectFormatError(() => parseFaissIndex(patched((v) => v.setBigInt64(L.ntotal, 0n, true)), 'trained.index'), 'trained.index', /added_/);
    const lastId = small.length - 8;
    expectFormatError(() => parseFaissIndex(patched((v) => v.setBigInt64(lastId, 40n, true)), 'id.index'), 'id.index', /id in list 3/);
    expectFormatError(() => parseFaissIndex(patched((v) => v.setFloat32(L.centroids, NaN, true)), 'nan.index'), 'nan.index', /centroid 0/);
  });

  test('random bytes and flipped bytes never escape as anything but IndexFormatError', () => {
    const r = rng(7);
    for (let i = 0; i < 200; i++) {
      const junk = new Uint8Array(1 + Math.floor(r() * 2000)).map(() => Math.floor(r() * 256));
      if (i % 2) junk.set(small.subarray(0, Math.min(junk.length, Math.floor(r() * small.length)))); // a plausible start
      try {
        parseFaissIndex(junk, 'junk.index');
        assert.fail('random bytes parsed');
      } catch (e) {
        assert.ok(e instanceof IndexFormatError && e.message.startsWith('junk.index: '), String(e));
      }
    }
    for (let i = 0; i < 500; i++) {
      const b = small.slice();
      b[Math.floor(r() * b.length)] ^= 1 << Math.floor(r() * 8);
      try {
        parseFaissIndex(b, 'flip.index'); // a flip inside a vector value still parses
      } catch (e) {
        assert.ok(e instanceof IndexFormatError && e.message.startsWith('flip.index: '), String(e));
      }
    }
  });

  test('an empty file and a missing file on disk', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const empty = path.join(dir, 'empty.index');
      writeFileSync(empty, new Uint8Array(0));
      await assert.rejects(readFaissIndex(empty), (e: Error) => e instanceof IndexFormatError && e.message.startsWith(`${empty}: `) && /empty/.test(e.message));
      const missing = path.join(dir, 'missing.index');
      await assert.rejects(readFaissIndex(missing), (e: Error) => e instanceof IndexFormatError && e.message.startsWith(`${missing}: `));
    } finally {
      cleanup();
    }
  });
});

test('FeatureIndex refuses inconsistent arrays', () => {
  assert.throws(() => new FeatureIndex({ d: 2, nprobe: 1, centroids: new Float32Array(2), listOffsets: new Int32Array([0, 2]), vectors: new Float32Array(2), ids: new Int32Array(1) }), RangeError);
});
