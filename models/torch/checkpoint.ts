// Reads PyTorch checkpoints (torch.save since PyTorch 1.6) without Python and without running anything in them.
//
// Layout, as torch.save writes it (checked against PyTorch 1.13's files): a zip of stored, uncompressed records
// under one folder, named after the file in 1.x and "archive" in 2.x (which also adds a few records):
//   <folder>/data.pkl      the object, pickled (protocol 2); every storage is a persistent id
//                          ('storage', torch.<Type>Storage, key, location, element count)
//   <folder>/data/<key>    each storage's raw elements, in the byte order of <folder>/byteorder (written since
//                          PyTorch 2.1; files without it are read as little-endian, as x86 and ARM write them)
//   <folder>/version       the format version; other records (.data/serialization_id…) do not matter here
// Tensors are `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, meta])`
// over those storages, so a tensor is a strided view; it is materialised into a contiguous typed array, and
// every count is checked against the bytes the zip holds before anything is allocated from it.
//
// The zip is read by ../archive/zip.ts within CHECKPOINT_ZIP (./budgets.ts), and only the records needed are
// read: data.pkl, byteorder, and each storage when a tensor over it is built.
// The pickle runs in ./pickle.ts, which knows only the globals of torchGlobals() below and its DATA_GLOBALS.
import { readRegularFile } from '../regular-file.js';
import { isZip, openZip } from '../archive/zip.js';
import { overLimit } from '../archive/limit.js';
import { CHECKPOINT_ZIP, PICKLE, TENSORS } from './budgets.js';
import {
  CheckpointError,
  DATA_GLOBALS,
  describe,
  type Fail,
  type GlobalSpec,
  halfToFloat,
  NumpyDtype,
  PyGlobal,
  refusal,
  shortKey,
  unpickle,
} from './pickle.js';

export { CheckpointError, PickleRecord } from './pickle.js';

export type TorchDtype = 'float16' | 'bfloat16' | 'float32' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export interface TorchTensor {
  /** The dtype stored in the file; float16/bfloat16/float64 arrive as Float32Array, int16/int8 as Int32Array. */
  dtype: string;
  shape: number[];
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
}

class Tensor implements TorchTensor {
  constructor(
    public dtype: TorchDtype,
    public shape: number[],
    public data: Float32Array | BigInt64Array | Int32Array | Uint8Array,
  ) {}
}

export function isTorchTensor(x: unknown): x is TorchTensor {
  return x instanceof Tensor;
}

const ITEM_SIZE: Readonly<Record<TorchDtype, number>> = {
  float16: 2, bfloat16: 2, float32: 4, float64: 8, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};
const STORAGE_TYPES: Readonly<Record<string, TorchDtype>> = {
  HalfStorage: 'float16', BFloat16Storage: 'bfloat16', FloatStorage: 'float32', DoubleStorage: 'float64',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8',
  BoolStorage: 'bool',
};
const MAX_ELEMENTS = TENSORS.maxElements;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const RESAVE = "if you trust the file, re-save it with PyTorch 1.6 or newer: torch.save(torch.load('old.pth', map_location='cpu'), 'new.pth')";

/** torch.UntypedStorage counts bytes (uint8); the tensors over it name their dtype (_rebuild_tensor_v3). */
interface StorageSpec extends GlobalSpec {
  storage: TorchDtype;
}
interface DtypeSpec extends GlobalSpec {
  dtype: TorchDtype;
}

class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: TorchDtype,
    readonly numel: number,
  ) {}
}

/** A tensor as the pickle describes it; checked and materialised once its name in the tree is known. */
class PendingTensor {
  constructor(
    readonly storage: StorageRef,
    readonly dtype: TorchDtype,
    readonly offset: unknown,
    readonly size: unknown,
    readonly stride: unknown,
  ) {}
}

function pending(args: readonly unknown[], fail: Fail, dtype?: TorchDtype): PendingTensor {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) return fail(`builds a tensor over ${describe(storage)} instead of a storage`);
  // A tensor is a leaf of the object graph the pickle VM checks, so what it keeps must hold nothing nested.
  for (const [what, x] of [['size', size], ['stride', stride]] as const) {
    if (!Array.isArray(x)) continue;
    if (x.length > TENSORS.maxDims) fail(`builds a tensor with ${x.length} dimensions; the most Resona reads is ${TENSORS.maxDims}`);
    for (const n of x) if (typeof n === 'object' && n !== null) fail(`builds a tensor whose ${what} holds ${describe(n)}, not an integer`);
  }
  if (typeof offset === 'object' && offset !== null) fail(`builds a tensor whose offset is ${describe(offset)}, not an integer`);
  return new PendingTensor(storage, dtype ?? storage.dtype, offset, size, stride);
}

function arity(what: string, args: readonly unknown[], min: number, max: number, fail: Fail): void {
  if (args.length < min || args.length > max) fail(`calls ${what} with ${args.length} arguments instead of ${min === max ? min : `${min}–${max}`}`);
}

const TENSOR_BUILDERS: ReadonlyArray<[string, GlobalSpec]> = [
  ['torch._utils._rebuild_tensor', { call: (a, fail) => (arity('_rebuild_tensor', a, 4, 4, fail), pending(a, fail)) }],
  ['torch._utils._rebuild_tensor_v2', { call: (a, fail) => (arity('_rebuild_tensor_v2', a, 6, 7, fail), pending(a, fail)) }],
  [
    'torch._utils._rebuild_tensor_v3',
    {
      call(a, fail) {
        arity('_rebuild_tensor_v3', a, 7, 8, fail);
        const dtype = a[6];
        if (!(dtype instanceof PyGlobal) || !('dtype' in dtype.spec)) return fail(`builds a tensor of dtype ${describe(dtype)}`);
        return pending(a, fail, (dtype.spec as DtypeSpec).dtype);
      },
    },
  ],
  ['torch._utils._rebuild_parameter', { call: (a, fail) => (arity('_rebuild_parameter', a, 3, 3, fail), tensorArg(a[0], fail)) }],
  ['torch._utils._rebuild_parameter_with_state', { call: (a, fail) => (arity('_rebuild_parameter_with_state', a, 4, 4, fail), tensorArg(a[0], fail)) }],
];

function tensorArg(x: unknown, fail: Fail): PendingTensor {
  if (!(x instanceof PendingTensor)) return fail(`makes a parameter of ${describe(x)} instead of a tensor`);
  return x;
}

/**
 * Torch globals, each safe because what runs is the function beside it, which only records numbers:
 * - the tensor rebuilders above (v2 is what torch.save writes; v3 for dtypes with untyped storages, the
 *   parameter forms for nn.Parameter): they note a view of a storage, nothing more.
 * - torch._tensor._rebuild_from_type_v2, only around one of those and only for torch.Tensor/Parameter.
 * - torch.<Type>Storage and torch(.storage).UntypedStorage: values naming an element type; calling one is
 *   refused.
 * - torch.<dtype> (how a torch.dtype pickles): a value; torch.Size and torch.device: tuples and strings.
 */
function torchGlobals(): Map<string, GlobalSpec> {
  const g = new Map<string, GlobalSpec>(TENSOR_BUILDERS);
  const builders = new Set(TENSOR_BUILDERS.map(([n]) => n));
  g.set('torch._tensor._rebuild_from_type_v2', {
    call(a, fail) {
      arity('_rebuild_from_type_v2', a, 4, 4, fail);
      const [fn, type, args] = a;
      if (!(fn instanceof PyGlobal) || !builders.has(fn.path)) return fail(`rebuilds a tensor with ${describe(fn)}`);
      if (!(type instanceof PyGlobal) || (type.path !== 'torch.Tensor' && type.path !== 'torch.nn.parameter.Parameter')) return fail(`rebuilds a tensor as ${describe(type)}`);
      if (!Array.isArray(args)) return fail(`rebuilds a tensor from ${describe(args)}`);
      return fn.spec.call!(args, fail);
    },
  });
  g.set('torch.Tensor', {});
  g.set('torch.nn.parameter.Parameter', {});
  for (const [name, dtype] of Object.entries(STORAGE_TYPES)) g.set(`torch.${name}`, { storage: dtype } as StorageSpec);
  for (const path of ['torch.UntypedStorage', 'torch.storage.UntypedStorage']) g.set(path, { storage: 'uint8' } as StorageSpec);
  for (const dtype of Object.keys(ITEM_SIZE) as TorchDtype[]) g.set(`torch.${dtype}`, { dtype } as DtypeSpec);
  g.set('torch.Size', {
    call(a, fail) {
      if (a.length !== 1 || !Array.isArray(a[0])) return fail(`calls torch.Size with ${describe(a[0])}`);
      return a[0];
    },
  });
  g.set('torch.device', {
    call(a, fail) {
      if (typeof a[0] !== 'string' || a.length > 2) return fail(`calls torch.device with ${describe(a[0])}`);
      if (a.length === 2 && a[1] !== null && !Number.isSafeInteger(a[1])) return fail(`calls torch.device with the index ${describe(a[1])}`);
      return a.length === 2 && a[1] !== null ? `${a[0]}:${a[1] as number}` : a[0];
    },
  });
  for (const [k, v] of DATA_GLOBALS) g.set(k, v);
  return g;
}

const ALL_GLOBALS: ReadonlyMap<string, GlobalSpec> = torchGlobals();

function refuse(path: string): string {
  if (/^torch\.nn\.modules\./.test(path) || /^torch\.nn\.[A-Z]/.test(path)) {
    return `refusing to load: the checkpoint asks for ${path}, a whole pickled PyTorch module whose rebuilding runs Python code; save model.state_dict() instead`;
  }
  if (/^torch\.(\w*Storage|complex\w*|c(float|double|half)|u?int(1|2|3|4|5|6|7|16|32|64)\b|float8\w*|float4\w*|q\w+|bits\w*)$/.test(path)) {
    return `refusing to load: the checkpoint holds tensors of ${path}, a type Resona does not read (it reads ${Object.keys(ITEM_SIZE).join(', ')})`;
  }
  if (/^torch\._utils\._rebuild_/.test(path)) {
    return `refusing to load: the checkpoint asks for ${path}, a kind of tensor (quantized, sparse, meta…) Resona does not read`;
  }
  if (/^numpy\./.test(path)) return `refusing to load: the checkpoint asks for ${path}; of numpy's objects Resona reads only scalars and arrays of numbers (dtype, scalar, _reconstruct, ndarray)`;
  return refusal(path);
}

interface Archive {
  pkl: Uint8Array;
  /** A record under the folder by its path inside it (data/0, byteorder…), read from the zip on first use. */
  record(path: string): Uint8Array | undefined;
  /** Its size as the zip's directory declares it, without reading it. */
  recordSize(path: string): number | undefined;
  little: boolean;
  storedBytes: number;
}

function identify(bytes: Uint8Array, name: string): void {
  if (isZip(bytes)) return;
  const starts = (...b: number[]): boolean => b.every((x, i) => bytes[i] === x);
  // Pre-1.6 torch.save: a pickled magic number 0x1950a86a20f9469cfc6c (LONG1, 10 bytes) after PROTO 2.
  if (starts(0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19)) {
    throw new CheckpointError(`${name}: saved in PyTorch's legacy format (before PyTorch 1.6, not a zip), which Resona does not read; ${RESAVE}`);
  }
  if (bytes.length > 262 && String.fromCharCode(...bytes.subarray(257, 262)) === 'ustar') {
    throw new CheckpointError(`${name}: a tar archive, PyTorch's oldest checkpoint format, which Resona does not read; ${RESAVE}`);
  }
  if (bytes[0] === 0x80) throw new CheckpointError(`${name}: a bare Python pickle, not a PyTorch checkpoint (torch.save writes a zip)`);
  throw new CheckpointError(`${name}: not a PyTorch checkpoint (torch.save since 1.6 writes a zip; this file ${bytes.length ? 'is something else' : 'is empty'})`);
}

function openArchive(bytes: Uint8Array, name: string): Archive {
  identify(bytes, name);
  const zip = openZip(bytes, CHECKPOINT_ZIP, { name, error: (m) => new CheckpointError(m) });
  const names = zip.names;
  const pkls = names.filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length === 0) {
    const shown = names.slice(0, 8).join(', ') + (names.length > 8 ? ', …' : '');
    throw new CheckpointError(`${name}: a zip without data.pkl, so not a PyTorch checkpoint (it holds: ${shown || 'nothing'})`);
  }
  if (pkls.length > 1) throw new CheckpointError(`${name}: a zip of several checkpoints (${pkls.slice(0, 4).join(', ')}${pkls.length > 4 ? ', …' : ''}); unpack it and pick one`);
  const prefix = pkls[0]!.slice(0, -'data.pkl'.length);
  let storedBytes = 0;
  for (const n of names) if (n.startsWith(`${prefix}data/`)) storedBytes += zip.entry(n)!.size;
  const read = new Map<string, Uint8Array>();
  const record = (path: string): Uint8Array | undefined => {
    let r = read.get(path);
    if (!r && zip.entry(prefix + path)) read.set(path, (r = zip.read(prefix + path)));
    return r;
  };
  const order = record('byteorder');
  const byteorder = order ? new TextDecoder().decode(order.subarray(0, 64)).trim() : 'little';
  if (byteorder !== 'little' && byteorder !== 'big') throw new CheckpointError(`${name}: its byteorder record says ${JSON.stringify(byteorder.slice(0, 20))}, neither little nor big; the file is damaged`);
  return { pkl: record('data.pkl')!, record, recordSize: (path) => zip.entry(prefix + path)?.size, little: byteorder === 'little', storedBytes };
}

type NumberArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | Uint32Array;

let halfTable: Float32Array | null = null;
function halfs(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
  }
  return halfTable;
}

/** Calls fn once per run of the innermost dimension (once in all for a contiguous view). */
function forEachRun(shape: number[], stride: number[], offset: number, fn: (base: number, len: number, step: number) => void): void {
  const nd = shape.length;
  if (shape.some((s) => s === 0)) return;
  let expect = 1;
  let contiguous = true;
  for (let d = nd - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expect) contiguous = false;
    expect *= shape[d]!;
  }
  if (contiguous) return fn(offset, expect, 1);
  const last = nd - 1;
  const idx = new Array<number>(last).fill(0);
  let base = offset;
  for (;;) {
    fn(base, shape[last]!, stride[last]!);
    let d = last - 1;
    for (; d >= 0; d--) {
      base += stride[d]!;
      if (++idx[d]! < shape[d]!) break;
      base -= stride[d]! * shape[d]!;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

class Materialiser {
  private readonly done = new Map<PendingTensor, TorchTensor>();
  private readonly raw = new Map<string, NumberArray | BigInt64Array>();
  private readonly seen = new Set<object>();
  private budget: number;

  constructor(
    private readonly a: Archive,
    private readonly name: string,
  ) {
    // Views may overlap (tied weights) or broadcast (stride 0), so the output may exceed the stored bytes,
    // but not by much in any real checkpoint; this bounds what a forged file can make us allocate.
    this.budget = TENSORS.outputPerStoredByte * a.storedBytes + TENSORS.outputBase;
  }

  finish(v: unknown, where: string, depth: number): unknown {
    if (v instanceof PendingTensor) return this.tensor(v, where || 'at the root');
    if (v instanceof StorageRef) return this.tensor(new PendingTensor(v, v.dtype, 0, [v.numel], [1]), where || 'at the root');
    if (v instanceof PyGlobal) return v.path;
    if (v instanceof NumpyDtype) return v.name;
    if (!(v instanceof Map) && !Array.isArray(v)) return v;
    if (this.seen.has(v)) return v;
    this.seen.add(v);
    // unpickle() has refused deeper graphs; this keeps the recursion bounded on its own terms.
    if (depth > PICKLE.depth.max) throw overLimit(`${this.name}: data at ${where}`, 'nests', PICKLE.depth, (n) => `${n} levels deep`);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = this.finish(v[i], `${where}[${i}]`, depth + 1);
    } else {
      for (const [k, x] of v) v.set(k, this.finish(x, `${where}[${shortKey(k)}]`, depth + 1));
    }
    return v;
  }

  private tensor(p: PendingTensor, where: string): TorchTensor {
    const done = this.done.get(p);
    if (done) return done;
    const bad = (why: string): never => {
      throw new CheckpointError(`${this.name}: tensor ${where} ${why}`);
    };
    const ints = (x: unknown, what: string): number[] => {
      if (!Array.isArray(x)) return bad(`has ${describe(x)} as its ${what}, not a tuple of integers`);
      if (x.length > TENSORS.maxDims) return bad(`has ${x.length} dimensions`);
      for (const n of x) if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > MAX_ELEMENTS) bad(`has ${what} (${x.map(shortKey).join(', ')}), not sizes in 0..${MAX_ELEMENTS}`);
      return x as number[];
    };
    const shape = ints(p.size, 'shape');
    const stride = ints(p.stride, 'stride');
    if (stride.length !== shape.length) bad(`has ${shape.length} dimensions but ${stride.length} strides`);
    const offset = p.offset;
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return bad(`starts at offset ${describe(offset)}`);
    const numel = shape.reduce((n, s) => n * s, 1);
    if (numel > MAX_ELEMENTS) bad(`has shape [${shape.join(', ')}], ${numel} elements, more than the ${MAX_ELEMENTS} Resona reads`);
    const { storage, dtype } = p;
    const file = `data/${storage.key}`;
    const held = this.a.recordSize(file);
    if (held === undefined) return bad(`lives in storage ${file}, which is missing from the zip; the file is damaged`);
    const declared = storage.numel * ITEM_SIZE[storage.dtype];
    if (held < declared) bad(`lives in storage ${file} of ${storage.numel} ${storage.dtype} elements (${declared} bytes), but the zip holds only ${held} bytes of it; the file is truncated or damaged`);
    const available = Math.floor(declared / ITEM_SIZE[dtype]);
    if (numel > 0) {
      const last = shape.reduce((m, s, d) => m + (s - 1) * stride[d]!, offset);
      if (!Number.isSafeInteger(last) || last >= available) {
        bad(`(${dtype} [${shape.join(', ')}], offset ${offset}, strides [${stride.join(', ')}]) reaches element ${last} of storage ${file}, which holds only ${available}; the file is damaged`);
      }
    }
    const outBytes = numel * (dtype === 'int64' ? 8 : dtype === 'uint8' || dtype === 'bool' ? 1 : 4);
    this.budget -= outBytes;
    if (this.budget < 0) bad(`would take the checkpoint's tensors past 8× its stored data; the file is damaged or malicious`);
    const t = new Tensor(dtype, [...shape], this.gather(this.source(storage, dtype, available), dtype, numel, shape, stride, offset));
    this.done.set(p, t);
    return t;
  }

  /** The storage as a typed array of `dtype`'s raw elements, aligned and in host byte order. */
  private source(s: StorageRef, dtype: TorchDtype, n: number): NumberArray | BigInt64Array {
    const id = `${s.key}:${dtype}`;
    const cached = this.raw.get(id);
    if (cached) return cached;
    const size = ITEM_SIZE[dtype];
    let b = this.a.record(`data/${s.key}`)!.subarray(0, n * size);
    const swap = size > 1 && this.a.little !== LITTLE_ENDIAN_HOST;
    if (swap || b.byteOffset % size) b = b.slice();
    if (swap) for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
    const buf = b.buffer;
    const at = b.byteOffset;
    const arr =
      size === 1 ? (dtype === 'int8' ? new Int8Array(buf, at, n) : b)
      : size === 2 ? (dtype === 'int16' ? new Int16Array(buf, at, n) : new Uint16Array(buf, at, n))
      : size === 4 ? (dtype === 'float32' ? new Float32Array(buf, at, n) : new Int32Array(buf, at, n))
      : dtype === 'int64' ? new BigInt64Array(buf, at, n) : new Float64Array(buf, at, n);
    this.raw.set(id, arr);
    return arr;
  }

  private gather(src: NumberArray | BigInt64Array, dtype: TorchDtype, numel: number, shape: number[], stride: number[], offset: number): TorchTensor['data'] {
    let k = 0;
    if (src instanceof BigInt64Array) {
      const out = new BigInt64Array(numel);
      forEachRun(shape, stride, offset, (base, len, step) => {
        for (let j = 0; j < len; j++) out[k++] = src[base + j * step]!;
      });
      return out;
    }
    const out =
      dtype === 'uint8' || dtype === 'bool' ? new Uint8Array(numel)
      : dtype === 'int32' || dtype === 'int16' || dtype === 'int8' ? new Int32Array(numel)
      : new Float32Array(numel);
    // bfloat16 is the top half of a float32: shift its bits into place instead of converting values.
    const dst: NumberArray = dtype === 'bfloat16' ? new Uint32Array(out.buffer) : out;
    const map = dtype === 'float16' ? halfs() : null;
    const shift = dtype === 'bfloat16' ? 16 : 0;
    forEachRun(shape, stride, offset, (base, len, step) => {
      if (map) for (let j = 0; j < len; j++) dst[k++] = map[src[base + j * step]!]!;
      else if (shift) for (let j = 0; j < len; j++) dst[k++] = src[base + j * step]! << shift;
      else if (dtype === 'bool') for (let j = 0; j < len; j++) dst[k++] = src[base + j * step] ? 1 : 0;
      else if (step === 1) {
        dst.set(src.subarray(base, base + len), k);
        k += len;
      } else for (let j = 0; j < len; j++) dst[k++] = src[base + j * step]!;
    });
    return out;
  }
}

/**
 * The unpickled root of a checkpoint: dicts (OrderedDict too) as Maps, lists and tuples as arrays, tensors as
 * TorchTensor, records of data-only classes as PickleRecord (a Map of attributes), strings, numbers (bigint
 * only beyond 2^53), booleans, null; bytes as Uint8Array, dtypes and other bare globals as their dotted names.
 */
export function readCheckpoint(bytes: Uint8Array, name: string): unknown {
  const archive = openArchive(bytes, name);
  const storages = new Map<string, StorageRef>();
  const root = unpickle(archive.pkl, {
    where: name,
    globals: ALL_GLOBALS,
    refuse,
    persistentLoad(pid, fail) {
      if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage') return fail(`asks for the persistent object ${describe(pid)}; torch.save stores only storages that way`);
      const [, type, key, , numel] = pid as unknown[];
      if (!(type instanceof PyGlobal) || !('storage' in type.spec)) return fail(`names a storage of type ${describe(type)}`);
      if (typeof key !== 'string' || !/^[\w.-]{1,64}$/.test(key)) return fail(`names a storage ${describe(key)}`);
      if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) return fail(`gives storage ${key} ${describe(numel)} elements`);
      // As torch.load: the first reference to a key decides its type.
      const known = storages.get(key);
      if (known) return known;
      const s = new StorageRef(key, (type.spec as StorageSpec).storage, numel);
      storages.set(key, s);
      return s;
    },
  });
  return new Materialiser(archive, name).finish(root, '', 0);
}

export async function readCheckpointFile(file: string): Promise<unknown> {
  // Only a regular file, read to the size it had when opened: a FIFO or /dev/zero given as a checkpoint
  // would otherwise block or grow without end.
  const bytes = await readRegularFile(file, { what: 'checkpoint file', limit: CHECKPOINT_ZIP.totalBytes, fail: (m) => new CheckpointError(m) });
  return readCheckpoint(bytes, file);
}

function shown(x: unknown): string {
  return isTorchTensor(x) ? `a ${x.dtype} tensor [${x.shape.join(', ')}]` : describe(x);
}

/** The tensor map at root[key] (or the root itself), every value checked to be a tensor. */
export function stateDict(root: unknown, key?: string): Map<string, TorchTensor> {
  let dict = root;
  let where = 'the checkpoint';
  if (key !== undefined) {
    if (!(root instanceof Map)) throw new CheckpointError(`the checkpoint holds ${shown(root)}, not a dict with a ${JSON.stringify(key)} entry`);
    if (!root.has(key)) {
      const keys = [...root.keys()].slice(0, 12).map(shortKey).join(', ');
      throw new CheckpointError(`the checkpoint has no ${JSON.stringify(key)} entry (it has: ${keys || 'nothing'})`);
    }
    dict = root.get(key);
    where = `the checkpoint's ${JSON.stringify(key)}`;
  }
  if (!(dict instanceof Map)) throw new CheckpointError(`${where} is ${shown(dict)}, not a dict of tensors`);
  const out = new Map<string, TorchTensor>();
  for (const [k, v] of dict) {
    if (typeof k !== 'string') throw new CheckpointError(`${where} has a key ${describe(k)}; a state dict is keyed by parameter names`);
    if (!isTorchTensor(v)) throw new CheckpointError(`${where}[${shortKey(k)}] is ${shown(v)}, not a tensor`);
    out.set(k, v);
  }
  return out;
}
