// The so-vits-svc synthesizer graph builder against PyTorch: tiny SynthesizerTrn 4.0/4.1 voices saved as
// so-vits-svc saves G_*.pth, with reference outputs of the deterministic infer path
// (test/fixtures/torch/make-sovits-reference.py). Then each distinctive part altered in turn, which must
// break the match, and the refusals of configs that do not fit their weights.
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import * as ort from 'onnxruntime-node';
import { fillMel2ph, interpolateF0 } from '../../../models/families/sovits/frames.js';
import { loadSession, type LoadedSession } from '../../../models/runtime.js';
import { CheckpointError } from '../../../models/torch/checkpoint.js';
import { readSovitsCheckpoint, type SovitsCheckpoint } from '../../../models/torch/sovits-checkpoint.js';
import { buildSovitsSynthesizer, SovitsGraphError, type SovitsBuildOptions } from '../../../models/torch/sovits-graph.js';
import type { TorchTensor } from '../../../models/torch/checkpoint.js';
import { randomWeights } from '../../../models/torch/rvc-random.js';
import { sovitsParameters, templateSovitsConfig } from '../../../models/torch/sovits-spec.js';
import { type BlobRef, readBlobArray, readBlobFixture, ROOT } from '../../helpers.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'torch', 'sovits');
const NAMES = ['4.1-vec768-vol-3spk', '4.1-vec256-release', '4.0-legacy'];
const TOLERANCE = 1e-4;
/** A broken part must move the output by far more than the tolerance. */
const BROKEN = 1e-2;

interface Fixture {
  name: string; form: string; sampleRate: number; hop: number; frames: number; sourceFrames: number; ssl: number; inter: number;
  noiseScale: number; speakers: string[]; content: BlobRef; mel2phLeft: BlobRef; f0raw: BlobRef; f0: BlobRef; uv: BlobRef;
  vol: BlobRef; eps: BlobRef; cases: { sid: number; audio: BlobRef; rms: number }[]; withoutVolMaxDiff?: number;
}

interface Loaded { fx: Fixture; bin: Buffer; ckpt: SovitsCheckpoint; configBytes: Buffer }
const cache = new Map<string, Loaded>();
async function load(name: string): Promise<Loaded> {
  let l = cache.get(name);
  if (!l) {
    const { fx, bin } = readBlobFixture<Fixture>(FIXTURES, name);
    const configBytes = readFileSync(path.join(FIXTURES, `${name}.config.json`));
    const ckpt = await readSovitsCheckpoint(path.join(FIXTURES, `${name}.pth`), configBytes, `${name}.config.json`);
    l = { fx, bin, ckpt, configBytes };
    cache.set(name, l);
  }
  return l;
}

const sessions: LoadedSession[] = [];
after(async () => {
  for (const s of sessions) await s.release();
});

interface Feeds { mel2ph?: BigInt64Array; dropVol?: boolean }

/** Runs the built graph on the fixture's inputs (mel2ph from Resona's own frame mapping unless given). */
async function render(l: Loaded, bytes: Uint8Array, sid: number, o: Feeds = {}): Promise<Float32Array> {
  const { fx, bin } = l;
  const s = await loadSession(bytes, { provider: 'cpu', threads: 1, name: fx.name });
  sessions.push(s);
  const T = fx.frames;
  let mel2ph = o.mel2ph;
  if (!mel2ph) {
    mel2ph = new BigInt64Array(T);
    fillMel2ph(mel2ph, T, fx.sourceFrames);
  }
  const eps = readBlobArray(bin, fx.eps) as Float32Array;
  const noise = Float32Array.from(eps, (v) => v * fx.noiseScale);
  const feeds: Record<string, ort.Tensor> = {
    c: new ort.Tensor('float32', readBlobArray(bin, fx.content), [1, fx.sourceFrames, fx.ssl]),
    f0: new ort.Tensor('float32', readBlobArray(bin, fx.f0), [1, T]),
    mel2ph: new ort.Tensor('int64', mel2ph, [1, T]),
    uv: new ort.Tensor('float32', readBlobArray(bin, fx.uv), [1, T]),
    noise: new ort.Tensor('float32', noise, [1, fx.inter, T]),
    sid: new ort.Tensor('int64', BigInt64Array.from([BigInt(sid)]), [1]),
  };
  if (s.inputs.find((i) => i.name === 'sid')?.type === 'float32') {
    // Speaker-mix form: one-hot weights per frame pick the speaker.
    const n = l.fx.speakers.length;
    const w = new Float32Array(T * n);
    for (let i = 0; i < T; i++) w[i * n + sid] = 1;
    feeds.sid = new ort.Tensor('float32', w, [T, n]);
  }
  if (s.inputNames.includes('vol')) feeds.vol = new ort.Tensor('float32', readBlobArray(bin, fx.vol), [1, T]);
  const out = await s.run(feeds);
  return out.audio!.data as Float32Array;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'output length');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const reference = (l: Loaded, sid = 0) => readBlobArray(l.bin, l.fx.cases.find((c) => c.sid === sid)!.audio) as Float32Array;
const build = (l: Loaded, o: SovitsBuildOptions = {}) => buildSovitsSynthesizer(l.ckpt, { deterministic: true, ...o });

describe('so-vits-svc graph against the PyTorch reference', { timeout: 300_000 }, () => {
  for (const name of NAMES) {
    test(`${name}: every speaker within ${TOLERANCE}`, async () => {
      const l = await load(name);
      const bytes = build(l);
      for (const c of l.fx.cases) {
        const audio = await render(l, bytes, c.sid);
        assert.equal(audio.length, l.fx.frames * l.fx.hop, 'T·hop samples');
        const d = maxDiff(audio, reference(l, c.sid));
        console.log(`${name} sid ${c.sid}: max |Δ| ${d.toExponential(2)} (rms ${c.rms.toFixed(3)})`);
        assert.ok(d < TOLERANCE, `${name} sid ${c.sid}: max |Δ| ${d}`);
      }
    });
  }

  test('4.1 vec768 with vol and 3 speakers builds the 4.1 export\'s speaker-mix sid; an id sid on request, same output', async () => {
    const l = await load(NAMES[0]!);
    const mixed = await loadSession(build(l), { provider: 'cpu', threads: 1, name: 'mix' });
    sessions.push(mixed);
    assert.deepEqual(mixed.inputs.find((i) => i.name === 'sid'), { name: 'sid', type: 'float32', dims: ['T', 3] });
    const byId = build(l, { speakerMix: false });
    const d = maxDiff(await render(l, byId, 2), reference(l, 2));
    assert.ok(d < TOLERANCE, `id form: max |Δ| ${d}`);
  });

  test('4.1 vec768: the three speakers and the vol input all move the output', async () => {
    const l = await load(NAMES[0]!);
    const [a, b] = [reference(l, 0), reference(l, 1)];
    assert.ok(maxDiff(a, b) > BROKEN, 'speakers differ');
    assert.ok((l.fx.withoutVolMaxDiff ?? 0) > BROKEN, `PyTorch without vol moves the output by ${l.fx.withoutVolMaxDiff}`);
  });

  test('the frame mapping and f0 interpolation Resona feeds are the ones the reference used', async () => {
    const l = await load(NAMES[0]!);
    const { fx, bin } = l;
    const mel = new BigInt64Array(fx.frames);
    fillMel2ph(mel, fx.frames, fx.sourceFrames);
    assert.deepEqual([...mel].map(Number), [...readBlobArray(bin, fx.mel2phLeft)]);
    const f0 = Float32Array.from(readBlobArray(bin, fx.f0raw));
    const uv = new Float32Array(fx.frames);
    interpolateF0(f0, uv, fx.frames);
    assert.deepEqual([...uv], [...readBlobArray(bin, fx.uv)]);
    const want = readBlobArray(bin, fx.f0);
    for (let i = 0; i < fx.frames; i++) assert.ok(Math.abs(f0[i]! - want[i]!) < 1e-3, `f0[${i}] ${f0[i]} vs ${want[i]}`);
  });
});

/** The checkpoint's weights with some replaced or removed. */
function altered(l: Loaded, edit: (w: Map<string, TorchTensor>) => void): Loaded {
  const weights = new Map(l.ckpt.weights);
  edit(weights);
  return { ...l, ckpt: { ...l.ckpt, weights } };
}

/** A tensor cut along one axis to [from, to). */
function cut(t: TorchTensor, axis: number, from: number, to: number): TorchTensor {
  const shape = [...t.shape];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const n = shape[axis]!;
  const src = t.data as Float32Array;
  const out = new Float32Array(outer * (to - from) * inner);
  for (let o = 0; o < outer; o++) out.set(src.subarray((o * n + from) * inner, (o * n + to) * inner), o * (to - from) * inner);
  shape[axis] = to - from;
  return { dtype: t.dtype, shape, data: out };
}

describe('each distinctive part, altered, breaks the match', { timeout: 300_000 }, () => {
  const check = async (l: Loaded, what: string, o: SovitsBuildOptions, feeds: Feeds = {}) => {
    const d = maxDiff(await render(l, build(l, o), 0, feeds), reference(l));
    console.log(`${l.fx.name} ${what}: max |Δ| ${d.toExponential(2)}`);
    assert.ok(d > BROKEN, `${what}: the output still matches (max |Δ| ${d})`);
  };

  test('without the uv embedding', async () => {
    for (const name of NAMES) {
      const l = altered(await load(name), (w) => w.delete('emb_uv.weight'));
      await check(l, 'no emb_uv', { architecture: { uvEmbedding: false } });
    }
  });

  test('without the vol embedding', async () => {
    const l = altered(await load(NAMES[0]!), (w) => {
      w.delete('emb_vol.weight');
      w.delete('emb_vol.bias');
    });
    await check(l, 'no emb_vol', { architecture: { vol: false } });
  });

  test('relative attention over ±3 frames instead of ±4', async () => {
    for (const name of NAMES) {
      const l = altered(await load(name), (w) => {
        for (const [k, t] of w) if (/^enc_p\.enc_\.attn_layers\.\d+\.emb_rel_[kv]$/.test(k)) w.set(k, cut(t, 1, 1, 8));
      });
      await check(l, 'window 3', { architecture: { window: 3 } });
    }
  });

  test('an NSF source of the fundamental alone instead of 8 harmonics above it', async () => {
    for (const name of NAMES) {
      const l = altered(await load(name), (w) => w.set('dec.m_source.l_linear.weight', cut(w.get('dec.m_source.l_linear.weight')!, 1, 0, 1)));
      await check(l, 'harmonics 0', { architecture: { harmonics: 0 } });
    }
  });

  test('content frames mapped by rounding, or 0-based, instead of floor(i·T_src/T) 1-based', async () => {
    const l = await load(NAMES[0]!);
    const T = l.fx.frames;
    const rounded = BigInt64Array.from({ length: T }, (_, i) => BigInt(Math.min(l.fx.sourceFrames - 1, Math.round((i * l.fx.sourceFrames) / T)) + 1));
    await check(l, 'mel2ph rounded', {}, { mel2ph: rounded });
    const zeroBased = new BigInt64Array(T);
    fillMel2ph(zeroBased, T, l.fx.sourceFrames);
    for (let i = 0; i < T; i++) zeroBased[i]! -= 1n;
    await check(l, 'mel2ph 0-based', {}, { mel2ph: zeroBased });
  });
});

describe('G_*.pth with a config that does not fit is refused, naming the field', { timeout: 60_000 }, () => {
  const withConfig = async (name: string, edit: (c: { model: Record<string, unknown>; data: Record<string, unknown> }) => void) => {
    const c = JSON.parse(readFileSync(path.join(FIXTURES, `${name}.config.json`), 'utf8'));
    edit(c);
    return readSovitsCheckpoint(path.join(FIXTURES, `${name}.pth`), Buffer.from(JSON.stringify(c)), 'config.json');
  };
  const refused = async (p: Promise<unknown>, ...parts: string[]) => {
    await assert.rejects(p, (e: Error) => {
      assert.ok(e instanceof SovitsGraphError, `${e.name}: ${e.message}`);
      for (const part of parts) assert.ok(e.message.includes(part), `"${e.message}" should name ${part}`);
      return true;
    });
  };

  test('ssl_dim against the weights and against the encoder', async () => {
    await refused(withConfig(NAMES[0]!, (c) => { c.model.ssl_dim = 256; }), 'model.ssl_dim', '256', '768');
    await refused(withConfig(NAMES[1]!, (c) => { c.model.speech_encoder = 'vec768l12'; }), 'model.ssl_dim', '256', '768', 'vec768l12');
  });

  test('speaker count against emb_g, and spk ids', async () => {
    await refused(withConfig(NAMES[0]!, (c) => { c.model.n_speakers = 5; }), 'model.n_speakers', '5', '3');
    await refused(withConfig(NAMES[2]!, (c) => { (c as unknown as { spk: Record<string, number> }).spk.extra = 2; }), 'spk.extra', '2', '0 to 1');
  });

  test('configs without speech_encoder: 4.0-Vec768-Layer12 (ssl 768) reads as vec768l12, 4.0 (ssl 256) as vec256l9', async () => {
    const v768 = await withConfig(NAMES[0]!, (c) => { delete c.model.speech_encoder; });
    assert.equal(v768.encoder, 'vec768l12');
    const fork = await withConfig(NAMES[0]!, (c) => { delete c.model.speech_encoder; c.data.contentvec_final_proj = false; });
    assert.equal(fork.encoder, 'vec768l12', "so-vits-svc-fork's 768-d last_hidden_state");
    assert.equal((await load(NAMES[2]!)).ckpt.encoder, 'vec256l9');
  });

  test('unknown and unsupported encoders, by name, with what is supported', async () => {
    await refused(withConfig(NAMES[0]!, (c) => { c.model.speech_encoder = 'whisper-ppg'; }), 'model.speech_encoder', 'whisper-ppg', 'vec768l12, vec256l9, hubertsoft', 'not supported yet');
    await refused(withConfig(NAMES[0]!, (c) => { c.model.speech_encoder = 'mystery-encoder'; }), 'model.speech_encoder', 'mystery-encoder', 'vec768l12, vec256l9, hubertsoft');
    await refused(withConfig(NAMES[0]!, (c) => { c.model.speech_encoder = 'toString'; }), 'model.speech_encoder', 'toString', 'vec768l12, vec256l9, hubertsoft');
    // hubertsoft is 256-d: the 768-d voice's config naming it is refused on ssl_dim.
    await refused(withConfig(NAMES[0]!, (c) => { c.model.speech_encoder = 'hubertsoft'; }), 'model.ssl_dim', '768', '256', 'hubertsoft');
  });

  test('so-vits-svc-fork iSTFT decoders and other decoders / flows', async () => {
    await refused(withConfig(NAMES[1]!, (c) => { c.model.type_ = 'ms-istft'; }), 'model.type_', 'ms-istft', 'iSTFT');
    await refused(withConfig(NAMES[1]!, (c) => { c.model.vocoder_name = 'nsf-snake-hifigan'; }), 'model.vocoder_name', 'nsf-snake-hifigan');
    await refused(withConfig(NAMES[1]!, (c) => { c.model.use_transformer_flow = true; }), 'model.use_transformer_flow');
    await refused(withConfig(NAMES[1]!, (c) => { c.data.hop_length = 320; }), 'data.hop_length', '320', '512');
  });

  test('a shared flow whose aliases disagree with flow.wn is refused', async () => {
    const l = altered(await load(NAMES[1]!), (w) => {
      const t = w.get('flow.flows.4.enc.res_skip_layers.0.bias')!;
      w.set('flow.flows.4.enc.res_skip_layers.0.bias', { ...t, data: Float32Array.from(t.data as Float32Array, (v) => v + 1) });
    });
    assert.throws(() => build(l), (e: Error) => e instanceof SovitsGraphError && /flow\.flows\.4\.enc\.res_skip_layers\.0\.bias differs from flow\.wn\.res_skip_layers\.0\.bias/.test(e.message));
  });

  test('the readers take every form: training (optimizer, iteration), fp16 release with shared flow, 4.0', async () => {
    const a = await load(NAMES[0]!);
    assert.equal(a.ckpt.iteration, 1234);
    assert.equal(a.ckpt.version, '4.1');
    assert.deepEqual(a.ckpt.speakers, ['alto', 'tenor', 'bass']);
    assert.equal(a.ckpt.encoder, 'vec768l12');
    const b = await load(NAMES[1]!);
    assert.equal(b.ckpt.dtype, 'float16');
    assert.equal(b.ckpt.encoder, 'vec256l9');
    assert.ok(b.ckpt.weights.has('flow.wn.cond_layer.weight_v') && b.ckpt.weights.has('flow.flows.6.enc.cond_layer.weight_v'));
    assert.ok(![...b.ckpt.weights.keys()].some((k) => k.startsWith('enc_q.')));
    const c = await load(NAMES[2]!);
    assert.equal(c.ckpt.version, '4.0');
    assert.equal(c.ckpt.encoder, 'vec256l9');
  });

  test('a checkpoint whose pickle calls os.system is refused by name, and nothing runs', async () => {
    const marker = '/tmp/resona-sovits-pwned';
    await rm(marker, { force: true });
    const config = readFileSync(path.join(FIXTURES, `${NAMES[0]}.config.json`));
    await assert.rejects(readSovitsCheckpoint(path.join(FIXTURES, 'hostile-os-system.pth'), config, 'config.json'), (e: Error) => {
      assert.ok(e instanceof CheckpointError, `${e.name}: ${e.message}`);
      assert.match(e.message, /os\.system|posix\.system/);
      return true;
    });
    assert.equal(existsSync(marker), false);
  });
});

describe('real size', { timeout: 300_000 }, () => {
  test('so-vits-svc 4.1 template config (192 hidden, 6 layers, 512 upsample channels, random weights) renders T·512 samples', async () => {
    const config = templateSovitsConfig({ speakers: 2 });
    const arch = { window: 4, harmonics: 8, uvEmbedding: true, vol: true, flowLayers: 4, depthwise: false, sharedFlow: false };
    const bytes = buildSovitsSynthesizer({ weights: randomWeights(sovitsParameters(config, arch), 3), config });
    const s = await loadSession(bytes, { provider: 'cpu', threads: 2, name: 'real-size' });
    sessions.push(s);
    const T = 24;
    const Tsrc = 14;
    const mel = new BigInt64Array(T);
    fillMel2ph(mel, T, Tsrc);
    const out = await s.run({
      c: new ort.Tensor('float32', new Float32Array(Tsrc * 768).fill(0.1), [1, Tsrc, 768]),
      f0: new ort.Tensor('float32', new Float32Array(T).fill(200), [1, T]),
      mel2ph: new ort.Tensor('int64', mel, [1, T]),
      uv: new ort.Tensor('float32', new Float32Array(T).fill(1), [1, T]),
      noise: new ort.Tensor('float32', new Float32Array(192 * T), [1, 192, T]),
      sid: new ort.Tensor('float32', Float32Array.from({ length: 2 * T }, (_, i) => (i % 2 === 1 ? 1 : 0)), [T, 2]), // speaker 1, as mix weights
      vol: new ort.Tensor('float32', new Float32Array(T).fill(0.05), [1, T]),
    });
    const a = out.audio!.data as Float32Array;
    assert.equal(a.length, T * 512);
    assert.ok(a.every(Number.isFinite));
    assert.ok(Math.sqrt(a.reduce((e, v) => e + v * v, 0) / a.length) > 1e-3, 'not silent');
  });
});
