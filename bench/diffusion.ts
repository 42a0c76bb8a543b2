// so-vits-svc 4.1 shallow diffusion at real size (20 × 512 WaveNet, hidden 256, 128 mels, vec768l12 units;
// random weights), on each execution provider (--providers; default CPU, plus WebGPU where it runs) through
// onnxruntime-node, rows of each table per provider, after the node placement of each graph on a GPU provider:
//   1. ms per denoiser pass for 0.2 s and 0.5 s blocks (mel frames = seconds · 44100 / 512), with the
//      condition projected once per block (what Resona runs) and per pass (upstream's graph, which is also
//      what an exported set's _denoise.onnx costs: it takes the raw condition);
//   2. ms per block (q_sample, condition encoder, every denoiser pass, the sampler's arithmetic) for each
//      sampler at the k_step/speedup settings users pick: 100/10, 50/10, 20/5;
//   3. the smallest real-time block per setting: a block of B seconds refined in under B seconds. Pass times
//      are measured on a grid of block sizes, the block time predicted (passes × pass + encoder), and the
//      smallest predicted block run to confirm it.
// Wall times are "median (min)" of --repeats runs, printed with the load average. On a shared machine they
// say what a block met at the time; the process's CPU time per run (user + system, all threads) says what the
// work itself costs, and with one intra-op thread (the default) it is what one idle core would take, so the
// real-time search (3) is made on CPU time and then run for its wall time. On a GPU provider the process's CPU
// time counts only the host's share, so there the search is made on the wall-clock median.
//   npm run bench:diffusion -- [--providers cpu,webgpu] [--threads 1] [--repeats 5] [--grid 0.1,0.2,0.3,0.5,0.75,1,1.5,2]
//     [--tiny: 2 × 16 WaveNet, hidden 16, to prove the bench runs (e.g. on SwiftShader); figures mean nothing]
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { conditionFor, type DiffusionInputs, type DiffusionSessions, loadDiffusion, refineMel } from '../models/diffusion/diffusion.js';
import { buildConditionEncoder, buildDenoiser } from '../models/diffusion/graph.js';
import { randomDiffusionModel, templateDiffusionConfig } from '../models/diffusion/random.js';
import { denoiserPasses } from '../models/diffusion/samplers.js';
import type { SamplerName } from '../models/diffusion/config.js';
import { loadSession, type LoadedSession, type Provider } from '../models/runtime.js';
import { mulberry32 } from '../models/random.js';
import { PROVIDER_LABELS } from '../protocol/runtime.js';
import { benchProviders, printPlacement, PROVIDERS_OPTION } from './providers.js';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    repeats: { type: 'string', default: '5' },
    grid: { type: 'string', default: '0.1,0.2,0.3,0.5,0.75,1,1.5,2' },
    providers: PROVIDERS_OPTION,
    tiny: { type: 'boolean', default: false },
  },
});
const threads = Number(values.threads);
const repeats = Number(values.repeats);
const FPS = 44100 / 512;
const framesOf = (s: number) => Math.max(1, Math.round(s * FPS));
const SETTINGS: [number, number][] = [[100, 10], [50, 10], [20, 5]];
const SAMPLERS: SamplerName[] = ['dpm-solver++', 'unipc', 'ddim', 'pndm'];

interface Stat { median: number; min: number; cpu: number }
const mid = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const show = (s: Stat, d = 0) => `${s.median.toFixed(d)} (${s.min.toFixed(d)}) wall, ${s.cpu.toFixed(d)} CPU`;
const load = () => os.loadavg().map((v) => v.toFixed(1)).join(' ');

const rnd = mulberry32(7);
const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
const noise = (n: number) => Float32Array.from({ length: n }, gauss);

function block(T: number): DiffusionInputs {
  return {
    frames: T,
    mel: Float32Array.from({ length: 128 * T }, () => -9 + 7 * rnd()),
    f0: Float32Array.from({ length: T }, () => 120 + 200 * rnd()),
    volume: Float32Array.from({ length: T }, () => 0.1 * rnd()),
    units: noise(768 * T),
  };
}

async function timed(n: number, f: () => Promise<unknown>): Promise<Stat> {
  await f();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    await f();
    wall.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
  return { median: mid(wall), min: Math.min(...wall), cpu: mid(cpu) };
}

async function timePass(s: DiffusionSessions, T: number, raw?: LoadedSession): Promise<{ pass: Stat; cond: Stat; raw?: Stat }> {
  const inp = block(T);
  const { cond, condProj } = await conditionFor(s, inp);
  const x = new ort.Tensor('float32', noise(128 * T), [1, 128, T]);
  const t = new ort.Tensor('float32', Float32Array.of(57.3), [1]);
  const pass = await timed(repeats, () => s.denoiser.run({ x, t, cond_proj: condProj }));
  const c = await timed(repeats, () => conditionFor(s, inp));
  return { pass, cond: c, ...(raw ? { raw: await timed(repeats, () => raw.run({ x, t, cond })) } : {}) };
}

function timeBlock(s: DiffusionSessions, T: number, method: SamplerName, k: number, speedup: number, n = repeats): Promise<Stat> {
  const inp = block(T);
  return timed(n, () => refineMel(s, inp, { method, kStep: k, speedup, mode: 'shallow' }, noise));
}

const providers = await benchProviders(values.providers);
const t0 = performance.now();
const model = randomDiffusionModel(templateDiffusionConfig(values.tiny ? { layers: 2, channels: 16, hidden: 16 } : {}));
const what = values.tiny ? 'TINY diffusion (2 × 16, hidden 16)' : 'real-size diffusion (20 × 512, hidden 256, 128 mels)';
const raws = buildDenoiser(model, { condition: 'raw' });
const runs: { p: Provider; label: string; s: DiffusionSessions; raw: LoadedSession }[] = [];
for (const p of providers) {
  const s = await loadDiffusion(model, { threads, provider: p });
  const raw = await loadSession(raws, { threads, provider: p, name: 'raw denoiser' });
  if (s.denoiser.provider !== p || raw.provider !== p) throw new Error(`${PROVIDER_LABELS[p]}: the denoiser fell back to CPU (${s.denoiser.providerNote ?? raw.providerNote})`);
  runs.push({ p, label: PROVIDER_LABELS[p].padEnd(6), s, raw });
}
console.log(`${what} built and loaded on ${providers.map((p) => PROVIDER_LABELS[p]).join(', ')} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
for (const p of providers) {
  await printPlacement(p, 'condition encoder', buildConditionEncoder(model));
  await printPlacement(p, 'denoiser', buildDenoiser(model));
  await printPlacement(p, 'denoiser (raw condition)', raws);
}
console.log(`${threads} intra-op thread(s), ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.availableParallelism()}; load average ${load()}; ms as median (min) wall and median CPU of ${repeats} runs`);

console.log('\n1. denoiser pass');
for (const sec of [0.2, 0.5]) {
  const T = framesOf(sec);
  for (const { label, s, raw } of runs) {
    const r = await timePass(s, T, raw);
    console.log(`  ${label} ${sec.toFixed(1)} s block (${T} frames): ${show(r.pass, 1)} ms per pass; with the condition projected per pass ${show(r.raw!, 1)} ms; condition encoder ${show(r.cond, 2)} ms per block`);
  }
}

console.log('\n2. ms per block (shallow: q_sample + condition + passes)');
for (const sec of [0.2, 0.5]) {
  const T = framesOf(sec);
  for (const [k, sp] of SETTINGS) {
    for (const { label, s } of runs) {
      const row: string[] = [];
      for (const m of SAMPLERS) row.push(`${m} ${show(await timeBlock(s, T, m, k, sp))} (${denoiserPasses(m, k, sp)} passes)`);
      console.log(`  ${label} ${sec.toFixed(1)} s block (${(sec * 1000).toFixed(0)} ms), k_step ${k} / speedup ${sp}: ${row.join(', ')}`);
    }
  }
}

console.log(`\n3. smallest real-time block (predicted from the cost of passes on the grid: CPU time on CPU, wall median on a GPU; then run ${repeats} times)`);
const grid = values.grid!.split(',').map(Number);
const last = grid[grid.length - 1]!;
for (const { p, label, s } of runs) {
  const cost = (x: Stat) => (p === 'cpu' ? x.cpu : x.median);
  const perSize = new Map<number, { pass: Stat; cond: Stat }>();
  for (const sec of grid) perSize.set(sec, await timePass(s, framesOf(sec)));
  console.log(`  ${label} pass ms on the grid: ${grid.map((g) => `${g} s ${show(perSize.get(g)!.pass)}`).join(', ')}`);
  for (const [k, sp] of SETTINGS) {
    for (const m of SAMPLERS) {
      const passes = denoiserPasses(m, k, sp);
      const predict = (g: number) => passes * cost(perSize.get(g)!.pass) + cost(perSize.get(g)!.cond);
      const fit = grid.find((g) => predict(g) < g * 1000);
      if (fit === undefined) {
        console.log(`  ${label} k_step ${k} / speedup ${sp}, ${m}: none up to ${last} s (${passes} passes; ${predict(last).toFixed(0)} ms for a ${last} s block, ${(predict(last) / (last * 1000)).toFixed(2)}× real time)`);
        continue;
      }
      const run = await timeBlock(s, framesOf(fit), m, k, sp);
      const verdict = cost(run) < fit * 1000 ? (run.median < fit * 1000 ? 'real time' : 'real time in CPU time, not at the wall-clock median on this shared machine') : 'NOT real time when run';
      console.log(`  ${label} k_step ${k} / speedup ${sp}, ${m}: ${fit} s (${passes} passes; run ${show(run)} ms for the ${(fit * 1000).toFixed(0)} ms block: ${verdict})`);
    }
  }
}
console.log(`\nload average at the end ${load()}`);
for (const { s, raw } of runs) {
  await raw.release();
  await s.release();
}
