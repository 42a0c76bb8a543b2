// The inference worker: reads the input ring a block at a time, runs the streaming engine, writes the
// output ring. It owns the voice (and so, for neural voices, onnxruntime); the audio worker never waits
// for it. Everything per block is allocated here at start or on a settings change.
import { parentPort, workerData } from 'node:worker_threads';
import { StreamingEngine } from '../../engine/engine.js';
import type { F0Estimator } from '../../engine/f0/estimator.js';
import { StreamResampler } from '../../engine/resampler.js';
import { AudioRing, Control, wallMs } from '../../native-audio/rings.js';
import { MAX_INPUT_BACKLOG_SEC, CTRL, STATS } from '../../protocol/rings.js';
import { SETTING_RANGES } from '../../protocol/settings.js';
import { resolveVoice } from '../voices.js';
import type { FromInference, InferenceInit, ToInference } from './inference-messages.js';
import { NoiseSuppressor } from './noise-suppressor.js';

const init = workerData as InferenceInit;
const port = parentPort!;
const post = (m: FromInference) => port.postMessage(m);

const WARMUP_BLOCKS = 6;
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const P95_WINDOW = 64;

async function main(): Promise<void> {
  const ctl = new Control(init.buffers);
  const inRing = new AudioRing(init.buffers.inputRing);
  const outRing = new AudioRing(init.buffers.outputRing);
  const rv = await resolveVoice({ voice: init.voice, f0: init.f0, encoder: init.encoder, threads: 2 });
  // The engine owns the estimator from here (its destroy() disposes it).
  const f0 = (rv as { f0?: F0Estimator }).f0;
  const settings = { pitch: rv.info.defaultPitch, formant: rv.info.defaultFormant, ...init.settings };
  const engine = await StreamingEngine.create({ streamRate: init.streamRate, voice: rv.stage, settings, ...(f0 ? { f0 } : {}) });
  const maxBlock = Math.round((SETTING_RANGES.blockMs.max * init.streamRate) / 1000);
  const toOutput = init.outputRate === init.streamRate ? null : await StreamResampler.create(init.streamRate, init.outputRate, engine.maxOutput);
  let noise = null as NoiseSuppressor | null;
  let noiseOn = init.noiseSuppression;
  const loadNoise = async () => {
    if (noise) return;
    try {
      noise = await NoiseSuppressor.create(init.streamRate, maxBlock);
    } catch (e) {
      noiseOn = false;
      post({ kind: 'warning', message: `noise suppression is unavailable: ${(e as Error).message}` });
    }
  };
  if (noiseOn) await loadNoise();

  let block = new Float32Array(engine.blockSize);
  const out = new Float32Array(engine.maxOutput);
  const times = new Float64Array(P95_WINDOW);
  const sorted = new Float64Array(P95_WINDOW);
  let timeCount = 0;
  let maxMs = 0;

  const outputDelayMs = () => (toOutput ? (toOutput.delay / init.outputRate) * 1000 : 0);
  const noiseDelayMs = () => (noise && noiseOn ? noise.delaySec * 1000 : 0);
  const publishGeometry = () => {
    ctl.stats[STATS.BLOCK_FRAMES] = engine.blockSize;
    ctl.stats[STATS.ALGORITHMIC_MS] = engine.latency().totalMs + outputDelayMs() + noiseDelayMs();
  };

  // Warm-up: JIT-compiles the per-block path and measures what a block costs here, for the prebuffer.
  // Quiet (−40 dBFS) so the little of it left in the engine's context is inaudible.
  const warmupMs: number[] = [];
  for (let b = 0; b < WARMUP_BLOCKS; b++) {
    for (let i = 0; i < block.length; i++) {
      const t = (b * block.length + i) / init.streamRate;
      block[i] = 0.01 * (Math.sin(2 * Math.PI * 140 * t) + 0.5 * Math.sin(2 * Math.PI * 280 * t) + 0.2 * (Math.random() - 0.5));
    }
    const t0 = performance.now();
    if (noise && noiseOn) noise.process(block);
    await engine.processBlock(block, out);
    warmupMs.push(performance.now() - t0);
  }
  publishGeometry();

  let pendingSettings: Record<string, unknown> | null = null;
  port.on('message', (m: ToInference) => {
    if (m.kind === 'update') pendingSettings = { ...(pendingSettings ?? {}), ...m.settings };
    else if (m.kind === 'noise') {
      noiseOn = m.on;
      if (m.on) void loadNoise().then(publishGeometry);
      else publishGeometry();
    } else if (m.kind === 'crash') {
      setImmediate(() => {
        throw new Error('inference worker crashed on request (test hook)');
      });
    }
  });

  // Start from the present: whatever queued while this worker was starting is stale.
  inRing.discard();
  let consumed = ctl.stats[STATS.INPUT_FRAMES]! - inRing.availableRead();
  // Ring positions continue across restarts (the audio worker's read count does).
  let written = ctl.stats[STATS.OUTPUT_WRITTEN_END]!;
  post({ kind: 'ready', warmupMs, latency: engine.latency(), blockFrames: engine.blockSize, settings: { ...engine.currentSettings }, noiseDelayMs: noiseDelayMs(), f0Method: engine.f0Method });

  let seen = ctl.get(CTRL.INPUT_SIGNAL);
  const maxBacklog = Math.round(MAX_INPUT_BACKLOG_SEC * init.streamRate);
  while (ctl.get(CTRL.STOP) === 0) {
    if (pendingSettings) {
      const s = pendingSettings;
      pendingSettings = null;
      const next = engine.update(s);
      if (engine.blockSize !== block.length) block = new Float32Array(engine.blockSize);
      publishGeometry();
      post({ kind: 'settings', latency: engine.latency(), blockFrames: engine.blockSize, settings: next });
    }
    const N = block.length;
    const avail = inRing.availableRead();
    if (avail < N) {
      await ctl.waitInput(seen, 50);
      seen = ctl.get(CTRL.INPUT_SIGNAL);
      continue;
    }
    // Too far behind (a stall): skip the oldest input rather than let the delay grow without bound.
    if (avail - N > maxBacklog) {
      const skipped = inRing.discard(avail - N - Math.floor(maxBacklog / 2));
      consumed += skipped;
      ctl.add(CTRL.DROPPED_BACKLOG, skipped);
    }
    inRing.pop(block, N);
    consumed += N;
    const t0 = performance.now();
    if (noise && noiseOn) noise.process(block);
    ctl.set(CTRL.NOISE_ACTIVE, noise && noiseOn ? 1 : 0);
    const n = await engine.processBlock(block, out);
    const y = toOutput ? toOutput.process(out.subarray(0, n)) : out.subarray(0, n);
    const load = ctl.get(CTRL.LOAD_MS);
    if (load > 0) {
      // Stress hook: a stand-in for a slower model. It blocks rather than spins, like inference waiting on
      // an accelerator, so the test slows this worker without starving the audio worker of CPU on 2 cores.
      const left = load - (performance.now() - t0);
      if (left > 0) Atomics.wait(sleeper, 0, 0, left);
    }
    const dt = performance.now() - t0;
    times[timeCount++ % P95_WINDOW] = dt;
    if (dt > maxMs) maxMs = dt;
    ctl.stats[STATS.BLOCK_MS] = dt;
    ctl.stats[STATS.BLOCK_MS_MAX] = maxMs;
    if (timeCount % 8 === 0) {
      const k = Math.min(timeCount, P95_WINDOW);
      sorted.set(times.subarray(0, k));
      const s = sorted.subarray(0, k).sort();
      ctl.stats[STATS.BLOCK_MS_P95] = s[Math.min(k - 1, Math.floor(k * 0.95))]!;
    }
    // The block's input end and ring position are published before its audio, so the audio worker never
    // sees audio without them.
    ctl.stats[STATS.LAST_BLOCK_INPUT_END] = consumed;
    ctl.stats[STATS.OUTPUT_WRITTEN_END] = written + y.length;
    const pushed = outRing.push(y, y.length);
    written += pushed;
    if (pushed < y.length) ctl.add(CTRL.DROPPED_OUTPUT, y.length - pushed);
    ctl.add(CTRL.BLOCKS, 1);
    ctl.stats[STATS.HEARTBEAT_AT] = wallMs();
  }
  engine.destroy();
  await (rv as { release?: () => Promise<void> }).release?.();
  toOutput?.destroy();
  noise?.destroy();
}

main().catch((e: unknown) => {
  // Let the host see it as a crash (it restarts the worker and passes audio through meanwhile).
  setImmediate(() => {
    throw e;
  });
});
