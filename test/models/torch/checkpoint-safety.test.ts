// What the checkpoint reader refuses: pickles that would run code under Python's loader (nothing runs, and
// the error names the global), damaged zips, and tensors whose numbers do not fit the bytes present.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { LimitError } from '../../../models/archive/limit.js';
import { CheckpointError, readCheckpoint } from '../../../models/torch/checkpoint.js';
import { tempDir } from '../../helpers.js';
import { OP, type PickleWriter, rawCheckpoint, storage, Tensor, torchSave, zipCheckpoint } from './torch-writer.js';

function refuses(bytes: Uint8Array, pattern: RegExp, kind: new (...a: never[]) => Error = CheckpointError): void {
  assert.throws(
    () => readCheckpoint(bytes, 'evil.pth'),
    (e: Error) => {
      assert.ok(e instanceof kind, `a ${kind.name}, not ${e.name}: ${e.message}`);
      assert.match(e.message, pattern);
      return true;
    },
  );
}

describe('malicious pickles are refused and nothing runs', () => {
  const { dir, cleanup } = tempDir();
  const marker = (name: string): string => path.join(dir, name);

  // Each is the pickle Python's own loader would turn into a call: GLOBAL f, an argument tuple, REDUCE.
  const attacks: [string, string, (w: PickleWriter, file: string) => void][] = [
    ['os', 'system', (w, f) => w.str(`touch ${f}`).op(OP.TUPLE1)],
    ['posix', 'system', (w, f) => w.str(`touch ${f}`).op(OP.TUPLE1)],
    ['nt', 'system', (w, f) => w.str(`type nul > ${f}`).op(OP.TUPLE1)],
    ['builtins', 'eval', (w, f) => w.str(`__import__('os').system('touch ${f}')`).op(OP.TUPLE1)],
    ['builtins', 'exec', (w, f) => w.str(`import os; os.system('touch ${f}')`).op(OP.TUPLE1)],
    ['__builtin__', 'eval', (w, f) => w.str(`__import__('os').system('touch ${f}')`).op(OP.TUPLE1)],
    ['builtins', 'getattr', (w) => w.global('builtins', 'object').str('__subclasses__').op(OP.TUPLE2)],
    ['subprocess', 'Popen', (w, f) => w.op(OP.EMPTY_LIST, OP.MARK).str('touch').str(f).op(OP.APPENDS, OP.TUPLE1)],
    ['subprocess', 'call', (w, f) => w.str(`touch ${f}`).op(OP.TUPLE1)],
    ['torch', 'load', (w, f) => w.str(f).op(OP.TUPLE1)],
    ['torch.storage', '_load_from_bytes', (w) => w.op(OP.EMPTY_TUPLE)],
    ['pickle', 'loads', (w) => w.op(OP.EMPTY_TUPLE)],
    ['copyreg', '_reconstructor', (w) => w.op(OP.EMPTY_TUPLE)],
    ['webbrowser', 'open', (w, f) => w.str(`file://${f}`).op(OP.TUPLE1)],
  ];

  for (const [module, name, args] of attacks) {
    test(`${module}.${name} + REDUCE`, () => {
      const file = marker(`${module}-${name}`);
      const bytes = rawCheckpoint((w) => {
        w.op(OP.EMPTY_DICT).str('weight');
        w.global(module, name);
        args(w, file);
        w.op(OP.REDUCE, OP.SETITEM);
      });
      refuses(bytes, new RegExp(`refusing to load: the checkpoint asks for ${module}\\.${name}, which is not a tensor or plain data; it may be malicious \\(data\\.pkl, byte \\d+\\)`));
      assert.equal(existsSync(file), false, 'nothing ran');
    });
  }

  test('the same through STACK_GLOBAL (protocol 4) and hidden inside a tensor argument', () => {
    const file = marker('stack-global');
    refuses(
      rawCheckpoint((w) => w.op(OP.SHORT_BINUNICODE, 2, ...Buffer.from('os'), OP.SHORT_BINUNICODE, 6, ...Buffer.from('system'), OP.STACK_GLOBAL).str(`touch ${file}`).op(OP.TUPLE1, OP.REDUCE)),
      /asks for os\.system/,
    );
    // A state dict whose backward_hooks slot holds a call: refused at the GLOBAL, before the tensor is built.
    refuses(
      rawCheckpoint((w) => {
        w.global('torch._utils', '_rebuild_tensor_v2').op(OP.MARK);
        w.op(OP.MARK).str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(1).op(OP.TUPLE, OP.BINPERSID);
        w.int(0).tuple([1]).tuple([1]).value(false);
        w.global('os', 'system').str(`touch ${file}`).op(OP.TUPLE1, OP.REDUCE);
        w.op(OP.TUPLE, OP.REDUCE);
      }),
      /asks for os\.system/,
    );
    assert.equal(existsSync(file), false);
  });

  test('allowed names cannot be misused: value-only globals, wrong arguments, INST/OBJ, calling data', () => {
    refuses(rawCheckpoint((w) => w.global('torch', 'HalfStorage').str('x').op(OP.TUPLE1, OP.REDUCE)), /calls torch\.HalfStorage, which Resona accepts only as a value/);
    refuses(rawCheckpoint((w) => w.global('collections', 'OrderedDict').str('x').op(OP.TUPLE1, OP.REDUCE)), /calls collections\.OrderedDict with 1 arguments/);
    refuses(rawCheckpoint((w) => w.global('_codecs', 'encode').str('x').str('rot13').op(OP.TUPLE2, OP.REDUCE)), /only latin-1 bytes/);
    refuses(rawCheckpoint((w) => w.str('os').op(OP.EMPTY_TUPLE, OP.REDUCE)), /calls the string "os", which is not a function/);
    refuses(rawCheckpoint((w) => w.global('torch', 'float16').op(OP.EMPTY_TUPLE, OP.NEWOBJ)), /creates an object of torch\.float16, which Resona does not build that way/);
    refuses(rawCheckpoint((w) => w.op(OP.EMPTY_LIST).op(OP.EMPTY_DICT, OP.BUILD)), /sets the state of a list of 0 items, which takes none/);
    refuses(rawCheckpoint((w) => w.op(OP.MARK, OP.INST, ...Buffer.from('os\nsystem\n'))), /opcode 0x69 \('i'\), which torch\.save never writes.*\(at byte 3\)/);
    refuses(rawCheckpoint((w) => w.op(OP.MARK, 0x6f)), /opcode 0x6f \('o'\)/);
    refuses(rawCheckpoint((w) => w.op(OP.EMPTY_TUPLE).int(1).op(OP.APPEND)), /appends to a tuple, not a list/);
    refuses(rawCheckpoint((w) => w.op(OP.BINGET, 9)), /recalls memo entry 9, which was never stored/);
    refuses(rawCheckpoint((w) => w.op(OP.REDUCE)), /pops an empty stack/);
    refuses(rawCheckpoint((w) => w.global('torch.nn.modules.conv', 'Conv1d').op(OP.EMPTY_TUPLE, OP.NEWOBJ)), /a whole pickled PyTorch module.*save model\.state_dict\(\) instead/);
    refuses(rawCheckpoint((w) => w.global('torch', 'ComplexFloatStorage')), /tensors of torch\.ComplexFloatStorage, a type Resona does not read/);
    refuses(rawCheckpoint((w) => w.int(1).op(OP.BINPERSID)), /asks for the persistent object the value 1; torch\.save stores only storages/);
    // numpy arrays are data (kmeans_10000.pt holds one), but only as numpy pickles them: _reconstruct of
    // numpy.ndarray, empty, then BUILD; any other numpy name is refused by name.
    refuses(rawCheckpoint((w) => w.global('numpy', 'load')), /asks for numpy\.load; of numpy's objects Resona reads only scalars and arrays/);
    refuses(rawCheckpoint((w) => w.global('numpy.core.multiarray', '_reconstruct').global('torch', 'HalfStorage').tuple([0]).str('b').op(OP.TUPLE3, OP.REDUCE)), /calls numpy's _reconstruct with torch\.HalfStorage.*only \(numpy\.ndarray, \(0,\), b'b'\)/);
    refuses(rawCheckpoint((w) => w.global('numpy', 'ndarray').op(OP.EMPTY_TUPLE, OP.NEWOBJ)), /creates an object of numpy\.ndarray, which Resona does not build that way/);
    // An object array pickles arbitrary objects as its data: refused at its dtype.
    refuses(
      rawCheckpoint((w) => {
        w.global('numpy.core.multiarray', '_reconstruct').global('numpy', 'ndarray').tuple([0]).str('b').op(OP.TUPLE3, OP.REDUCE);
        w.op(OP.MARK).int(1).tuple([2]).global('numpy', 'dtype').str('O8').op(OP.TUPLE1, OP.REDUCE).value(false).op(OP.EMPTY_LIST).op(OP.TUPLE, OP.BUILD);
      }),
      /gives a numpy array the dtype numpy dtype O8; only numeric arrays are read/,
    );
    refuses(rawCheckpoint((w) => w.global('torch._utils', '_rebuild_qtensor')), /a kind of tensor \(quantized, sparse, meta…\) Resona does not read/);
  });

  test('a small pickle that would do quadratic work (one memoised operand, many calls) is stopped', () => {
    refuses(
      rawCheckpoint((w) => {
        w.str('x'.repeat(100_000)).op(OP.BINPUT, 250).op(OP.EMPTY_LIST);
        for (let i = 0; i < 200; i++) w.global('_codecs', 'encode').op(OP.BINGET, 250).str('latin1').op(OP.TUPLE2, OP.REDUCE, OP.APPEND);
      }),
      /does far more work than its size calls for/,
      LimitError,
    );
  });

  test('a pickle nested deeper than any checkpoint is refused, not a stack overflow', () => {
    refuses(rawCheckpoint((w) => {
      for (let i = 0; i < 5000; i++) w.op(OP.EMPTY_LIST);
      for (let i = 0; i < 4999; i++) w.op(OP.APPEND);
    }), /nests data more than 100 levels deep \(real checkpoints nest about 6 deep\)/, LimitError);
  });

  test.after(cleanup);
});

describe('damaged files', () => {
  const good = torchSave({ w: new Tensor(storage('0', 'FloatStorage', [1, 2, 3, 4]), [2, 2]) });

  test('a truncated zip, an empty file, a zip without data.pkl, a bare pickle, a voice zip', () => {
    refuses(good.subarray(0, good.length >> 1), /evil\.pth: not a readable zip \(.*\): the file is truncated or damaged; copy it again/);
    refuses(good.subarray(0, good.length - 5), /not a readable zip/);
    refuses(new Uint8Array(0), /not a PyTorch checkpoint .*is empty/);
    refuses(new TextEncoder().encode('hello, world'), /not a PyTorch checkpoint/);
    refuses(zipSync({ 'MyVoice/MyVoice.pth': new Uint8Array(4), 'MyVoice/added.index': new Uint8Array(4) }), /a zip without data\.pkl, so not a PyTorch checkpoint \(it holds: MyVoice\/MyVoice\.pth, MyVoice\/added\.index\)/);
    refuses(zipCheckpoint(new Uint8Array([OP.PROTO, 2, OP.NONE, OP.STOP]), [], { records: { 'data.pkl': null } }), /without data\.pkl/);
    refuses(new Uint8Array([OP.PROTO, 2, OP.NONE, OP.STOP]), /a bare Python pickle/);
    refuses(zipCheckpoint(new Uint8Array([OP.PROTO, 2, OP.BINUNICODE, 9, 0, 0, 0, 0x61]), []), /ends in the middle of an instruction: the file is truncated or damaged/);
    refuses(zipCheckpoint(new Uint8Array([OP.PROTO, 2, OP.NONE]), []), /ends in the middle of an instruction/);
    refuses(torchSave({}, { byteorder: 'middle' as 'big' }), /byteorder record says "middle"/);
  });

  test('storages shorter than the view, bad shapes, missing storage records', () => {
    const s = storage('0', 'FloatStorage', [1, 2, 3, 4]);
    const save = (t: Tensor): Uint8Array => torchSave({ weight: { 'enc.w': t } });
    refuses(save(new Tensor(s, [2, 3])), /tensor \["weight"\]\["enc\.w"\] \(float32 \[2, 3\], offset 0, strides \[3, 1\]\) reaches element 5 of storage data\/0, which holds only 4/);
    refuses(save(new Tensor(s, [2, 2], [2, 1], 1)), /reaches element 4 of storage data\/0, which holds only 4/);
    refuses(save(new Tensor(s, [2, -1])), /\["enc\.w"\] has shape \(2, -1\), not sizes in 0\.\.268435456/);
    refuses(save(new Tensor(s, [2 ** 40], [0])), /has shape \(1099511627776\), not sizes/);
    refuses(save(new Tensor(s, [2 ** 14, 2 ** 15], [0, 0])), /has shape \[16384, 32768\], 536870912 elements, more than the 268435456/);
    refuses(save(new Tensor(s, [2 ** 27], [0])), /would take the checkpoint's tensors past 8× its stored data/);
    refuses(save(new Tensor(s, [2, 2], [2])), /has 2 dimensions but 1 strides/);
    refuses(save(new Tensor({ ...s, numel: 8 }, [8])), /lives in storage data\/0 of 8 float32 elements \(32 bytes\), but the zip holds only 16 bytes of it/);
    refuses(torchSave({ weight: { 'enc.w': new Tensor(s, [4]) } }, { records: { 'data/0': null } }), /tensor \["weight"\]\["enc\.w"\] lives in storage data\/0, which is missing from the zip/);
  });
});
