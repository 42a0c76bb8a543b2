// A restricted unpickler: the part of Python's pickle that torch.save writes for state dicts and the metadata
// beside them, building plain data and nothing else.
//
// Python's own unpickler resolves every GLOBAL by importing it and calls whatever REDUCE names, which is how a
// checkpoint runs code (`os.system` + REDUCE). Here a GLOBAL resolves only through an allow-list of specs, each
// a TypeScript function written in this repository that turns arguments into inert data; anything else is
// refused with its name before a single argument is looked at. There is no eval, no dynamic import and no
// lookup by name outside the lists.
//
// Opcodes: torch.save writes protocol 2 (torch.serialization.DEFAULT_PROTOCOL), which is exactly what PyTorch
// 1.13's pickletools listing shows: PROTO, EMPTY_DICT/EMPTY_LIST/EMPTY_TUPLE, MARK, BINPUT/LONG_BINPUT,
// BINGET/LONG_BINGET, BINUNICODE, BININT/BININT1/BININT2, LONG1, BINFLOAT, NONE/NEWTRUE/NEWFALSE,
// TUPLE/TUPLE1/TUPLE2/TUPLE3, APPEND(S), SETITEM(S), GLOBAL, REDUCE, NEWOBJ, BUILD, BINPERSID and STOP.
// torch.save(..., pickle_protocol=4) adds FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL, sets and bytes
// opcodes, so those are read too, as are Python 2 strings (SHORT_BINSTRING/BINSTRING), which PyTorch's own
// weights-only loader also accepts.
// Text-protocol opcodes (INT, GET, PUT, INST, OBJ…), extension registries and out-of-band buffers are never
// written by torch.save and are refused with the opcode and its offset.
import { UserError } from '../../protocol/errors.js';
import { count, LimitError, overLimit } from '../archive/limit.js';
import { PICKLE } from './budgets.js';
export class CheckpointError extends UserError {
  override name = 'CheckpointError';
  constructor(message: string) {
    super(message, 'import');
  }
}

/** Thrown by specs; the VM adds the file and the offset. */
export type Fail = (why: string) => never;

/** What an allowed global may do. A spec with neither is a value only (a storage type, torch.Tensor). */
export interface GlobalSpec {
  /** REDUCE: builds plain data from the argument tuple. */
  call?(args: readonly unknown[], fail: Fail): unknown;
  /** NEWOBJ: an empty instance that BUILD fills. */
  create?(args: readonly unknown[], fail: Fail): unknown;
}

/** A global from the file, already matched to a spec of ours. */
export class PyGlobal {
  constructor(
    readonly path: string,
    readonly spec: GlobalSpec,
  ) {}
}

/** BUILD target: only objects of our own classes carry this symbol, never anything the file spells. */
export const SET_STATE = Symbol('setState');
interface Stateful {
  [SET_STATE](state: unknown, fail: Fail): void;
}

function isStateful(x: unknown): x is Stateful {
  return typeof x === 'object' && x !== null && typeof (x as Partial<Stateful>)[SET_STATE] === 'function';
}

/** An instance of a data-only Python class (argparse.Namespace, fairseq's Dictionary): its attributes. */
export class PickleRecord extends Map<string, unknown> {
  constructor(readonly pythonClass: string) {
    super();
  }

  [SET_STATE](state: unknown, fail: Fail): void {
    // pickle's BUILD: a __dict__, or (__dict__, slots) for classes with __slots__.
    const parts = Array.isArray(state) && state.length === 2 ? state : [state];
    for (const part of parts) {
      if (part === null) continue;
      if (!(part instanceof Map)) fail(`sets the attributes of a ${this.pythonClass} from ${describe(part)}, not a dict`);
      for (const [k, v] of part) {
        if (typeof k !== 'string') fail(`gives a ${this.pythonClass} an attribute named by ${describe(k)}`);
        this.set(k, v);
      }
    }
  }
}

/** collections.OrderedDict: a Map. BUILD carries only torch's `_metadata` (module versions), dropped. */
export class OrderedDictMap extends Map<unknown, unknown> {
  [SET_STATE](state: unknown, fail: Fail): void {
    if (state !== null && !(state instanceof Map)) fail(`sets an OrderedDict's attributes from ${describe(state)}`);
  }
}

const NUMPY_NAMES: Readonly<Record<string, string>> = {
  f2: 'float16', f4: 'float32', f8: 'float64', i1: 'int8', i2: 'int16', i4: 'int32', i8: 'int64',
  u1: 'uint8', u2: 'uint16', u4: 'uint32', u8: 'uint64', b1: 'bool',
};

/** numpy.dtype, as pickled beside numpy scalars: a type code and a byte order. */
export class NumpyDtype {
  order = '<';
  constructor(readonly code: string) {}

  get name(): string {
    return NUMPY_NAMES[this.code] ?? this.code;
  }

  [SET_STATE](state: unknown, fail: Fail): void {
    // (version, byteorder, subarray, names, fields, elsize, alignment, flags)
    if (!Array.isArray(state) || typeof state[1] !== 'string') fail(`describes a numpy dtype with ${describe(state)}`);
    this.order = state[1] as string;
  }
}

/**
 * A numpy array, as `ndarray.__reduce__` pickles it: `_reconstruct(ndarray, (0,), b'b')` makes an empty one
 * and BUILD gives it (version, shape, dtype, is_fortran, raw bytes). Only numeric dtypes with their bytes
 * inline are read (an object array pickles a list of arbitrary objects, refused here); the data stays raw
 * bytes in C or Fortran order, turned into numbers by its reader (./numpy-array.ts).
 */
export class NumpyArray {
  shape: number[] = [];
  dtype: NumpyDtype | null = null;
  fortran = false;
  raw: Uint8Array | null = null;

  [SET_STATE](state: unknown, fail: Fail): void {
    if (!Array.isArray(state) || state.length !== 5) fail(`sets a numpy array's state from ${describe(state)}, not (version, shape, dtype, order, data)`);
    const [, shape, dtype, fortran, raw] = state as unknown[];
    if (!Array.isArray(shape) || shape.length > 32 || !shape.every((n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0)) fail(`gives a numpy array the shape ${describe(shape)}`);
    if (!(dtype instanceof NumpyDtype) || !NUMPY_NAMES[dtype.code]) fail(`gives a numpy array the dtype ${describe(dtype)}; only numeric arrays are read`);
    if (typeof fortran !== 'boolean') fail(`gives a numpy array the order flag ${describe(fortran)}`);
    if (!(raw instanceof Uint8Array)) fail(`gives a numpy array its data as ${describe(raw)}, not bytes; only numeric arrays are read`);
    const d = dtype as NumpyDtype;
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    const size = Number(d.code.slice(1));
    if (n * size !== (raw as Uint8Array).length) fail(`holds a numpy array of shape (${(shape as number[]).join(', ')}) and type ${d.name} in ${(raw as Uint8Array).length} bytes (${n * size} expected)`);
    this.shape = shape as number[];
    this.dtype = d;
    this.fortran = fortran as boolean;
    this.raw = raw as Uint8Array;
  }
}

/**
 * An index of the FAISS library, as faiss's Python wrappers pickle one: NEWOBJ of the SWIG class with no
 * arguments, then BUILD with `{"this": serialize_index bytes}` (class_wrappers.py's __getstate__). Only the
 * bytes are kept, for the native index reader; the class is a name here, never imported.
 */
export class FaissPickled {
  bytes: Uint8Array | null = null;
  constructor(readonly pythonClass: string) {}

  [SET_STATE](state: unknown, fail: Fail): void {
    const b = state instanceof Map ? state.get('this') : undefined;
    if (!(state instanceof Map) || state.size !== 1 || !(b instanceof Uint8Array)) fail(`sets the state of a ${this.pythonClass} from ${describe(state)}, not {"this": the serialized index}`);
    this.bytes = b as Uint8Array;
  }
}

export function describe(x: unknown): string {
  if (x === null) return 'None';
  if (x === undefined) return 'nothing';
  if (typeof x === 'string') return `the string ${JSON.stringify(x.length > 40 ? x.slice(0, 40) + '…' : x)}`;
  if (typeof x === 'number' || typeof x === 'bigint' || typeof x === 'boolean') return `the value ${String(x)}`;
  if (x instanceof PyGlobal) return x.path;
  if (x instanceof PickleRecord) return `a ${x.pythonClass}`;
  if (x instanceof Map) return 'a dict';
  if (Array.isArray(x)) return `a list of ${x.length} items`;
  if (x instanceof Uint8Array) return `${x.length} bytes`;
  if (x instanceof NumpyDtype) return `numpy dtype ${x.name}`;
  if (x instanceof NumpyArray) return `a numpy ${x.dtype?.name ?? ''} array (${x.shape.join(', ')})`;
  if (x instanceof FaissPickled) return `a faiss ${x.pythonClass}`;
  return `a ${(x as object).constructor?.name ?? 'value'}`;
}

/** A dict key as a message shows it: strings quoted and cut, numbers as they are, anything else described. */
export function shortKey(k: unknown): string {
  if (typeof k === 'string') return JSON.stringify(k.length > 60 ? `${k.slice(0, 60)}…` : k);
  if (typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean') return String(k);
  return describe(k);
}

function latin1(s: string, fail: Fail): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) fail('encodes bytes from a string that is not latin-1');
    out[i] = c;
  }
  return out;
}

export function halfToFloat(h: number): number {
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  const s = h & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function numpyScalar(args: readonly unknown[], fail: Fail): unknown {
  const [dtype, raw] = args;
  if (!(dtype instanceof NumpyDtype) || !(raw instanceof Uint8Array)) fail(`builds a numpy scalar from ${describe(dtype)} and ${describe(raw)}`);
  const kind = dtype.code[0];
  const size = Number(dtype.code.slice(1));
  if (!NUMPY_NAMES[dtype.code] || raw.length !== size) fail(`holds a numpy scalar of type ${dtype.code} in ${raw.length} bytes; only numbers and booleans are read`);
  const little = dtype.order !== '>';
  const v = new DataView(raw.buffer, raw.byteOffset, raw.length);
  if (kind === 'b') return raw[0] !== 0;
  if (kind === 'f') return size === 2 ? halfToFloat(v.getUint16(0, little)) : size === 4 ? v.getFloat32(0, little) : v.getFloat64(0, little);
  if (size === 8) {
    const b = kind === 'i' ? v.getBigInt64(0, little) : v.getBigUint64(0, little);
    return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
  }
  if (kind === 'i') return size === 1 ? v.getInt8(0) : size === 2 ? v.getInt16(0, little) : v.getInt32(0, little);
  return size === 1 ? v.getUint8(0) : size === 2 ? v.getUint16(0, little) : v.getUint32(0, little);
}

/** numpy's `_reconstruct(ndarray, (0,), b'b')`: an empty array for BUILD to fill; no other class or shape. */
function numpyReconstruct(args: readonly unknown[], fail: Fail): unknown {
  const [cls, shape, order] = args;
  const isNdarray = cls instanceof PyGlobal && cls.path === 'numpy.ndarray';
  if (args.length !== 3 || !isNdarray || !Array.isArray(shape) || shape.length !== 1 || shape[0] !== 0 || !(order instanceof Uint8Array || typeof order === 'string')) {
    fail(`calls numpy's _reconstruct with ${args.map(describe).join(', ')}; only (numpy.ndarray, (0,), b'b') as numpy pickles arrays is read`);
  }
  return new NumpyArray();
}

type Call = NonNullable<GlobalSpec['call']>;

/** A constructor Python pickles with no arguments (its contents follow as SETITEMS or BUILD). */
function noArgs(what: string, make: () => unknown): Call {
  return (args, fail) => (args.length !== 0 ? fail(`calls ${what} with ${args.length} arguments`) : make());
}

function record(cls: string): GlobalSpec {
  return { create: noArgs(cls, () => new PickleRecord(cls)), call: noArgs(cls, () => new PickleRecord(cls)) };
}

function fromList(what: string): GlobalSpec {
  // set(list) / frozenset(list): kept as the list itself (no copy, so repeated calls stay linear in the file).
  return {
    call: (args, fail) => (args.length === 0 ? [] : args.length === 1 && Array.isArray(args[0]) ? args[0] : fail(`calls ${what} with ${describe(args[0])}`)),
  };
}

/** bytes as protocol 2 spells them in Python 3: the latin-1 string of the bytes and its encoding. */
function latin1Bytes(what: string): Call {
  return (args, fail) => {
    const [text, enc] = args;
    if (args.length !== 2 || typeof text !== 'string' || (enc !== 'latin1' && enc !== 'latin-1')) return fail(`calls ${what} with ${describe(text)} and ${describe(enc)}; only latin-1 bytes are read`);
    return latin1(text, fail);
  };
}

/**
 * Builtins that protocol 2 uses for Python 3's sets and bytes: set(list), frozenset(list), bytes() for b'',
 * bytearray(str, 'latin-1') or bytearray(bytes). Protocol 2 writes them under Python 2's module name
 * `__builtin__` (pickle's fix_imports), so both spellings are accepted, for these four names and nothing else
 * of either module (not eval, exec, getattr, __import__…).
 */
const BUILTINS: ReadonlyArray<[string, GlobalSpec]> = [
  ['set', fromList('set')],
  ['frozenset', fromList('frozenset')],
  ['bytes', { call: noArgs('bytes', () => new Uint8Array(0)) }],
  ['bytearray', { call: (args, fail) => (args.length === 0 ? new Uint8Array(0) : args.length === 1 && args[0] instanceof Uint8Array ? args[0] : latin1Bytes('bytearray')(args, fail)) }],
];

/**
 * Plain-data globals, each safe because the function run is ours and builds only inert values:
 * - collections.OrderedDict: every state dict (torch's Module.state_dict) and RVC's voice file; an empty Map.
 * - the BUILTINS above and _codecs.encode(str, 'latin1'), which is how protocol 2 pickles Python 3 bytes:
 *   arrays and Uint8Arrays.
 * - argparse.Namespace: fairseq ≤ 0.10 checkpoints store their training arguments as one ("args").
 * - fairseq.data.dictionary.Dictionary: HuBERT/ContentVec checkpoints keep the task's label dictionaries in
 *   task_state (symbols, counts, indices); its pickle is NEWOBJ + BUILD of a plain __dict__.
 * - numpy.dtype and numpy's scalar constructor (both module spellings, numpy 1 and 2): fairseq's meters and
 *   val_loss may be numpy scalars; they become numbers, bigints or booleans.
 * - numpy arrays of numbers (so-vits-svc's kmeans_10000.pt holds cluster_centers_ as one): _reconstruct
 *   (both spellings) and numpy.ndarray as its argument, filled by BUILD into a NumpyArray of raw bytes.
 * Namespace and Dictionary become PickleRecords: a Map of the attributes BUILD sets, never an object whose
 * methods or prototype the file could reach.
 */
export const DATA_GLOBALS: ReadonlyMap<string, GlobalSpec> = new Map<string, GlobalSpec>([
  ['collections.OrderedDict', { call: noArgs('collections.OrderedDict', () => new OrderedDictMap()) }],
  ...BUILTINS.flatMap(([n, s]): [string, GlobalSpec][] => [[`builtins.${n}`, s], [`__builtin__.${n}`, s]]),
  ['_codecs.encode', { call: latin1Bytes('_codecs.encode') }],
  ['argparse.Namespace', record('argparse.Namespace')],
  ['fairseq.data.dictionary.Dictionary', record('fairseq.data.dictionary.Dictionary')],
  ['numpy.dtype', { call: (args, fail) => (typeof args[0] === 'string' ? new NumpyDtype(args[0]) : fail(`calls numpy.dtype with ${describe(args[0])}`)) }],
  ['numpy.core.multiarray.scalar', { call: numpyScalar }],
  ['numpy._core.multiarray.scalar', { call: numpyScalar }],
  // numpy arrays: _reconstruct makes an empty NumpyArray that BUILD fills; numpy.ndarray is only ever its
  // argument (a value, never called).
  ['numpy.core.multiarray._reconstruct', { call: numpyReconstruct }],
  ['numpy._core.multiarray._reconstruct', { call: numpyReconstruct }],
  ['numpy.ndarray', {}],
]);

/**
 * faiss's SWIG module is named after the CPU build it loaded (faiss/loader.py); an index pickles under
 * whichever it was. Only IVF-Flat, the one index type so-vits-svc and RVC write; other faiss classes are
 * refused by name where the caller explains what is read (not in DATA_GLOBALS: only index pickles take them).
 */
export const FAISS_GLOBALS: ReadonlyMap<string, GlobalSpec> = new Map<string, GlobalSpec>(
  ['faiss.swigfaiss', 'faiss.swigfaiss_avx2', 'faiss.swigfaiss_avx512', 'faiss.swigfaiss_avx512_spr', 'faiss.swigfaiss_sve', 'faiss'].map((m): [string, GlobalSpec] => [
    `${m}.IndexIVFFlat`,
    { create: noArgs(`${m}.IndexIVFFlat`, () => new FaissPickled('IndexIVFFlat')) },
  ]),
);

export interface UnpickleOptions {
  /** For messages: the checkpoint's name. */
  where: string;
  globals: ReadonlyMap<string, GlobalSpec>;
  /** BINPERSID; torch uses it for every storage. */
  persistentLoad(pid: unknown, fail: Fail): unknown;
  /** How an unknown global is explained; defaults to the generic refusal. */
  refuse?(path: string): string;
}

export function refusal(path: string): string {
  return `refusing to load: the checkpoint asks for ${path}, which is not a tensor or plain data; it may be malicious`;
}

const OP = {
  MARK: 0x28, STOP: 0x2e, POP: 0x30, POP_MARK: 0x31, DUP: 0x32, BINFLOAT: 0x47, BININT: 0x4a, BININT1: 0x4b,
  BININT2: 0x4d, NONE: 0x4e, BINPERSID: 0x51, REDUCE: 0x52, BINSTRING: 0x54, SHORT_BINSTRING: 0x55,
  BINUNICODE: 0x58, EMPTY_LIST: 0x5d, APPEND: 0x61, BUILD: 0x62, GLOBAL: 0x63, DICT: 0x64, APPENDS: 0x65,
  BINGET: 0x68, LONG_BINGET: 0x6a, LIST: 0x6c, BINPUT: 0x71, LONG_BINPUT: 0x72, SETITEM: 0x73, TUPLE: 0x74,
  SETITEMS: 0x75, EMPTY_DICT: 0x7d, EMPTY_TUPLE: 0x29, BINBYTES: 0x42, SHORT_BINBYTES: 0x43, PROTO: 0x80,
  NEWOBJ: 0x81, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87, NEWTRUE: 0x88, NEWFALSE: 0x89, LONG1: 0x8a,
  LONG4: 0x8b, SHORT_BINUNICODE: 0x8c, BINUNICODE8: 0x8d, BINBYTES8: 0x8e, EMPTY_SET: 0x8f, ADDITEMS: 0x90,
  FROZENSET: 0x91, STACK_GLOBAL: 0x93, MEMOIZE: 0x94, FRAME: 0x95, BYTEARRAY8: 0x96,
} as const;

/** Python ints wider than this many bytes are refused rather than turned into huge bigints. */
const MAX_LONG_BYTES = 1024;
const utf8 = new TextDecoder('utf-8');

function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  if (b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Runs the pickle in `bytes` and returns its root; every error is a CheckpointError saying where. */
export function unpickle(bytes: Uint8Array, o: UnpickleOptions): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Tuples and sets are arrays too; these sets say which, so APPEND/ADDITEMS/REDUCE can check their operands.
  const tuples = new WeakSet<unknown[]>();
  const sets = new WeakSet<unknown[]>();
  const memo = new Map<number, unknown>();
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  let pos = 0;
  let at = 0;
  // Calls and BUILDs may take memoised operands again and again, each time for a few bytes of pickle; charging
  // them for the size of those operands keeps a forged file from making the work grow with the square of its
  // size. Real checkpoints spend about their own length.
  let work = PICKLE.workPerByte * bytes.length + PICKLE.workBase;

  const stop = (text: string): never => {
    throw new CheckpointError(`${o.where}: ${text}`);
  };
  // What specs and persistentLoad report too: a predicate whose subject is data.pkl.
  const bad: Fail = (why) => stop(`data.pkl ${why} (at byte ${at})`);
  const damaged = (why: string): never => bad(`${why}: the file is damaged or was not written by torch.save`);
  const need = (n: number): void => {
    if (n > bytes.length - pos) bad('ends in the middle of an instruction: the file is truncated or damaged');
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++]!;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.length - pos)) bad(`declares ${v} bytes where ${bytes.length - pos} are left: the file is truncated or damaged`);
    return Number(v);
  };
  const take = (n: number): Uint8Array => {
    need(n);
    pos += n;
    return bytes.subarray(pos - n, pos);
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) bad('ends in the middle of a global name: the file is truncated or damaged');
    const s = utf8.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const push = (v: unknown): void => {
    stack.push(v);
  };
  const pop = (): unknown => {
    if (stack.length === 0) damaged('pops an empty stack');
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) damaged('reads an empty stack');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = marks.pop();
    if (!prev) return damaged('closes a MARK it never opened');
    stack = prev;
    return items;
  };
  const tuple = (items: unknown[]): unknown[] => {
    tuples.add(items);
    return items;
  };
  const list = (x: unknown): unknown[] => {
    if (!Array.isArray(x) || tuples.has(x) || sets.has(x)) return damaged(`appends to ${Array.isArray(x) ? (tuples.has(x) ? 'a tuple' : 'a set') : describe(x)}, not a list`);
    return x;
  };
  const dict = (x: unknown): Map<unknown, unknown> => {
    if (!(x instanceof Map) || x instanceof PickleRecord) return damaged(`sets an item of ${describe(x)}, not a dict`);
    return x;
  };
  const charge = (operands: readonly unknown[]): void => {
    for (const x of operands) work -= typeof x === 'string' || Array.isArray(x) || x instanceof Uint8Array ? x.length : x instanceof Map ? x.size : 1;
    if (work < 0) throw new LimitError(`${o.where}: data.pkl does far more work than its size calls for (at byte ${at}: over ${PICKLE.workPerByte} units of work per byte; real checkpoints use about 1); the file is damaged or malicious`);
  };
  const resolve = (module: string, name: string): PyGlobal => {
    const path = `${module}.${name}`;
    const spec = o.globals.get(path);
    if (!spec) return stop(`${(o.refuse ?? refusal)(path)} (data.pkl, byte ${at})`);
    return new PyGlobal(path, spec);
  };

  for (;;) {
    at = pos;
    const op = u8();
    switch (op) {
      case OP.PROTO: {
        const v = u8();
        if (v > 5) bad(`uses pickle protocol ${v}, newer than any Python writes`);
        break;
      }
      case OP.FRAME:
        u64(); // framing only groups opcodes for buffered readers; the whole pickle is in memory
        break;
      case OP.STOP: {
        const root = pop();
        checkGraph(root, `${o.where}: data.pkl`, tuples, sets);
        return root;
      }
      case OP.MARK:
        marks.push(stack);
        stack = [];
        break;
      case OP.POP:
        if (stack.length) stack.pop();
        else popMark();
        break;
      case OP.POP_MARK:
        popMark();
        break;
      case OP.DUP:
        push(top());
        break;
      case OP.NONE:
        push(null);
        break;
      case OP.NEWTRUE:
        push(true);
        break;
      case OP.NEWFALSE:
        push(false);
        break;
      case OP.BININT:
        need(4);
        push(view.getInt32(pos, true));
        pos += 4;
        break;
      case OP.BININT1:
        push(u8());
        break;
      case OP.BININT2:
        need(2);
        push(view.getUint16(pos, true));
        pos += 2;
        break;
      case OP.LONG1:
        push(decodeLong(take(u8())));
        break;
      case OP.LONG4: {
        const n = u32();
        if (n > MAX_LONG_BYTES) bad(`holds a ${n}-byte integer, far beyond any count or size`);
        push(decodeLong(take(n)));
        break;
      }
      case OP.BINFLOAT:
        need(8);
        push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case OP.BINUNICODE:
        push(utf8.decode(take(u32())));
        break;
      case OP.SHORT_BINUNICODE:
        push(utf8.decode(take(u8())));
        break;
      case OP.BINUNICODE8:
        push(utf8.decode(take(u64())));
        break;
      case OP.SHORT_BINSTRING:
      case OP.BINSTRING: {
        // Python 2 str: read as latin-1, which maps every byte to one character.
        const n = op === OP.BINSTRING ? u32() : u8();
        push(latin1String(take(n)));
        break;
      }
      case OP.BINBYTES:
        push(take(u32()).slice());
        break;
      case OP.SHORT_BINBYTES:
        push(take(u8()).slice());
        break;
      case OP.BINBYTES8:
      case OP.BYTEARRAY8:
        push(take(u64()).slice());
        break;
      case OP.EMPTY_TUPLE:
        push(tuple([]));
        break;
      case OP.TUPLE:
        push(tuple(popMark()));
        break;
      case OP.TUPLE1:
        push(tuple([pop()]));
        break;
      case OP.TUPLE2: {
        const b = pop();
        push(tuple([pop(), b]));
        break;
      }
      case OP.TUPLE3: {
        const c = pop();
        const b = pop();
        push(tuple([pop(), b, c]));
        break;
      }
      case OP.EMPTY_LIST:
        push([]);
        break;
      case OP.LIST:
        push(popMark());
        break;
      case OP.APPEND: {
        const v = pop();
        list(top()).push(v);
        break;
      }
      case OP.APPENDS: {
        const items = popMark();
        const l = list(top());
        for (const v of items) l.push(v);
        break;
      }
      case OP.EMPTY_DICT:
        push(new Map());
        break;
      case OP.DICT: {
        const items = popMark();
        if (items.length % 2) damaged('builds a dict from an odd number of items');
        const d = new Map();
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        push(d);
        break;
      }
      case OP.SETITEM: {
        const v = pop();
        const k = pop();
        dict(top()).set(k, v);
        break;
      }
      case OP.SETITEMS: {
        const items = popMark();
        if (items.length % 2) damaged('sets an odd number of dict items');
        const d = dict(top());
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      case OP.EMPTY_SET: {
        const s: unknown[] = [];
        sets.add(s);
        push(s);
        break;
      }
      case OP.ADDITEMS: {
        const items = popMark();
        const s = top();
        if (!Array.isArray(s) || !sets.has(s)) damaged(`adds set items to ${describe(s)}`);
        for (const v of items) (s as unknown[]).push(v);
        break;
      }
      case OP.FROZENSET: {
        const s = popMark();
        sets.add(s);
        push(s);
        break;
      }
      case OP.BINPUT:
        memo.set(u8(), top());
        break;
      case OP.LONG_BINPUT:
        memo.set(u32(), top());
        break;
      case OP.MEMOIZE:
        memo.set(memo.size, top());
        break;
      case OP.BINGET:
      case OP.LONG_BINGET: {
        const i = op === OP.BINGET ? u8() : u32();
        if (!memo.has(i)) damaged(`recalls memo entry ${i}, which was never stored`);
        push(memo.get(i));
        break;
      }
      case OP.GLOBAL: {
        const module = line();
        push(resolve(module, line()));
        break;
      }
      case OP.STACK_GLOBAL: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') damaged(`names a global with ${describe(module)} and ${describe(name)}`);
        push(resolve(module as string, name as string));
        break;
      }
      case OP.REDUCE: {
        const args = pop();
        const fn = top();
        if (!(fn instanceof PyGlobal)) return bad(`calls ${describe(fn)}, which is not a function; it may be malicious`);
        if (!Array.isArray(args) || !tuples.has(args)) return damaged(`calls ${fn.path} with ${describe(args)} instead of an argument tuple`);
        if (!fn.spec.call) return bad(`calls ${fn.path}, which Resona accepts only as a value, not as a function; it may be malicious`);
        charge(args);
        stack[stack.length - 1] = fn.spec.call(args, bad);
        break;
      }
      case OP.NEWOBJ: {
        const args = pop();
        const cls = pop();
        if (!(cls instanceof PyGlobal)) return bad(`creates an object of ${describe(cls)}, which is not a class; it may be malicious`);
        if (!Array.isArray(args) || !tuples.has(args)) return damaged(`creates a ${cls.path} with ${describe(args)} instead of an argument tuple`);
        if (!cls.spec.create) return bad(`creates an object of ${cls.path}, which Resona does not build that way; it may be malicious`);
        charge(args);
        push(cls.spec.create(args, bad));
        break;
      }
      case OP.BUILD: {
        const state = pop();
        const inst = top();
        if (!isStateful(inst)) return bad(`sets the state of ${describe(inst)}, which takes none; it may be malicious`);
        charge(Array.isArray(state) ? [state, ...state.slice(0, 8)] : [state]);
        inst[SET_STATE](state, bad);
        break;
      }
      case OP.BINPERSID:
        push(o.persistentLoad(pop(), bad));
        break;
      default: {
        const ch = op >= 0x20 && op < 0x7f ? ` ('${String.fromCharCode(op)}')` : '';
        bad(`has pickle opcode 0x${op.toString(16).padStart(2, '0')}${ch}, which torch.save never writes; the file is damaged or not a PyTorch checkpoint`);
      }
    }
  }
}

/**
 * Refuses an object graph no walker could safely go through: one that contains itself, nests deeper than any
 * checkpoint, or expands through shared references (memo GETs of containers) to more values than the budget.
 * Each container's expanded size is computed once, after the pickle has finished mutating it, so a container
 * filled after it was referenced is counted at its final size. Iterative: no depth reaches the JS stack.
 */
function checkGraph(root: unknown, subject: string, tuples: WeakSet<unknown[]>, sets: WeakSet<unknown[]>): void {
  if (!isContainer(root)) return;
  const expanded = new Map<object, number>();
  const onPath = new Set<object>();
  interface Frame {
    node: Container;
    children: unknown[];
    next: number;
    total: number;
  }
  const frames: Frame[] = [];
  const enter = (node: Container): void => {
    if (frames.length >= PICKLE.depth.max) throw overLimit(subject, 'nests data', PICKLE.depth, (n) => `${count(n)} levels deep`);
    let children: unknown[];
    if (Array.isArray(node)) children = node;
    else {
      children = [];
      for (const [k, v] of node) children.push(k, v);
    }
    onPath.add(node);
    frames.push({ node, children, next: 0, total: 1 });
  };
  const tooMany = (): LimitError => overLimit(subject, 'describes, with its shared references expanded,', PICKLE.expandedValues, (n) => `${count(n)} values`);
  enter(root);
  while (frames.length) {
    const f = frames[frames.length - 1]!;
    if (f.next < f.children.length) {
      const c = f.children[f.next++];
      if (!isContainer(c)) f.total += 1;
      else if (onPath.has(c)) {
        throw new CheckpointError(`${subject} builds ${containerName(c, tuples, sets)} that contains itself, which no checkpoint holds; the file is damaged or malicious`);
      } else {
        const known = expanded.get(c);
        if (known === undefined) {
          enter(c);
          continue;
        }
        f.total += known;
      }
      if (f.total > PICKLE.expandedValues.max) throw tooMany();
      continue;
    }
    frames.pop();
    onPath.delete(f.node);
    expanded.set(f.node, f.total);
    const parent = frames[frames.length - 1];
    if (parent) {
      parent.total += f.total;
      if (parent.total > PICKLE.expandedValues.max) throw tooMany();
    }
  }
}

type Container = unknown[] | Map<unknown, unknown>;

function isContainer(x: unknown): x is Container {
  return Array.isArray(x) || x instanceof Map;
}

function containerName(x: Container, tuples: WeakSet<unknown[]>, sets: WeakSet<unknown[]>): string {
  if (x instanceof PickleRecord) return `a ${x.pythonClass}`;
  if (x instanceof Map) return 'a dict';
  return tuples.has(x) ? 'a tuple' : sets.has(x) ? 'a set' : 'a list';
}

function latin1String(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return s;
}
