// Real-time margin of the streaming path, off the devices: the built-in voice's engine fed speech one device
// buffer at a time, exactly as the inference worker calls it. Prints per-call time (median, p99, p99.9, worst),
// the part of one device buffer that leaves spare, per-stage time per quantum, and what the calls allocate:
// heap bytes per 1 ms quantum (measured between collections) and the collections seen during the run.
//   npm run bench:stream [-- --buffers 64,128,256 --voice deeper --seconds 60 --f0 yin|pyin]
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { StreamingEngine } from '../engine/engine.js';
import { createBuiltinVoice } from '../engine/voices/builtin.js';
import { YinEstimator } from '../engine/f0/yin.js';
import { PYIN_VOICING } from '../engine/f0/yin-pyin.js';
import { speech } from '../test/live/live-analysis.js';

const { values } = parseArgs({
  options: {
    buffers: { type: 'string', default: '64,128,256' },
    voice: { type: 'string', default: 'deeper' },
    seconds: { type: 'string', default: '60' },
    // pyin: YIN with the probabilistic voicing (PYIN_VOICING), to compare its cost per quantum.
    f0: { type: 'string', default: 'yin' },
  },
});
const RATE = 48000;
const seconds = Number(values.seconds);
const x = await speech(Math.min(seconds, 60), RATE);

const gcs: { kind: number; ms: number }[] = [];
const obs = new PerformanceObserver((l) => {
  for (const e of l.getEntries()) gcs.push({ kind: ((e as unknown as { detail?: { kind: number } }).detail?.kind ?? 0), ms: e.duration });
});
obs.observe({ entryTypes: ['gc'] });

const q = (a: Float64Array, p: number) => a[Math.min(a.length - 1, Math.floor(p * a.length))]!;
console.log(`streaming path, voice ${values.voice}, f0 ${values.f0}, ${seconds} s of speech at ${RATE} Hz, one call per device buffer (times in ms)`);
console.log('buffer | buffer ms | call median | p99 | p99.9 | worst | worst/buffer | per quantum: gate f0 voice loudness | heap B/quantum | GCs (minor/major) | GC ms total, worst');
for (const n of values.buffers!.split(',').map(Number)) {
  const f0 = values.f0 === 'pyin' ? new YinEstimator({ pyin: PYIN_VOICING }) : values.f0 === 'yin' ? undefined : null;
  if (f0 === null) throw new Error(`--f0 must be yin or pyin, got ${values.f0}`);
  const engine = await StreamingEngine.create({ streamRate: RATE, voice: createBuiltinVoice(values.voice!), f0 });
  const quantum = engine.blockSize;
  const calls = Math.floor((seconds * RATE) / n);
  const inBuf = new Float32Array(n);
  const out = new Float32Array(engine.maxOutput);
  // The device buffer rarely divides into whole quanta: carry the remainder, as the inference worker does.
  const pending = new Float32Array(n + quantum);
  let have = 0;
  const stage = { gate: 0, f0: 0, voice: 0, loud: 0 };
  let quanta = 0;
  const times = new Float64Array(calls);
  const run = async (from: number, to: number, timed: boolean): Promise<void> => {
    for (let c = from; c < to; c++) {
      const off = (c * n) % (x.length - n);
      for (let i = 0; i < n; i++) inBuf[i] = x[off + i]!;
      pending.set(inBuf, have);
      have += n;
      const N = have - (have % quantum);
      const t0 = performance.now();
      if (N > 0) {
        // As the inference worker calls it: a number back whenever nothing waited (no promise per call).
        const r = engine.process(pending, out, N);
        if (typeof r !== 'number') await r;
      }
      const dt = performance.now() - t0;
      if (N > 0) pending.copyWithin(0, N, have);
      have -= N;
      if (!timed) continue;
      times[c] = dt;
      const tm = engine.times;
      stage.gate += tm.gate;
      stage.f0 += tm.f0;
      stage.voice += tm.voice;
      stage.loud += tm.sola;
      quanta += N / quantum;
    }
  };
  await run(0, Math.min(calls, Math.round((5 * RATE) / n)), false); // warm-up: the compiler, not the steady state
  gcs.length = 0;
  const heap0 = v8.getHeapStatistics().used_heap_size;
  let grown = 0;
  let lastHeap = heap0;
  // Heap growth counted in slices, so a collection inside the run does not hide what was allocated before it.
  const slice = 500;
  for (let c = 0; c < calls; c += slice) {
    await run(c, Math.min(calls, c + slice), true);
    const h = v8.getHeapStatistics().used_heap_size;
    if (h > lastHeap) grown += h - lastHeap;
    lastHeap = h;
  }
  engine.destroy();
  await new Promise((r) => setTimeout(r, 50)); // let the observer deliver
  const sorted = Float64Array.from(times).sort();
  const bufMs = (n * 1000) / RATE;
  const minor = gcs.filter((g) => g.kind === 1).length;
  const gcMs = gcs.reduce((a, g) => a + g.ms, 0);
  const gcWorst = gcs.reduce((a, g) => Math.max(a, g.ms), 0);
  const per = (v: number) => ((v / quanta) * 1000).toFixed(1);
  console.log(
    `${String(n).padStart(6)} | ${bufMs.toFixed(2).padStart(9)} | ${q(sorted, 0.5).toFixed(3).padStart(11)} | ${q(sorted, 0.99).toFixed(3)} | ${q(sorted, 0.999).toFixed(3)} | ${sorted[sorted.length - 1]!.toFixed(2)} | ${(sorted[sorted.length - 1]! / bufMs).toFixed(2).padStart(12)} | ` +
      `µs ${per(stage.gate)} ${per(stage.f0)} ${per(stage.voice)} ${per(stage.loud)} | ${(grown / quanta).toFixed(1).padStart(14)} | ${minor}/${gcs.length - minor} | ${gcMs.toFixed(1)}, ${gcWorst.toFixed(2)}`,
  );
}
obs.disconnect();
