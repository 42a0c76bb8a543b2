// so-vits-svc 4.1 shallow diffusion against upstream's own PyTorch code (test/fixtures/torch/
// make-diffusion-reference.py imports Unit2Mel, WaveNet and DPM-Solver from a 4.1-Stable checkout): the
// denoiser, the condition encoder and every sampler's trajectory (each (x, t) the denoiser is called with)
// for fixed noise. Then that the comparison can fail: a wrong β schedule, an off-by-one step or another mel
// normalisation each leave the tolerance.
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import * as ort from 'onnxruntime-node';
import { readDiffusionConfig } from '../../../models/diffusion/config.js';
import {
  conditionFor, denormaliseMel, type DiffusionInputs, type DiffusionSessions, loadDiffusion, normaliseMel, qSample, refineMel,
} from '../../../models/diffusion/diffusion.js';
import { buildConditionProjector, buildDenoiser } from '../../../models/diffusion/graph.js';
import { type DiffusionModel, readDiffusionModel } from '../../../models/diffusion/model.js';
import { loadSession } from '../../../models/runtime.js';
import { type Denoise, type NoiseSource, sample } from '../../../models/diffusion/samplers.js';
import type { SamplerName } from '../../../models/diffusion/config.js';
import { BETA_END, BETA_START, makeSchedule } from '../../../models/diffusion/schedule.js';
import { readBlobFixture, relErr, ROOT } from '../../helpers.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'torch', 'diffusion');
/** Networks: max |Δ| over max(1, max |reference|). */
const NET_TOL = 1e-4;
/** Trajectories and output mels (normalised units for x; log-mel units for the output, so ×7). */
const TRAJ_TOL = 1e-3;

interface Ref { offset: number; shape: number[] }
interface Call { t: number; x: Ref }
interface Case { method: SamplerName; mode: 'shallow' | 'only-diffusion'; k: number; speedup: number; speaker: number[] | null; noise: Ref[]; cond: Ref; calls: Call[]; out: Ref }
interface Fixture {
  name: string; frames: number; mels: number; hidden: number; units_dim: number; speakers: number;
  units: Ref; f0: Ref; volume: Ref; mel: Ref; cases: Case[];
  denoiser: { x: Ref; cond: Ref; runs: { t: number; eps: Ref }[] };
}

interface Loaded { fx: Fixture; bin: Buffer; model: DiffusionModel; s: DiffusionSessions }

function arr(bin: Buffer, r: Ref): Float32Array {
  const n = r.shape.reduce((a, b) => a * b, 1);
  return new Float32Array(bin.buffer.slice(bin.byteOffset + r.offset, bin.byteOffset + r.offset + 4 * n));
}

const loaded = new Map<string, Loaded>();
async function load(name: string): Promise<Loaded> {
  let l = loaded.get(name);
  if (!l) {
    const { fx, bin } = readBlobFixture<Fixture>(FIXTURES, name);
    const model = await readDiffusionModel(path.join(FIXTURES, `${name}.pt`), path.join(FIXTURES, `${name}.yaml`));
    l = { fx, bin, model, s: await loadDiffusion(model) };
    loaded.set(name, l);
  }
  return l;
}
after(async () => {
  for (const l of loaded.values()) await l.s.release();
});

function inputs(l: Loaded, c: Case, calls?: { x: Float32Array; t: number }[]): DiffusionInputs {
  const { fx, bin } = l;
  return {
    frames: fx.frames,
    ...(c.mode === 'shallow' ? { mel: arr(bin, fx.mel) } : {}),
    f0: arr(bin, fx.f0),
    volume: arr(bin, fx.volume),
    units: arr(bin, fx.units),
    ...(c.speaker ? { speaker: Float32Array.from(c.speaker) } : {}),
    ...(calls ? { observe: (x: Float32Array, t: number) => void calls.push({ x: x.slice(), t }) } : {}),
  };
}

function noiseFrom(l: Loaded, c: Case): NoiseSource {
  const queue = c.noise.map((r) => arr(l.bin, r));
  return (n) => {
    const next = queue.shift();
    assert.ok(next, 'the sampler drew more noise than upstream');
    assert.equal(next.length, n);
    return next;
  };
}

/** Upstream's calls without the i = 0 step of DDIM/PNDM, whose update is the identity (Resona skips it). */
function expectedCalls(c: Case): Call[] {
  return c.speedup > 1 && (c.method === 'ddim' || c.method === 'pndm') ? c.calls.filter((k) => k.t !== 0) : c.calls;
}

function label(c: Case): string {
  return `${c.mode} ${c.method} k=${c.k} speedup=${c.speedup}${c.speaker ? ` speaker [${c.speaker.join(', ')}]` : ''}`;
}

const NAMES = ['tiny-shallow', 'tiny-full-3spk'];

for (const name of NAMES) {
  describe(`diffusion ${name} against upstream PyTorch`, { timeout: 120_000 }, () => {
    let l: Loaded;
    before(async () => {
      l = await load(name);
    });

    test('the checkpoint and config import with the fixture sizes', () => {
      assert.equal(l.model.mels, l.fx.mels);
      assert.equal(l.model.config.hidden, l.fx.hidden);
      assert.equal(l.model.config.units, l.fx.units_dim);
      assert.equal(l.model.config.speakers, l.fx.speakers);
      assert.equal(l.model.globalStep, 1234);
    });

    test(`denoiser matches WaveNet within ${NET_TOL} at integer and fractional steps (raw and projected condition)`, async () => {
      const { fx, bin } = l;
      const d = fx.denoiser;
      const raw = await loadSession(buildDenoiser(l.model, { condition: 'raw' }), { name: 'raw denoiser' });
      const projector = await loadSession(buildConditionProjector(l.model), { name: 'projector' });
      try {
        const cond = new ort.Tensor('float32', arr(bin, d.cond), [1, fx.hidden, fx.frames]);
        const condProj = (await projector.run({ cond }))['cond_proj']!;
        for (const r of d.runs) {
          const x = new ort.Tensor('float32', arr(bin, d.x), [1, fx.mels, fx.frames]);
          const t = new ort.Tensor('float32', Float32Array.of(r.t), [1]);
          const a = await raw.run({ x, t, cond });
          const b = await l.s.denoiser.run({ x, t, cond_proj: condProj });
          for (const [how, out] of [['raw', a], ['projected', b]] as const) {
            const err = relErr(out['eps']!.data as Float32Array, arr(bin, r.eps));
            assert.ok(err < NET_TOL, `${how}, t = ${r.t}: error ${err}`);
          }
        }
      } finally {
        await raw.release();
        await projector.release();
      }
    });

    test(`condition encoder matches Unit2Mel's embedding within ${NET_TOL} (speaker one-hot and mix)`, async () => {
      for (const c of l.fx.cases) {
        const { cond } = await conditionFor(l.s, inputs(l, c));
        const err = relErr(cond.data as Float32Array, arr(l.bin, c.cond));
        assert.ok(err < NET_TOL, `${label(c)}: error ${err}`);
      }
    });

    if (name === 'tiny-full-3spk') test('per-frame speaker weights ([T, S], every row the block\'s mix) give the block mix\'s condition', async () => {
      const c = l.fx.cases.find((k) => k.speaker && k.speaker.filter((v) => v > 0).length > 1);
      assert.ok(c, 'the multi-speaker fixture has a mix case');
      const perFrame = new Float32Array(l.fx.frames * l.fx.speakers);
      for (let t = 0; t < l.fx.frames; t++) perFrame.set(c.speaker!, t * l.fx.speakers);
      const { cond } = await conditionFor(l.s, { ...inputs(l, c), speaker: perFrame });
      const err = relErr(cond.data as Float32Array, arr(l.bin, c.cond));
      assert.ok(err < NET_TOL, `error ${err}`);
    });

    test(`every sampler follows upstream's trajectory within ${TRAJ_TOL}`, async () => {
      for (const c of l.fx.cases) {
        const calls: { x: Float32Array; t: number }[] = [];
        const out = await refineMel(l.s, inputs(l, c, calls), { method: c.method, kStep: c.k, speedup: c.speedup, mode: c.mode }, noiseFrom(l, c));
        const want = expectedCalls(c);
        assert.deepEqual(calls.map((k) => Math.round(k.t * 1000) / 1000), want.map((k) => Math.round(k.t * 1000) / 1000), `${label(c)}: steps`);
        calls.forEach((k, i) => {
          const err = relErr(k.x, arr(l.bin, want[i]!.x));
          assert.ok(err < TRAJ_TOL, `${label(c)}: x at call ${i} (t = ${k.t}) error ${err}`);
        });
        const err = relErr(out, arr(l.bin, c.out));
        assert.ok(err < TRAJ_TOL, `${label(c)}: output error ${err}`);
      }
    });
  });
}

// The pipeline refineMel runs, rebuilt from its exported parts with one part replaceable: the intact
// composition must match upstream (so the harness is sound), each broken one must not.
interface Breakage {
  schedule?: DiffusionModel['schedule'];
  /** Added to the step of the q_sample and of every denoiser call. */
  tShift?: number;
  norm?: (m: Float32Array) => Float32Array;
  denorm?: (m: Float32Array) => Float32Array;
}
async function shallowWith(l: Loaded, c: Case, b: Breakage): Promise<Float32Array> {
  const schedule = b.schedule ?? l.model.schedule;
  const inp = inputs(l, c);
  const noise = noiseFrom(l, c);
  const { mels: M } = l.fx;
  const T = l.fx.frames;
  const { condProj } = await conditionFor(l.s, inp);
  const shift = b.tShift ?? 0;
  const denoise: Denoise = async (x, t) => {
    const out = await l.s.denoiser.run({ x: new ort.Tensor('float32', x, [1, M, T]), t: new ort.Tensor('float32', Float32Array.of(t + shift), [1]), cond_proj: condProj });
    return out['eps']!.data as Float32Array;
  };
  const x = qSample((b.norm ?? normaliseMel)(inp.mel!), c.k - 1 + shift, noise(M * T), schedule);
  return (b.denorm ?? denormaliseMel)(await sample(x, { method: c.method, k: c.k, speedup: c.speedup }, schedule, denoise, noise));
}

describe('the reference comparison fails when the diffusion is wrong', { timeout: 120_000 }, () => {
  let l: Loaded;
  let cases: Case[];
  before(async () => {
    l = await load('tiny-shallow');
    cases = l.fx.cases.filter((c) => c.speedup > 1 && c.k === 100); // dpm-solver++, ddim, pndm, unipc at 100/10
    assert.deepEqual(cases.map((c) => c.method).sort(), ['ddim', 'dpm-solver++', 'pndm', 'unipc']);
  });

  test('the rebuilt pipeline, intact, matches upstream', async () => {
    for (const c of cases) {
      const err = relErr(await shallowWith(l, c, {}), arr(l.bin, c.out));
      assert.ok(err < TRAJ_TOL, `${c.method}: ${err}`);
    }
  });

  test('a β schedule ending at 0.021 instead of 0.02 leaves the tolerance', async () => {
    const n = l.model.schedule.timesteps;
    const betas = Float64Array.from({ length: n }, (_, i) => Math.fround(BETA_START + ((0.021 - BETA_START) * i) / (n - 1)));
    assert.equal(BETA_END, 0.02);
    for (const c of cases) {
      const err = relErr(await shallowWith(l, c, { schedule: makeSchedule(betas) }), arr(l.bin, c.out));
      assert.ok(err > TRAJ_TOL * 3, `${c.method}: a wrong schedule still matched (error ${err})`);
    }
  });

  test('steps off by one (q_sample at k and every denoiser call at t + 1) leave the tolerance', async () => {
    for (const c of cases) {
      const err = relErr(await shallowWith(l, c, { tShift: 1 }), arr(l.bin, c.out));
      assert.ok(err > TRAJ_TOL * 3, `${c.method}: off-by-one steps still matched (error ${err})`);
    }
    // q_sample alone at k instead of k − 1.
    const c = cases[0]!;
    const x = qSample(normaliseMel(arr(l.bin, l.fx.mel)), c.k, arr(l.bin, c.noise[0]!), l.model.schedule);
    const err = relErr(x, arr(l.bin, c.calls[0]!.x));
    assert.ok(err > TRAJ_TOL * 3, `q_sample at k still matched (error ${err})`);
  });

  test('a mel normalised over [−12, 3] instead of [−12, 2] leaves the tolerance', async () => {
    const norm = (m: Float32Array) => m.map((v) => ((v + 12) / 15) * 2 - 1);
    const denorm = (x: Float32Array) => x.map((v) => ((v + 1) / 2) * 15 - 12);
    for (const c of cases) {
      const err = relErr(await shallowWith(l, c, { norm, denorm }), arr(l.bin, c.out));
      assert.ok(err > TRAJ_TOL * 3, `${c.method}: another normalisation still matched (error ${err})`);
    }
  });
});

test('the fixture configs are what make-diffusion-reference.py wrote', async () => {
  const c = await readDiffusionConfig(path.join(FIXTURES, 'tiny-full-3spk.yaml'));
  assert.deepEqual(
    { encoder: c.encoder, units: c.units, speakers: c.speakers, kStepMax: c.kStepMax, method: c.method, speedup: c.speedup, names: c.speakerNames },
    { encoder: 'hubertsoft', units: 256, speakers: 3, kStepMax: 1000, method: 'dpm-solver++', speedup: 10, names: { a: 0, b: 1, c: 2 } },
  );
});
