// RVC voice files: the settings named from RVC's positional config, checked against the weights, and every
// unknown or inconsistent file refused with the field, the value found and what was expected.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CheckpointError, readCheckpoint } from '../../../models/torch/checkpoint.js';
import { CONFIG_FIELDS, parseRvcCheckpoint, readRvcCheckpoint } from '../../../models/torch/rvc-checkpoint.js';
import { ROOT, tempDir } from '../../helpers.js';
import { OrderedDict, PyFloat, storage, Tensor, torchSave } from './torch-writer.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'torch');

// RVC's own v2 40 kHz config with the channel counts shrunk (hidden 2, gin 4) so the weights stay tiny.
const CONFIG = [1025, 32, 2, 2, 8, 2, 6, 3, 0, '1', [3, 7, 11], [[1, 3, 5], [1, 3, 5], [1, 3, 5]], [10, 10, 2, 2], 8, [16, 16, 4, 4], 109, 4, 40000];

let nextKey = 0;
function weight(...shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(storage(String(nextKey++), 'HalfStorage', Array.from({ length: n }, (_, i) => (i % 7) / 8)), shape);
}

interface VoiceOptions {
  config?: unknown[];
  meta?: Record<string, unknown>;
  /** Replaces (or, with null, removes) weights by name. */
  weights?: Record<string, Tensor | null | unknown>;
  features?: number;
}

function voiceRoot(o: VoiceOptions = {}): OrderedDict {
  const w: Record<string, unknown> = {
    'enc_p.emb_phone.weight': weight(2, o.features ?? 768),
    'enc_p.emb_pitch.weight': weight(256, 2),
    'emb_g.weight': weight(1, 4),
    'dec.ups.0.weight_v': weight(8, 4, 2),
    'dec.ups.1.weight_v': weight(4, 2, 2),
    'dec.ups.2.weight_v': weight(2, 1, 2),
    'dec.ups.3.weight_v': weight(1, 1, 2),
    'dec.ups.3.bias': weight(1),
  };
  for (const [k, v] of Object.entries(o.weights ?? {})) {
    if (v === null) delete w[k];
    else w[k] = v;
  }
  const meta: Record<string, unknown> = { info: '300epoch', sr: '40k', f0: 1, version: 'v2', ...o.meta };
  const entries: [string, unknown][] = [['weight', w], ['config', o.config ?? CONFIG]];
  for (const [k, v] of Object.entries(meta)) if (v !== undefined) entries.push([k, v]);
  return new OrderedDict(entries);
}

const parse = (o: VoiceOptions = {}): ReturnType<typeof parseRvcCheckpoint> => parseRvcCheckpoint(readCheckpoint(torchSave(voiceRoot(o)), 'voice.pth'), 'voice.pth');

function refused(o: VoiceOptions, pattern: RegExp): void {
  assert.throws(
    () => parse(o),
    (e: Error) => {
      assert.ok(e instanceof CheckpointError, `${e.name}: ${e.message}`);
      assert.match(e.message, /^voice\.pth: /);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

const withConfig = (i: number, v: unknown): unknown[] => CONFIG.map((x, j) => (j === i ? v : x));

describe('RVC voice files', () => {
  test('the real torch.save voice (rvc-v2-40k-tiny.pth) reads back to what the script wrote', async () => {
    const want = JSON.parse(readFileSync(path.join(FIXTURES, 'rvc-v2-40k-tiny.pth.json'), 'utf8')) as {
      weight: Record<string, { dtype: string; shape: number[]; values: number[] }>;
      config: unknown[];
    };
    const v = await readRvcCheckpoint(path.join(FIXTURES, 'rvc-v2-40k-tiny.pth'));
    assert.equal(v.version, 'v2');
    assert.equal(v.f0, true);
    assert.equal(v.sampleRate, 40000);
    assert.equal(v.info, '20epoch');
    CONFIG_FIELDS.forEach((f, i) => {
      if (f !== 'spk_embed_dim') assert.deepEqual(v.config[f], want.config[i], f);
    });
    assert.equal(v.config.spk_embed_dim, 3, "speakers come from emb_g.weight's rows, as in RVC, not the stored 109");
    assert.deepEqual([...v.weights.keys()], Object.keys(want.weight));
    for (const [k, w] of Object.entries(want.weight)) {
      const t = v.weights.get(k)!;
      assert.equal(t.dtype, w.dtype, k);
      assert.deepEqual(t.shape, w.shape, k);
      assert.deepEqual([...t.data], w.values, k);
    }
  });

  test('v1, no-f0, old files without version or f0, and a string sample rate in the config', () => {
    const v1 = parse({ features: 256, config: withConfig(17, '40k'), meta: { version: 'v1', f0: 0 }, weights: { 'enc_p.emb_pitch.weight': null } });
    assert.equal(v1.version, 'v1');
    assert.equal(v1.f0, false);
    assert.equal(v1.sampleRate, 40000);
    assert.equal(v1.config.sr, 40000);
    const old = parse({ features: 256, meta: { version: undefined, f0: undefined, info: undefined } });
    assert.equal(old.version, 'v1', 'RVC reads a file without version as v1');
    assert.equal(old.f0, true, 'and one without f0 as an f0 voice');
    assert.equal(old.info, '');
    const floats = parse({ config: withConfig(8, new PyFloat(0.1)), meta: { f0: true } });
    assert.equal(floats.config.p_dropout, 0.1);
    assert.equal(floats.config.resblock, '1');
    assert.deepEqual(floats.config.resblock_dilation_sizes, [[1, 3, 5], [1, 3, 5], [1, 3, 5]]);
    const rates48 = parse({ config: [...withConfig(12, [12, 10, 2, 2]).slice(0, 14), [24, 20, 4, 4], 109, 4, 48000], meta: { sr: '48k' } });
    assert.equal(rates48.sampleRate, 48000);
  });

  test('an unknown config is refused naming the field, the value and what was expected', () => {
    refused({ config: CONFIG.slice(0, 17) }, /its config has 17 entries, expected RVC's 18 \(spec_channels, segment_size, .*, gin_channels, sr\)/);
    refused({ config: [...CONFIG, 1] }, /its config has 19 entries/);
    refused({ meta: { sr: '44k' } }, /its sr is "44k", expected "32k", "40k" or "48k"/);
    refused({ meta: { version: 'v3' } }, /its version is "v3", expected "v1" or "v2"/);
    refused({ meta: { f0: 2 } }, /its f0 is 2, expected 0 or 1/);
    refused({ meta: { info: 3 } }, /its info is 3, expected a string/);
    refused({ config: withConfig(3, 'x') }, /config field hidden_channels \(entry 3\) is "x", expected a positive integer/);
    refused({ config: withConfig(3, new PyFloat(192.5)) }, /config field hidden_channels \(entry 3\) is 192\.5, expected a positive integer/);
    refused({ config: withConfig(16, 0) }, /config field gin_channels \(entry 16\) is 0, expected a positive integer/);
    refused({ config: withConfig(17, 44100) }, /config field sr \(entry 17\) is 44100, expected 32000, 40000 or 48000/);
    refused({ config: withConfig(17, '44k') }, /config field sr \(entry 17\) is "44k", expected 32000, 40000 or 48000/);
    refused({ config: withConfig(9, 1) }, /config field resblock \(entry 9\) is 1, expected "1" or "2"/);
    refused({ config: withConfig(8, 1.5) }, /config field p_dropout \(entry 8\) is 1\.5, expected a number in 0…1/);
    refused({ config: withConfig(12, [10, 10, 2]) }, /config field upsample_kernel_sizes \(entry 14\) is \[16, 16, 4, 4\], expected one kernel per upsample rate \(3\)/);
    refused({ config: withConfig(11, [[1, 3, 5]]) }, /config field resblock_dilation_sizes \(entry 11\) is \[\[1, 3, 5\]\], expected one list per resblock kernel size \(3\)/);
    refused({ config: withConfig(12, [10, 10, 2, 3]) }, /config field upsample_rates \(entry 12\) is \[10, 10, 2, 3\], expected rates whose product is 400 samples per frame at 40000 Hz \(these give 600\)/);
    refused({ config: withConfig(17, 48000), meta: { sr: '48k' } }, /upsample_rates .* product is 480 samples per frame at 48000 Hz \(these give 400\)/);
    refused({ meta: { sr: '48k' } }, /its sr is "48k" but its config renders at 40000 Hz/);
    refused({ config: 'x' as unknown as unknown[] }, /its config is "x", expected RVC's list of 18 synthesizer settings/);
  });

  test('weights that contradict the config are refused naming the weight', () => {
    refused({ features: 256 }, /its weight enc_p\.emb_phone\.weight is \[2, 256\], expected \[2, 768\] for a v2 voice with hidden_channels 2 \(it takes 256-d features: a v1 voice labelled v2\)/);
    refused({ meta: { version: 'v1' } }, /enc_p\.emb_phone\.weight is \[2, 768\], expected \[2, 256\] for a v1 voice/);
    refused({ weights: { 'enc_p.emb_phone.weight': null } }, /its weight enc_p\.emb_phone\.weight is missing, expected \[2, 768\]/);
    refused({ weights: { 'enc_p.emb_pitch.weight': null } }, /its weight enc_p\.emb_pitch\.weight is missing, expected \[256, 2\], the pitch embedding an f0 voice needs/);
    refused({ meta: { f0: 0 } }, /its f0 is 0 but its weights hold a pitch embedding \(enc_p\.emb_pitch\.weight\)/);
    refused({ weights: { 'emb_g.weight': weight(1, 3) } }, /its weight emb_g\.weight is \[1, 3\], expected \[speakers, 4\] \(gin_channels 4\)/);
    refused({ weights: { 'emb_g.weight': null } }, /emb_g\.weight is missing/);
    refused({ weights: { 'dec.ups.3.weight_v': null, 'dec.ups.3.bias': null } }, /its weights have 3 upsampling layers \(dec\.ups\.\*\), expected 4, one per config upsample rate/);
    refused({ weights: { 'flow.x': new Tensor(storage('i', 'LongStorage', [1n]), [1]) } }, /its weight flow\.x holds int64 values, expected floating point/);
    refused({ weights: { 'flow.x': 'oops' } }, /the checkpoint's "weight"\["flow\.x"\] is the string "oops", not a tensor/);
  });

  test('training checkpoints and other files are told apart', async () => {
    const training = torchSave({ model: { 'enc_p.emb_phone.weight': weight(2, 768) }, iteration: 2333, optimizer: { state: {}, param_groups: [] }, learning_rate: 1e-4 });
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'G_2333.pth');
      writeFileSync(file, training);
      await assert.rejects(readRvcCheckpoint(file), /G_2333\.pth: a training checkpoint \(G_xxx\.pth \/ D_xxx\.pth.*export the final voice with RVC's ckpt tab/);
    } finally {
      cleanup();
    }
    assert.throws(() => parseRvcCheckpoint(readCheckpoint(torchSave({ state_dict: {} }), 'x.pt'), 'x.pt'), /x\.pt: not an RVC voice: it has no "weight" entry \(it has: "state_dict"\)/);
    assert.throws(() => parseRvcCheckpoint(readCheckpoint(torchSave([1, 2]), 'x.pt'), 'x.pt'), /not an RVC voice: the checkpoint is not a dict/);
  });
});
