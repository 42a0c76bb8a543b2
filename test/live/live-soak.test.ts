// On air for 3 minutes (SOAK_SECONDS to change it): the virtual microphone never drops, the recorder reading
// it is never moved to the real microphone, and every recorded frame is converted voice or silence, never the
// dry voice, through voice switches, a failed load, an f0-method switch and Stop/Start. See soak-scenario.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSoak } from './soak-scenario.js';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 180);

test(`soak: ${SECONDS} s on air with a voice switch every 20 s`, { timeout: (SECONDS + 120) * 1000 }, async (t) => {
  const r = await runSoak({ seconds: SECONDS, onLine: (s) => console.log(`soak: ${s}`) });
  const f = r.frames;
  const u = r.telemetry.underrunCauses;
  const msg =
    `${f.total} frames: converted ${f.converted}, silent ${f.silent}, dry ${f.dry} (longest run ${r.longestDryRunFrames}), other ${f.other}; ` +
    `virtual-mic removals ${r.vmicRemovals}, recorder moved ${r.recorderMoved}; underruns ${r.telemetry.underruns} ` +
    `(start-up ${u.startup}, inference ${u.inference}, device ${u.device}), catch-ups ${r.telemetry.catchUps}, block p95 ${r.telemetry.blockMsP95.toFixed(1)} ms; ` +
    `failed switch: ${r.failedSwitch}`;
  t.diagnostic(msg);
  console.log(`soak: ${msg}`);
  assert.deepEqual(r.unexpectedErrors, [], msg);
  assert.equal(r.vmicRemovals, 0, `the virtual microphone was removed: ${msg}`);
  assert.equal(r.recorderMoved, 0, `the recorder was moved off the virtual microphone: ${msg}`);
  assert.ok(r.failedSwitch && /content encoder|vec-768|missing/i.test(r.failedSwitch), `the broken voice's switch says why it failed: ${msg}`);
  // A single stray frame can read near 200 Hz in a crossfade between two voices; the dry voice would be runs.
  assert.ok(r.longestDryRunFrames <= 2 && f.dry <= 5, `the dry voice reached the virtual microphone: ${msg}`);
  assert.ok(f.converted > 0.6 * f.total, `the voice was converted most of the time: ${msg}`);
  assert.ok(f.silent > 300, `Stop gave silence for its 6 s: ${msg}`);
});
