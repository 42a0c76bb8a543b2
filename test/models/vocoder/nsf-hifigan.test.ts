// The NSF-HiFiGAN vocoder graph against PyTorch: tiny generators of openvpi's architecture, saved as openvpi saves
// them (torch.save({"generator": state_dict}) beside a config.json), with reference audio of the deterministic
// source (test/fixtures/torch/make-vocoder-reference.py). Then the Vocoder stage on a checkpoint and on ONNX
// files of the forms in circulation, and the refusals.
import { writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';

import { GraphBuilder } from '../../../models/onnx/graph-builder.js';
import { loadSession } from '../../../models/runtime.js';
import { fillNormal } from '../../../models/families/sovits/frames.js';
import { mulberry32 } from '../../../models/random.js';
import { buildNsfHifigan, nsfHifiganParameters, parseVocoderConfig, VOCODER_NOISE } from '../../../models/vocoder/nsf-hifigan.js';
import { detectVocoderContract, readVocoderCheckpoint, Vocoder, VocoderError } from '../../../models/vocoder/vocoder.js';
import { UserError } from '../../../protocol/errors.js';
import { type BlobRef, readBlobArray, readBlobFixture, ROOT, tempDir } from '../../helpers.js';
import * as ort from 'onnxruntime-node';

const DIR = path.join(ROOT, 'test', 'fixtures', 'torch', 'vocoder');
const NAMES = ['nsf-hifigan-tiny', 'nsf-hifigan-tiny-rb2'];
const TOLERANCE = 1e-4;
const CPU = { provider: 'cpu' as const, threads: 1 };

interface Fixture { frames: number; mel: BlobRef; f0: BlobRef; audio: BlobRef; rms: number; legacySineMaxDiff: number }

function load(name: string) {
  const { fx, bin } = readBlobFixture<Fixture>(DIR, name);
  const f32 = (r: BlobRef) => readBlobArray(bin, r) as Float32Array;
  return { fx, mel: f32(fx.mel), f0: f32(fx.f0), audio: f32(fx.audio), model: path.join(DIR, name, 'model.pt') };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const tmp = tempDir();
after(() => tmp.cleanup());

/** Runs a vocoder graph; one that declares the fed source noise gets N(0, 1) noise and U[0, 1) phases of this seed. */
async function runBytes(bytes: Uint8Array, mel: Float32Array, f0: Float32Array, T: number, seed = 1): Promise<Float32Array> {
  const s = await loadSession(bytes, { ...CPU, name: 'vocoder' });
  try {
    const feeds: Record<string, ort.Tensor> = { mel: new ort.Tensor('float32', mel, [1, 128, T]), f0: new ort.Tensor('float32', f0, [1, T]) };
    const C = 9; // harmonic_num 8 + the fundamental
    if (s.inputNames.includes(VOCODER_NOISE.noise)) {
      const n = new Float32Array(T * 512 * C);
      fillNormal(n, n.length, 1, seed);
      feeds[VOCODER_NOISE.noise] = new ort.Tensor('float32', n, [1, T * 512, C]);
      const u = mulberry32(seed);
      feeds[VOCODER_NOISE.phase] = new ort.Tensor('float32', Float32Array.from({ length: C }, u), [1, 1, C]);
    }
    const out = await s.run(feeds);
    assert.deepEqual(out['audio']!.dims, [1, 1, T * 512]);
    return out['audio']!.data as Float32Array;
  } finally {
    await s.release();
  }
}

for (const name of NAMES) {
  test(`${name}: Resona's graph matches PyTorch within 1e-4 (deterministic source); the noisy source differs`, async () => {
    const l = load(name);
    const { weights, config } = await readVocoderCheckpoint(l.model);
    const T = l.fx.frames;
    const audio = await runBytes(buildNsfHifigan(weights, config, { deterministic: true }), l.mel, l.f0, T);
    const d = maxDiff(audio, l.audio);
    console.log(`# ${name}: max |Δ| vs PyTorch ${d.toExponential(2)} (rms ${l.fx.rms.toFixed(3)}); PyTorch's two sine formulations differ by ${l.fx.legacySineMaxDiff.toExponential(2)}`);
    assert.ok(d < TOLERANCE, `max |Δ| ${d}`);
    assert.ok(l.fx.rms > 0.1, 'the reference is not faint');
    assert.ok(l.fx.legacySineMaxDiff < TOLERANCE, 'the older sine formulation agrees too');
    // The graph in use adds the source's noise (0.003 voiced, 0.033 unvoiced) and random initial phases, fed as
    // inputs (default) or drawn in the graph: the comparison above would catch either. Fed, the same draws give
    // the same audio and other draws other audio.
    const fed = buildNsfHifigan(weights, config);
    const noisy = await runBytes(fed, l.mel, l.f0, T, 1);
    assert.ok(maxDiff(noisy, l.audio) > 10 * TOLERANCE);
    assert.equal(maxDiff(await runBytes(fed, l.mel, l.f0, T, 1), noisy), 0);
    assert.ok(maxDiff(await runBytes(fed, l.mel, l.f0, T, 2), noisy) > 10 * TOLERANCE);
    assert.ok(maxDiff(await runBytes(buildNsfHifigan(weights, config, { noise: 'graph' }), l.mel, l.f0, T), l.audio) > 10 * TOLERANCE);
    // A wrong f0 (a semitone up) or a shifted mel fails the comparison: the source and the mel both reach the output.
    const det = buildNsfHifigan(weights, config, { deterministic: true });
    assert.ok(maxDiff(await runBytes(det, l.mel, l.f0.map((v) => v * 1.0595), T), l.audio) > 10 * TOLERANCE);
    assert.ok(maxDiff(await runBytes(det, l.mel.map((v) => v + 0.1), l.f0, T), l.audio) > 10 * TOLERANCE);
  });
}

test('the Vocoder stage runs a checkpoint and the same graph as .onnx alike; frames-first and "c" inputs are recognised', async () => {
  const l = load('nsf-hifigan-tiny');
  const T = l.fx.frames;
  const fromCkpt = await Vocoder.load(l.model, CPU, { deterministic: true });
  const a = (await fromCkpt.run(l.mel, l.f0, T)).slice();
  await fromCkpt.release();
  assert.ok(maxDiff(a, l.audio) < TOLERANCE);
  const { weights, config } = await readVocoderCheckpoint(l.model);
  const file = path.join(tmp.dir, 'nsf_hifigan.onnx');
  writeFileSync(file, buildNsfHifigan(weights, config, { deterministic: true }));
  const fromOnnx = await Vocoder.load(file, CPU);
  assert.equal(fromOnnx.contract.layout, 'bands-first');
  assert.ok(maxDiff(await fromOnnx.run(l.mel, l.f0, T), l.audio) < TOLERANCE);
  await fromOnnx.release();
  // The graph as built for use takes its source noise and phases as inputs, which the stage draws (seeded) each
  // run: two runs differ by the noise alone, and stay near the noise-free reference.
  const noisy = await Vocoder.load(l.model, CPU);
  assert.deepEqual([noisy.contract.noise, noisy.contract.noiseChannels, noisy.contract.phase], [VOCODER_NOISE.noise, 9, VOCODER_NOISE.phase]);
  const r1 = (await noisy.run(l.mel, l.f0, T)).slice();
  const r2 = await noisy.run(l.mel, l.f0, T);
  assert.ok(maxDiff(r1, r2) > 10 * TOLERANCE, 'a fresh draw every run');
  // The harmonics' random phases reshape the wave, not its level: the loudness stays the reference's.
  const rms = (x: Float32Array) => Math.sqrt(x.reduce((q, v) => q + v * v, 0) / x.length);
  console.log(`# fed-noise render rms ${rms(r1).toFixed(3)} vs the noise-free reference's ${rms(l.audio).toFixed(3)}`);
  assert.ok(Math.abs(rms(r1) / rms(l.audio) - 1) < 0.25, `rms ${rms(r1)} vs ${rms(l.audio)}`);
  await noisy.release();

  // DiffSinger's export takes mel [1, T, 128]: a small graph whose sample t·512 + i is mean_b(mel[b, t]) + f0[t]
  // shows the band-major contract transposed on the way in.
  const g = new GraphBuilder('frames-first');
  const mel = g.input('mel', 'float32', [1, 'T', 128]);
  const f0 = g.input('f0', 'float32', [1, 'T']);
  const m = g.op('Add', [g.op('ReduceMean', [mel], { axes: [2], keepdims: 1 }), g.op('Unsqueeze', [f0, g.i64([2])])]);
  g.op('Reshape', [g.op('Tile', [m, g.i64([1, 1, 512])]), g.i64([1, -1])], {}, 'waveform');
  g.output('waveform', 'float32', [1, 'L']);
  const ff = path.join(tmp.dir, 'frames-first.onnx');
  writeFileSync(ff, g.toBytes());
  const v = await Vocoder.load(ff, CPU);
  assert.equal(v.contract.layout, 'frames-first');
  const y = await v.run(l.mel, l.f0, T);
  for (const t of [0, 5, 15]) {
    let s = 0;
    for (let b = 0; b < 128; b++) s += l.mel[b * T + t]!;
    assert.ok(Math.abs(y[t * 512 + 100]! - (s / 128 + l.f0[t]!)) < 1e-3, `frame ${t}`);
  }
  await v.release();

  const c = detectVocoderContract({ inputs: [{ name: 'c', type: 'float32', dims: [1, 128, 'n'] }, { name: 'f0', type: 'float32', dims: [1, 'n'] }], outputs: [{ name: 'audio', type: 'float32', dims: [1, 1, 'L'] }] }, 'moevs.onnx');
  assert.deepEqual(c, { mel: 'c', layout: 'bands-first', bands: 128, f0: 'f0', output: 'audio', noise: null, noiseChannels: 0, phase: null });
});

test('refusals: other networks, wrong configs and checkpoints that do not match them, each with a clear message', async () => {
  const bad = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof VocoderError && e instanceof UserError && re.test((e as Error).message), String(re));
  const info = (inputs: { name: string; type: string; dims: (number | string)[] }[]) => ({ inputs, outputs: [{ name: 'y', type: 'float32', dims: [1, 'L'] }] });
  bad(() => detectVocoderContract(info([{ name: 'feats', type: 'float32', dims: [1, 'T', 768] }]), 'x.onnx'), /takes feats; an NSF-HiFiGAN vocoder takes a mel/);
  bad(() => detectVocoderContract(info([{ name: 'mel', type: 'float32', dims: [1, 80, 'T'] }, { name: 'f0', type: 'float32', dims: [1, 'T'] }]), 'x.onnx'), /80 mel bands/);
  bad(() => detectVocoderContract(info([{ name: 'mel', type: 'float32', dims: [1, 'a', 'b'] }, { name: 'f0', type: 'float32', dims: [1, 'T'] }]), 'x.onnx'), /band axis/);

  const l = load('nsf-hifigan-tiny');
  const { weights, config } = await readVocoderCheckpoint(l.model);
  bad(() => parseVocoderConfig({ ...config, hop_size: 256 }, 'config.json'), /hop_size 256/);
  bad(() => parseVocoderConfig({ ...config, upsample_kernel_sizes: [16, 16, 4, 4] }, 'config.json'), /one kernel size per upsample rate/);
  bad(() => parseVocoderConfig([], 'config.json'), /JSON object/);
  const missing = new Map(weights);
  missing.delete('conv_post.bias');
  bad(() => buildNsfHifigan(missing, config), /lacks 1 weight.*conv_post\.bias/);
  const extra = new Map(weights).set('cond.weight', weights.get('conv_post.bias')!);
  bad(() => buildNsfHifigan(extra, config), /does not use: cond\.weight/);
  bad(() => buildNsfHifigan(weights, { ...config, upsample_initial_channel: 64 }), /has shape/);
  assert.equal(nsfHifiganParameters(config).filter((p) => p.weightNorm).length, 1 + 5 + 5 * 3 * 6 + 1);

  // A checkpoint without its config.json beside it, and one trained for another rate.
  const lone = path.join(tmp.dir, 'lone');
  mkdirSync(lone);
  copyFileSync(l.model, path.join(lone, 'model.pt'));
  await assert.rejects(Vocoder.load(path.join(lone, 'model.pt'), CPU), /config\.json was not found/);
  writeFileSync(path.join(lone, 'config.json'), JSON.stringify({ ...config, sampling_rate: 24000 }));
  await assert.rejects(Vocoder.load(path.join(lone, 'model.pt'), CPU), /24000 Hz.*44100 Hz/);
});

test('voice.json names the user\'s vocoder file by absolute path; a relative or non-string one is refused', async () => {
  const { checkManifest } = await import('../../../models/voices/manifest.js');
  const base = {
    format: 1, id: 'v', name: 'V', family: 'sovits', model: 'v.onnx', preview: null, sampleRate: 44100, f0: true, speakers: 1,
    defaultPitch: 0, source: '', description: '', contract: 'sovits41', hop: 512, featureSize: 768, encoderLayer: 12, vol: false, speakerMix: false,
  };
  const m = checkManifest({ ...base, vocoder: '/home/me/nsf_hifigan/model' }, 'voice.json');
  assert.equal(m.vocoder, '/home/me/nsf_hifigan/model');
  assert.equal(checkManifest(base, 'voice.json').vocoder, undefined);
  for (const v of ['nsf_hifigan/model', 42, '']) {
    assert.throws(() => checkManifest({ ...base, vocoder: v }, 'voice.json'), (e: unknown) => e instanceof UserError && /vocoder/.test((e as Error).message) && /absolute path/.test((e as Error).message));
  }
});

test('resona vocoder <file> checks a checkpoint and prints the voice.json line; a non-vocoder fails with exit code 1', async () => {
  const { runResona } = await import('../../helpers.js');
  const model = path.join(DIR, 'nsf-hifigan-tiny', 'model.pt');
  const ok = await runResona(['vocoder', model]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /NSF-HiFiGAN checkpoint \(built into an ONNX graph\), 128 mels/);
  assert.match(ok.stdout, /rendered 43 frames → 22016 samples in \d+\.\d ms on CPU, peak 0\.\d+/);
  assert.ok(ok.stdout.includes(`"vocoder": ${JSON.stringify(model)}`), ok.stdout);
  const bad = await runResona(['vocoder', path.join(DIR, 'mel.json')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^resona: error: /m);
});
