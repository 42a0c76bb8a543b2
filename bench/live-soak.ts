// The on-air soak at length (default 30 minutes): the CI test's scenario (test/live/soak-scenario.ts), the
// voice switched every 20 s, repeated; prints the same figures as the test: frames converted / silent / dry,
// virtual-microphone removals, recorder moves and underruns by cause.
// node dist/bench/live-soak.js [--minutes 30] [--buffer 128]   (UV_THREADPOOL_SIZE=16, as `npm run bench:soak` sets it)
import { parseArgs } from 'node:util';
import { runSoak } from '../test/live/soak-scenario.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '30' }, buffer: { type: 'string' } } });
const seconds = Math.round(Number(values.minutes) * 60);
const r = await runSoak({ seconds, ...(values.buffer ? { bufferFrames: Number(values.buffer) } : {}), onLine: (s) => console.log(s) });
const f = r.frames;
const u = r.telemetry.underrunCauses;
const pct = (n: number) => `${((100 * n) / Math.max(1, f.total)).toFixed(2)} %`;
console.log(`\nsoak ${(seconds / 60).toFixed(1)} min at device buffer ${values.buffer ?? 'default'}, ${f.total} frames of 10 ms at the virtual microphone`);
console.log(`converted ${f.converted} (${pct(f.converted)}) | silent ${f.silent} (${pct(f.silent)}) | dry ${f.dry} (${pct(f.dry)}, longest run ${r.longestDryRunFrames}) | other ${f.other} (${pct(f.other)})`);
console.log(`virtual-microphone removals ${r.vmicRemovals} | recorder moved ${r.recorderMoved} | device stalls reopened ${r.telemetry.deviceStalls}`);
console.log(`underruns ${r.telemetry.underruns}: start-up ${u.startup}, inference ${u.inference}, device ${u.device} | catch-ups ${r.telemetry.catchUps} | prebuffer trims ${r.telemetry.prebufferTrims ?? 0}, in use ${r.telemetry.latency.prebufferMs.toFixed(1)} ms | block p95 ${r.telemetry.blockMsP95.toFixed(1)} ms, max ${r.telemetry.blockMsMax.toFixed(1)} ms`);
console.log(`failed switch (expected): ${r.failedSwitch}`);
if (r.unexpectedErrors.length) console.log(`unexpected: ${r.unexpectedErrors.join(' | ')}`);
process.exit(0);
