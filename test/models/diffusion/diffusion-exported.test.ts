// The exported ONNX sets of so-vits-svc 4.1 diffusion (test/fixtures/torch/make-diffusion-reference.py writes
// them with upstream's own onnx_export.py at 4.1-Stable) against Resona's own graphs of the same model_*.pt:
// the condition, the denoiser, and refineMel step by step for each sampler. Then that a set is recognised by
// its inputs, that anything else is refused with the inputs found, and that a denoiser which really needs
// whole steps runs the whole-step samplers only.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import * as ort from 'onnxruntime-node';
import { conditionFor, type DiffusionInputs, type DiffusionSessions, loadDiffusion, loadExportedDiffusion, refineMel } from '../../../models/diffusion/diffusion.js';
import { exportedSetFiles, readExportedDiffusion, withFloatTime } from '../../../models/diffusion/exported.js';
import { readDiffusionModel } from '../../../models/diffusion/model.js';
import { readDiffusionConfig, type SamplerName } from '../../../models/diffusion/config.js';
import { mulberry32 } from '../../../models/random.js';
import { onnx } from '../../../models/onnx/proto.js';
import { GraphBuilder } from '../../../models/onnx/graph-builder.js';
import { relErr, ROOT, tempDir } from '../../helpers.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'torch', 'diffusion');
const TOL = 1e-4;

interface Pair { ours: DiffusionSessions; theirs: DiffusionSessions; M: number; U: number; S: number }

function block(p: Pair, T: number, seed: number, speaker?: Float32Array): DiffusionInputs {
  const u = mulberry32(seed);
  return {
    frames: T,
    mel: Float32Array.from({ length: p.M * T }, () => -10 + 9 * u()),
    f0: Float32Array.from({ length: T }, () => 100 + 300 * u()),
    volume: Float32Array.from({ length: T }, () => 0.3 * u()),
    units: Float32Array.from({ length: T * p.U }, () => 2 * u() - 1),
    ...(speaker ? { speaker } : {}),
  };
}

/** The same N(0, 1) draws for both runs. */
function noiseOf(seed: number): (n: number) => Float32Array {
  const u = mulberry32(seed);
  return (n) => Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()));
}

const SETS = [
  { name: 'tiny-export-2spk', mels: 10, hidden: 4, speakers: 2, channels: 6, layers: 2 },
  { name: 'tiny-export-1spk', mels: 8, hidden: 4, speakers: 1, channels: 4, layers: 2 },
];

for (const fx of SETS) {
  describe(`exported set ${fx.name} (upstream's onnx_export.py) against Resona's graphs of the same weights`, { timeout: 120_000 }, () => {
    let p: Pair;
    before(async () => {
      const model = await readDiffusionModel(path.join(FIXTURES, `${fx.name}.pt`), path.join(FIXTURES, `${fx.name}.yaml`));
      const set = await readExportedDiffusion(path.join(FIXTURES, `${fx.name}_denoise.onnx`));
      p = { ours: await loadDiffusion(model), theirs: await loadExportedDiffusion(set), M: model.mels, U: model.config.units, S: model.config.speakers };
    });
    after(async () => {
      await p.ours.release();
      await p.theirs.release();
    });

    test('the set is read from its graphs: sizes, all four parts, float time', () => {
      const e = p.theirs.exported!;
      const c = e.set.config;
      assert.deepEqual(
        { mels: e.set.mels, hidden: c.hidden, units: c.units, encoder: c.encoder, speakers: c.speakers, channels: c.channels, layers: c.layers, kStepMax: c.kStepMax },
        { mels: fx.mels, hidden: fx.hidden, units: 768, encoder: 'vec768l12', speakers: fx.speakers, channels: fx.channels, layers: fx.layers, kStepMax: 1000 },
      );
      assert.ok(e.pred && e.after, '_pred and _after are loaded');
      assert.equal(e.set.fractionalSteps, true);
      assert.equal(e.set.speakerMix, fx.speakers > 1);
    });

    test(`the condition (encoder's mel_pred) matches Resona's within ${TOL}`, async () => {
      const speakers = fx.speakers > 1 ? [Float32Array.of(1, 0), Float32Array.of(0, 1), Float32Array.of(0.3, 0.7)] : [undefined];
      for (const [i, spk] of speakers.entries()) {
        const inp = block(p, 9, 10 + i, spk);
        const a = await conditionFor(p.theirs, inp);
        const b = await conditionFor(p.ours, inp);
        assert.deepEqual(a.cond.dims, [1, fx.hidden, 9]);
        const err = relErr(a.cond.data as Float32Array, b.cond.data as Float32Array);
        assert.ok(err < TOL, `speaker ${spk ? `[${[...spk].join(', ')}]` : 'none'}: error ${err}`);
      }
      if (fx.speakers > 1) {
        const perFrame = new Float32Array(9 * 2);
        for (let t = 0; t < 9; t++) perFrame.set(t % 2 ? [1, 0] : [0, 1], 2 * t);
        const inp = block(p, 9, 20, perFrame);
        const err = relErr((await conditionFor(p.theirs, inp)).cond.data as Float32Array, (await conditionFor(p.ours, inp)).cond.data as Float32Array);
        assert.ok(err < TOL, `per-frame speakers: error ${err}`);
      }
    });

    test(`_denoise matches Resona's denoiser within ${TOL} at whole and fractional steps`, async () => {
      const T = 7;
      const inp = block(p, T, 30);
      const theirs = (await conditionFor(p.theirs, inp)).cond;
      const { condProj } = await conditionFor(p.ours, inp);
      const x = noiseOf(31)(p.M * T);
      for (const t of [0, 37.5, 99, 512.25, 999]) {
        const time = new ort.Tensor('float32', Float32Array.of(t), [1]);
        const a = (await p.theirs.denoiser.run({ noise: new ort.Tensor('float32', x, [1, 1, p.M, T]), time, condition: theirs }))['noise_pred']!;
        const b = (await p.ours.denoiser.run({ x: new ort.Tensor('float32', x, [1, p.M, T]), t: time, cond_proj: condProj }))['eps']!;
        const err = relErr(a.data as Float32Array, b.data as Float32Array);
        assert.ok(err < TOL, `t = ${t}: error ${err}`);
      }
    });

    test('PNDM\'s x-updates go through _pred (each step and the warm-up\'s provisional one), every result through _after', async () => {
      const e = p.theirs.exported!;
      const counts = { pred: 0, after: 0, denoise: 0 };
      const spy = (part: 'pred' | 'after' | 'denoise') => {
        const sess = part === 'denoise' ? e.denoise : e[part]!;
        const run = sess.run.bind(sess);
        Object.assign(sess, { run: (f: Record<string, ort.Tensor>) => ((counts[part] += 1), run(f)) });
        return () => Object.assign(sess, { run });
      };
      const restore = [spy('pred'), spy('after'), spy('denoise')];
      try {
        await refineMel(p.theirs, block(p, 6, 60), { method: 'pndm', kStep: 100, speedup: 10, mode: 'shallow' }, noiseOf(61));
        assert.deepEqual(counts, { pred: 10, after: 1, denoise: 10 });
        await refineMel(p.theirs, block(p, 6, 62), { method: 'dpm-solver++', kStep: 100, speedup: 10, mode: 'shallow' }, noiseOf(63));
        assert.deepEqual(counts, { pred: 10, after: 2, denoise: 20 });
      } finally {
        for (const r of restore) r();
      }
    });

    const RUNS: { method: SamplerName; kStep: number; speedup: number; mode: 'shallow' | 'only-diffusion' }[] = [
      { method: 'dpm-solver++', kStep: 100, speedup: 10, mode: 'shallow' },
      { method: 'pndm', kStep: 100, speedup: 10, mode: 'shallow' },
      { method: 'pndm', kStep: 1000, speedup: 200, mode: 'only-diffusion' },
      { method: 'dpm-solver++', kStep: 1000, speedup: 100, mode: 'only-diffusion' },
      { method: 'unipc', kStep: 50, speedup: 10, mode: 'shallow' },
      { method: 'ddim', kStep: 60, speedup: 20, mode: 'shallow' },
    ];
    test(`refineMel through the set follows refineMel through Resona's graphs within ${TOL} per step (DPM-Solver++, PNDM, UniPC, DDIM)`, async () => {
      for (const [i, r] of RUNS.entries()) {
        const T = 11;
        const inp = block(p, T, 40 + i, fx.speakers > 1 ? Float32Array.of(0.25, 0.75) : undefined);
        const trace = (calls: { x: Float32Array; t: number }[]) => ({ ...inp, observe: (x: Float32Array, t: number) => void calls.push({ x: x.slice(), t }) });
        const a: { x: Float32Array; t: number }[] = [];
        const b: { x: Float32Array; t: number }[] = [];
        const outA = await refineMel(p.theirs, trace(a), r, noiseOf(50 + i));
        const outB = await refineMel(p.ours, trace(b), r, noiseOf(50 + i));
        const what = `${r.method} ${r.mode} ${r.kStep}/${r.speedup}`;
        assert.ok(a.length >= 2, `${what}: ${a.length} denoiser calls`);
        assert.deepEqual(a.map((c) => c.t), b.map((c) => c.t), `${what}: steps`);
        a.forEach((c, j) => {
          const err = relErr(c.x, b[j]!.x);
          assert.ok(err < TOL, `${what}: x at call ${j} (t = ${c.t}) error ${err}`);
        });
        const err = relErr(outA, outB);
        assert.ok(err < TOL, `${what}: output error ${err}`);
        assert.ok(outA.some((v, j) => Math.abs(v - inp.mel![j]!) > 1e-3), `${what}: the mel was refined, not passed through`);
      }
    });
  });
}

describe('exported sets: recognition and refusals', { timeout: 60_000 }, () => {
  test('a _pred over another schedule (β up to 0.021) is refused at load', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const m = onnx.ModelProto.decode(readFileSync(src('pred')));
      const table = m.graph!.node!.map((n) => n.attribute?.find((a) => a.name === 'value')?.t).find((t) => t && t.dims?.length === 1 && Number(t.dims[0]) === 1000);
      assert.ok(table?.rawData, 'the exported _pred holds alphas_cumprod as a 1000-entry constant');
      const acp = new Float32Array(1000);
      let c = 1;
      for (let i = 0; i < 1000; i++) acp[i] = c *= 1 - (1e-4 + ((0.021 - 1e-4) * i) / 999);
      table.rawData = new Uint8Array(acp.buffer);
      for (const part of ['encoder', 'denoise', 'after']) copyFileSync(src(part), path.join(dir, `s_${part}.onnx`));
      writeFileSync(path.join(dir, 's_pred.onnx'), onnx.ModelProto.encode(m).finish());
      await assert.rejects(loadExportedDiffusion(await readExportedDiffusion(path.join(dir, 's'))), /s_pred\.onnx: its PLMS update from step 999 to 899 scales x by [\d.]+; expected [\d.]+ for the linear β 0\.0001…0\.02 schedule/);
    } finally {
      cleanup();
    }
  });

  const src = (part: string) => path.join(FIXTURES, `tiny-export-2spk_${part}.onnx`);

  test('any file of the set, or its prefix, names the whole set', () => {
    const want = exportedSetFiles('/m/voice');
    assert.deepEqual(exportedSetFiles('/m/voice_pred.onnx'), want);
    assert.deepEqual(exportedSetFiles('/m/voice_Encoder.onnx'), want);
    assert.equal(want.after, '/m/voice_after.onnx');
  });

  test('a file whose inputs are another part\'s, or no part\'s, is refused with the inputs found', async () => {
    const { dir, cleanup } = tempDir();
    try {
      copyFileSync(src('denoise'), path.join(dir, 'a_encoder.onnx'));
      copyFileSync(src('denoise'), path.join(dir, 'a_denoise.onnx'));
      await assert.rejects(readExportedDiffusion(path.join(dir, 'a')), /a_encoder\.onnx: its inputs \(noise float32\[1,1,10,.*\], time int64\[1\], condition float32\[1,4,.*\]\) are those of the _denoise part, not of _encoder/);
      writeFileSync(path.join(dir, 'c_encoder.onnx'), foreignGraph());
      copyFileSync(src('denoise'), path.join(dir, 'c_denoise.onnx'));
      await assert.rejects(readExportedDiffusion(path.join(dir, 'c_denoise.onnx')), /c_encoder\.onnx: its inputs \(feats float32\[1,T,768\], p_len int64\[1\]\) match no part of a so-vits-svc diffusion ONNX export\. Known: _encoder \(hubert, mel2ph, f0, volume\[, spk_mix\]\)/);
      copyFileSync(src('encoder'), path.join(dir, 'd_encoder.onnx'));
      await assert.rejects(readExportedDiffusion(path.join(dir, 'd')), /d_denoise\.onnx: no such file; an exported so-vits-svc diffusion set needs d_encoder\.onnx and d_denoise\.onnx/);
      // _pred and _after are optional: without them the TypeScript update and denormalisation stand in.
      copyFileSync(src('denoise'), path.join(dir, 'd_denoise.onnx'));
      const set = await readExportedDiffusion(path.join(dir, 'd'));
      assert.deepEqual(Object.keys(set.files).sort(), ['denoise', 'encoder']);
    } finally {
      cleanup();
    }
  });

  test('a diffusion.yaml of another model is refused; the right one gives k_step_max', async () => {
    const other = await readDiffusionConfig(path.join(FIXTURES, 'tiny-shallow.yaml'));
    await assert.rejects(readExportedDiffusion(src('encoder'), { config: other }), /says encoder_out_channels 256, the exported graphs 768; it belongs to another model/);
    const own = await readDiffusionConfig(path.join(FIXTURES, 'tiny-export-2spk.yaml'));
    const set = await readExportedDiffusion(src('encoder'), { config: { ...own, kStepMax: 100 } });
    const s = await loadExportedDiffusion(set);
    try {
      const T = 3;
      const inp = { frames: T, mel: new Float32Array(10 * T).fill(-5), f0: new Float32Array(T).fill(200), volume: new Float32Array(T), units: new Float32Array(T * 768) };
      await assert.rejects(refineMel(s, inp, { method: 'pndm', kStep: 200, speedup: 10, mode: 'shallow' }, noiseOf(1)), /k_step is 200; expected an integer in 1–100/);
    } finally {
      await s.release();
    }
  });

  test('a denoiser that uses its integer time beyond a cast runs whole-step samplers only, and matches then', async () => {
    const { dir, cleanup } = tempDir();
    try {
      // The exported denoiser with one more use of `time`: an extra output time_copy = Identity(time).
      const m = onnx.ModelProto.decode(readFileSync(src('denoise')));
      m.graph!.node!.push(onnx.NodeProto.create({ opType: 'Identity', input: ['time'], output: ['time_copy'], name: 'extra' }));
      m.graph!.output!.push(onnx.ValueInfoProto.create({ name: 'time_copy', type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64, shape: { dim: [{ dimValue: 1 }] } } } }));
      const bytes = onnx.ModelProto.encode(m).finish();
      assert.equal(withFloatTime(bytes, 'x'), null);
      assert.ok(withFloatTime(readFileSync(src('denoise')), 'x'), 'the unmodified export is retyped');
      for (const part of ['encoder', 'pred', 'after']) copyFileSync(src(part), path.join(dir, `w_${part}.onnx`));
      writeFileSync(path.join(dir, 'w_denoise.onnx'), bytes);
      const set = await readExportedDiffusion(path.join(dir, 'w'));
      assert.equal(set.fractionalSteps, false);
      const s = await loadExportedDiffusion(set);
      const model = await readDiffusionModel(path.join(FIXTURES, 'tiny-export-2spk.pt'), path.join(FIXTURES, 'tiny-export-2spk.yaml'));
      const ours = await loadDiffusion(model);
      try {
        const T = 5;
        const u = mulberry32(3);
        const inp = { frames: T, mel: Float32Array.from({ length: 10 * T }, () => -8 + 6 * u()), f0: new Float32Array(T).fill(180), volume: new Float32Array(T).fill(0.1), units: Float32Array.from({ length: T * 768 }, () => u() - 0.5) };
        for (const method of ['dpm-solver++', 'unipc', 'dpm-solver'] as const) {
          await assert.rejects(refineMel(s, inp, { method, kStep: 100, speedup: 10, mode: 'shallow' }, noiseOf(2)), new RegExp(`method is "${method.replace(/\+/g, '\\+')}"; expected ddim or pndm for .*w_denoise\\.onnx: its time input is an integer`));
        }
        for (const method of ['pndm', 'ddim'] as const) {
          const a = await refineMel(s, inp, { method, kStep: 100, speedup: 10, mode: 'shallow' }, noiseOf(4));
          const b = await refineMel(ours, inp, { method, kStep: 100, speedup: 10, mode: 'shallow' }, noiseOf(4));
          const err = relErr(a, b);
          assert.ok(err < TOL, `${method}: error ${err}`);
        }
      } finally {
        await s.release();
        await ours.release();
      }
    } finally {
      cleanup();
    }
  });

  test('an _after that is not the [−12, 2] denormalisation is refused', async () => {
    const { dir, cleanup } = tempDir();
    try {
      // The exported _after with its output scaled by 0.434294 (upstream's nsf-hifigan-log10 variant).
      const m = onnx.ModelProto.decode(readFileSync(src('after')));
      const g = m.graph!;
      const out = g.output![0]!.name!;
      for (const n of g.node!) n.output = n.output!.map((o) => (o === out ? 'pre_scale' : o));
      g.initializer!.push(onnx.TensorProto.create({ name: 'log10_scale', dataType: onnx.TensorProto.DataType.FLOAT, dims: [], floatData: [0.434294] }));
      g.node!.push(onnx.NodeProto.create({ opType: 'Mul', input: ['pre_scale', 'log10_scale'], output: [out], name: 'scale' }));
      for (const part of ['encoder', 'denoise', 'pred']) copyFileSync(src(part), path.join(dir, `l_${part}.onnx`));
      writeFileSync(path.join(dir, 'l_after.onnx'), onnx.ModelProto.encode(m).finish());
      const set = await readExportedDiffusion(path.join(dir, 'l'));
      await assert.rejects(loadExportedDiffusion(set), /l_after\.onnx: it maps −1 and 1 to -5\.2115 and 0\.86859; expected -12 and 2/);
    } finally {
      cleanup();
    }
  });
});

/** An ONNX graph of another kind (an RVC synthesizer's first inputs) to offer as an encoder. */
function foreignGraph(): Uint8Array {
  const g = new GraphBuilder('not-diffusion');
  const feats = g.input('feats', 'float32', [1, 'T', 768]);
  g.input('p_len', 'int64', [1]);
  g.op('Identity', [feats], {}, 'y');
  g.output('y', 'float32', [1, 'T', 768]);
  return g.toBytes();
}
