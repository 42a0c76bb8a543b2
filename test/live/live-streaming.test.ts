// A built-in voice on the streaming path, live through real PortAudio streams on a private PulseAudio server:
// 45 s of speech with at most one underrun (the goal is none: issue 14) and no dropped input, the pitch where it should be, and a click through the
// whole chain with its parts. Device buffer 128 (RESONA_TEST_BUFFER overrides). With another process busy on one
// core of the shared 2-core machine, the jitter-following prebuffer underran 1–2 times at 128 until clock drift
// between the two null sinks was made up and the prebuffer grew back as well as shrank; since then 300 s at 128
// ran clean with a busy core (bench:live). One is still tolerated in 45 s on a shared CI machine.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveSession } from '../../host/live/session.js';
import { STREAM_LOOKAHEAD_SEC, STREAM_QUANTUM_SEC } from '../../engine/voices/psola.js';
import { PulseEnv, MIC_SINK, RATE } from './pulse-env.js';
import { alignedCents, speech } from './live-analysis.js';

const SECONDS = 45;
const PITCH = -5;
const STREAM_BUFFER = Number(process.env.RESONA_TEST_BUFFER ?? 128);
let env: PulseEnv;
let session: LiveSession;

before(async () => {
  env = await PulseEnv.start();
  session = await LiveSession.start({
    voice: 'deeper',
    settings: { pitch: PITCH },
    input: `pulse:${MIC_SINK}.monitor`,
    virtualMic: true,
    bufferFrames: STREAM_BUFFER,
  });
});

after(async () => {
  await session?.stop();
  await env?.stop();
});

test(`${SECONDS} s of speech on the streaming path at buffer ${STREAM_BUFFER}: at most one underrun, no dropped input, f0 ${PITCH} semitones within 20 cents`, { timeout: 150_000 }, async (t) => {
  const x = await speech(SECONDS, RATE);
  await new Promise((r) => setTimeout(r, 1500)); // past start-up, where underruns are counted apart
  const take = async () => {
    const before = session.telemetry();
    const y = await env.playAndRecord('resona_vmic', x, 500);
    return { before, tel: session.telemetry(), f0: alignedCents(x, y, RATE) };
  };
  // The prebuffer starts at the host's guess from the warm-up and settles to the measured jitter within seconds
  // (output-mixer trimToJitter, in pauses): speech first, so the take measures the settled state.
  const settle = env.play(x.subarray(0, 12 * RATE));
  await settle.done;
  let judged = await take();
  // A take in which PulseAudio stopped the output stream (a device stall: the stream is reopened at once and
  // primes afresh, which counts a start-up underrun and moves the delay) measures the busy machine's sound
  // server, not Resona's margin: it is measured once more. Seen once in a full CI run with a busy core.
  const stalled = judged.tel.deviceStalls - judged.before.deviceStalls;
  const restarted = judged.tel.underrunCauses.startup - judged.before.underrunCauses.startup;
  if (stalled > 0 || restarted > 0) {
    console.log(`live-streaming: the output stream stalled ${stalled}x and primed afresh ${restarted}x during the take (underruns ${judged.tel.underruns - judged.before.underruns}); measuring again`);
    judged = await take();
  }
  const { before, tel, f0 } = judged;
  const msg =
    `f0 shift ${f0.cents.toFixed(1)} cents over ${f0.paired} frames; underruns ${tel.underruns - before.underruns} ` +
    `(inference ${tel.underrunCauses.inference - before.underrunCauses.inference}, device ${tel.underrunCauses.device - before.underrunCauses.device}), ` +
    `dropped input ${tel.droppedInput - before.droppedInput}, resyncs ${tel.resyncs - before.resyncs}, catch-ups ${tel.catchUps - before.catchUps}, device stalls ${tel.deviceStalls - before.deviceStalls}, start-up underruns ${tel.underrunCauses.startup - before.underrunCauses.startup}, prebuffer trims ${tel.prebufferTrims ?? 0}, ` +
    `rtf ${tel.rtf.toFixed(3)}, algorithmic ${tel.latency.algorithmicMs.toFixed(1)} ms, prebuffer ${tel.latency.prebufferMs.toFixed(1)} ms (least unused in the last second ${tel.latency.spareMs?.toFixed(1) ?? '-'} ms)`;
  t.diagnostic(msg);
  console.log(`live-streaming: ${msg}`);
  assert.ok(Math.abs(tel.latency.algorithmicMs - (STREAM_LOOKAHEAD_SEC + STREAM_QUANTUM_SEC) * 1000) < 0.01, `algorithmic latency is the look-ahead + quantum: ${msg}`);
  assert.ok(f0.paired > 700, `too few voiced frames to judge: ${msg}`);
  assert.ok(Math.abs(f0.cents - PITCH * 100) <= 20, msg);
  // At most one underrun in 45 s, as live-voice allows in 60 s. The goal is none (issue 14): the prebuffer keeps
  // 15 ms over the jitter it measured, and still 1 in 45 s was seen in 2 of 4 live phases on this 2-core machine
  // (one inference, one device burst). (Catch-ups are the output device stalling, PulseAudio's own doing; they
  // are reported, and the pitch pairing holds across them.)
  assert.ok(tel.underruns - before.underruns <= 1, msg);
  assert.equal(tel.droppedInput - before.droppedInput, 0, msg);
  assert.equal(tel.resyncs - before.resyncs, 0, msg);
});

test('a click through the whole chain: measured end to end, beside algorithmic + prebuffer + device', { timeout: 120_000 }, async (t) => {
  const t0 = session.telemetry();
  const m = await session.measureLatency({ capture: 'pulse:resona_vmic', click: `pulse:${MIC_SINK}`, clicks: 8 });
  const t1 = session.telemetry();
  const sum = m.algorithmicMs + m.prebufferMs + m.deviceMs;
  const msg =
    `buffer ${STREAM_BUFFER}: measured ${m.voiceMs.toFixed(1)} ms; algorithmic ${m.algorithmicMs.toFixed(1)} + prebuffer ${m.prebufferMs.toFixed(1)} + device ${m.deviceMs.toFixed(1)} ` +
    `(click in bypass) = ${sum.toFixed(1)} ms; underruns during it ${t1.underruns - t0.underruns}; clicks voice [${m.clicks.voice.map((v) => v.toFixed(1)).join(', ')}]`;
  t.diagnostic(msg);
  console.log(`live-streaming-latency: ${msg}`);
  assert.ok(m.clicks.voice.length >= 5, `too few clicks heard: ${msg}`);
  // The parts must account for the measurement (the model is what the UI shows before anyone measures), within
  // the 30 ms the block path's live test allows: runs here at 128 frames landed −12 to +16 ms from the sum.
  assert.ok(Math.abs(m.voiceMs - sum) <= 30, msg);
  assert.equal(session.telemetry().latency.measuredMs, m.voiceMs);
});
