// The fuzzing campaign's hostile checkpoints (zip bombs, pickle reference graphs, self-containing and deeply
// nested data, HuBERT conv specs that allocate without bound), each generated and read in a child process:
// every one must end in a one-line UserError in under 10 s with under 500 MB resident. And real-shaped
// checkpoints, with the sharing and nesting torch.save really writes, must still load.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isTorchTensor, readCheckpoint, type TorchTensor } from '../../../models/torch/checkpoint.js';
import { hubertConfigFromCheckpoint, HubertCheckpointError, parseConvLayers } from '../../../models/torch/hubert-config.js';
import { assertRefused, runCase } from '../archive/hostile.js';
import { OP, OrderedDict, Raw, storage, Tensor, torchSave } from './torch-writer.js';

const CASES = new URL('./hostile-checkpoints.js', import.meta.url).href;
const EXPANDED = /data\.pkl describes, with its shared references expanded, more than 4,000,000 values \(real checkpoints hold about 10,000\); the file is damaged or malicious/;

const expected: [string, RegExp, string][] = [
  ['a checkpoint whose four storages share one 1 GiB stream', /hostile\.pth: entries archive\/data\/0 and archive\/data\/1 share compressed bytes/, 'import'],
  ['a zip64 checkpoint claiming 4 billion entries', /hostile\.pth: has 4,000,000,000 entries in its directory, more than 20,000/, 'limit'],
  ['a dict key [L, L] nested 40 deep', EXPANDED, 'limit'],
  ['a tensor size [L, L] nested 40 deep', /data\.pkl builds a tensor whose size holds a list of 2 items, not an integer/, 'import'],
  ['a torch.device index [L, L] nested 40 deep', /data\.pkl calls torch\.device with the index a list of 2 items/, 'import'],
  ['an RVC config field [L, L] nested 40 deep', EXPANDED, 'limit'],
  ['a dict key nested 5,000 deep', /data\.pkl nests data more than 100 levels deep \(real checkpoints nest about 6 deep\)/, 'limit'],
  ['a list that contains itself', /data\.pkl builds a list that contains itself, which no checkpoint holds/, 'import'],
  ['a dict that contains itself', /data\.pkl builds a dict that contains itself/, 'import'],
  ['a list that contains itself through a dict', /data\.pkl builds a list that contains itself/, 'import'],
  ['conv_feature_layers [(512,10,5)] * 10000000000', /conv_feature_layers "\[\(512,10,5\)\] \* 10000000000": a repeat count 10000000000 is outside 1…32; expected e\.g\./, 'model'],
  ['conv_feature_layers of 100,000 terms', /conv_feature_layers "\[\(512,10,5\)\] \+ .*…": 1500012 characters long, more than the 1024/, 'model'],
  ['conv_feature_layers nested 1,000,000 brackets deep', /2000000 characters long, more than the 1024/, 'model'],
  ['conv_feature_layers of 33 layers', /more than 32 layers \(real encoders have 7\)/, 'model'],
  ['conv_feature_layers with a 20-digit channel count', /a channel count 999999999999… is outside 1…4096/, 'model'],
  ['conv_feature_layers that is a list', EXPANDED, 'limit'],
];

describe('hostile checkpoints end in one line, fast and small', () => {
  for (const [name, pattern, code] of expected) {
    test(name, { timeout: 60_000 }, async (t) => {
      const o = await runCase(CASES, name);
      t.diagnostic(`${Math.round(o.ms)} ms, peak ${Math.round(o.maxRssMB)} MB resident: ${o.message}`);
      assertRefused(o, pattern, code);
    });
  }
});

describe('what real checkpoints do still loads', () => {
  test('tied weights, a list shared by reference, nesting as deep as an optimizer state', { timeout: 30_000 }, () => {
    const w = new Tensor(storage('0', 'FloatStorage', [1, 2, 3, 4, 5, 6]), [2, 3]);
    // A shared list, memoised once and referenced again (fairseq shares its cfg sections this way).
    const shared = new Raw((p) => p.op(OP.EMPTY_LIST, OP.MARK).int(1).int(2).op(OP.APPENDS, OP.BINPUT, 240));
    const again = new Raw((p) => p.op(OP.BINGET, 240));
    const root = readCheckpoint(
      torchSave(new OrderedDict([
        // Tied weights, as torch.save writes them: the tensor memoised, then fetched again.
        ['model', new OrderedDict([['a.weight', new Raw((p) => p.tensor(w).op(OP.BINPUT, 241))], ['b.weight', new Raw((p) => p.op(OP.BINGET, 241))]])],
        ['optimizer', { state: new Map([[0, { step: 10, exp_avg: new Tensor(storage('1', 'FloatStorage', [0, 0]), [2]) }]]), param_groups: [{ params: [0, 1], betas: [0.8, 0.99] }] }],
        ['cfg', { model: { layers: shared }, task: { layers: again } }],
      ])),
      'real.pth',
    ) as Map<string, Map<string, unknown>>;
    const model = root.get('model')!;
    assert.ok(isTorchTensor(model.get('a.weight')));
    assert.equal(model.get('a.weight'), model.get('b.weight'), 'tied weights stay one tensor');
    assert.deepEqual([...(model.get('a.weight') as TorchTensor).data], [1, 2, 3, 4, 5, 6]);
    const state = (root.get('optimizer')!.get('state') as Map<number, Map<string, unknown>>).get(0)!;
    assert.deepEqual((state.get('exp_avg') as TorchTensor).shape, [2]);
    const cfg = root.get('cfg')!;
    const a = (cfg.get('model') as Map<string, unknown>).get('layers');
    assert.deepEqual(a, [1, 2]);
    assert.equal(a, (cfg.get('task') as Map<string, unknown>).get('layers'));
  });

  test('a graph just inside the budgets loads: 20 levels of [L, L] sharing (2^21 values), 90 levels deep', { timeout: 30_000 }, async () => {
    const { deepList, referenceGraph } = await import('./hostile-checkpoints.js');
    const root = readCheckpoint(torchSave({ wide: referenceGraph(20), deep: deepList(90) }), 'edge.pth') as Map<string, unknown>;
    let l = root.get('wide') as unknown[];
    for (let k = 0; k < 20; k++) {
      assert.equal(l.length, 2);
      l = l[0] as unknown[];
    }
    assert.deepEqual(l, []);
  });

  test('every real conv_feature_layers spelling parses; non-strings are refused by name', { timeout: 30_000 }, () => {
    const base = [[512, 10, 5], [512, 3, 2], [512, 3, 2], [512, 3, 2], [512, 3, 2], [512, 2, 2], [512, 2, 2]];
    assert.deepEqual(parseConvLayers('[(512,10,5)] + [(512,3,2)] * 4 + [(512,2,2)] * 2'), base);
    assert.deepEqual(parseConvLayers('[(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512, 2, 2)] * 2'), base);
    assert.deepEqual(parseConvLayers('[(512,10,5)] + 4 * [(512,3,2)] + 2 * [(512,2,2)]'), base);
    assert.deepEqual(parseConvLayers('[(512,10,5), (512,3,2), (512,3,2), (512,3,2), (512,3,2), (512,2,2), (512,2,2),]'), base);
    assert.throws(() => parseConvLayers('[(512,10,5)] * 0'), /a repeat count 0 is outside 1…32/);
    assert.throws(() => parseConvLayers('[]'), /an empty list of layers/);
    assert.throws(() => parseConvLayers('[(512,10,5)] ** 2'), HubertCheckpointError);
    assert.throws(() => parseConvLayers('[(512,10,5)] + __import__("os").system("x")'), /conv_feature_layers .*: "_" is not a whole number|expected "\["/);
    assert.throws(
      () => hubertConfigFromCheckpoint({ cfg: { model: { conv_feature_layers: 7 } } }),
      (e: Error) => e instanceof HubertCheckpointError && /^config field conv_feature_layers is the value 7; expected a string like "\[\(512,10,5\)\]/.test(e.message),
    );
    assert.throws(() => hubertConfigFromCheckpoint({ cfg: { model: { encoder_layers: 10_000_000 } } }), /encoder_layers is 10000000; expected a whole number in 1…128 \(HuBERT X-Large has 48\)/);
  });
});
