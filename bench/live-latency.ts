// Live latency benchmark through a private PulseAudio server (no sound card needed):
//   1. end-to-end click latency at each block size with a built-in voice, beside algorithmic + prebuffer +
//      device (median of the clicks; device = the same click path in bypass);
//   2. the smallest block that runs a soak (default 5 minutes) of speech without an underrun.
// Built-in voices run on the streaming path, where the block does not apply: pass --buffers 128,192,256 to
// time the click (and --soak-buffers to soak) at each device buffer instead; the smallest clean one is printed.
// node dist/bench/live-latency.js [--blocks 20,50,100,250] [--voice deeper] [--soak-blocks 10,20,30,50] [--soak-seconds 300] [--buffer 256]
//   [--buffers 128,256] [--soak-buffers 128,192,256] [--settle 15]
import { parseArgs } from 'node:util';
import { LiveSession } from '../host/live/session.js';
import { MIC_SINK, PulseEnv, RATE } from '../test/live/pulse-env.js';
import { speech } from '../test/live/live-analysis.js';

const { values } = parseArgs({
  options: {
    blocks: { type: 'string', default: '20,50,100,250' },
    voice: { type: 'string', default: 'deeper' },
    'soak-blocks': { type: 'string', default: '10,20,30,50' },
    'soak-seconds': { type: 'string', default: '300' },
    buffer: { type: 'string', default: '256' },
    buffers: { type: 'string' },
    'soak-buffers': { type: 'string' },
    'skip-soak': { type: 'boolean', default: false },
    // Speech played before the click, so a streaming voice's prebuffer has settled to the measured jitter.
    settle: { type: 'string', default: '0' },
  },
});
const list = (s: string) => s.split(',').map(Number).filter((n) => n > 0);
const buffers = list(values.buffers ?? values.buffer!);
const soakBuffers = list(values['soak-buffers'] ?? values.buffer!);
const voice = values.voice!;

const env = await PulseEnv.start();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
try {
  console.log(`click latency, voice ${voice}, at ${RATE} Hz (ms; medians of the clicks)`);
  console.log('buffer | block | measured | algorithmic | prebuffer | device (bypass click) | sum | measured − sum | underruns | spare (least unused prebuffer, last s)');
  for (const bufferFrames of buffers) for (const blockMs of list(values.blocks!)) {
    const s = await LiveSession.start({ voice, settings: { blockMs }, input: `pulse:${MIC_SINK}.monitor`, virtualMic: true, bufferFrames });
    try {
      await sleep(1500);
      if (Number(values.settle) > 0) await env.play(await speech(Number(values.settle), RATE)).done;
      const u0 = s.telemetry().underruns;
      const m = await s.measureLatency({ capture: 'pulse:resona_vmic', click: `pulse:${MIC_SINK}` });
      const sum = m.algorithmicMs + m.prebufferMs + m.deviceMs;
      console.log(
        `${String(bufferFrames).padStart(6)} | ${String(blockMs).padStart(5)} | ${m.voiceMs.toFixed(1).padStart(8)} | ${m.algorithmicMs.toFixed(1).padStart(11)} | ${m.prebufferMs.toFixed(1).padStart(9)} | ${m.deviceMs
          .toFixed(1)
          .padStart(21)} | ${sum.toFixed(1).padStart(5)} | ${(m.voiceMs - sum).toFixed(1).padStart(14)} | ${String(s.telemetry().underruns - u0).padStart(9)} | ${s.telemetry().latency.spareMs?.toFixed(1) ?? '-'}`,
      );
    } finally {
      await s.stop();
    }
  }

  if (!values['skip-soak']) {
    const soakSec = Number(values['soak-seconds']);
    console.log(`\nsoak: ${soakSec} s of speech per block size, smallest first; a block fails at its first underrun or dropped input`);
    const x = await speech(60, RATE);
    let smallest: string | null = null;
    for (const bufferFrames of soakBuffers) for (const blockMs of list(values['soak-blocks']!)) {
      if (smallest !== null) break;
      const s = await LiveSession.start({ voice, settings: { blockMs }, input: `pulse:${MIC_SINK}.monitor`, virtualMic: true, bufferFrames });
      let failedAt: number | null = null;
      const t0 = Date.now();
      try {
        await sleep(1500);
        const base = s.telemetry();
        const loops = Math.ceil(soakSec / 60);
        for (let i = 0; i < loops && failedAt === null; i++) {
          const p = env.play(soakSec - i * 60 >= 60 ? x : x.subarray(0, Math.round((soakSec - i * 60) * RATE)));
          while (failedAt === null) {
            const done = await Promise.race([p.done.then(() => true), sleep(250).then(() => false)]);
            const t = s.telemetry();
            if (t.underruns > base.underruns || t.droppedInput > base.droppedInput) {
              failedAt = (Date.now() - t0) / 1000;
              p.stop();
            }
            if (done) break;
          }
        }
        const t = s.telemetry();
        console.log(
          `buffer ${bufferFrames}, block ${String(blockMs).padStart(4)} ms: ${failedAt === null ? `clean for ${soakSec} s` : `underrun after ${failedAt.toFixed(1)} s`}; ` +
            `underruns ${t.underruns - base.underruns} (inference ${t.underrunCauses.inference - base.underrunCauses.inference}, device ${t.underrunCauses.device - base.underrunCauses.device}, start-up ${t.underrunCauses.startup - base.underrunCauses.startup}), dropped ${t.droppedInput - base.droppedInput}, block p95 ${t.blockMsP95.toFixed(2)} ms max ${t.blockMsMax.toFixed(1)} ms, prebuffer ${t.latency.prebufferMs.toFixed(1)} ms, spare ${t.latency.spareMs?.toFixed(1) ?? '-'} ms`,
        );
      } finally {
        await s.stop();
      }
      if (failedAt === null) smallest = `buffer ${bufferFrames} frames, block ${blockMs} ms`;
    }
    console.log(smallest === null ? 'no setting ran clean' : `smallest setting that ran ${soakSec} s without an underrun: ${smallest}`);
  }
} finally {
  await env.stop();
}
