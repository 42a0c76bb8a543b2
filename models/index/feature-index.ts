// In-memory IVF-Flat index of an RVC voice's training features, and RVC's "index retrieval" blend.
// The vectors of all inverted lists sit in one Float32Array in list order, so probing a list is a linear scan
// of contiguous memory. Search and blend run once per audio block, so they work in scratch buffers sized once
// (reserve(), or the first call) and allocate nothing per call after that.

/** Neighbours per frame in RVC's blend (`index.search(npy, k=8)`). */
export const BLEND_K = 8;
/** What FAISS reports for a missing neighbour (fewer than k vectors in the probed lists): id −1, FLT_MAX. */
export const MISSING_ID = -1;
export const MISSING_DIST = 3.4028234663852886e38;
/**
 * Floor on a squared distance before 1/d². RVC divides by the raw score, so a query equal to a stored vector
 * (score 0) turns the whole frame into NaN there; with the floor that vector simply dominates the weights.
 */
export const BLEND_EPS = 1e-12;

/** The arrays of an IVF-Flat index: what the FAISS reader produces and the writer consumes. */
export interface IvfFlatData {
  /** Dimension (256 for RVC v1 voices, 768 for v2). */
  readonly d: number;
  /** Lists probed by default (FAISS's stored nprobe; RVC's train step stores 1). */
  readonly nprobe: number;
  /** nlist × d coarse centroids (the IndexFlatL2 quantizer's vectors). */
  readonly centroids: Float32Array;
  /** nlist + 1 offsets into the vector rows: list l holds rows listOffsets[l] .. listOffsets[l+1]−1. */
  readonly listOffsets: Int32Array;
  /** ntotal × d vectors, list after list. */
  readonly vectors: Float32Array;
  /** ntotal FAISS ids, one per row (RVC's ids are 0..ntotal−1, the order the features were added in). */
  readonly ids: Int32Array;
}

export class FeatureIndex implements IvfFlatData {
  readonly d: number;
  readonly nlist: number;
  readonly ntotal: number;
  readonly nprobe: number;
  readonly centroids: Float32Array;
  readonly listOffsets: Int32Array;
  readonly vectors: Float32Array;
  readonly ids: Int32Array;

  // Scratch. Heaps hold (distance, key, row); the probe heap is sized nlist so any nprobe fits.
  private heapDist = new Float64Array(0);
  private heapKey = new Int32Array(0);
  private heapRow = new Int32Array(0);
  private probeDist = new Float64Array(0);
  private probeKey = new Int32Array(0);
  private blendIdx = new Int32Array(0);
  private blendDist = new Float32Array(0);
  private blendW = new Float64Array(BLEND_K);
  private blendAcc: Float64Array;

  constructor(data: IvfFlatData) {
    const { d, nprobe, centroids, listOffsets, vectors, ids } = data;
    if (!Number.isInteger(d) || d < 1) throw new RangeError(`FeatureIndex: d must be a positive integer, got ${d}`);
    const nlist = listOffsets.length - 1;
    if (nlist < 1) throw new RangeError('FeatureIndex: at least one inverted list is needed');
    if (centroids.length !== nlist * d) throw new RangeError(`FeatureIndex: ${centroids.length} centroid values for nlist ${nlist} × d ${d}`);
    const ntotal = ids.length;
    if (vectors.length !== ntotal * d) throw new RangeError(`FeatureIndex: ${vectors.length} vector values for ${ntotal} ids × d ${d}`);
    if (listOffsets[0] !== 0 || listOffsets[nlist] !== ntotal) throw new RangeError('FeatureIndex: list offsets must run from 0 to ntotal');
    for (let l = 0; l < nlist; l++) {
      if (listOffsets[l + 1]! < listOffsets[l]!) throw new RangeError(`FeatureIndex: list offsets decrease at list ${l}`);
    }
    if (!Number.isInteger(nprobe) || nprobe < 1) throw new RangeError(`FeatureIndex: nprobe must be a positive integer, got ${nprobe}`);
    this.d = d;
    this.nlist = nlist;
    this.ntotal = ntotal;
    this.nprobe = Math.min(nprobe, nlist);
    this.centroids = centroids;
    this.listOffsets = listOffsets;
    this.vectors = vectors;
    this.ids = ids;
    this.blendAcc = new Float64Array(d);
  }

  /** Sizes the scratch for blocks of up to maxQueries frames and k neighbours, so no later call allocates. */
  reserve(maxQueries: number, k: number = BLEND_K): void {
    if (!Number.isInteger(maxQueries) || maxQueries < 0) throw new RangeError(`reserve: maxQueries must be a non-negative integer, got ${maxQueries}`);
    this.ensureSearchScratch(k);
    this.ensureBlendScratch(maxQueries);
  }

  /**
   * The k nearest vectors (squared L2) of each of nq queries (rows of `queries`), probing the nprobe lists
   * whose centroids are nearest. Row q of outIdx/outDist gets ids and distances in increasing distance,
   * ties broken by lower id; missing neighbours are MISSING_ID / MISSING_DIST as in FAISS.
   * nprobe ≥ nlist scans every list and so is exact brute force.
   */
  search(queries: Float32Array, nq: number, k: number, outIdx: Int32Array, outDist: Float32Array, nprobe: number = this.nprobe): void {
    this.searchRows(queries, nq, k, outIdx, outDist, nprobe);
    const ids = this.ids;
    for (let i = 0; i < nq * k; i++) {
      const r = outIdx[i]!;
      if (r >= 0) outIdx[i] = ids[r]!;
    }
  }

  /**
   * RVC's retrieval blend on T frames of encoder features (rows of `feats`, changed in place), as
   * infer/modules/vc/pipeline.py (Pipeline.vc) and its real-time rtrvc.py / rvc_for_realtime.py do it:
   *
   *   score, ix = index.search(feats, k=8)          # squared L2 distances
   *   w = (1/score)²; w /= Σw                        # so 1/d⁴ in Euclidean distance: d² is squared again
   *   retrieved = Σ w·big_npy[ix]
   *   blended = ratio·retrieved + (1−ratio)·feats
   *
   * and then "protect", applied only when protect < 0.5 and the voice has f0:
   *
   *   mask = 1 where pitchf > 0, then mask = protect where pitchf < 1  (so f0 < 1 Hz, i.e. unvoiced → protect)
   *   out = blended·mask + feats·(1−mask)
   *
   * so an unvoiced frame keeps (1−protect) of its own features, and protect = 0.5 switches protection off
   * altogether (a step: 0.49 still mixes only 49 % of the blend into unvoiced frames). RVC applies the mask
   * after repeating each 50 fps feature frame to 100 fps; here f0[t] belongs to feats row t, so callers that
   * blend at 50 fps pass one f0 value per 50 fps frame (the two differ only at a voicing edge).
   * f0 NaN counts as unvoiced. Missing neighbours (fewer than 8 vectors in the probed lists) weigh 0, as
   * their FLT_MAX score makes them weigh in offline RVC; a frame with none at all is left unchanged, where
   * offline RVC turns it into NaN and real-time RVC skips the whole block. ratio 0 does no search and leaves
   * feats bit-identical.
   */
  blend(feats: Float32Array, T: number, ratio: number, protect: number, f0: Float32Array | null, nprobe: number = this.nprobe): void {
    const d = this.d;
    if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`blend: ratio must be within 0..1, got ${ratio}`);
    if (!(protect >= 0 && protect <= 0.5)) throw new RangeError(`blend: protect must be within 0..0.5, got ${protect}`);
    if (!Number.isInteger(T) || T < 0 || feats.length < T * d) throw new RangeError(`blend: feats holds ${feats.length} values, fewer than T ${T} × d ${d}`);
    if (f0 !== null && f0.length < T) throw new RangeError(`blend: f0 has ${f0.length} frames, fewer than T ${T}`);
    if (ratio === 0 || T === 0) return;
    this.ensureBlendScratch(T);
    const nIdx = this.blendIdx;
    const nDist = this.blendDist;
    // Every frame is searched before any is changed: the blend writes into the queries.
    this.searchRows(feats, T, BLEND_K, nIdx, nDist, nprobe);
    const w = this.blendW;
    const acc = this.blendAcc;
    const vectors = this.vectors;
    const protecting = f0 !== null && protect < 0.5;
    const keep = 1 - ratio;
    for (let t = 0; t < T; t++) {
      const base = t * BLEND_K;
      let sum = 0;
      for (let j = 0; j < BLEND_K; j++) {
        if (nIdx[base + j]! < 0) {
          w[j] = 0;
          continue;
        }
        const s = Math.max(nDist[base + j]!, BLEND_EPS);
        w[j] = 1 / (s * s);
        sum += w[j]!;
      }
      if (!(sum > 0 && sum < Infinity)) continue;
      acc.fill(0);
      for (let j = 0; j < BLEND_K; j++) {
        const r = nIdx[base + j]!;
        if (r < 0) continue;
        const wj = w[j]! / sum;
        const vo = r * d;
        for (let c = 0; c < d; c++) acc[c] += wj * vectors[vo + c]!;
      }
      const fo = t * d;
      if (protecting && !(f0![t]! >= 1)) {
        const m = protect;
        for (let c = 0; c < d; c++) {
          const x = feats[fo + c]!;
          feats[fo + c] = (ratio * acc[c]! + keep * x) * m + x * (1 - m);
        }
      } else {
        for (let c = 0; c < d; c++) feats[fo + c] = ratio * acc[c]! + keep * feats[fo + c]!;
      }
    }
  }

  /**
   * so-vits-svc's cluster blend (SOVITS-NOTES §4) on T frames of `feats`, in place: each frame moves toward the
   * vector nearest to it, c ← ratio·nearest + (1−ratio)·c. With the kmeans centres as the vectors that is
   * `ratio·centres[kmeans.predict(c)] + (1−ratio)·c`. nprobe ≥ nlist is the exact nearest vector; fewer lists
   * bound the cost (see bench/sovits-retrieval.ts). ratio 0 does no search and leaves feats bit-identical.
   */
  blendNearest(feats: Float32Array, T: number, ratio: number, nprobe: number = this.nprobe): void {
    const d = this.d;
    if (!(ratio >= 0 && ratio <= 1)) throw new RangeError(`blendNearest: ratio must be within 0..1, got ${ratio}`);
    if (!Number.isInteger(T) || T < 0 || feats.length < T * d) throw new RangeError(`blendNearest: feats holds ${feats.length} values, fewer than T ${T} × d ${d}`);
    if (ratio === 0 || T === 0) return;
    this.ensureBlendScratch(T);
    const nIdx = this.blendIdx;
    // k = 1 into the first T slots of the blend scratch (sized T·BLEND_K).
    this.searchRows(feats, T, 1, nIdx, this.blendDist, nprobe);
    const vectors = this.vectors;
    const keep = 1 - ratio;
    for (let t = 0; t < T; t++) {
      const r = nIdx[t]!;
      if (r < 0) continue;
      const fo = t * d;
      const vo = r * d;
      for (let c = 0; c < d; c++) feats[fo + c] = ratio * vectors[vo + c]! + keep * feats[fo + c]!;
    }
  }

  /** search() with row numbers (positions in `vectors`) in place of ids. */
  private searchRows(queries: Float32Array, nq: number, k: number, outRow: Int32Array, outDist: Float32Array, nprobe: number): void {
    const d = this.d;
    if (!Number.isInteger(nq) || nq < 0 || queries.length < nq * d) throw new RangeError(`search: queries hold ${queries.length} values, fewer than nq ${nq} × d ${d}`);
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`search: k must be a positive integer, got ${k}`);
    if (outRow.length < nq * k || outDist.length < nq * k) throw new RangeError(`search: outputs must hold nq ${nq} × k ${k} values`);
    if (!Number.isInteger(nprobe) || nprobe < 1) throw new RangeError(`search: nprobe must be a positive integer, got ${nprobe}`);
    const np = Math.min(nprobe, this.nlist);
    this.ensureSearchScratch(k);
    const hd = this.heapDist;
    const hk = this.heapKey;
    const hr = this.heapRow;
    const pd = this.probeDist;
    const pk = this.probeKey;
    const { centroids, vectors, ids, listOffsets, nlist } = this;
    for (let q = 0; q < nq; q++) {
      const qo = q * d;
      let nProbed = nlist;
      if (np < nlist) {
        let n = 0;
        for (let l = 0; l < nlist; l++) {
          const dist = l2sq(queries, qo, centroids, l * d, d, n < np ? Infinity : pd[0]!);
          if (n < np) heapPush(pd, pk, pk, n++, dist, l, l);
          else if (dist < pd[0]! || (dist === pd[0]! && l < pk[0]!)) heapReplaceTop(pd, pk, pk, n, dist, l, l);
        }
        nProbed = n;
      }
      let n = 0;
      for (let p = 0; p < nProbed; p++) {
        const l = np < nlist ? pk[p]! : p;
        const end = listOffsets[l + 1]!;
        for (let r = listOffsets[l]!; r < end; r++) {
          const dist = l2sq(queries, qo, vectors, r * d, d, n < k ? Infinity : hd[0]!);
          if (n < k) heapPush(hd, hk, hr, n++, dist, ids[r]!, r);
          else if (dist < hd[0]! || (dist === hd[0]! && ids[r]! < hk[0]!)) heapReplaceTop(hd, hk, hr, n, dist, ids[r]!, r);
        }
      }
      heapSortAscending(hd, hk, hr, n);
      const oo = q * k;
      for (let j = 0; j < k; j++) {
        if (j < n) {
          outRow[oo + j] = hr[j]!;
          outDist[oo + j] = hd[j]!;
        } else {
          outRow[oo + j] = MISSING_ID;
          outDist[oo + j] = MISSING_DIST;
        }
      }
    }
  }

  private ensureSearchScratch(k: number): void {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
    if (this.heapDist.length < k) {
      this.heapDist = new Float64Array(k);
      this.heapKey = new Int32Array(k);
      this.heapRow = new Int32Array(k);
    }
    if (this.probeDist.length < this.nlist) {
      this.probeDist = new Float64Array(this.nlist);
      this.probeKey = new Int32Array(this.nlist);
    }
  }

  private ensureBlendScratch(frames: number): void {
    if (this.blendIdx.length < frames * BLEND_K) {
      this.blendIdx = new Int32Array(frames * BLEND_K);
      this.blendDist = new Float32Array(frames * BLEND_K);
    }
  }
}

/**
 * Squared L2 distance in float64. Four partial sums let V8 overlap the adds; the result depends only on the
 * two rows, so a vector met through any list gets the same distance, which is what makes a full probe equal
 * brute force.
 *
 * Past `bound` the exact value no longer matters (the candidate is rejected), so the sum stops early once its
 * partial total exceeds it: squares only add, and float addition is monotone, so a partial total above the
 * bound means the full one is too, and a sum that runs to the end is the same as without a bound.
 */
function l2sq(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number, bound = Infinity): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (let stop = 0; i + 4 <= d; ) {
    stop = Math.min(i + CHECK_EVERY, d - (d % 4));
    for (; i < stop; i += 4) {
      const t0 = a[ao + i]! - b[bo + i]!;
      const t1 = a[ao + i + 1]! - b[bo + i + 1]!;
      const t2 = a[ao + i + 2]! - b[bo + i + 2]!;
      const t3 = a[ao + i + 3]! - b[bo + i + 3]!;
      s0 += t0 * t0;
      s1 += t1 * t1;
      s2 += t2 * t2;
      s3 += t3 * t3;
    }
    const partial = s0 + s1 + (s2 + s3);
    if (partial > bound) return partial;
  }
  for (; i < d; i++) {
    const t = a[ao + i]! - b[bo + i]!;
    s0 += t * t;
  }
  return s0 + s1 + (s2 + s3);
}

/** Dimensions between early-exit checks: 12 checks over a 768-d row. */
const CHECK_EVERY = 64;

// Max-heap on (distance, key) kept in three parallel arrays: the root is the worst of the best so far.
// `row` may alias `key` (the probe heap, where the key is the list number).

function worse(dA: number, kA: number, dB: number, kB: number): boolean {
  return dA > dB || (dA === dB && kA > kB);
}

function heapPush(hd: Float64Array, hk: Int32Array, hr: Int32Array, size: number, dist: number, key: number, row: number): void {
  let i = size;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!worse(dist, key, hd[parent]!, hk[parent]!)) break;
    hd[i] = hd[parent]!;
    hk[i] = hk[parent]!;
    hr[i] = hr[parent]!;
    i = parent;
  }
  hd[i] = dist;
  hk[i] = key;
  hr[i] = row;
}

function siftDown(hd: Float64Array, hk: Int32Array, hr: Int32Array, size: number, dist: number, key: number, row: number): void {
  let i = 0;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= size) break;
    if (c + 1 < size && worse(hd[c + 1]!, hk[c + 1]!, hd[c]!, hk[c]!)) c++;
    if (!worse(hd[c]!, hk[c]!, dist, key)) break;
    hd[i] = hd[c]!;
    hk[i] = hk[c]!;
    hr[i] = hr[c]!;
    i = c;
  }
  hd[i] = dist;
  hk[i] = key;
  hr[i] = row;
}

function heapReplaceTop(hd: Float64Array, hk: Int32Array, hr: Int32Array, size: number, dist: number, key: number, row: number): void {
  siftDown(hd, hk, hr, size, dist, key, row);
}

/** In-place heap sort: leaves entries 0..size−1 in increasing (distance, key). */
function heapSortAscending(hd: Float64Array, hk: Int32Array, hr: Int32Array, size: number): void {
  for (let end = size - 1; end > 0; end--) {
    const d = hd[end]!;
    const k = hk[end]!;
    const r = hr[end]!;
    hd[end] = hd[0]!;
    hk[end] = hk[0]!;
    hr[end] = hr[0]!;
    siftDown(hd, hk, hr, end, d, k, r);
  }
}

/**
 * Builds an IVF-Flat index from vectors and centroids: each vector goes to the list of its nearest centroid
 * (lower list on a tie) unless `assign` gives the lists, and keeps its row number as id, as FAISS's add()
 * does. For tests, benchmarks and fixtures; RVC's own indexes come from a file.
 */
export function buildIvfFlat(o: { d: number; vectors: Float32Array; centroids: Float32Array; nprobe?: number; assign?: Int32Array }): FeatureIndex {
  const { d, vectors, centroids } = o;
  const n = vectors.length / d;
  const nlist = centroids.length / d;
  if (!Number.isInteger(n) || !Number.isInteger(nlist) || nlist < 1) throw new RangeError('buildIvfFlat: vectors and centroids must be whole rows of d values, with at least one centroid');
  let assign = o.assign;
  if (assign === undefined) {
    assign = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let l = 0; l < nlist; l++) {
        const dist = l2sq(vectors, i * d, centroids, l * d, d, bestD);
        if (dist < bestD) {
          bestD = dist;
          best = l;
        }
      }
      assign[i] = best;
    }
  }
  if (assign.length !== n) throw new RangeError(`buildIvfFlat: ${assign.length} assignments for ${n} vectors`);
  const listOffsets = new Int32Array(nlist + 1);
  for (let i = 0; i < n; i++) {
    const l = assign[i]!;
    if (!(l >= 0 && l < nlist)) throw new RangeError(`buildIvfFlat: vector ${i} assigned to list ${l}, outside 0..${nlist - 1}`);
    listOffsets[l + 1]++;
  }
  for (let l = 0; l < nlist; l++) listOffsets[l + 1] += listOffsets[l]!;
  const fill = listOffsets.slice(0, nlist);
  const sorted = new Float32Array(n * d);
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = fill[assign[i]!]!++;
    sorted.set(vectors.subarray(i * d, (i + 1) * d), r * d);
    ids[r] = i;
  }
  return new FeatureIndex({ d, nprobe: o.nprobe ?? 1, centroids, listOffsets, vectors: sorted, ids });
}
