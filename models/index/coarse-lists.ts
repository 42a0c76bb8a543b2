// An IVF-Flat index over a set of vectors that came without one: so-vits-svc's kmeans centres (10,000 × C)
// are searched for the nearest centre once per content frame, and a scan of all of them (7.7 M multiply-adds
// per frame at C = 768) costs more than a real-time block can spare. A coarse quantiser of about √K lists,
// trained here by a few rounds of k-means on the vectors themselves, lets a search look at nprobe lists of
// about √K vectors each instead. The index is an ordinary FeatureIndex, so it is saved with the FAISS writer
// and read back with the FAISS reader like any other.
import { buildIvfFlat, type FeatureIndex } from './feature-index.js';

/** Lloyd rounds: the lists only need to be coherent, not converged (a probe of several lists hides the rest). */
const ROUNDS = 6;

function dist2(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) {
    const x = a[ao + i]! - b[bo + i]!;
    s += x * x;
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
  const assign = new Int32Array(n);
  const sums = new Float64Array(nlist * d);
  const counts = new Int32Array(nlist);
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let l = 0; l < nlist; l++) {
        const dd = dist2(vectors, i * d, centroids, l * d, d);
        if (dd < bestD) {
          bestD = dd;
          best = l;
        }
      }
      assign[i] = best;
    }
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const l = assign[i]!;
      counts[l]++;
      for (let c = 0; c < d; c++) sums[l * d + c] += vectors[i * d + c]!;
    }
    // An emptied list keeps its old centroid (it may win rows back next round).
    for (let l = 0; l < nlist; l++) if (counts[l]! > 0) for (let c = 0; c < d; c++) centroids[l * d + c] = sums[l * d + c]! / counts[l]!;
  }
  return buildIvfFlat({ d, vectors, centroids, nprobe });
}
