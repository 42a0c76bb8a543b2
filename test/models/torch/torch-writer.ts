// Writes PyTorch checkpoints the way torch.save does (zip layout, protocol-2 pickle with BINPERSID storages,
// memoised globals), so tests can build exact fixtures, including damaged and malicious ones, in TypeScript.
import { toHalf } from '../../../models/runtime.js';
import { zipSync } from 'fflate';

/** Opcode bytes used by the tests; names as in Python's pickle module. */
export const OP = {
  PROTO: 0x80, STOP: 0x2e, MARK: 0x28, NONE: 0x4e, NEWTRUE: 0x88, NEWFALSE: 0x89, BININT: 0x4a, BININT1: 0x4b,
  BININT2: 0x4d, LONG1: 0x8a, BINFLOAT: 0x47, BINUNICODE: 0x58, EMPTY_TUPLE: 0x29, TUPLE: 0x74, TUPLE1: 0x85,
  TUPLE2: 0x86, TUPLE3: 0x87, EMPTY_LIST: 0x5d, APPEND: 0x61, APPENDS: 0x65, EMPTY_DICT: 0x7d, SETITEM: 0x73,
  SETITEMS: 0x75, GLOBAL: 0x63, STACK_GLOBAL: 0x93, REDUCE: 0x52, BUILD: 0x62, NEWOBJ: 0x81, BINPERSID: 0x51,
  BINPUT: 0x71, BINGET: 0x68, MEMOIZE: 0x94, SHORT_BINUNICODE: 0x8c, INST: 0x69,
} as const;

export type StorageType = 'HalfStorage' | 'BFloat16Storage' | 'FloatStorage' | 'DoubleStorage' | 'LongStorage' | 'IntStorage' | 'ShortStorage' | 'CharStorage' | 'ByteStorage' | 'BoolStorage';

const SIZES: Record<StorageType, number> = {
  HalfStorage: 2, BFloat16Storage: 2, FloatStorage: 4, DoubleStorage: 8, LongStorage: 8, IntStorage: 4,
  ShortStorage: 2, CharStorage: 1, ByteStorage: 1, BoolStorage: 1,
};

export interface Storage {
  key: string;
  type: StorageType;
  /** Element count written in the persistent id. */
  numel: number;
  /** The record's bytes (may deliberately disagree with numel). */
  bytes: Uint8Array;
}

/** Round-to-nearest-even float → IEEE half bits. */
export function f16bits(x: number): number {
  return toHalf(x);
}

/** bfloat16 bits of a value that bfloat16 holds exactly (the tests pick such values). */
export function bf16bits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0]! >>> 16;
}

/** A storage record holding `values` as `type`, little-endian unless told. */
export function storage(key: string, type: StorageType, values: readonly (number | bigint)[], bigEndian = false): Storage {
  const size = SIZES[type];
  const bytes = new Uint8Array(values.length * size);
  const v = new DataView(bytes.buffer);
  const le = !bigEndian;
  values.forEach((x, i) => {
    const at = i * size;
    switch (type) {
      case 'HalfStorage': return v.setUint16(at, f16bits(Number(x)), le);
      case 'BFloat16Storage': return v.setUint16(at, bf16bits(Number(x)), le);
      case 'FloatStorage': return v.setFloat32(at, Number(x), le);
      case 'DoubleStorage': return v.setFloat64(at, Number(x), le);
      case 'LongStorage': return v.setBigInt64(at, BigInt(x), le);
      case 'IntStorage': return v.setInt32(at, Number(x), le);
      case 'ShortStorage': return v.setInt16(at, Number(x), le);
      case 'CharStorage': return v.setInt8(at, Number(x));
      default: return v.setUint8(at, Number(x));
    }
  });
  return { key, type, numel: values.length, bytes };
}

/** Values the writer pickles in special ways. */
export class Tuple {
  constructor(readonly items: unknown[]) {}
}
export class OrderedDict {
  constructor(readonly entries: [unknown, unknown][]) {}
}
export class PyFloat {
  constructor(readonly value: number) {}
}
export class Tensor {
  constructor(
    readonly storage: Storage,
    readonly shape: number[],
    readonly stride: number[] = contiguousStrides(shape),
    readonly offset = 0,
    readonly parameter = false,
  ) {}
}
/** Writes its ops verbatim in place of a value. */
export class Raw {
  constructor(readonly write: (w: PickleWriter) => void) {}
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let n = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = n;
    n *= shape[d]!;
  }
  return s;
}

const utf8 = new TextEncoder();

export class PickleWriter {
  private readonly out: number[] = [];
  private readonly memo = new Map<string, number>();
  readonly storages = new Map<string, Storage>();

  op(...b: number[]): this {
    this.out.push(...b);
    return this;
  }

  u32(n: number): this {
    return this.op(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }

  str(s: string): this {
    const b = utf8.encode(s);
    this.op(OP.BINUNICODE).u32(b.length);
    for (const x of b) this.out.push(x);
    return this;
  }

  int(n: number | bigint): this {
    if (typeof n === 'number' && n >= 0 && n < 256) return this.op(OP.BININT1, n);
    if (typeof n === 'number' && n >= 0 && n < 65536) return this.op(OP.BININT2, n & 0xff, n >>> 8);
    if (typeof n === 'number' && n >= -(2 ** 31) && n < 2 ** 31) return this.op(OP.BININT).u32(n >>> 0);
    // LONG1: little-endian two's complement, as short as Python writes it.
    let v = BigInt(n);
    const bytes: number[] = [];
    for (;;) {
      bytes.push(Number(v & 0xffn));
      v >>= 8n;
      const top = bytes[bytes.length - 1]! & 0x80;
      if ((v === 0n && !top) || (v === -1n && top)) break;
    }
    return this.op(OP.LONG1, bytes.length, ...bytes);
  }

  float(x: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, false);
    return this.op(OP.BINFLOAT, ...b);
  }

  /** GLOBAL, memoised as the pickler does (BINPUT the first time, BINGET after). */
  global(module: string, name: string): this {
    const id = `${module}\n${name}\n`;
    const at = this.memo.get(id);
    if (at !== undefined) return this.op(OP.BINGET, at);
    this.op(OP.GLOBAL, ...utf8.encode(id));
    const slot = this.memo.size;
    this.memo.set(id, slot);
    return this.op(OP.BINPUT, slot);
  }

  value(x: unknown): this {
    if (x instanceof Raw) {
      x.write(this);
      return this;
    }
    if (x === null || x === undefined) return this.op(OP.NONE);
    if (x === true) return this.op(OP.NEWTRUE);
    if (x === false) return this.op(OP.NEWFALSE);
    if (typeof x === 'bigint') return this.int(x);
    if (typeof x === 'number') return Number.isInteger(x) ? this.int(x) : this.float(x);
    if (x instanceof PyFloat) return this.float(x.value);
    if (typeof x === 'string') return this.str(x);
    if (x instanceof Tuple) return this.tuple(x.items);
    if (Array.isArray(x)) {
      this.op(OP.EMPTY_LIST);
      if (x.length === 0) return this;
      this.op(OP.MARK);
      for (const v of x) this.value(v);
      return this.op(OP.APPENDS);
    }
    if (x instanceof OrderedDict) {
      this.global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE, OP.REDUCE);
      return this.items(x.entries);
    }
    if (x instanceof Map) return this.op(OP.EMPTY_DICT).items([...x.entries()]);
    if (x instanceof Tensor) return this.tensor(x);
    if (typeof x === 'object') return this.op(OP.EMPTY_DICT).items(Object.entries(x));
    throw new Error(`cannot pickle ${String(x)}`);
  }

  tuple(items: readonly unknown[]): this {
    if (items.length === 0) return this.op(OP.EMPTY_TUPLE);
    if (items.length > 3) this.op(OP.MARK);
    for (const v of items) this.value(v);
    return this.op(items.length === 1 ? OP.TUPLE1 : items.length === 2 ? OP.TUPLE2 : items.length === 3 ? OP.TUPLE3 : OP.TUPLE);
  }

  private items(entries: readonly [unknown, unknown][]): this {
    if (entries.length === 0) return this;
    this.op(OP.MARK);
    for (const [k, v] of entries) this.value(k).value(v);
    return this.op(OP.SETITEMS);
  }

  /** _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, OrderedDict()), as torch 1.6+ writes it. */
  tensor(t: Tensor): this {
    if (t.parameter) this.global('torch._utils', '_rebuild_parameter');
    this.global('torch._utils', '_rebuild_tensor_v2');
    this.op(OP.MARK);
    this.op(OP.MARK).str('storage').global('torch', t.storage.type).str(t.storage.key).str('cpu').int(t.storage.numel).op(OP.TUPLE, OP.BINPERSID);
    this.storages.set(t.storage.key, t.storage);
    this.int(t.offset).tuple(t.shape).tuple(t.stride).value(false);
    this.global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE, OP.REDUCE);
    this.op(OP.TUPLE, OP.REDUCE);
    if (t.parameter) this.value(t.parameter).global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE, OP.REDUCE).op(OP.TUPLE3, OP.REDUCE);
    return this;
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

/** A whole data.pkl for `root`: PROTO 2, the value, STOP. */
export function pickle(root: unknown): { pkl: Uint8Array; storages: Map<string, Storage> } {
  const w = new PickleWriter().op(OP.PROTO, 2).value(root).op(OP.STOP);
  return { pkl: w.bytes(), storages: w.storages };
}

export interface SaveOptions {
  /** The zip's folder: the file's stem in PyTorch 1.x, "archive" in 2.x. */
  archive?: string;
  /** The byteorder record (PyTorch 2.x); null leaves it out as 1.x does. */
  byteorder?: 'little' | 'big' | null;
  /** Extra or replacement records, by path inside the folder; null removes one. */
  records?: Record<string, Uint8Array | null>;
}

/** Zips a data.pkl and its storages the way torch.save lays them out (records stored, not deflated). */
export function zipCheckpoint(pkl: Uint8Array, storages: Iterable<Storage>, o: SaveOptions = {}): Uint8Array {
  const dir = o.archive ?? 'archive';
  const files: Record<string, Uint8Array> = { 'data.pkl': pkl };
  for (const s of storages) files[`data/${s.key}`] = s.bytes;
  files.version = utf8.encode('3\n');
  if (o.byteorder !== null) files.byteorder = utf8.encode(o.byteorder ?? 'little');
  for (const [k, v] of Object.entries(o.records ?? {})) {
    if (v === null) delete files[k];
    else files[k] = v;
  }
  return zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [`${dir}/${k}`, v])), { level: 0 });
}

/** torch.save(root) into bytes. */
export function torchSave(root: unknown, o: SaveOptions = {}): Uint8Array {
  const { pkl, storages } = pickle(root);
  return zipCheckpoint(pkl, storages.values(), o);
}

/** A checkpoint whose data.pkl is exactly `ops` (PROTO 2 … STOP added around them). */
export function rawCheckpoint(write: (w: PickleWriter) => void, o: SaveOptions = {}): Uint8Array {
  const w = new PickleWriter().op(OP.PROTO, 2);
  write(w);
  w.op(OP.STOP);
  return zipCheckpoint(w.bytes(), w.storages.values(), o);
}
