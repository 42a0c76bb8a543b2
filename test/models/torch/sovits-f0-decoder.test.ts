// so-vits-svc 4.1's automatic f0 prediction (f0_decoder) as Resona builds it, against PyTorch: the tiny 4.1
// vec768 checkpoint's F0 decoder run by make-sovits-reference.py (predict_f0 path of infer) on that fixture's
// inputs, per speaker, pitch-shifted and with no voiced frame. Breaking the lf0 normalisation must fail, and a
// checkpoint without the decoder is refused.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import * as ort from 'onnxruntime-node';
import { loadSession, type LoadedSession } from '../../../models/runtime.js';
import { readSovitsCheckpoint, type SovitsCheckpoint } from '../../../models/torch/sovits-checkpoint.js';
import { buildSovitsF0Decoder, type F0DecoderBuildOptions, hasF0Decoder } from '../../../models/torch/sovits-f0-decoder.js';
import { SovitsGraphError } from '../../../models/torch/sovits-spec.js';
import { type BlobRef, readBlobArray, ROOT } from '../../helpers.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'torch', 'sovits');
const TOLERANCE = 1e-4;

interface Inputs { frames: number; sourceFrames: number; ssl: number; content: BlobRef; mel2phLeft: BlobRef; f0: BlobRef; uv: BlobRef; vol: BlobRef }
interface Reference { checkpoint: string; config: string; inputs: string; cases: { sid: number; shift: number; unvoiced: boolean; f0: BlobRef }[] }

const ref = JSON.parse(readFileSync(path.join(FIXTURES, 'f0-decoder.json'), 'utf8')) as Reference;
const refBin = readFileSync(path.join(FIXTURES, 'f0-decoder.bin'));
const inputs = JSON.parse(readFileSync(path.join(FIXTURES, ref.inputs), 'utf8')) as Inputs;
const inBin = readFileSync(path.join(FIXTURES, ref.inputs.replace(/\.json$/, '.bin')));

let ckpt: SovitsCheckpoint | null = null;
async function checkpoint(): Promise<SovitsCheckpoint> {
  ckpt ??= await readSovitsCheckpoint(path.join(FIXTURES, ref.checkpoint), readFileSync(path.join(FIXTURES, ref.config)), ref.config);
  return ckpt;
}

const sessions: LoadedSession[] = [];
after(async () => {
  for (const s of sessions) await s.release();
});

async function predict(o: F0DecoderBuildOptions, sid: number, shift: number, unvoiced: boolean): Promise<Float32Array> {
  const s = await loadSession(buildSovitsF0Decoder(await checkpoint(), o), { provider: 'cpu', threads: 1, name: 'f0-decoder' });
  sessions.push(s);
  const T = inputs.frames;
  const f0 = Float32Array.from(readBlobArray(inBin, inputs.f0), (v) => v * shift);
  const uv = unvoiced ? new Float32Array(T) : (readBlobArray(inBin, inputs.uv) as Float32Array);
  const out = await s.run({
    c: new ort.Tensor('float32', readBlobArray(inBin, inputs.content), [1, inputs.sourceFrames, inputs.ssl]),
    mel2ph: new ort.Tensor('int64', BigInt64Array.from(readBlobArray(inBin, inputs.mel2phLeft), (v) => BigInt(v)), [1, T]),
    f0: new ort.Tensor('float32', f0, [1, T]),
    uv: new ort.Tensor('float32', uv, [1, T]),
    vol: new ort.Tensor('float32', readBlobArray(inBin, inputs.vol), [1, T]),
    sid: new ort.Tensor('int64', BigInt64Array.of(BigInt(sid)), [1]),
  });
  return out.f0_pred!.data as Float32Array;
}

// Compared on the network's own scale, lf0 = 2595·log10(1 + f0/700)/500 (float32 rounding of ~150 Hz is
// ~1e-5 Hz per ulp, and 10^x amplifies it; on lf0 the graphs agree to ~1e-6).
const lf0 = (f: number) => (2595 * Math.log10(1 + f / 700)) / 500;
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(lf0(v) - lf0(b[i]!))), 0);

describe('so-vits-svc F0 decoder (use_automatic_f0_prediction)', { timeout: 120_000 }, () => {
  test('the checkpoint carries f0_decoder weights', async () => {
    assert.ok(hasF0Decoder((await checkpoint()).weights));
  });

  for (const c of ref.cases) {
    test(`matches PyTorch within ${TOLERANCE} in lf0: speaker ${c.sid}${c.shift !== 1 ? ', +7 semitones' : ''}${c.unvoiced ? ', no voiced frame' : ''}`, async () => {
      const want = readBlobArray(refBin, c.f0) as Float32Array;
      const got = await predict({}, c.sid, c.shift, c.unvoiced);
      assert.equal(got.length, want.length);
      const d = maxDiff(got, want);
      assert.ok(d < TOLERANCE, `max |Δlf0| ${d}`);
    });
  }

  test('speakers predict different contours (cond(g) is wired)', () => {
    const [a, b] = ref.cases.filter((c) => c.shift === 1 && !c.unvoiced).map((c) => readBlobArray(refBin, c.f0) as Float32Array);
    assert.ok(maxDiff(a!, b!) > 1e-2);
  });

  for (const normalise of ['all-mean', 'none', 'natural-log'] as const) {
    test(`breaking the lf0 normalisation (${normalise} instead of 2595·log10 centred on the voiced mean) fails the reference`, async () => {
      const c = ref.cases[0]!;
      const d = maxDiff(await predict({ normalise }, c.sid, c.shift, c.unvoiced), readBlobArray(refBin, c.f0) as Float32Array);
      // all-mean differs least (unvoiced frames hold interpolated f0, near the voiced ones): still 5× the tolerance.
      assert.ok(d > 2 * TOLERANCE, `only ${d} off in lf0`);
    });
  }

  test('a checkpoint without f0_decoder weights is refused by name', async () => {
    const full = await checkpoint();
    const weights = new Map([...full.weights].filter(([k]) => !k.startsWith('f0_decoder.')));
    assert.throws(() => buildSovitsF0Decoder({ weights, config: full.config }), (e: unknown) => e instanceof SovitsGraphError && /use_automatic_f0_prediction/.test((e as Error).message));
  });

  test('an unknown f0_decoder key is refused', async () => {
    const full = await checkpoint();
    const weights = new Map(full.weights);
    weights.set('f0_decoder.decoder.extra.weight', full.weights.get('f0_decoder.proj.bias')!);
    assert.throws(() => buildSovitsF0Decoder({ weights, config: full.config }), /f0_decoder\.decoder\.extra\.weight/);
  });
});
