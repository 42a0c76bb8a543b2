// Cost per block of so-vits-svc's cluster blend (c ← r·nearest centre + (1−r)·c) at the real size, K = 10,000
// centres of C = 768 (kmeans_10000.pt of a 4.1 vec768 voice), and what the coarse lists give up against the
// exact nearest centre that KMeans.predict finds. Also the one-off cost of building the lists at import.
//
//   node dist/bench/sovits-retrieval.js [--k 10000] [--c 768] [--runs 20]
//
// Frames per block are what SovitsVoice.retrievalFrames blends: the content frames (50 fps) under the region
// the engine keeps (block + crossfade + search, 20 + 10 ms by default) plus a margin of 2.
//
// Data: centres are 64 clusters (think phones), each a 32-dimensional patch in 768-d plus a little isotropic
// noise, as k-means centres of HuBERT features are; queries are drawn from the same clusters, further from
// any centre than the centres are from each other's neighbours (a live voice is not the training set).
//
// Measured (npm run bench:sovits-retrieval, Node 20, one thread on a 2-vCPU VM shared with other jobs at a
// load of ~10, so wall times are 2–3× CPU times; CPU ms per block, medians of 15 runs):
//   lists built at import: 2.2 s CPU (4.4 s wall) for K 10,000 × 768, 100 lists
//   block   frames   nprobe 4   nprobe 8   nprobe 16   nprobe 32   exact (all 100)   nearest = exact
//   100 ms     9       8.2        14.0       18.5        30.2        60.2             all frames, every nprobe
//   250 ms    17      14.7        24.8       35.2        58.1       106.7
//   500 ms    29      26.5        45.8       59.7        96.6       179.9
// The exact scan costs ~6.5 ms a frame, 60 % of a 100 ms block on its own; at nprobe 8 (the default,
// CLUSTER_NPROBE) a frame costs ~1.5 ms, 14 % of the block here, and the cost follows the block, not the
// context (only the frames under the kept region are blended).
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { indexWithCoarseLists } from '../models/index/coarse-lists.js';
import { rng } from '../test/helpers.js';

const { values: args } = parseArgs({ options: { k: { type: 'string', default: '10000' }, c: { type: 'string', default: '768' }, runs: { type: 'string', default: '20' } } });
const K = Number(args.k);
const C = Number(args.c);
const runs = Number(args.runs);
const CLUSTERS = 64;
const RANK = 32;

const r = rng(12);
const gauss = () => {
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
};
const means = Float32Array.from({ length: CLUSTERS * C }, () => gauss());
const bases = Float32Array.from({ length: CLUSTERS * RANK * C }, () => gauss() * 0.15);
function draw(out: Float32Array, row: number, spread: number): void {
  const k = Math.floor(r() * CLUSTERS);
  const o = row * C;
  for (let c = 0; c < C; c++) out[o + c] = means[k * C + c]! + spread * 0.05 * gauss();
  for (let j = 0; j < RANK; j++) {
    const a = gauss() * spread;
    for (let c = 0; c < C; c++) out[o + c] += a * bases[(k * RANK + j) * C + c]!;
  }
}
const centres = new Float32Array(K * C);
for (let i = 0; i < K; i++) draw(centres, i, 1);

// CPU time of this thread as well as wall time: on a shared machine the wall clock counts other processes' turns.
const cpuMs = (start: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1000;
};
let t = performance.now();
let cpu = process.cpuUsage();
const index = indexWithCoarseLists(centres, C, 1);
console.log(`K ${K} × C ${C}: ${index.nlist} coarse lists built in ${((performance.now() - t) / 1000).toFixed(1)} s wall, ${(cpuMs(cpu) / 1000).toFixed(1)} s CPU (once, at import)`);

const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)]!;
const MAXF = 40;
const queries = new Float32Array(MAXF * C);
for (let i = 0; i < MAXF; i++) draw(queries, i, 1.3);
const exactIdx = new Int32Array(MAXF);
index.search(queries, MAXF, 1, exactIdx, new Float32Array(MAXF), index.nlist);

console.log('medians of --runs; CPU ms (this thread) and wall ms per block');
console.log('block ms  frames  nprobe   CPU ms/block   ms/frame   wall ms/block   nearest = exact');
for (const blockMs of [100, 250, 500]) {
  const frames = Math.min(MAXF, Math.ceil(((blockMs + 30) / 1000) * 50) + 2);
  for (const nprobe of [4, 8, 16, 32, index.nlist]) {
    const times: number[] = [];
    const cpus: number[] = [];
    const work = new Float32Array(frames * C);
    for (let run = 0; run < runs; run++) {
      work.set(queries.subarray(0, frames * C));
      t = performance.now();
      cpu = process.cpuUsage();
      index.blendNearest(work, frames, 0.5, nprobe);
      cpus.push(cpuMs(cpu));
      times.push(performance.now() - t);
    }
    const got = new Int32Array(frames);
    index.search(queries, frames, 1, got, new Float32Array(frames), nprobe);
    let same = 0;
    for (let i = 0; i < frames; i++) if (got[i] === exactIdx[i]) same++;
    const m = median(cpus);
    console.log(`${String(blockMs).padStart(8)} ${String(frames).padStart(7)} ${(nprobe === index.nlist ? 'all' : String(nprobe)).padStart(7)} ${m.toFixed(2).padStart(14)} ${(m / frames).toFixed(3).padStart(10)} ${median(times).toFixed(2).padStart(15)}   ${same}/${frames}`);
  }
}
