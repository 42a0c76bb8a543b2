// Live mode under stress, through real PortAudio streams on a private PulseAudio server:
//   - an inference worker slowed past real time degrades gracefully (counted underruns, faded gaps) and
//     recovers when the load ends;
//   - killing the inference worker gives passthrough within 200 ms and the voice back after the restart;
//   - removing the output sink mid-stream does not crash the host; it resumes when the sink returns, and
//     choosing another sink resumes output there.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FLOAT_WAV_HEADER_BYTES } from '../../host/audio/wav.js';
import { LiveSession } from '../../host/live/session.js';
import type { LiveEvent } from '../../protocol/telemetry.js';
import { sine, tempDir } from '../helpers.js';
import { ALT_SINK, MIC_SINK, PulseEnv, RATE } from './pulse-env.js';
import { f0Track, maxStep } from './live-analysis.js';

const TONE = 220;
const PITCH = 7;
const SHIFTED = TONE * 2 ** (PITCH / 12);
let env: PulseEnv;
let session: LiveSession;
let tone: { done: Promise<void>; stop: () => void };
const events: LiveEvent[] = [];
const tmp = tempDir();
const outWav = path.join(tmp.dir, 'out.wav');
const inWav = path.join(tmp.dir, 'in.wav');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
  return Date.now() - t0;
}

before(async () => {
  env = await PulseEnv.start();
  session = await LiveSession.start({
    voice: 'natural',
    settings: { pitch: PITCH, blockMs: 100 },
    input: `pulse:${MIC_SINK}.monitor`,
    virtualMic: true,
    recordInput: inWav,
    recordOutput: outWav,
    onEvent: (e) => events.push(e),
  });
  tone = env.play(sine(TONE, RATE, 120, 0.3));
  await until('the voice to play', () => session.telemetry().outputPeakDb > -20, 10_000);
  await sleep(1000);
});

after(async () => {
  tone?.stop();
  await session?.stop();
  await env?.stop();
  tmp.cleanup();
});

test('an inference worker slowed past real time underruns with faded gaps and recovers when the load ends', { timeout: 60_000 }, async (t) => {
  const rec = env.record('resona_vmic');
  await sleep(1500);
  const ownFrom = session.recordedOutputFrames();
  const base = session.telemetry();
  // What follows is counted from here; one underrun before it (the start-up's grow-back on this shared 2-core
  // machine) does not make the load's own count less telling. The clean run itself is live-voice's to judge.
  const c = base.underrunCauses;
  assert.ok(base.underruns <= 1, `clean before the load: ${base.underruns} underruns (start-up ${c.startup}, inference ${c.inference}, device ${c.device})`);
  session.setInferenceLoad(140); // 140 ms of work per 100 ms block: RTF 1.4
  await sleep(4000);
  const loaded = session.telemetry();
  session.setInferenceLoad(0);
  const loadEnded = Date.now();
  // Recovered: the voice plays and no underrun follows for 2 s.
  let lastCount = session.telemetry().underruns;
  let lastChange = Date.now();
  await until(
    'no more underruns for 2 s',
    () => {
      const u = session.telemetry().underruns;
      if (u !== lastCount) {
        lastCount = u;
        lastChange = Date.now();
      }
      return Date.now() - lastChange > 2000 && session.telemetry().outputPeakDb > -20;
    },
    20_000,
  );
  const recoveryMs = lastChange - loadEnded;
  const y = await rec.stop();
  await session.flushRecording();
  const own = readWav(outWav);
  const ownStep = maxStep(own, ownFrom);
  const step = maxStep(y);
  const msg =
    `underruns under load ${loaded.underruns - base.underruns}, concealed ${(loaded.concealedMs - base.concealedMs).toFixed(0)} ms, ` +
    `dropped input ${loaded.droppedInput - base.droppedInput}; recovered ${Math.max(0, recoveryMs)} ms after the load ended; largest sample step ${step.toFixed(4)} at the virtual microphone, ${ownStep.toFixed(4)} in Resona's own output recording`;
  t.diagnostic(msg);
  console.log(`live-stress: ${msg}`);
  assert.ok(loaded.underruns - base.underruns >= 2, `a slowed worker must underrun: ${msg}`);
  // A 0.3 sine at 330 Hz moves at most 0.013 per sample; a hard cut would jump by up to 0.3.
  assert.ok(step < 0.05 && ownStep < 0.05, `a gap was cut, not faded: ${msg}`);
  assert.ok(recoveryMs < 5000, msg);
});

/** First 10 ms frame from `from` where f0 is within 50 cents of hz for 3 frames in a row. */
function firstAt(f0: Float32Array, hz: number, from: number): number {
  for (let i = Math.max(0, from); i + 2 < f0.length; i++) {
    let ok = true;
    for (let k = 0; k < 3; k++) ok &&= f0[i + k]! > 0 && Math.abs(1200 * Math.log2(f0[i + k]! / hz)) < 50;
    if (ok) return i;
  }
  return -1;
}

/** Frames (10 ms) in [from, to) whose f0 is within 50 cents of hz. */
function countAt(f0: Float32Array, hz: number, from: number, to: number): number {
  let n = 0;
  for (let i = Math.max(0, from); i < Math.min(f0.length, to); i++) if (f0[i]! > 0 && Math.abs(1200 * Math.log2(f0[i]! / hz)) < 50) n++;
  return n;
}

async function killAndWatch(): Promise<{ f0: Float32Array; killF: number; flagMs: number; restartMs: number }> {
  const restartsBefore = session.telemetry().inferenceRestarts;
  await sleep(1500);
  const killFrame = session.recordedOutputFrames();
  const killedAt = Date.now();
  session.killInference();
  const flagMs = await until('the worker down', () => ['recovering', 'passthrough'].includes(session.telemetry().state), 2000);
  await until('the restart', () => session.telemetry().inferenceRestarts > restartsBefore && session.telemetry().state === 'running', 20_000);
  const restartMs = Date.now() - killedAt;
  // Read the recording until the converted voice is back in it (a restart loads the voice on the same two
  // cores, and the output can stall and be reopened meanwhile), 10 s at most.
  const killF = Math.floor(killFrame / (RATE / 100));
  let f0: Float32Array = new Float32Array(0);
  for (let waited = 0; waited < 10_000; waited += 500) {
    await sleep(500);
    await session.flushRecording();
    const y = readWav(outWav);
    f0 = f0Track(y.subarray(0, Math.min(y.length, killFrame + 12 * RATE)), RATE);
    const back = firstAt(f0, SHIFTED, killF + 5);
    if (back > 0 && back + 100 < f0.length) break;
  }
  return { f0, killF, flagMs, restartMs };
}

test('a killed inference worker gives silence, never the dry voice, then the voice back (default fallback)', { timeout: 60_000 }, async (t) => {
  for (let k = 0; k < 2; k++) {
    const { f0, killF, flagMs, restartMs } = await killAndWatch();
    const voiceAt = firstAt(f0, SHIFTED, killF + 5);
    const dry = countAt(f0, TONE, killF, voiceAt < 0 ? f0.length : voiceAt + 20);
    const msg = `kill ${k + 1}: worker-down flag ${flagMs} ms; ${dry} dry frames; restarted after ${restartMs} ms, converted voice back ${(voiceAt - killF) * 10} ms after the kill`;
    t.diagnostic(msg);
    console.log(`live-kill: ${msg}`);
    const before = countAt(f0, SHIFTED, killF - 30, killF);
    assert.ok(before >= 15, `the voice was converted before the kill (${before} of 30 frames): ${msg}`);
    assert.equal(dry, 0, `the dry voice leaked: ${msg}`);
    assert.ok(voiceAt > killF, `the converted voice did not come back: ${msg}`);
  }
  assert.ok(events.some((e) => e.kind === 'inference-crashed' && /silent/.test(e.message)) && events.some((e) => e.kind === 'inference-restarted'));
});

test('with the dry fallback chosen, a killed worker passes the dry voice within 200 ms and the voice comes back', { timeout: 60_000 }, async (t) => {
  session.setFallback('dry');
  try {
    const { f0, killF, flagMs, restartMs } = await killAndWatch();
    const dryAt = firstAt(f0, TONE, killF);
    const voiceAt = dryAt < 0 ? -1 : firstAt(f0, SHIFTED, dryAt);
    const msg = `kill → flag ${flagMs} ms, dry voice in the output ${(dryAt - killF) * 10} ms after the kill; restarted after ${restartMs} ms, converted voice back ${(voiceAt - killF) * 10} ms after the kill`;
    t.diagnostic(msg);
    console.log(`live-kill-dry: ${msg}`);
    assert.ok(dryAt >= 0 && (dryAt - killF) * 10 <= 200, `no dry fallback within 200 ms: ${msg}`);
    assert.ok(voiceAt > dryAt, `the converted voice did not come back: ${msg}`);
  } finally {
    session.setFallback('silence');
  }
});

test('removing the output sink mid-stream: no crash, resumes when it returns and on another sink', { timeout: 60_000 }, async (t) => {
  const lostBefore = events.filter((e) => e.kind === 'device-lost').length;
  const modules = await env.pactl('list', 'short', 'modules');
  const sinkModule = modules.split('\n').find((l) => l.includes('sink_name=resona_vmic_sink'))!.split('\t')[0]!;
  const remapModule = modules.split('\n').find((l) => l.includes('source_name=resona_vmic'))?.split('\t')[0];
  if (remapModule) await env.pactl('unload-module', remapModule);
  await env.pactl('unload-module', sinkModule);
  await until('the loss to be reported', () => events.filter((e) => e.kind === 'device-lost').length > lostBefore, 3000);
  assert.deepEqual(session.telemetry().missing, ['output']);
  await sleep(500);
  assert.ok(session.telemetry().blocks > 0, 'the host is alive');

  // The sink returns (same name): output resumes by itself.
  await env.pactl('load-module', 'module-null-sink', 'sink_name=resona_vmic_sink', `rate=${RATE}`, 'channels=1');
  await until('the output to come back', () => events.some((e) => e.kind === 'device-back'), 5000);
  assert.deepEqual(session.telemetry().missing, []);
  const back = env.record('resona_vmic_sink.monitor');
  await sleep(4000); // parec itself takes 1–2 s to start delivering
  const yBack = await back.stop();

  // Another sink chosen: output goes there.
  await session.setDevice('output', `pulse:${ALT_SINK}`);
  const alt = env.record(`${ALT_SINK}.monitor`);
  await sleep(4000);
  const yAlt = await alt.stop();
  const voiced = (y: Float32Array) => {
    const f0 = f0Track(y.subarray(Math.round(0.2 * RATE)), RATE);
    const hits = Array.from(f0).filter((f) => f > 0 && Math.abs(1200 * Math.log2(f / SHIFTED)) < 50).length;
    return hits / Math.max(1, f0.length);
  };
  const peak = (y: Float32Array) => {
    const f0 = Array.from(f0Track(y, RATE)).filter((f) => f > 0).sort((a, b) => a - b);
    return `${y.reduce((m, v) => Math.max(m, Math.abs(v)), 0).toFixed(3)}, ${(y.length / RATE).toFixed(2)} s, median f0 ${f0[f0.length >> 1]?.toFixed(1)} Hz over ${f0.length} frames`;
  };
  const msg =
    `converted voice in ${(100 * voiced(yBack)).toFixed(0)} % of frames on the returned sink (peak ${peak(yBack)}), ` +
    `${(100 * voiced(yAlt)).toFixed(0)} % on the other sink (peak ${peak(yAlt)}); events: ${events.slice(-6).map((e) => `${e.kind}: ${e.message}`).join(' | ')}`;
  t.diagnostic(msg);
  console.log(`live-device: ${msg}`);
  assert.ok(voiced(yBack) > 0.8, msg);
  assert.ok(voiced(yAlt) > 0.8, msg);
});

test('input and output were recorded to WAV, keeping the session\'s time', { timeout: 30_000 }, async () => {
  await sleep(2000);
  await session.flushRecording();
  const x = readWav(inWav);
  const y = readWav(outWav);
  const tail = (z: Float32Array) => Array.from(f0Track(z.subarray(Math.max(0, z.length - RATE)), RATE));
  const inTone = tail(x).filter((f) => f > 0 && Math.abs(1200 * Math.log2(f / TONE)) < 50).length;
  const outVoice = tail(y).filter((f) => f > 0 && Math.abs(1200 * Math.log2(f / SHIFTED)) < 50).length;
  const msg = `recorded ${(x.length / RATE).toFixed(1)} s in, ${(y.length / RATE).toFixed(1)} s out; last second: ${inTone} tone frames in, ${outVoice} voice frames out`;
  assert.ok(x.length > 2 * RATE && y.length > 2 * RATE, msg);
  assert.ok(inTone > 50 && outVoice > 50, msg);
});

test('a 10 s recording keeps time across an output gap: 10 s ± one block in both files', { timeout: 60_000 }, async (t) => {
  const in2 = path.join(tmp.dir, 'in2.wav');
  const out2 = path.join(tmp.dir, 'out2.wav');
  const t0 = performance.now();
  await session.startRecording(in2, out2);
  const t1 = performance.now();
  await sleep(3000);
  // The output's sink goes away for 2 s (the output now plays into the alternative sink): a gap of output.
  const modules = await env.pactl('list', 'short', 'modules');
  const alt = modules.split('\n').find((l) => l.includes(`sink_name=${ALT_SINK}`))!.split('\t')[0]!;
  await env.pactl('unload-module', alt);
  await sleep(2000);
  await env.pactl('load-module', 'module-null-sink', `sink_name=${ALT_SINK}`, `rate=${RATE}`, 'channels=1');
  const left = 10_000 - (performance.now() - t1);
  if (left > 0) await sleep(left);
  const t2 = performance.now();
  await session.stopRecording();
  const t3 = performance.now();
  const x = readWav(in2);
  const y = readWav(out2);
  const lo = (t2 - t1) / 1000;
  const hi = (t3 - t0) / 1000;
  const msg = `recording ran ${lo.toFixed(3)}–${hi.toFixed(3)} s; input file ${(x.length / RATE).toFixed(3)} s, output file ${(y.length / RATE).toFixed(3)} s`;
  t.diagnostic(msg);
  console.log(`live-record: ${msg}`);
  for (const z of [x, y]) {
    const s = z.length / RATE;
    assert.ok(s >= lo - 0.1 && s <= hi + 0.1, `not the session's length within one block (0.1 s): ${msg}`);
  }
});

function readWav(p: string): Float32Array {
  const b = readFileSync(p);
  // Read while the recording is open, so its header's sizes are not yet patched: the samples run to the end.
  const h = FLOAT_WAV_HEADER_BYTES;
  const n = (b.length - h) >> 2;
  return new Float32Array(b.buffer.slice(b.byteOffset + h, b.byteOffset + h + n * 4));
}
