// The kept-region form of the so-vits-svc graph (skip_head / return_length) against the full-window export form
// the PyTorch references check (./sovits-graph.test.ts): on the same inputs its audio is the full form's tail.
// The fixtures' 34 frames are shorter than the flow's margin (32 frames), so their inputs are laid three times
// end to end (102 frames): then the flow really starts after frame 0 and the margin is what is tested.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import * as ort from 'onnxruntime-node';
import { fillMel2ph } from '../../../models/families/sovits/frames.js';
import { detectSovitsForm } from '../../../models/families/sovits/forms.js';
import { parseOnnxInfo } from '../../../models/onnx/model-info.js';
import { decoderLeftReach } from '../../../models/torch/rvc-generator.js';
import { loadSession, type LoadedSession } from '../../../models/runtime.js';
import { readSovitsCheckpoint, type SovitsCheckpoint } from '../../../models/torch/sovits-checkpoint.js';
import { buildSovitsSynthesizer, sovitsArchitecture, sovitsFlowMargin } from '../../../models/torch/sovits-graph.js';
import { ROOT } from '../../helpers.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'torch', 'sovits');
const NAMES = ['4.1-vec768-vol-3spk', '4.1-vec256-release', '4.0-legacy'];
const REPEAT = 3;
/**
 * Kept audio against the full form's past the decoder's context. The flow and the source's phase are computed
 * exactly as in the full form (the differences seen are 0 to 1e-6: float32 sums over other lengths).
 */
const TOLERANCE = 1e-5;
/** The left edge without context is really different (so the context is needed, and the test can fail). */
const EDGE = 1e-3;

interface ArrayRef { offset: number; dtype: string; shape: number[] }
interface Fixture { name: string; frames: number; sourceFrames: number; ssl: number; inter: number; hop: number; noiseScale: number; speakers: string[]; content: ArrayRef; f0: ArrayRef; uv: ArrayRef; vol: ArrayRef; eps: ArrayRef }

function readArray(bin: Buffer, r: ArrayRef): Float32Array {
  const n = r.shape.reduce((a, b) => a * b, 1);
  return new Float32Array(bin.buffer.slice(bin.byteOffset + r.offset, bin.byteOffset + r.offset + 4 * n));
}

/** x laid `times` times end to end along its last axis ([rows, cols] row-major, cols per row). */
function tile(x: Float32Array, rows: number, cols: number, times: number): Float32Array {
  const out = new Float32Array(rows * cols * times);
  for (let r = 0; r < rows; r++) for (let k = 0; k < times; k++) out.set(x.subarray(r * cols, (r + 1) * cols), r * cols * times + k * cols);
  return out;
}

interface Inputs { fx: Fixture; ckpt: SovitsCheckpoint; T: number; feeds: Record<string, ort.Tensor> }

async function inputs(name: string): Promise<Inputs> {
  const fx = JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as Fixture;
  const bin = readFileSync(path.join(FIXTURES, `${name}.bin`));
  const ckpt = await readSovitsCheckpoint(path.join(FIXTURES, `${name}.pth`), readFileSync(path.join(FIXTURES, `${name}.config.json`)), `${name}.config.json`);
  const T = fx.frames * REPEAT;
  const src = fx.sourceFrames * REPEAT;
  const mel2ph = new BigInt64Array(T);
  fillMel2ph(mel2ph, T, src);
  // c is time-major [T_src, C]: whole rows repeat.
  const c = tile(readArray(bin, fx.content), 1, fx.sourceFrames * fx.ssl, REPEAT);
  const eps = readArray(bin, fx.eps).map((v) => v * fx.noiseScale);
  const feeds: Record<string, ort.Tensor> = {
    c: new ort.Tensor('float32', c, [1, src, fx.ssl]),
    f0: new ort.Tensor('float32', tile(readArray(bin, fx.f0), 1, fx.frames, REPEAT), [1, T]),
    mel2ph: new ort.Tensor('int64', mel2ph, [1, T]),
    uv: new ort.Tensor('float32', tile(readArray(bin, fx.uv), 1, fx.frames, REPEAT), [1, T]),
    noise: new ort.Tensor('float32', tile(eps, fx.inter, fx.frames, REPEAT), [1, fx.inter, T]),
    vol: new ort.Tensor('float32', tile(readArray(bin, fx.vol), 1, fx.frames, REPEAT), [1, T]),
  };
  return { fx, ckpt, T, feeds };
}

const sessions: LoadedSession[] = [];
after(async () => {
  for (const s of sessions) await s.release();
});

async function open(bytes: Uint8Array, name: string): Promise<LoadedSession> {
  const s = await loadSession(bytes, { provider: 'cpu', threads: 1, name });
  sessions.push(s);
  return s;
}

/** Feeds for a session: speaker `sid` as an id or one-hot mix rows, vol only where the graph takes it. */
function feedsFor(s: LoadedSession, i: Inputs, sid: number, extra: Record<string, ort.Tensor> = {}): Record<string, ort.Tensor> {
  const f: Record<string, ort.Tensor> = { ...i.feeds, ...extra };
  if (!s.inputNames.includes('vol')) delete f.vol;
  if (s.inputs.find((x) => x.name === 'sid')?.type === 'float32') {
    const n = i.fx.speakers.length;
    const w = new Float32Array(i.T * n);
    for (let k = 0; k < i.T; k++) w[k * n + sid] = 1;
    f.sid = new ort.Tensor('float32', w, [i.T, n]);
  } else {
    f.sid = new ort.Tensor('int64', BigInt64Array.from([BigInt(sid)]), [1]);
  }
  return f;
}

const scalar = (v: number) => new ort.Tensor('int64', BigInt64Array.from([BigInt(v)]), []);

/** Max |Δ| per frame of the kept audio against the full audio's frames [skip, skip + len). */
function frameDiffs(kept: Float32Array, full: Float32Array, skip: number, len: number, hop: number): number[] {
  assert.equal(kept.length, len * hop, 'return_length · hop samples');
  const d: number[] = [];
  for (let f = 0; f < len; f++) {
    let m = 0;
    for (let k = f * hop; k < (f + 1) * hop; k++) m = Math.max(m, Math.abs(kept[k]! - full[skip * hop + k]!));
    d.push(m);
  }
  return d;
}

describe('so-vits-svc kept-region form against the full-window form', { timeout: 300_000 }, () => {
  for (const name of NAMES) {
    test(`${name}: past the decoder's context the kept audio is the full window's tail within ${TOLERANCE}; the region the voice keeps is past it`, async () => {
      const i = await inputs(name);
      const arch = sovitsArchitecture(i.ckpt.weights);
      const margin = sovitsFlowMargin(arch.flowLayers);
      assert.equal(margin, 8 * arch.flowLayers, '4 couplings × n_flow_layer × 2 frames');
      const full = await open(buildSovitsSynthesizer(i.ckpt, { deterministic: true }), `${name} full`);
      const keptBytes = buildSovitsSynthesizer(i.ckpt, { deterministic: true, keep: true });
      const kept = await open(keptBytes, `${name} kept`);
      const form = detectSovitsForm(parseOnnxInfo(keptBytes, name), name);
      assert.deepEqual([form.id, form.keep], [arch.vol ? 'sovits41-keep' : 'sovits40-keep', true]);
      const context = form.decoderContext;
      assert.equal(context, decoderLeftReach(i.ckpt.config), 'the build says its decoder reach');
      const sids = name.startsWith('4.1-vec768') ? [0, 2] : [0];
      // skip_head, return_length: tails as the voice asks for them (a short and a long region plus the context,
      // the flow starting after frame 0), and a skip_head inside the flow's margin (the flow starts at frame 0).
      const cases = [[i.T - 12 - context, 12 + context], [i.T - 40 - context, 40 + context], [margin - 6, i.T - margin + 6]] as const;
      for (const sid of sids) {
        const whole = (await full.run(feedsFor(full, i, sid))).audio!.data as Float32Array;
        assert.equal(whole.length, i.T * i.fx.hop);
        for (const [skip, len] of cases) {
          const out = (await kept.run(feedsFor(kept, i, sid, { skip_head: scalar(skip), return_length: scalar(len) }))).audio!.data as Float32Array;
          const d = frameDiffs(out, whole, skip, len, i.fx.hop);
          const inner = Math.max(...d.slice(context));
          // The first frame from which every frame matches: what the decoder's edge really reaches.
          let edge = d.length;
          while (edge > 0 && d[edge - 1]! < TOLERANCE) edge--;
          console.log(`${name} sid ${sid} skip ${skip} len ${len} (flow from ${Math.max(0, skip - margin)}): edge frames ${edge} (context ${context}), first frame |Δ| ${d[0]!.toExponential(1)}; past the context max |Δ| ${inner.toExponential(2)}`);
          assert.ok(d[0]! > EDGE, `the decoder's left edge differs (|Δ| ${d[0]})`);
          assert.ok(inner < TOLERANCE, `${name} sid ${sid} skip ${skip}: max |Δ| ${inner} past the decoder's context`);
          assert.ok(edge <= context, `the edge reaches ${edge} frames, the context is ${context}`);
        }
      }
      // No flow margin (the flow starts at skip_head, zero-padded there as RVC's would be without its 24): the
      // match breaks past the context. (On these tiny random networks the edge's influence fades fast: half the
      // margin moves the kept audio by only ~1e-6, so the margin's size rests on the receptive-field count.)
      const narrow = await open(buildSovitsSynthesizer(i.ckpt, { deterministic: true, keep: true, flowMargin: 0 }), `${name} no margin`);
      const whole = (await full.run(feedsFor(full, i, 0))).audio!.data as Float32Array;
      const [skip, len] = cases[0];
      const out = (await narrow.run(feedsFor(narrow, i, 0, { skip_head: scalar(skip), return_length: scalar(len) }))).audio!.data as Float32Array;
      const broken = Math.max(...frameDiffs(out, whole, skip, len, i.fx.hop).slice(context));
      console.log(`${name}: no flow margin: past the context max |Δ| ${broken.toExponential(2)}`);
      assert.ok(broken > 10 * TOLERANCE, `without the flow's margin the match must break (${broken})`);
    });
  }
});
