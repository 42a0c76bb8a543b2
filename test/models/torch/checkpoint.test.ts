// The PyTorch checkpoint reader: exact round trips of every dtype and view through checkpoints written in
// TypeScript the way torch.save writes them, and real torch.save files (PyTorch 1.13, written by
// test/fixtures/torch/make-fixtures.py) read back to the values the script recorded beside them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CheckpointError, isTorchTensor, PickleRecord, readCheckpoint, readCheckpointFile, stateDict, type TorchTensor } from '../../../models/torch/checkpoint.js';
import { ROOT } from '../../helpers.js';
import { OP, OrderedDict, PyFloat, Raw, storage, Tensor, torchSave, Tuple } from './torch-writer.js';

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'torch');

function get(root: unknown, ...keys: (string | number)[]): unknown {
  let x = root;
  for (const k of keys) {
    if (x instanceof Map) x = x.get(k);
    else if (Array.isArray(x) && typeof k === 'number') x = x[k];
    else assert.fail(`no ${String(k)} in ${String(x)}`);
  }
  return x;
}

function tensor(root: unknown, ...keys: (string | number)[]): TorchTensor {
  const t = get(root, ...keys);
  assert.ok(isTorchTensor(t), `${keys.join('.')} is a tensor`);
  return t;
}

/** The JSON side files write non-finite floats as strings and int64 as decimal strings. */
function expectedValue(v: unknown): number | bigint {
  if (v === 'nan') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  if (typeof v === 'string') return BigInt(v);
  return v as number;
}

function assertTensor(t: TorchTensor, want: { dtype: string; shape: number[]; values: unknown[] }, what: string): void {
  assert.equal(t.dtype, want.dtype, `${what} dtype`);
  assert.deepEqual(t.shape, want.shape, `${what} shape`);
  const expected = want.values.map(expectedValue);
  // float64 arrives as float32 (the API's widest float), so its values are compared after that rounding.
  const got = Array.from(t.data as ArrayLike<number | bigint>);
  const wanted = t.dtype === 'float64' ? expected.map((x) => Math.fround(Number(x))) : expected;
  assert.deepEqual(got, wanted, `${what} values`);
}

describe('checkpoints written like torch.save', () => {
  test('every dtype round-trips exactly and arrives in the documented array type', () => {
    const f16 = [0, -0, 1.5, -2.25, 65504, 2 ** -24, 2 ** -14, 0.333251953125, Infinity, -Infinity, NaN];
    const bf16 = [1, -3.140625, 2 ** 100, 2 ** -120, 0.0078125, -Infinity, NaN];
    const f32 = [0.1, -1e-30, 3.4e38, Math.fround(1 / 3)];
    const f64 = [0.5, -1.25, 1e300];
    const i64 = [-(2n ** 63n), -1n, 0n, 2n ** 53n + 1n, 2n ** 63n - 1n];
    const cases: [string, Tensor, string, ArrayLike<unknown>, new (n: number) => unknown][] = [
      ['f16', new Tensor(storage('0', 'HalfStorage', f16), [f16.length]), 'float16', f16, Float32Array],
      ['bf16', new Tensor(storage('1', 'BFloat16Storage', bf16), [bf16.length]), 'bfloat16', bf16, Float32Array],
      ['f32', new Tensor(storage('2', 'FloatStorage', f32), [2, 2]), 'float32', f32.map(Math.fround), Float32Array],
      ['f64', new Tensor(storage('3', 'DoubleStorage', f64), [3]), 'float64', f64.map(Math.fround), Float32Array],
      ['i64', new Tensor(storage('4', 'LongStorage', i64), [5]), 'int64', i64, BigInt64Array],
      ['i32', new Tensor(storage('5', 'IntStorage', [-(2 ** 31), 7, 2 ** 31 - 1]), [3]), 'int32', [-(2 ** 31), 7, 2 ** 31 - 1], Int32Array],
      ['i16', new Tensor(storage('6', 'ShortStorage', [-32768, 5, 32767]), [3]), 'int16', [-32768, 5, 32767], Int32Array],
      ['i8', new Tensor(storage('7', 'CharStorage', [-128, 0, 127]), [3]), 'int8', [-128, 0, 127], Int32Array],
      ['u8', new Tensor(storage('8', 'ByteStorage', [0, 128, 255]), [3]), 'uint8', [0, 128, 255], Uint8Array],
      ['bool', new Tensor(storage('9', 'BoolStorage', [1, 0, 1]), [3]), 'bool', [1, 0, 1], Uint8Array],
    ];
    const root = readCheckpoint(torchSave(new OrderedDict(cases.map(([k, t]) => [k, t]))), 'dtypes.pth');
    assert.ok(root instanceof Map);
    for (const [key, , dtype, values, kind] of cases) {
      const t = tensor(root, key);
      assert.equal(t.dtype, dtype, key);
      assert.ok(t.data instanceof kind, `${key} arrives as ${kind.name}`);
      assert.deepEqual(Array.from(t.data as ArrayLike<unknown>), Array.from(values), key);
    }
    assert.ok(Object.is(tensor(root, 'f16').data[1], -0), 'negative zero survives float16');
    assert.deepEqual(tensor(root, 'f32').shape, [2, 2]);
  });

  test('strided views materialise as contiguous arrays: transposes, offsets, steps, broadcasts, 0-d and empty', () => {
    // base = 0..23 as a [2, 3, 4] float16 tensor; every view below shares its storage, as torch.save keeps them.
    const s = storage('0', 'HalfStorage', Array.from({ length: 24 }, (_, i) => i - 10));
    const root = readCheckpoint(
      torchSave({
        base: new Tensor(s, [2, 3, 4]),
        transposed: new Tensor(s, [4, 3, 2], [1, 4, 12]),
        sliced: new Tensor(s, [3, 2], [4, 1], 13),
        stepped: new Tensor(s, [5], [5]),
        broadcast: new Tensor(s, [2, 3], [0, 1], 2),
        scalar: new Tensor(s, [], [], 7),
        empty: new Tensor(s, [0, 3], [3, 1]),
        sizeOne: new Tensor(s, [1, 4], [999, 1], 4),
      }),
      'views.pth',
    );
    const base = (i: number, j: number, k: number): number => i * 12 + j * 4 + k - 10;
    const transposed: number[] = [];
    for (let k = 0; k < 4; k++) for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) transposed.push(base(i, j, k));
    assert.deepEqual([...tensor(root, 'transposed').data], transposed);
    assert.deepEqual(tensor(root, 'transposed').shape, [4, 3, 2]);
    assert.deepEqual([...tensor(root, 'sliced').data], [base(1, 0, 1), base(1, 0, 2), base(1, 1, 1), base(1, 1, 2), base(1, 2, 1), base(1, 2, 2)]);
    assert.deepEqual([...tensor(root, 'stepped').data], [-10, -5, 0, 5, 10]);
    assert.deepEqual([...tensor(root, 'broadcast').data], [-8, -7, -6, -8, -7, -6]);
    assert.deepEqual(tensor(root, 'scalar').shape, []);
    assert.deepEqual([...tensor(root, 'scalar').data], [-3]);
    assert.equal(tensor(root, 'empty').data.length, 0);
    assert.deepEqual([...tensor(root, 'sizeOne').data], [-6, -5, -4, -3], 'a size-1 dimension ignores its stride');
  });

  test('the archive folder may have any name; big-endian storages are swapped; parameters unwrap', () => {
    const values = [1.5, -2, 1024];
    for (const archive of ['archive', 'my_voice', 'G_2333333']) {
      const bytes = torchSave({ w: new Tensor(storage('0', 'FloatStorage', values, true), [3], [1], 0, true) }, { archive, byteorder: 'big' });
      assert.deepEqual([...tensor(readCheckpoint(bytes, 'x.pth'), 'w').data], values, archive);
    }
    const le = torchSave({ w: new Tensor(storage('0', 'HalfStorage', values), [3]) }, { byteorder: null });
    assert.deepEqual([...tensor(readCheckpoint(le, 'x.pth'), 'w').data], values, 'no byteorder record means little-endian (PyTorch 1.x)');
  });

  test('newer forms: _rebuild_tensor_v3 over an UntypedStorage, _rebuild_from_type_v2, dtypes, Size and device', () => {
    const half = storage('0', 'HalfStorage', [0.5, -1, 3, 1024]);
    const v3 = new Raw((w) => {
      w.global('torch._utils', '_rebuild_tensor_v3').op(OP.MARK);
      w.op(OP.MARK).str('storage').global('torch.storage', 'UntypedStorage').str('0').str('cpu').int(8).op(OP.TUPLE, OP.BINPERSID);
      w.int(1).tuple([3]).tuple([1]).value(false).global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE, OP.REDUCE).global('torch', 'float16');
      w.op(OP.TUPLE, OP.REDUCE);
    });
    const fromType = new Raw((w) => {
      w.global('torch._tensor', '_rebuild_from_type_v2').op(OP.MARK).global('torch._utils', '_rebuild_tensor_v2').global('torch', 'Tensor');
      w.op(OP.MARK).op(OP.MARK).str('storage').global('torch', 'HalfStorage').str('1').str('cpu').int(4).op(OP.TUPLE, OP.BINPERSID);
      w.int(0).tuple([2]).tuple([2]).value(false).global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE, OP.REDUCE).op(OP.TUPLE);
      w.op(OP.EMPTY_DICT).op(OP.TUPLE, OP.REDUCE);
    });
    const root = readCheckpoint(torchSave({
      v3,
      fromType,
      dtype: new Raw((w) => w.global('torch', 'bfloat16')),
      size: new Raw((w) => w.global('torch', 'Size').tuple([new Tuple([2, 3])]).op(OP.REDUCE)),
      device: new Raw((w) => w.global('torch', 'device').tuple(['cuda', 1]).op(OP.REDUCE)),
    }, { records: { 'data/0': half.bytes, 'data/1': half.bytes } }), 'new.pth');
    assert.deepEqual([...tensor(root, 'v3').data], [-1, 3, 1024]);
    assert.equal(tensor(root, 'v3').dtype, 'float16');
    assert.deepEqual([...tensor(root, 'fromType').data], [0.5, 3]);
    assert.equal(tensor(root, 'fromType').dtype, 'float16');
    assert.equal(get(root, 'dtype'), 'torch.bfloat16');
    assert.deepEqual(get(root, 'size'), [2, 3]);
    assert.equal(get(root, 'device'), 'cuda:1');
  });

  test('plain data keeps its types: dicts, OrderedDicts, lists, tuples, ints, big ints, floats, None, booleans', () => {
    const root = readCheckpoint(
      torchSave(new OrderedDict([
        ['ints', [0, 255, 256, 65535, 65536, -1, -(2 ** 31), 2 ** 31 - 1, 2 ** 31, 2 ** 53 - 1, -(2 ** 53) + 1]],
        ['big', [2n ** 53n, -(2n ** 53n), 2n ** 70n]],
        ['floats', [new PyFloat(0), new PyFloat(2), 0.5, -1e-300]],
        ['misc', new Tuple([null, true, false, 'ünïcode ✓', new Tuple([])])],
        ['nested', new Map<unknown, unknown>([[1, 'int key'], ['d', new Map([['x', []]])]])],
      ])),
      'plain.pth',
    );
    assert.deepEqual(get(root, 'ints'), [0, 255, 256, 65535, 65536, -1, -(2 ** 31), 2 ** 31 - 1, 2 ** 31, 2 ** 53 - 1, -(2 ** 53) + 1]);
    assert.deepEqual(get(root, 'big'), [2n ** 53n, -(2n ** 53n), 2n ** 70n]);
    assert.deepEqual(get(root, 'floats'), [0, 2, 0.5, -1e-300]);
    assert.deepEqual(get(root, 'misc'), [null, true, false, 'ünïcode ✓', []]);
    assert.equal(get(root, 'nested', 1), 'int key');
    assert.deepEqual(get(root, 'nested', 'd', 'x'), []);
    assert.deepEqual([...(root as Map<unknown, unknown>).keys()], ['ints', 'big', 'floats', 'misc', 'nested'], 'OrderedDict order is kept');
  });

  test('a tensor referenced twice (pickle memo) is one object; stateDict checks every value', () => {
    const t = new Tensor(storage('0', 'FloatStorage', [1, 2]), [2]);
    const once = new Raw((w) => w.tensor(t).op(OP.BINPUT, 200));
    const again = new Raw((w) => w.op(OP.BINGET, 200));
    const root = readCheckpoint(torchSave({ sd: new OrderedDict([['a', once], ['b', again], ['c', t]]), bad: { a: t, n: 3 } }), 'x.pth');
    const sd = stateDict(root, 'sd');
    assert.deepEqual([...sd.keys()], ['a', 'b', 'c']);
    assert.deepEqual([...sd.get('a')!.data], [1, 2]);
    assert.equal(sd.get('a'), sd.get('b'), 'one pickled tensor, one TorchTensor');
    assert.notEqual(sd.get('a'), sd.get('c'), 'two pickled views of one storage are two tensors');
    assert.deepEqual(sd.get('c')!.data, sd.get('a')!.data);
    assert.throws(() => stateDict(root, 'bad'), (e: Error) => e instanceof CheckpointError && /\["n"\] is the value 3, not a tensor/.test(e.message));
    assert.throws(() => stateDict(root, 'nope'), /no "nope" entry \(it has: "sd", "bad"\)/);
    assert.throws(() => stateDict([1]), /not a dict of tensors/);
    assert.equal(stateDict(get(root, 'sd')).size, 3, 'without a key the root itself is the state dict');
  });
});

describe('real torch.save files (PyTorch 1.13)', () => {
  const json = (name: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8'));

  test('dtypes.pth: fp16, bf16, fp32, fp64, int64…bool, shared-storage views, 0-d, empty and a Parameter', async () => {
    const want = json('dtypes.pth');
    const root = await readCheckpointFile(path.join(FIXTURES, 'dtypes.pth'));
    const wantState = want.state as Record<string, { dtype: string; shape: number[]; values: unknown[] }>;
    const sd = stateDict(root, 'state');
    assert.deepEqual([...sd.keys()], Object.keys(wantState));
    for (const [k, w] of Object.entries(wantState)) assertTensor(sd.get(k)!, w, k);
    assert.equal(get(root, 'note'), 'dtypes');
    assert.equal(get(root, 'step'), 7);
    assert.deepEqual((want.views as Record<string, unknown>).sliced, [13, [4, 1]], 'the fixture really holds an offset view');
  });

  test('protocol4.pth: FRAME, MEMOIZE, STACK_GLOBAL, SHORT_BINUNICODE, sets and bytes', async () => {
    const want = json('protocol4.pth');
    const root = await readCheckpointFile(path.join(FIXTURES, 'protocol4.pth'));
    for (const [k, w] of Object.entries(want.state as Record<string, { dtype: string; shape: number[]; values: unknown[] }>)) assertTensor(tensor(root, 'state', k), w, k);
    assert.deepEqual([...(get(root, 'tags') as string[])].sort(), want.tags);
    assert.deepEqual([...(get(root, 'blob') as Uint8Array)], want.blob);
    assert.deepEqual(get(root, 'pair'), want.pair);
  });

  test('fairseq-like.pt: Namespace args, Dictionary task state and numpy scalars become inert records and numbers', async () => {
    const want = json('fairseq-like.pt');
    const root = await readCheckpointFile(path.join(FIXTURES, 'fairseq-like.pt'));
    const args = get(root, 'args');
    assert.ok(args instanceof PickleRecord);
    assert.equal(args.pythonClass, 'argparse.Namespace');
    assert.deepEqual(Object.fromEntries(args), want.args);
    const dict = get(root, 'task_state', 'dictionaries', 0);
    assert.ok(dict instanceof PickleRecord && dict.pythonClass === 'fairseq.data.dictionary.Dictionary');
    const wantDict = want.dictionary as { symbols: string[]; nspecial: number };
    assert.deepEqual(dict.get('symbols'), wantDict.symbols);
    assert.equal(dict.get('nspecial'), wantDict.nspecial);
    assert.equal((dict.get('indices') as Map<string, number>).get('1'), 5);
    const meter = get(root, 'extra_state', 'metrics', 'train', 0, 3);
    const wantMeter = want.metrics as Record<string, number>;
    for (const k of ['val', 'sum', 'count']) assert.equal(get(meter, k), wantMeter[k], k);
    assert.equal(get(root, 'extra_state', 'val_loss'), want.val_loss);
    assert.deepEqual(JSON.parse(JSON.stringify(Object.fromEntries([...(get(root, 'cfg') as Map<string, Map<string, unknown>>)].map(([k, v]) => [k, Object.fromEntries(v)])))), want.cfg);
    assert.equal(get(root, 'optimizer_history', 0, 'num_updates'), want.num_updates);
    const model = stateDict(root, 'model');
    for (const [k, w] of Object.entries(want.model as Record<string, { dtype: string; shape: number[]; values: unknown[] }>)) assertTensor(model.get(k)!, w, k);
  });

  test('legacy.pth (pre-1.6 format) is refused with what to do', async () => {
    await assert.rejects(readCheckpointFile(path.join(FIXTURES, 'legacy.pth')), (e: Error) => {
      assert.ok(e instanceof CheckpointError);
      assert.match(e.message, /legacy\.pth: saved in PyTorch's legacy format \(before PyTorch 1\.6/);
      assert.match(e.message, /re-save it with PyTorch 1\.6 or newer: torch\.save\(torch\.load/);
      return true;
    });
  });

  test('a missing file is a CheckpointError', async () => {
    await assert.rejects(readCheckpointFile(path.join(FIXTURES, 'nope.pth')), /nope\.pth: no such file/);
  });
});
