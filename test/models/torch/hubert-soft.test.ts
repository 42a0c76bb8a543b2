// HuBERT-Soft (so-vits-svc's "hubertsoft" encoder) built by the HuBERT builder from its own checkpoint layout,
// against PyTorch: a tiny HubertSoft with bshall's module names and torch's own nn.TransformerEncoderLayer
// (test/fixtures/torch/make-hubert-soft-reference.py), saved as so-vits-svc's bare "module."-prefixed state
// dict and as bshall's {"hubert": …} release. Leaving out units()'s 40-sample padding must fail the reference.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { float32Tensor, loadSession } from '../../../models/runtime.js';
import { readCheckpointFile } from '../../../models/torch/checkpoint.js';
import { HubertCheckpointError } from '../../../models/torch/hubert-config.js';
import { buildHubertEncoder } from '../../../models/torch/hubert-graph.js';
import { buildHubertSoftEncoder, convertHubertSoft, hubertSoftAsFairseq, hubertSoftStateDict } from '../../../models/torch/hubert-soft.js';
import { ROOT } from '../../helpers.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'torch', 'hubert');
const TOLERANCE = 1e-4;
const HEADS = 2; // the tiny model's; not in the weights

/** make-hubert-reference.py's format: uint32 header length, JSON header, float32 tensors. */
function readBin(name: string): Map<string, { shape: number[]; data: Float32Array }> {
  const buf = readFileSync(path.join(FIXTURES, name));
  const n = buf.readUInt32LE(0);
  const header = JSON.parse(buf.subarray(4, 4 + n).toString('utf8')) as { tensors: Record<string, { shape: number[]; offset: number }> };
  const body = buf.subarray(4 + n);
  const floats = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  return new Map(Object.entries(header.tensors).map(([k, t]) => [k, { shape: t.shape, data: floats.subarray(t.offset, t.offset + t.shape.reduce((a, b) => a * b, 1)) }]));
}

const audio = readBin('audio.bin').get('audio')!.data;
const want = readBin('soft-tiny.reference.bin').get('units')!;

async function units(bytes: Uint8Array) {
  const s = await loadSession(bytes, { threads: 1, name: 'hubert-soft' });
  try {
    const t = (await s.run({ source: float32Tensor(audio, [1, 1, audio.length]) })).embed!;
    return { dims: t.dims.slice(1), data: t.data as Float32Array };
  } finally {
    await s.release();
  }
}
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('HuBERT-Soft through the HuBERT builder', { timeout: 120_000 }, () => {
  for (const file of ['soft-tiny.pt', 'soft-tiny-bshall.pt']) {
    test(`${file}: soft units within ${TOLERANCE} of PyTorch, floor(N / 320) frames`, async () => {
      const got = await units(await convertHubertSoft(path.join(FIXTURES, file), { heads: HEADS }));
      assert.deepEqual(got.dims, want.shape);
      assert.equal(got.dims[0], Math.floor(audio.length / 320));
      const d = maxDiff(got.data, want.data);
      console.log(`# ${file}: max |diff| ${d.toExponential(2)}`);
      assert.ok(d <= TOLERANCE, `max |diff| ${d}`);
    });
  }

  test('without units()\'s 40-sample padding the frames shift and the reference fails', async () => {
    const root = await readCheckpointFile(path.join(FIXTURES, 'soft-tiny.pt'));
    const { weights, config } = hubertSoftAsFairseq(hubertSoftStateDict(root, 'soft-tiny.pt'), 'soft-tiny.pt', HEADS);
    const got = await units(buildHubertEncoder(weights, config, { layer: config.layers, finalProj: true }));
    const n = Math.min(got.data.length, want.data.length);
    assert.ok(got.dims[0] !== want.shape[0] || maxDiff(got.data.subarray(0, n), want.data.subarray(0, n)) > 100 * TOLERANCE);
  });

  test('the head count is read as HuBERT base\'s 64-d heads; tiny layers that do not split are refused until given', async () => {
    const root = await readCheckpointFile(path.join(FIXTURES, 'soft-tiny.pt'));
    assert.throws(() => buildHubertSoftEncoder(root, 'soft-tiny.pt'), (e: unknown) => e instanceof HubertCheckpointError && /16-d layers do not split into 64-d heads/.test((e as Error).message));
  });

  test('a fairseq HuBERT or an unknown key is refused as not HuBERT-Soft', async () => {
    const fairseq = await readCheckpointFile(path.join(FIXTURES, 'tiny-base.pt'));
    assert.throws(() => buildHubertSoftEncoder(fairseq, 'tiny-base.pt'), (e: unknown) => e instanceof HubertCheckpointError && /not a HuBERT-Soft checkpoint/.test((e as Error).message));
    const root = await readCheckpointFile(path.join(FIXTURES, 'soft-tiny.pt'));
    const dict = hubertSoftStateDict(root, 'soft-tiny.pt');
    dict.set('encoder.layers.0.extra.weight', dict.get('proj.bias')!);
    assert.throws(() => hubertSoftAsFairseq(dict, 'edited.pt', HEADS), /encoder\.layers\.0\.extra\.weight/);
  });
});
