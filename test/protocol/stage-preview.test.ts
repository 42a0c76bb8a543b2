// The diffusion cost preview (protocol/stage-preview.ts): its pass counts are what the real samplers call the
// denoiser (run here with a denoiser that only counts), and its ms and shares scale the measured stage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeDiffusionPreview, diffusionPasses, diffusionPreview, settingsPasses, type DiffusionSettings } from '../../protocol/stage-preview.js';
import { DIFFUSION_METHODS } from '../../protocol/settings.js';
import type { StageReport } from '../../protocol/runtime.js';
import { checkRun, sample } from '../../models/diffusion/samplers.js';
import { linearBetas, makeSchedule } from '../../models/diffusion/schedule.js';

const schedule = makeSchedule(linearBetas(1000));

/** Denoiser calls one real sampler run makes at these settings. */
async function countedPasses(method: (typeof DIFFUSION_METHODS)[number], k: number, speedup: number): Promise<number> {
  let calls = 0;
  const x = new Float32Array(8).fill(0.1);
  await sample(x, { method, k, speedup }, schedule, async (xx) => {
    calls++;
    return new Float32Array(xx.length).fill(0.01);
  }, (n) => new Float32Array(n));
  return calls;
}

// Settings users pick (100/10, 50/10, 20/5), uneven ones where ceil and floor differ (25/10, 99/7, 7/3), the
// edges (speedup = k, speedup 1) and depths just past a multiple.
const CASES: [number, number][] = [[100, 10], [50, 10], [20, 5], [25, 10], [99, 7], [7, 3], [10, 10], [11, 10], [21, 10], [8, 1], [3, 1], [1000, 100], [1000, 33], [4, 2], [5, 2]];

test('the preview counts exactly the denoiser passes each real sampler makes', { timeout: 120_000 }, async () => {
  let checked = 0;
  for (const method of DIFFUSION_METHODS) {
    for (const [k, speedup] of CASES) {
      // Only settings the engine accepts run; the others are refused by name before a block runs.
      try {
        checkRun(method, k, speedup, 1000);
      } catch {
        continue;
      }
      assert.equal(diffusionPasses(method, k, speedup), await countedPasses(method, k, speedup), `${method} k ${k} speedup ${speedup}`);
      checked++;
    }
  }
  assert.ok(checked >= 60, `${checked} settings checked`);
  // Each rule the counts follow, spelled out once so a change to one shows by name.
  assert.equal(diffusionPasses('dpm-solver++', 25, 10), 2, 'DPM-Solver: floor(k / speedup)');
  assert.equal(diffusionPasses('ddim', 25, 10), 2, 'DDIM: ceil(k / speedup) − 1 (the i = 0 step is skipped)');
  assert.equal(diffusionPasses('pndm', 25, 10), 3, 'PNDM: one more for the warm-up');
  assert.equal(diffusionPasses('ddim', 8, 1), 8, 'speedup 1: DDPM, k passes');
});

const on = (kStep: number, speedup: number, method = 0): DiffusionSettings => ({ diffusion: 1, kStep, speedup, diffusionMethod: method });
const stages = (diffusionMs: number, calls: number, vocoderMs: number): StageReport[] => [
  { name: 'content encoder', provider: 'cpu', ms: 20, calls: 1 },
  { name: 'synthesizer', provider: 'cpu', ms: 30, calls: 1 },
  { name: 'diffusion', provider: 'cpu', ms: diffusionMs, calls },
  { name: 'vocoder', provider: 'cpu', ms: vocoderMs, calls: 1 },
];

test('the preview scales the measured ms per pass and says when the block would not keep up', { timeout: 10_000 }, () => {
  // 10 passes measured at 400 ms: 40 ms a pass; the rest of the block 50 (stages) + 10 (pitch, engine) ms.
  const p = diffusionPreview({ stages: stages(400, 10, 40), processMs: 500, blockMs: 500, now: on(100, 10), draft: on(100, 20) });
  assert.equal(p.nowPasses, 10);
  assert.equal(p.nextPasses, 5);
  assert.deepEqual(p.now, { passes: 10, diffusionMs: 400, totalMs: 500, share: 1, tooSlow: true });
  assert.deepEqual(p.next, { passes: 5, diffusionMs: 200, totalMs: 300, share: 0.6, tooSlow: false });
  assert.equal(describeDiffusionPreview(p), 'now: 10 passes, 400 ms/block (100 % of the block) → 5 passes, 200 ms (60 %)');
  // More passes than the block can take is flagged.
  const worse = diffusionPreview({ stages: stages(400, 10, 40), processMs: 500, blockMs: 900, now: on(100, 10), draft: on(100, 5, 2) });
  assert.equal(worse.next!.passes, 19, 'DDIM at 100/5: 19 passes');
  assert.equal(worse.next!.totalMs, 60 + 19 * 40 + 40);
  assert.ok(worse.next!.tooSlow && !worse.now!.tooSlow);
  assert.match(describeDiffusionPreview(worse), /→ 19 passes, 760 ms \(96 %\) — would not keep up/);
  // Off costs neither diffusion nor vocoder.
  const off = diffusionPreview({ stages: stages(400, 10, 40), blockMs: 500, now: on(100, 10), draft: { ...on(100, 10), diffusion: 0 } });
  assert.deepEqual(off.next, { passes: 0, diffusionMs: 0, totalMs: 50, share: 0.1, tooSlow: false }, 'the stages sum stands in for the block ms');
  // No change: the current figure alone.
  assert.equal(describeDiffusionPreview(diffusionPreview({ stages: stages(400, 10, 40), processMs: 500, blockMs: 1000, now: on(100, 10), draft: on(100, 10) })), 'now: 10 passes, 400 ms/block (50 % of the block)');
});

test('without a measured pass the preview gives the counts and says when the cost shows', { timeout: 10_000 }, () => {
  const idle = diffusionPreview({ stages: [], blockMs: 500, now: on(100, 10), draft: on(50, 10, 3) });
  assert.equal(idle.why, 'not-running');
  assert.equal(idle.now, null);
  assert.equal(describeDiffusionPreview(idle), 'Denoiser: 10 passes → 5 passes per block; the cost shows once the voice runs.');
  // Diffusion off now (0 calls) or a silent block (0 ms): nothing to scale.
  const offNow = diffusionPreview({ stages: stages(0, 0, 0), blockMs: 500, now: { ...on(100, 10), diffusion: 0 }, draft: on(100, 10) });
  assert.equal(offNow.why, 'not-measured');
  assert.match(describeDiffusionPreview(offNow), /^Denoiser: 0 passes → 10 passes per block; the cost shows once diffusion runs/);
  assert.equal(diffusionPreview({ stages: stages(0, 10, 0), blockMs: 500, now: on(100, 10), draft: on(100, 10) }).why, 'not-measured');
  assert.equal(settingsPasses({ ...on(100, 10), diffusionMethod: DIFFUSION_METHODS.length }), 0, 'an unknown sampler has no cost to show');
});

test('a draft the engine would refuse says so, in the words the engine refuses it with', { timeout: 10_000 }, async () => {
  const run = stages(400, 10, 40);
  // DPM-Solver++ needs two steps: speedup 60 at k_step 100 gives one.
  const p = diffusionPreview({ stages: run, processMs: 500, blockMs: 1000, now: on(100, 10), draft: on(100, 60) });
  assert.equal(p.next, null);
  assert.equal(p.refused, 'diffusion speedup 60: expected at most 50 for dpm-solver++ at k_step 100 (second-order DPM-Solver needs at least 2 steps)');
  assert.equal(describeDiffusionPreview(p), `now: 10 passes, 400 ms/block (50 % of the block) → not allowed: ${p.refused}`);
  assert.throws(() => checkRun('dpm-solver++', 100, 60, 1000), /at most 50 for dpm-solver\+\+ at k_step 100 \(second-order DPM-Solver needs at least 2 steps\)/);
  // DDIM takes it (one pass); speedup past k_step and a k_step past the model's are refused for every sampler.
  assert.equal(diffusionPreview({ stages: run, blockMs: 1000, now: on(100, 10), draft: on(100, 60, 2) }).refused, undefined);
  assert.match(diffusionPreview({ stages: run, blockMs: 1000, now: on(100, 10), draft: on(20, 30, 2) }).refused!, /^diffusion speedup 30: expected an integer in 1–20/);
  assert.match(diffusionPreview({ stages: [], blockMs: 1000, now: on(100, 10), draft: on(150, 10), kStepMax: 100 }).refused!, /^diffusion k_step 150: expected an integer in 1–100/);
  // Off is always allowed, whatever the other values.
  assert.equal(diffusionPreview({ stages: run, blockMs: 1000, now: on(100, 10), draft: { ...on(100, 60), diffusion: 0 } }).refused, undefined);
});
