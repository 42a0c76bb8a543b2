// SwiftF0 on the real network: where its frames sit in time (the facts the streaming estimator is built
// on), that streamed frames equal a whole-clip run, and that the whole-signal `track` still works.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { yinTrack } from '../../../engine/f0/yin.js';
import { SWIFTF0_FRAME_TIME, SwiftF0, SwiftF0Estimator } from '../../../models/f0/swiftf0.js';
import { float32Tensor, loadSession, type LoadedSession } from '../../../models/runtime.js';
import { readClip, sharedPath, to16k } from '../../helpers.js';
import { LIBRI_CLIPS, LJ_CLIPS, SWIFTF0_FILE, cents, sameFrames, streamRun, wholeRun } from './helpers.js';

let session: LoadedSession;
before(async () => {
  session = await loadSession(sharedPath(...SWIFTF0_FILE));
});
after(async () => {
  await session.release();
});

async function raw(x: Float32Array): Promise<{ pitch: Float32Array; conf: Float32Array }> {
  const r = await session.run({ input_audio: float32Tensor(x, [1, x.length]) });
  return { pitch: r['pitch_hz']!.data as Float32Array, conf: r['confidence']!.data as Float32Array };
}

describe('where SwiftF0 frames sit', () => {
  test('one frame per 256 samples; frame j reads STFT windows [256i − 384, 256i + 640) for i = j − 10 … j + 10', async () => {
    const n = 256 * 64;
    const x = new Float32Array(n);
    let seed = 7;
    for (let i = 0; i < n; i++) {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      x[i] = 0.3 * Math.sin((2 * Math.PI * 150 * i) / 16000) + 0.05 * (seed / 2 ** 32 - 0.5);
    }
    const base = await raw(x);
    assert.equal(base.pitch.length, n / 256);
    const k = 32;
    // Sample 256k + 128 sits well inside the windows of STFT frames k − 1 … k + 1, sample 256k inside
    // k − 2 … k + 1 (near their edges, but with Hann weights ≥ 0.15). Other window placements shift these.
    for (const [p, lo, hi] of [[256 * k + 128, k - 1, k + 1], [256 * k, k - 2, k + 1]] as const) {
      const y = Float32Array.from(x);
      y[p] = y[p]! + 0.5;
      const r = await raw(y);
      const changed: number[] = [];
      for (let j = 0; j < r.pitch.length; j++) if (r.pitch[j] !== base.pitch[j] || r.conf[j] !== base.conf[j]) changed.push(j);
      assert.deepEqual([changed[0], changed.at(-1), changed.length], [lo - 10, hi + 10, hi - lo + 21], `sample ${p}`);
    }
  });

  test(`on real speech frame j describes time 256j ${SWIFTF0_FRAME_TIME}, not its window centre 256j + 128`, async (t) => {
    // Median distance (cents) from YIN, re-timed to the moments its frames describe, with SwiftF0 frame j
    // placed at 256j + offset. The offset actually used must beat its window centre and a hop either side.
    const offsets = [SWIFTF0_FRAME_TIME - 256, SWIFTF0_FRAME_TIME - 96, SWIFTF0_FRAME_TIME, SWIFTF0_FRAME_TIME + 96, 128];
    const dists = new Map<number, number[]>(offsets.map((o) => [o, []]));
    for (const clip of [...LJ_CLIPS.slice(0, 4), ...LIBRI_CLIPS.slice(0, 4)]) {
      const { x: x0, rate } = await readClip(...clip);
      const x = await to16k(x0, rate);
      const yin = yinTrack(x, 16000);
      const { pitch, conf } = await raw(x);
      for (const o of offsets) {
        for (let j = 0; j < pitch.length; j++) {
          if (conf[j]! < 0.9) continue;
          const pos = (256 * j + o) / 160;
          const f = Math.floor(pos);
          const w = pos - f;
          if (f < 0 || f + 1 >= yin.length || !(yin[f]! > 0 && yin[f + 1]! > 0)) continue;
          const ref = Math.exp(Math.log(yin[f]!) * (1 - w) + Math.log(yin[f + 1]!) * w);
          const d = Math.abs(cents(pitch[j]!, ref));
          if (d < 100) dists.get(o)!.push(d);
        }
      }
    }
    const median = (a: number[]) => a.sort((p, q) => p - q)[a.length >> 1]!;
    const m = new Map(offsets.map((o) => [o, median(dists.get(o)!)]));
    t.diagnostic(offsets.map((o) => `256j${o >= 0 ? '+' : ''}${o}: median ${m.get(o)!.toFixed(2)} cents`).join('; '));
    for (const o of offsets) if (o !== SWIFTF0_FRAME_TIME) assert.ok(m.get(SWIFTF0_FRAME_TIME)! < m.get(o)!, `256j${o} fits better`);
  });
});

describe('SwiftF0Estimator', () => {
  test('streamed through F0Tracker in blocks of 100 and 20 ms it gives the whole-clip frames (≥ 98 % within 3 cents)', async (t) => {
    const est = await SwiftF0Estimator.load(sharedPath(...SWIFTF0_FILE), { maxFrames: 16 });
    try {
      for (const clip of [LJ_CLIPS[0]!, LIBRI_CLIPS[2]!, LIBRI_CLIPS[9]!]) {
        const { x: x0, rate } = await readClip(...clip);
        const x = await to16k(x0, rate);
        const whole = await wholeRun(est, x);
        for (const block of [100, 20]) {
          const pct = sameFrames(await streamRun(est, x, block), whole, 3);
          t.diagnostic(`${clip[1]} block ${block} ms: ${pct.toFixed(2)} % of ${whole.length} frames same voicing and within 3 cents`);
          assert.ok(pct >= 98, `${clip[1]}, ${block} ms blocks: ${pct.toFixed(2)} %`);
        }
      }
    } finally {
      await est.dispose();
    }
  });

  test('a call for more frames than maxFrames grows the buffer once and gives the same frames', async () => {
    const small = await SwiftF0Estimator.load(sharedPath(...SWIFTF0_FILE), { maxFrames: 2 });
    const big = await SwiftF0Estimator.load(sharedPath(...SWIFTF0_FILE), { maxFrames: 400 });
    try {
      const { x: x0, rate } = await readClip(...LIBRI_CLIPS[1]!);
      const x = await to16k(x0, rate);
      assert.deepEqual(await wholeRun(small, x), await wholeRun(big, x));
    } finally {
      await small.dispose();
      await big.dispose();
    }
  });

  test('look-ahead is configurable: fewer frames, less latency', async () => {
    const est = await SwiftF0Estimator.load(sharedPath(...SWIFTF0_FILE), { lookaheadFrames: 4 });
    try {
      assert.equal(est.contextAfter, 2976 - 4 * 256);
    } finally {
      await est.dispose();
    }
    await assert.rejects(SwiftF0Estimator.load(sharedPath(...SWIFTF0_FILE), { lookaheadFrames: 11 }), /lookaheadFrames must be 0…10/);
  });
});

test('SwiftF0.track (whole signal) still gives ⌊N/256⌋ frames with voiced speech in them', async () => {
  const swift = await SwiftF0.load(sharedPath(...SWIFTF0_FILE));
  try {
    const { x: x0, rate } = await readClip(...LJ_CLIPS[1]!);
    const x = await to16k(x0, rate);
    const r = await swift.track(x);
    assert.equal(r.hz.length, Math.floor(x.length / 256));
    assert.equal(r.hopSec, 0.016);
    assert.ok(r.hz.filter((v) => v > 100 && v < 400).length > r.hz.length / 4);
  } finally {
    await swift.release();
  }
});
