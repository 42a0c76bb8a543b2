// An IVF-Flat index over a set of vectors that came without one: so-vits-svc's kmeans centres (10,000 × C)
// are searched for the nearest centre once per content frame, and a scan of all of them (7.7 M multiply-adds
// per frame at C = 768) costs more than a real-time block can spare. A coarse quantiser of about √K lists,
// trained here by a few rounds of k-means on the vectors themselves, lets a search look at nprobe lists of
// about √K vectors each instead. The index is an ordinary FeatureIndex, so it is saved with the FAISS writer
// and read back with the FAISS reader like any other.
import { buildIvfFlat, type FeatureIndex } from './feature-index.js';

/** Lloyd rounds: the lists only need to be coherent, not converged (a probe of several lists hides the rest). */
const ROUNDS = 4;
/** Training rows per list, as FAISS's k-means samples (it warns under 39): more only slows the import. */
const TRAIN_PER_LIST = 40;

/** Squared distance; stops once past `bound`, where the exact value no longer matters. */
function dist2(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number, bound: number): number {
  let s = 0;
  for (let i = 0; i < d; i += 64) {
    const end = Math.min(d, i + 64);
    for (let j = i; j < end; j++) {
      const x = a[ao + j]! - b[bo + j]!;
      s += x * x;
    }
    if (s > bound) return s;
  }
  return s;
}

/**
 * Lists for `vectors` (n rows of d): nlist = round(√n) k-means centroids, seeded with evenly spaced rows so the
 * result is the same on every run. ids are the row numbers, so search() answers rows of the input.
 */
export function indexWithCoarseLists(vectors: Float32Array, d: number, nprobe: number): FeatureIndex {
  const n = vectors.length / d;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`indexWithCoarseLists: ${vectors.length} values are not whole rows of ${d}`);
  const nlist = Math.max(1, Math.min(n, Math.round(Math.sqrt(n))));
  const centroids = new Float32Array(nlist * d);
  for (let l = 0; l < nlist; l++) centroids.set(vectors.subarray(Math.floor((l * n) / nlist) * d, (Math.floor((l * n) / nlist) + 1) * d), l * d);
  // Trained on evenly spaced rows (all of them when there are few); every row is assigned at the end.
  const step = Math.max(1, Math.floor(n / (TRAIN_PER_LIST * nlist)));
  const train = Math.ceil(n / step);
  const assign = new Int32Array(train);
  const sums = new Float64Array(nlist * d);
  const counts = new Int32Array(nlist);
  for (let round = 0; round < ROUNDS; round++) {
    for (let t = 0; t < train; t++) {
      const i = t * step;
      let best = 0;
      let bestD = Infinity;
      for (let l = 0; l < nlist; l++) {
        const dd = dist2(vectors, i * d, centroids, l * d, d, bestD);
        if (dd < bestD) {
          bestD = dd;
          best = l;
        }
      }
      assign[t] = best;
    }
    sums.fill(0);
    counts.fill(0);
    for (let t = 0; t < train; t++) {
      const l = assign[t]!;
      counts[l]++;
      for (let c = 0; c < d; c++) sums[l * d + c] += vectors[t * step * d + c]!;
    }
    // An emptied list keeps its old centroid (it may win rows back next round).
    for (let l = 0; l < nlist; l++) if (counts[l]! > 0) for (let c = 0; c < d; c++) centroids[l * d + c] = sums[l * d + c]! / counts[l]!;
  }
  return buildIvfFlat({ d, vectors, centroids, nprobe });
}
