// Cost of RVC's index retrieval per audio block, and what IVF probing gives up against brute force, on
// indexes of RVC's shape: d = 768 (v2), nlist = min(16·√N, N/39) as RVC's train step sets it (so lists hold
// ~39 vectors and the coarse quantizer alone has N/39 centroids), k = 8.
//
//   node dist/bench/feature-index.js [--sizes 10000,50000,200000] [--runs 20] [--frames 25]
//
// A block is 25 query frames: RVC searches the content features at 50 fps, before they are repeated to 100 fps,
// so 25 frames are 500 ms of new audio (or a 250 ms block plus its 250 ms of re-searched context). Cost is
// linear in frames, so ms/frame is printed too.
//
// The data are not uniform noise, where every point is about as far from every other and no index helps: 64
// clusters (think phones), each a 16-dimensional linear patch in 768-d plus a little isotropic noise, which
// gives nearest neighbours a meaning as HuBERT features have. Centroids are vectors drawn evenly from the
// clusters (no k-means) and each vector goes to its nearest centroid; clusters are far enough apart that the
// nearest centroid is always one of its own cluster's, so only those are compared. Queries come from the same
// clusters: a live speaker's features sit further from the training set, so real recall at nprobe 1 is if
// anything lower.
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { BLEND_K, buildIvfFlat, FeatureIndex } from '../models/index/feature-index.js';
import { rng } from '../test/helpers.js';

const D = 768;
const CLUSTERS = 64;
const RANK = 32;

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,50000,200000' },
    runs: { type: 'string', default: '20' },
    frames: { type: 'string', default: '25' },
  },
});
const sizes = args.sizes.split(',').map(Number);
const runs = Number(args.runs);
const frames = Number(args.frames);
if (sizes.some((n) => !(n >= 400)) || !(runs >= 1) || !(frames >= 1)) {
  console.error('usage: feature-index [--sizes 10000,50000,200000] [--runs 20] [--frames 25]   (sizes ≥ 400)');
  process.exit(2);
}


class Gauss {
  private spare: number | null = null;
  constructor(private readonly r: () => number) {}
  next(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const m = Math.sqrt(-2 * Math.log(1 - this.r()));
    const a = 2 * Math.PI * this.r();
    this.spare = m * Math.sin(a);
    return m * Math.cos(a);
  }
}

/** The generative model: cluster centres (spread 1 per dim) and per-cluster bases (column norm 3). */
function makeModel(seed: number) {
  const g = new Gauss(rng(seed));
  const centres = new Float32Array(CLUSTERS * D).map(() => g.next());
  const bases = new Float32Array(CLUSTERS * D * RANK).map(() => (3 * g.next()) / Math.sqrt(D));
  return { centres, bases };
}

function sample(model: ReturnType<typeof makeModel>, g: Gauss, cluster: number, out: Float32Array, at: number): void {
  const z = new Float64Array(RANK).map(() => g.next());
  const co = cluster * D;
  const bo = cluster * D * RANK;
  for (let c = 0; c < D; c++) {
    let v = model.centres[co + c]! + 0.05 * g.next();
    for (let j = 0; j < RANK; j++) v += model.bases[bo + c * RANK + j]! * z[j]!;
    out[at + c] = v;
  }
}

function l2(a: Float32Array, ao: number, b: Float32Array, bo: number): number {
  let s = 0;
  for (let c = 0; c < D; c++) {
    const t = a[ao + c]! - b[bo + c]!;
    s += t * t;
  }
  return s;
}

function buildIndex(n: number, model: ReturnType<typeof makeModel>): { index: FeatureIndex; buildSec: number } {
  const t0 = performance.now();
  const g = new Gauss(rng(n));
  const r = rng(n + 1);
  const nlist = Math.min(Math.floor(16 * Math.sqrt(n)), Math.floor(n / 39));
  const vectors = new Float32Array(n * D);
  const cluster = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    cluster[i] = i % CLUSTERS;
    sample(model, g, cluster[i]!, vectors, i * D);
  }
  // Centroid l is a vector of cluster l % CLUSTERS; vector i is in cluster i % CLUSTERS.
  const centroids = new Float32Array(nlist * D);
  const listsOf: number[][] = Array.from({ length: CLUSTERS }, () => []);
  for (let l = 0; l < nlist; l++) {
    const cl = l % CLUSTERS;
    const i = cl + CLUSTERS * Math.floor(r() * Math.floor((n - 1 - cl) / CLUSTERS + 1));
    centroids.set(vectors.subarray(i * D, i * D + D), l * D);
    listsOf[cl]!.push(l);
  }
  const assign = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bestD = Infinity;
    for (const l of listsOf[cluster[i]!]!) {
      const dist = l2(vectors, i * D, centroids, l * D);
      if (dist < bestD) {
        bestD = dist;
        best = l;
      }
    }
    assign[i] = best;
  }
  const index = buildIvfFlat({ d: D, vectors, centroids, assign, nprobe: 1 });
  return { index, buildSec: (performance.now() - t0) / 1000 };
}

function median(x: number[]): number {
  const s = [...x].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const model = makeModel(1);
console.log(`d ${D}, k ${BLEND_K}, ${frames} query frames per block, median of ${runs} runs after a warm-up, one thread, Node ${process.version}`);
console.log('N        nlist  list  MB     nprobe  ms/block  ms/frame  recall@8');
for (const n of sizes) {
  const { index } = buildIndex(n, model);
  const g = new Gauss(rng(7 * n + 3));
  const r = rng(5 * n);
  const blocks = Array.from({ length: runs + 1 }, () => {
    const q = new Float32Array(frames * D);
    for (let t = 0; t < frames; t++) sample(model, g, Math.floor(r() * CLUSTERS), q, t * D);
    return q;
  });
  index.reserve(frames, BLEND_K);
  const outI = new Int32Array(frames * BLEND_K);
  const outD = new Float32Array(frames * BLEND_K);
  const probes = [1, 4, 16, index.nlist];
  const results = new Map<number, Int32Array[]>();
  const times = new Map<number, number[]>();
  // Warm-up: let V8 compile the search at every nprobe before anything is timed.
  for (const nprobe of probes) for (let w = 0; w < 3; w++) index.search(blocks[w]!, frames, BLEND_K, outI, outD, Math.min(nprobe, 64));
  for (const nprobe of probes) {
    const ms: number[] = [];
    const got: Int32Array[] = [];
    for (let b = 0; b <= runs; b++) {
      const t0 = performance.now();
      index.search(blocks[b]!, frames, BLEND_K, outI, outD, nprobe);
      const dt = performance.now() - t0;
      if (b > 0) {
        ms.push(dt);
        got.push(outI.slice());
      }
    }
    results.set(nprobe, got);
    times.set(nprobe, ms);
  }
  const exact = results.get(index.nlist)!;
  const mb = (index.vectors.byteLength + index.centroids.byteLength) / 2 ** 20;
  for (const nprobe of probes) {
    let hit = 0;
    let total = 0;
    results.get(nprobe)!.forEach((res, b) => {
      for (let t = 0; t < frames; t++) {
        const truth = new Set(exact[b]!.subarray(t * BLEND_K, t * BLEND_K + BLEND_K));
        for (let j = 0; j < BLEND_K; j++) if (truth.has(res[t * BLEND_K + j]!)) hit++;
        total += BLEND_K;
      }
    });
    const m = median(times.get(nprobe)!);
    const label = nprobe === index.nlist ? `${nprobe} (all)` : String(nprobe);
    console.log(
      `${String(n).padEnd(8)} ${String(index.nlist).padEnd(6)} ${(n / index.nlist).toFixed(0).padEnd(5)} ${mb.toFixed(0).padEnd(6)} ${label.padEnd(7)} ${m.toFixed(2).padStart(8)}  ${(m / frames).toFixed(3).padStart(8)}  ${(hit / total).toFixed(3).padStart(8)}`,
    );
  }
  // The blend on top of the search: weights and 8 vector reads per frame.
  const feats = blocks[0]!.slice();
  const bt: number[] = [];
  for (let b = 0; b <= runs; b++) {
    feats.set(blocks[b]!);
    const t0 = performance.now();
    index.blend(feats, frames, 0.75, 0.33, null, 1);
    if (b > 0) bt.push(performance.now() - t0);
  }
  console.log(`${''.padEnd(22)}blend at nprobe 1 (search included): ${median(bt).toFixed(2)} ms/block`);
}
