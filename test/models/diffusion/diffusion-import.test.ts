// Importing a so-vits-svc diffusion model: diffusion.yaml and model_*.pt that do not fit are refused with the
// field, its value and what was expected; sampler settings out of range likewise.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { parseDiffusionConfig, readDiffusionConfig } from '../../../models/diffusion/config.js';
import { loadDiffusion, refineMel } from '../../../models/diffusion/diffusion.js';
import { DiffusionError } from '../../../models/diffusion/errors.js';
import { diffusionModelFrom, readDiffusionModel } from '../../../models/diffusion/model.js';
import { denoiserPasses } from '../../../models/diffusion/samplers.js';
import { readCheckpointFile, type TorchTensor } from '../../../models/torch/checkpoint.js';
import { ROOT, tempDir } from '../../helpers.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'torch', 'diffusion');
const YAML = readFileSync(path.join(FIXTURES, 'tiny-shallow.yaml'), 'utf8');
const PT = path.join(FIXTURES, 'tiny-shallow.pt');

function refused(text: string, ...parts: (string | RegExp)[]): void {
  assert.throws(() => parseDiffusionConfig(text, 'diffusion.yaml'), (e: unknown) => {
    assert.ok(e instanceof DiffusionError, String(e));
    for (const p of parts) assert.match(e.message, typeof p === 'string' ? new RegExp(p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : p);
    return true;
  });
}

describe('diffusion.yaml', { timeout: 60_000 }, () => {
  test('the fixture (yaml.dump of the 4.1 template) reads with its values', async () => {
    const c = await readDiffusionConfig(path.join(FIXTURES, 'tiny-shallow.yaml'));
    assert.deepEqual(
      [c.encoder, c.units, c.sampleRate, c.hop, c.layers, c.channels, c.hidden, c.speakers, c.usePitchAug, c.timesteps, c.kStepMax, c.vocoder],
      ['vec256l9', 256, 44100, 512, 3, 8, 6, 1, true, 1000, 100, 'nsf-hifigan'],
    );
  });

  test('k_step_max 0 (the template default) means the whole chain', () => {
    assert.equal(parseDiffusionConfig(YAML.replace('k_step_max: 100', 'k_step_max: 0'), 'x').kStepMax, 1000);
  });

  test('unknown encoders, sizes, vocoders, model types and samplers are refused with field, value and expected', () => {
    refused(YAML.replace('encoder: vec256l9', 'encoder: vec999'), 'data.encoder is "vec999"', 'expected one of vec768l12');
    refused(YAML.replace('encoder_out_channels: 256', 'encoder_out_channels: 768'), 'data.encoder_out_channels is 768', 'expected 256 for encoder vec256l9');
    refused(YAML.replace('type: nsf-hifigan', 'type: nsf-hifigan-log10'), 'vocoder.type is "nsf-hifigan-log10"', 'expected "nsf-hifigan"');
    refused(YAML.replace('type: Diffusion', 'type: DiffusionNew'), 'model.type is "DiffusionNew"', 'expected "Diffusion"');
    refused(YAML.replace('method: dpm-solver++', 'method: euler'), 'infer.method is "euler"', 'expected one of');
    refused(YAML.replace('n_layers: 3', 'n_layers: 0'), 'model.n_layers is 0', 'expected an integer in 1–256');
    refused(YAML.replace('n_spk: 1', 'n_spk: two'), 'model.n_spk is "two"');
    refused(YAML.replace('solo: 0', 'solo: 5'), 'spk.solo is 5', 'expected a speaker id in 0–0');
  });

  test('text that is not YAML, or asks for code (js tags), is refused', () => {
    refused('data: [unclosed', 'not valid YAML');
    refused(`${YAML}\nhack: !!js/function 'function () { return 1 }'\n`, 'not valid YAML');
    refused('- a\n- list\n', 'does not hold a mapping');
  });
});

describe('hostile diffusion.yaml', { timeout: 60_000 }, () => {
  test('an alias bomb costs nothing (aliases are shared, only known fields are read)', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 30; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
    const t = performance.now();
    const c = parseDiffusionConfig(`${YAML}\n${lines.join('\n')}\n`, 'bomb.yaml');
    assert.equal(c.layers, 3);
    assert.ok(performance.now() - t < 2000, 'the aliases were expanded');
  });

  test('deep nesting, binary bytes and files over 1 MiB are refused with a one-line error', async () => {
    refused('data: ' + '['.repeat(100_000), 'not valid YAML');
    refused('\u0000\u0001\u0002 \uFFFE', /not valid YAML|does not hold a mapping/);
    const { dir, cleanup } = tempDir();
    try {
      const big = path.join(dir, 'big.yaml');
      writeFileSync(big, `${YAML}\n# ${'x'.repeat(1 << 20)}\n`);
      await assert.rejects(readDiffusionConfig(big), /more than/);
      const bin = path.join(dir, 'bin.yaml');
      writeFileSync(bin, Buffer.from([0x64, 0x61, 0xff, 0xfe, 0x00]));
      await assert.rejects(readDiffusionConfig(bin), /not UTF-8 text/);
    } finally {
      cleanup();
    }
  });
});

describe('model_*.pt', { timeout: 60_000 }, () => {
  test('a checkpoint with an optimizer entry imports; global_step and sizes come through', async () => {
    const m = await readDiffusionModel(PT, path.join(FIXTURES, 'tiny-shallow.yaml'));
    assert.equal(m.globalStep, 1234);
    assert.equal(m.mels, 12);
    assert.equal(m.schedule.timesteps, 1000);
    const root = (await readCheckpointFile(PT)) as Map<string, unknown>;
    assert.ok(root.has('optimizer'), 'the fixture should carry an optimizer state');
  });

  test('a config that does not match the weights names the weight and both shapes', async () => {
    const root = await readCheckpointFile(PT);
    assert.throws(() => diffusionModelFrom(root, parseDiffusionConfig(YAML.replace('n_chans: 8', 'n_chans: 10'), 'x'), 'model.pt'),
      /decoder\.denoise_fn\.input_projection\.weight has shape \[8, 12, 1\]; expected \[10, 12, 1\]/);
    assert.throws(() => diffusionModelFrom(root, parseDiffusionConfig(YAML.replace('n_layers: 3', 'n_layers: 2'), 'x'), 'model.pt'),
      /does not account for: decoder\.denoise_fn\.residual_layers\.2\./);
    assert.throws(() => diffusionModelFrom(root, parseDiffusionConfig(YAML.replace('use_pitch_aug: true', 'use_pitch_aug: false'), 'x'), 'model.pt'),
      /does not account for: aug_shift_embed\.weight/);
  });

  test('another noise schedule or mel range in the buffers is refused', async () => {
    const cfg = parseDiffusionConfig(YAML, 'x');
    const tamper = async (key: string, i: number, v: number) => {
      const root = (await readCheckpointFile(PT)) as Map<string, Map<string, TorchTensor>>;
      (root.get('model')!.get(key)!.data as Float32Array)[i] = v;
      return root;
    };
    assert.throws(() => diffusionModelFrom(null, cfg, 'm.pt'), /m\.pt has no "model" entry \(it has: no dict\)/);
    const cosine = await tamper('decoder.betas', 500, 0.0123);
    assert.throws(() => diffusionModelFrom(cosine, cfg, 'm.pt'), /decoder\.betas\[500\] is 0\.01230000; expected 0\.01005996/);
    const range = await tamper('decoder.spec_max', 0, 3);
    assert.throws(() => diffusionModelFrom(range, cfg, 'm.pt'), /decoder\.spec_max is 3; expected 2/);
  });

  test('a model_*.pt without a model entry says what it has', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const yaml = path.join(dir, 'diffusion.yaml');
      writeFileSync(yaml, YAML);
      await assert.rejects(readDiffusionModel(path.join(ROOT, 'test', 'fixtures', 'torch', 'rvc-v2-40k-tiny.pth'), yaml), /has no "model" entry \(it has: weight/);
    } finally {
      cleanup();
    }
  });
});

describe('sampler settings', { timeout: 60_000 }, () => {
  test('k_step past k_step_max, too few DPM-Solver steps and only-diffusion on a shallow model are refused', async () => {
    const m = await readDiffusionModel(PT, path.join(FIXTURES, 'tiny-shallow.yaml'));
    const s = await loadDiffusion(m);
    try {
      const T = 4;
      const inp = { frames: T, mel: new Float32Array(12 * T).fill(-5), f0: new Float32Array(T).fill(200), volume: new Float32Array(T), units: new Float32Array(T * 256) };
      const noise = (n: number) => new Float32Array(n);
      const run = (o: Partial<Parameters<typeof refineMel>[2]>) => refineMel(s, inp, { method: 'dpm-solver++', kStep: 100, speedup: 10, mode: 'shallow', ...o }, noise);
      await assert.rejects(run({ kStep: 101 }), /k_step is 101; expected an integer in 1–100/);
      await assert.rejects(run({ kStep: 20, speedup: 20 }), /speedup is 20; expected at most 10 for dpm-solver\+\+ at k_step 20/);
      await assert.rejects(run({ speedup: 0 }), /speedup is 0/);
      await assert.rejects(run({ mode: 'only-diffusion' }), /trained on the first 100 of 1000 steps/);
      await assert.rejects(run({ method: 'heun' as never }), /method is "heun"; expected dpm-solver\+\+, dpm-solver, ddim, pndm, unipc/);
      await assert.rejects(run({ method: 'unipc', kStep: 20, speedup: 20 }), /speedup is 20; expected at most 10 for unipc at k_step 20 \(second-order UniPC/);
      await assert.rejects(refineMel(s, { ...inp, f0: new Float32Array(3) }, { method: 'ddim', kStep: 10, speedup: 5, mode: 'shallow' }, noise), /f0 has 3 values; expected 4/);
      await assert.rejects(refineMel(s, { ...inp, f0: Float32Array.of(100, NaN, 100, 100) }, { method: 'ddim', kStep: 10, speedup: 5, mode: 'shallow' }, noise), /f0 at frame 1 is NaN; expected Hz ≥ 0/);
      const out = await run({ method: 'ddim', kStep: 20, speedup: 5 });
      assert.equal(out.length, 12 * T);
      assert.ok(out.every(Number.isFinite));
    } finally {
      await s.release();
    }
  });

  test('denoiser passes per block: k/speedup for DPM-Solver, one fewer for DDIM, PNDM adds its warm-up', () => {
    assert.equal(denoiserPasses('dpm-solver++', 100, 10), 10);
    assert.equal(denoiserPasses('ddim', 100, 10), 9);
    assert.equal(denoiserPasses('pndm', 100, 10), 10);
    assert.equal(denoiserPasses('ddim', 25, 10), 2);
    assert.equal(denoiserPasses('pndm', 10, 10), 0);
    assert.equal(denoiserPasses('ddim', 8, 1), 8);
    assert.equal(denoiserPasses('unipc', 100, 10), 10);
    assert.equal(denoiserPasses('unipc', 50, 20), 2);
  });
});
