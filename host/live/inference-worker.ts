// The inference worker: reads the input ring a block at a time, runs the running voice's streaming engine,
// writes the output ring. It owns the voices (and so, for neural voices, onnxruntime); the audio worker never
// waits for it. A voice switch loads the new voice beside the running one, which keeps converting meanwhile;
// the new one takes over at a block boundary with a crossfade, and a failed load leaves the running one as it
// was. Everything per block is allocated at start, on a settings change or on a switch, never per block.
import { parentPort, workerData } from 'node:worker_threads';
import { StreamResampler } from '../../engine/resampler.js';
import { crossfadeInto, fadeIn, fadeOut } from '../../native-audio/fades.js';
import { AudioRing, Control, wallMs } from '../../native-audio/rings.js';
import { toWire } from '../../protocol/errors.js';
import { MAX_INPUT_BACKLOG_SEC, MAX_VOICE_STAGES, CTRL, STATS, STREAMING_NETWORK_F0 } from '../../protocol/rings.js';
import type { EngineSettings } from '../../protocol/settings.js';
import { SETTING_RANGES } from '../../protocol/settings.js';
import type { FromInference, InferenceInit, ToInference, VoiceReady } from './inference-messages.js';
import { LoadedVoice } from './loaded-voice.js';
import { NoiseSuppressor } from './noise-suppressor.js';

const init = workerData as InferenceInit;
const port = parentPort!;
const post = (m: FromInference) => port.postMessage(m);

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const P95_WINDOW = 64;
/** Fade of a switch between voices whose block sizes differ (the old one out, the new one in), ms. */
const SWITCH_FADE_MS = 10;
/**
 * Streaming voices take whatever whole quanta have arrived (one device buffer, usually), up to this much at
 * once: converting as soon as input lands is what keeps their delay at the look-ahead.
 */
const MAX_STREAM_CHUNK_SEC = 0.1;
/** A streaming voice that takes over converts this long beside the running one first (past its start mute). */
const SWITCH_LEAD_SEC = 0.04;
/** Crossfade across input skipped after a stall, for streaming voices. */
const BACKLOG_SPLICE_SEC = 0.005;

/** Input frames the next call takes at most: the block, or a streaming voice's largest chunk. */
function chunkCapacity(e: LoadedVoice['engine'], rate: number): number {
  if (!e.streaming) return e.blockSize;
  const q = e.blockSize;
  return Math.min(e.maxInput, Math.max(q, Math.floor((MAX_STREAM_CHUNK_SEC * rate) / q) * q));
}

async function main(): Promise<void> {
  const ctl = new Control(init.buffers);
  const inRing = new AudioRing(init.buffers.inputRing);
  const outRing = new AudioRing(init.buffers.outputRing);
  let cur: LoadedVoice;
  try {
    cur = await LoadedVoice.load(init.choice, init.streamRate);
  } catch (e) {
    // The host rebuilds the error with its type (a UserError stays one) and reports it to the user.
    post({ kind: 'failed', error: toWire(e) });
    return;
  }
  const maxBlock = Math.round((SETTING_RANGES.blockMs.max * init.streamRate) / 1000);
  const maxOut = Math.ceil(maxBlock * 1.5) + 4096;
  const toOutput = init.outputRate === init.streamRate ? null : await StreamResampler.create(init.streamRate, init.outputRate, maxOut);
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

  let block = new Float32Array(chunkCapacity(cur.engine, init.streamRate));
  const times = new Float64Array(P95_WINDOW);
  const sorted = new Float64Array(P95_WINDOW);
  let timeCount = 0;
  let maxMs = 0;

  const outputDelayMs = () => (toOutput ? (toOutput.delay / init.outputRate) * 1000 : 0);
  const noiseDelayMs = () => (noise && noiseOn ? noise.delaySec * 1000 : 0);
  const publishGeometry = () => {
    ctl.stats[STATS.BLOCK_FRAMES] = cur.engine.blockSize;
    // The built-in YIN (with either voicing) answers within the quantum; only a network has late calls.
    const builtinF0 = cur.engine.f0Method === 'yin' || cur.engine.f0Method === 'pyin';
    ctl.set(CTRL.STREAMING, !cur.engine.streaming ? 0 : builtinF0 ? 1 : STREAMING_NETWORK_F0);
    ctl.stats[STATS.ALGORITHMIC_MS] = cur.engine.latency().totalMs + outputDelayMs() + noiseDelayMs();
  };
  const readyOf = (v: LoadedVoice): VoiceReady => ({
    warmupMs: v.warmupMs,
    latency: v.engine.latency(),
    blockFrames: v.engine.blockSize,
    streaming: v.engine.streaming,
    settings: { ...v.engine.currentSettings },
    noiseDelayMs: noiseDelayMs(),
    f0Method: v.engine.f0Method,
    placement: v.placement,
    stages: v.engine.stages.slice(0, MAX_VOICE_STAGES).map((s) => ({ name: s.name, calls: s.calls })),
    notes: v.notes,
  });
  publishGeometry();

  // Switching: one load at a time is kept; a newer request supersedes an older one still loading.
  let next: LoadedVoice | null = null;
  /** Input the incoming streaming voice has converted beside the running one (see SWITCH_LEAD_SEC). */
  let incomingFed = 0;
  let nextId = 0;
  let loadToken = 0;
  /** Settings sent while a switch loads: the new voice takes them over too. */
  let sinceSwitch: Partial<EngineSettings> = {};
  const startSwitch = (id: number, choice: LoadedVoice['choice']) => {
    const token = ++loadToken;
    sinceSwitch = {};
    LoadedVoice.load(choice, init.streamRate).then(
      (v) => {
        if (token !== loadToken || ctl.get(CTRL.STOP) === 1) return void v.destroy();
        if (next) void next.destroy();
        next = v;
        nextId = id;
        incomingFed = 0;
      },
      (e: unknown) => {
        if (token === loadToken) post({ kind: 'switch-failed', id, error: toWire(e) });
      },
    );
  };

  let pendingSettings: Partial<EngineSettings> | null = null;
  let paused = init.paused;
  let resumeAsked = false;
  port.on('message', (m: ToInference) => {
    switch (m.kind) {
      case 'update':
        pendingSettings = { ...(pendingSettings ?? {}), ...m.settings };
        sinceSwitch = { ...sinceSwitch, ...m.settings };
        break;
      case 'noise':
        noiseOn = m.on;
        if (m.on) void loadNoise().then(publishGeometry);
        else publishGeometry();
        break;
      case 'switch':
        startSwitch(m.id, m.choice);
        break;
      case 'pause':
        paused = true;
        break;
      case 'resume':
        resumeAsked = true;
        break;
      case 'crash':
        setImmediate(() => {
          throw new Error('inference worker crashed on request (test hook)');
        });
    }
  });

  let consumed = 0;
  // Start from the present: whatever queued while this worker was starting (or paused) is stale.
  const fromNow = () => {
    inRing.discard();
    consumed = ctl.stats[STATS.INPUT_FRAMES]! - inRing.availableRead();
  };
  fromNow();
  // Ring positions continue across restarts (the audio worker's read count does).
  let written = ctl.stats[STATS.OUTPUT_WRITTEN_END]!;
  post({ kind: 'ready', ...readyOf(cur) });

  /** Makes `v` the running voice (block buffer, geometry) and tells the host. */
  const takeOver = (v: LoadedVoice, id: number) => {
    const old = cur;
    cur = v;
    next = null;
    if (Object.keys(sinceSwitch).length) {
      try {
        cur.engine.update(sinceSwitch);
      } catch {
        /* checked on the host already; the voice's own defaults stand */
      }
    }
    if (chunkCapacity(cur.engine, init.streamRate) !== block.length) block = new Float32Array(chunkCapacity(cur.engine, init.streamRate));
    publishGeometry();
    post({ kind: 'switched', id, ...readyOf(cur) });
    void old.destroy();
  };

  let fadeInFrames = 0;
  const switchLead = Math.round(SWITCH_LEAD_SEC * init.streamRate);
  const spliceBuf = new Float32Array(Math.round(BACKLOG_SPLICE_SEC * init.streamRate));
  let seen = ctl.get(CTRL.INPUT_SIGNAL);
  const maxBacklog = Math.round(MAX_INPUT_BACKLOG_SEC * init.streamRate);
  while (ctl.get(CTRL.STOP) === 0) {
    if (resumeAsked) {
      resumeAsked = false;
      paused = false;
      fromNow();
      cur.engine.restartOutput(); // the input jumps to the present: its first period is not known yet
    }
    if (paused) {
      // Stopped: nothing is converted; a switch asked for meanwhile takes over without a crossfade.
      if (next) takeOver(next, nextId);
      fromNow();
      await ctl.waitInput(seen, 50);
      seen = ctl.get(CTRL.INPUT_SIGNAL);
      continue;
    }
    if (pendingSettings) {
      const s = pendingSettings;
      pendingSettings = null;
      try {
        const settings = cur.engine.update(s);
        if (chunkCapacity(cur.engine, init.streamRate) !== block.length) block = new Float32Array(chunkCapacity(cur.engine, init.streamRate));
        publishGeometry();
        post({ kind: 'settings', latency: cur.engine.latency(), blockFrames: cur.engine.blockSize, settings });
      } catch (e) {
        post({ kind: 'settings-failed', error: toWire(e) });
      }
    }
    const avail = inRing.availableRead();
    const q = cur.engine.blockSize;
    // Block path: exactly one block. Streaming path: every whole quantum that has arrived (the rest waits).
    const N = cur.engine.streaming ? Math.min(block.length, avail - (avail % q)) : block.length;
    if (N === 0 || avail < N) {
      await ctl.waitInput(seen, 50);
      seen = ctl.get(CTRL.INPUT_SIGNAL);
      continue;
    }
    // Too far behind (a stall): skip the oldest input rather than let the delay grow without bound.
    let splice = 0;
    if (avail - N > maxBacklog) {
      const drop = avail - N - Math.floor(maxBacklog / 2);
      // A streaming voice has no SOLA to hide a jump in its input: the first few ms of what is skipped (the
      // old sound going on) are kept and crossfaded into the input that follows, or the jump came out as a
      // step (0.07 at the virtual microphone in live-stress).
      splice = cur.engine.streaming ? Math.min(spliceBuf.length, drop) : 0;
      if (splice > 0) inRing.pop(spliceBuf, splice);
      const skipped = splice + inRing.discard(drop - splice);
      consumed += skipped;
      ctl.add(CTRL.DROPPED_BACKLOG, skipped);
    }
    // The block buffer and its length travel apart (no view per call): on the streaming path this loop runs
    // once per device buffer, and with the built-in YIN nothing in it allocates (engine.process answers a number).
    const input = block;
    inRing.pop(input, N);
    consumed += N;
    for (let i = 0, k = Math.min(splice, N); i < k; i++) {
      const w = Math.sin((0.5 * Math.PI * (i + 0.5)) / k) ** 2;
      input[i] = input[i]! * w + spliceBuf[i]! * (1 - w);
    }
    const t0 = performance.now();
    if (noise && noiseOn) noise.process(N === input.length ? input : input.subarray(0, N));
    ctl.set(CTRL.NOISE_ACTIVE, noise && noiseOn ? 1 : 0);
    let out = cur.out;
    const done = cur.engine.process(input, out, N);
    let n = typeof done === 'number' ? done : await done;
    const incoming = next as LoadedVoice | null;
    if (incoming) {
      const fade = Math.round((SWITCH_FADE_MS * init.streamRate) / 1000);
      if (incoming.engine.blockSize === N || (incoming.engine.streaming && N % incoming.engine.blockSize === 0)) {
        // Both voices render this block; equal-power crossfade over it, then the new one runs alone. A
        // streaming voice is silent for its first moments (engine START_MUTE_SEC: it has not heard enough to
        // find a period), so the old one carries on until the new one has been fed past that.
        const m = await incoming.engine.process(input, incoming.out, N);
        incomingFed += N;
        if (!incoming.engine.streaming || incomingFed >= switchLead) {
          crossfadeInto(out, incoming.out, Math.min(n, m));
          out = incoming.out;
          n = m;
          takeOver(incoming, nextId);
        }
      } else {
        // Block sizes differ: the old voice fades out at the end of its last block, the new one fades in.
        const k = Math.min(n, fade);
        fadeOut(out.subarray(n - k, n), k);
        fadeInFrames = fade;
        takeOver(incoming, nextId);
      }
    } else if (fadeInFrames > 0) {
      fadeIn(out, Math.min(n, fadeInFrames));
      fadeInFrames = 0;
    }
    const yLength = toOutput ? toOutput.processInto(out, n) : n;
    const y = toOutput ? toOutput.output : out;
    const load = ctl.get(CTRL.LOAD_MS);
    if (load > 0) {
      // Stress hook: a stand-in for a slower model. It blocks rather than spins, like inference waiting on
      // an accelerator, so the test slows this worker without starving the audio worker of CPU on 2 cores.
      // The load is per 100 ms of audio on the streaming path (its calls are one device buffer each).
      const perCall = cur.engine.streaming ? (load * N) / (0.1 * init.streamRate) : load;
      const left = perCall - (performance.now() - t0);
      if (left > 0) Atomics.wait(sleeper, 0, 0, left);
    }
    // Per block; on the streaming path per quantum (the BLOCK_FRAMES published), so rtf = p95 / block time holds.
    const dt = ((performance.now() - t0) * q) / N;
    times[timeCount++ % P95_WINDOW] = dt;
    if (dt > maxMs) maxMs = dt;
    ctl.stats[STATS.BLOCK_MS] = dt;
    const stages = cur.engine.stages;
    for (let i = 0; i < stages.length && i < MAX_VOICE_STAGES; i++) {
      ctl.stats[STATS.STAGE_MS + i] = stages[i]!.ms;
      ctl.stats[STATS.STAGE_CALLS + i] = stages[i]!.calls + 1;
    }
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
    ctl.stats[STATS.OUTPUT_WRITTEN_END] = written + yLength;
    const pushed = outRing.push(y, yLength);
    written += pushed;
    if (pushed < yLength) ctl.add(CTRL.DROPPED_OUTPUT, yLength - pushed);
    ctl.add(CTRL.BLOCKS, 1);
    ctl.stats[STATS.HEARTBEAT_AT] = wallMs();
  }
  loadToken++;
  await cur.destroy();
  if (next) await (next as LoadedVoice).destroy();
  toOutput?.destroy();
  noise?.destroy();
}

main().catch((e: unknown) => {
  // Let the host see it as a crash (it restarts the worker; the output is silent meanwhile).
  setImmediate(() => {
    throw e;
  });
});
