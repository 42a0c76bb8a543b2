// f0 accuracy per method: cents error on pure sines 80–1000 Hz and on CREPE's sine sweep (up to 1000 Hz),
// and voicing on the 20 shared speech clips against CREPE (share of CREPE's voiced frames each method
// voices, agreement within 50 cents on those, and how many frames both networks leave unvoiced it voices).
// The last column is each method's f0 look-ahead (contextAfter): what its voicing rule costs in pitch lag.
//   node dist/bench/f0-accuracy.js [--methods yin,yin-edge,pyin,swiftf0,crepe]
import { parseArgs } from 'node:util';
import type { F0Estimator } from '../engine/f0/estimator.js';
import { YinEstimator } from '../engine/f0/yin.js';
import { EDGE_VOICING } from '../engine/f0/yin-voicing.js';
import { PYIN_VOICING } from '../engine/f0/yin-pyin.js';
import { CrepeEstimator } from '../models/f0/crepe.js';
import { SwiftF0Estimator } from '../models/f0/swiftf0.js';
import { readClip, sharedPath, to16k } from '../test/helpers.js';
import { SINE_HZ, type CentsStats, quantile, sineAccuracy, sweepAccuracy, voicing } from '../test/models/f0/accuracy.js';
import { CREPE_FILE, LIBRI_CLIPS, LJ_CLIPS, SWIFTF0_FILE, wholeRun } from '../test/models/f0/helpers.js';

const { values } = parseArgs({ options: { methods: { type: 'string', default: 'yin,yin-edge,pyin,swiftf0,crepe' } } });
const methods = values.methods!.split(',');

async function open(m: string): Promise<F0Estimator> {
  if (m === 'yin') return new YinEstimator();
  if (m === 'yin-edge') return new YinEstimator(EDGE_VOICING);
  if (m === 'pyin') return new YinEstimator({ pyin: PYIN_VOICING });
  if (m === 'swiftf0') return SwiftF0Estimator.load(sharedPath(...SWIFTF0_FILE), { maxFrames: 1024 });
  if (m === 'crepe') return CrepeEstimator.load(sharedPath(...CREPE_FILE), { maxFrames: 1024 });
  throw new Error(`unknown method ${m} (yin, yin-edge, pyin, swiftf0, crepe)`);
}

const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–');

const crepe = (await open('crepe')) as CrepeEstimator;
const swift = (await open('swiftf0')) as SwiftF0Estimator;
const clips: { x: Float32Array; c: Float32Array; s: Float32Array }[] = [];
for (const clip of [...LJ_CLIPS, ...LIBRI_CLIPS]) {
  const { x: x0, rate } = await readClip(...clip);
  const x = await to16k(x0, rate);
  clips.push({ x, c: await wholeRun(crepe, x), s: await wholeRun(swift, x) });
}
const { x: sweep0, rate: sweepRate } = await readClip('sine_sweep_16k.wav');
const sweep = await to16k(sweep0, sweepRate);

console.log('method     sines: median |c| p95 |c| worst |c| voiced% | sweep: median |c| p95 |c| voiced% | speech vs CREPE: voiced% agree50% extra% | f0 look-ahead ms');
for (const m of methods) {
  const est = m === 'crepe' ? crepe : m === 'swiftf0' ? swift : await open(m);
  const perHz: CentsStats[] = [];
  for (const hz of SINE_HZ) perHz.push(await sineAccuracy(est, hz));
  const medians = perHz.map((s) => Math.abs(s.median));
  const sv = perHz.reduce((a, s) => a + s.voicedPct, 0) / perHz.length;
  const sw = await sweepAccuracy(est, sweep);
  const pairs = [];
  for (const c of clips) pairs.push({ track: await wholeRun(est, c.x), ref: c.c, other: c.s });
  const v = voicing(pairs);
  // Extra voicing counts frames neither network voices, so SwiftF0 scores 0 there by construction.
  const speech = m === 'crepe' ? '(reference)' : `${f(v.recallPct)} ${f(v.agreePct)} ${m === 'swiftf0' ? '–' : f(v.extraPct)}`;
  console.log(
    `${m.padEnd(10)} ${f(quantile(medians, 0.5))} ${f(Math.max(...perHz.map((s) => s.absP95)))} ${f(Math.max(...medians))} ${f(sv)} | ${f(sw.absMedian)} ${f(sw.absP95)} ${f(sw.voicedPct)} | ${speech} | ${f(est.contextAfter / 16)}`,
  );
  console.log(`           per sine (Hz: signed median cents, voiced %): ${SINE_HZ.map((hz, i) => `${hz}: ${f(perHz[i]!.median)} (${f(perHz[i]!.voicedPct, 0)})`).join(', ')}`);
}
await crepe.dispose();
await swift.dispose();
