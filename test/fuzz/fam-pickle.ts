// Hand-built pickles inside otherwise valid checkpoints: shared-reference graphs that explode when walked,
// deep nesting, a list that contains itself, globals that would run code, and memo and stack abuse.
import { OP, rawCheckpoint, type PickleWriter } from '../models/torch/torch-writer.js';
import { rawParts, validParts, zipParts } from './gen-torch.js';
import { oneFile, type Family } from './family.js';
import { mutate, type Rng } from './rng.js';

const FILE = 'model.pth';
const LONG_BINPUT = 0x72;
const LONG_BINGET = 0x6a;
const EMPTY_SET = 0x8f;
const ADDITEMS = 0x90;
const POP = 0x30;
const DUP = 0x32;

/** [L, L] where L is the level below, `depth` levels, every level memoised: 2^depth leaves from a few bytes. */
function sharedGraph(depth: number, kind: 'list' | 'tuple' | 'dict') {
  return (w: PickleWriter) => {
    w.op(OP.EMPTY_LIST, LONG_BINPUT).u32(0).op(POP);
    for (let i = 1; i <= depth; i++) {
      if (kind === 'list') w.op(OP.EMPTY_LIST, OP.MARK, LONG_BINGET).u32(i - 1).op(LONG_BINGET).u32(i - 1).op(OP.APPENDS);
      else if (kind === 'tuple') w.op(LONG_BINGET).u32(i - 1).op(LONG_BINGET).u32(i - 1).op(OP.TUPLE2);
      else w.op(OP.EMPTY_DICT, OP.MARK).str('a').op(LONG_BINGET).u32(i - 1).str('b').op(LONG_BINGET).u32(i - 1).op(OP.SETITEMS);
      w.op(LONG_BINPUT).u32(i);
      if (i < depth) w.op(POP);
    }
  };
}

function deep(depth: number, kind: 'list' | 'tuple' | 'dict') {
  return (w: PickleWriter) => {
    if (kind === 'tuple') {
      w.op(OP.EMPTY_TUPLE);
      for (let i = 0; i < depth; i++) w.op(OP.TUPLE1);
      return;
    }
    for (let i = 0; i < depth; i++) {
      if (kind === 'list') w.op(OP.EMPTY_LIST, OP.MARK);
      else w.op(OP.EMPTY_DICT, OP.MARK).str('k');
    }
    w.op(OP.NONE);
    for (let i = 0; i < depth; i++) w.op(kind === 'list' ? OP.APPENDS : OP.SETITEMS);
  };
}

/** A dict {'weight': x} around a value, as RVC files hold one. */
function inWeight(inner: (w: PickleWriter) => void) {
  return (w: PickleWriter) => {
    w.op(OP.EMPTY_DICT).str('weight');
    inner(w);
    w.op(OP.SETITEM);
  };
}

function callGlobal(module: string, name: string, arg: string, how: 'GLOBAL' | 'STACK_GLOBAL' | 'INST') {
  return (w: PickleWriter) => {
    if (how === 'GLOBAL') w.global(module, name).str(arg).op(OP.TUPLE1, OP.REDUCE);
    else if (how === 'STACK_GLOBAL') w.str(module).str(name).op(OP.STACK_GLOBAL).str(arg).op(OP.TUPLE1, OP.REDUCE);
    else w.op(OP.MARK).str(arg).op(OP.INST, ...new TextEncoder().encode(`${module}\n${name}\n`));
  };
}

const CASES: Array<[string, (w: PickleWriter) => void]> = [
  ['[L, L] graph 30 deep (lists)', sharedGraph(30, 'list')],
  ['[L, L] graph 35 deep (lists) under weight', inWeight(sharedGraph(35, 'list'))],
  ['[L, L] graph 40 deep (lists)', sharedGraph(40, 'list')],
  ['(L, L) graph 40 deep (tuples)', sharedGraph(40, 'tuple')],
  ['{a: L, b: L} graph 36 deep (dicts)', sharedGraph(36, 'dict')],
  ['lists nested 5000 deep', deep(5000, 'list')],
  ['tuples nested 5000 deep', deep(5000, 'tuple')],
  ['dicts nested 5000 deep under weight', inWeight(deep(5000, 'dict'))],
  ['lists nested 100000 deep', deep(100_000, 'list')],
  ['a list containing itself', (w) => w.op(OP.EMPTY_LIST, OP.BINPUT, 0, OP.BINGET, 0, OP.APPEND)],
  ['a dict containing itself under weight', inWeight((w) => w.op(OP.EMPTY_DICT, OP.BINPUT, 0).str('self').op(OP.BINGET, 0, OP.SETITEM))],
  ['a set holding a list (unhashable)', (w) => w.op(EMPTY_SET, OP.MARK, OP.EMPTY_LIST, ADDITEMS)],
  ['os.system via GLOBAL', callGlobal('os', 'system', 'echo pwned', 'GLOBAL')],
  ['os.system via STACK_GLOBAL', callGlobal('os', 'system', 'echo pwned', 'STACK_GLOBAL')],
  ['os.system via INST', callGlobal('os', 'system', 'echo pwned', 'INST')],
  ['builtins.eval', callGlobal('builtins', 'eval', '__import__("os").system("echo pwned")', 'GLOBAL')],
  ['subprocess.Popen', callGlobal('subprocess', 'Popen', 'id', 'STACK_GLOBAL')],
  ['posix.system', callGlobal('posix', 'system', 'id', 'GLOBAL')],
  ['torch._utils._rebuild_tensor_v2 with no arguments', (w) => w.global('torch._utils', '_rebuild_tensor_v2').op(OP.EMPTY_TUPLE, OP.REDUCE)],
  ['BINGET of an empty memo slot', (w) => w.op(OP.BINGET, 7)],
  ['LONG_BINGET 0xffffffff', (w) => w.op(LONG_BINGET).u32(0xffffffff)],
  ['LONG_BINPUT 0xffffffff', (w) => w.op(OP.NONE, LONG_BINPUT).u32(0xffffffff)],
  ['a million DUPs', (w) => {
    w.op(OP.EMPTY_LIST);
    for (let i = 0; i < 1_000_000; i++) w.op(DUP);
  }],
  ['100000 MARKs', (w) => {
    for (let i = 0; i < 100_000; i++) w.op(OP.MARK);
    w.op(OP.NONE);
  }],
  ['APPENDS with no mark', (w) => w.op(OP.EMPTY_LIST, OP.NONE, OP.APPENDS)],
  ['STOP on an empty stack', () => undefined],
  ['BINUNICODE claiming 4 GB', (w) => w.op(OP.BINUNICODE).u32(0xffffffff)],
  ['LONG1 of 255 bytes as a storage size', (w) => w.op(OP.MARK).str('storage').global('torch', 'FloatStorage').str('0').str('cpu').op(OP.LONG1, 255, ...new Uint8Array(255).fill(0x7f)).op(OP.TUPLE, OP.BINPERSID)],
  ['storage of 2^53 elements', (w) => w.op(OP.MARK).str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(2n ** 53n).op(OP.TUPLE, OP.BINPERSID)],
];

const OPCODES = Object.values(OP).filter((o) => o !== OP.PROTO && o !== OP.STOP);
const ARG_BYTES: Partial<Record<number, number>> = {
  [OP.BININT]: 4, [OP.BININT1]: 1, [OP.BININT2]: 2, [OP.BINFLOAT]: 8, [OP.BINPUT]: 1, [OP.BINGET]: 1,
  [LONG_BINPUT]: 4, [LONG_BINGET]: 4,
};

/** PROTO 2, 1–200 opcodes with plausible arguments (strings, globals, memo indexes), STOP. */
function opcodeSoup(rng: Rng): Uint8Array {
  const out: number[] = [OP.PROTO, 2];
  const text = (s: string) => [...new TextEncoder().encode(s)];
  for (let i = 0, n = 1 + rng.int(200); i < n; i++) {
    const op = rng.pick([...OPCODES, LONG_BINPUT, LONG_BINGET, EMPTY_SET, ADDITEMS, POP, DUP]);
    out.push(op);
    if (op === OP.BINUNICODE) {
      const s = text(rng.pick(['storage', 'cpu', 'weight', '0', 'config', '']));
      out.push(s.length, 0, 0, 0, ...s);
    } else if (op === OP.SHORT_BINUNICODE) {
      const s = text(rng.pick(['torch', 'FloatStorage', 'collections', 'OrderedDict', '_rebuild_tensor_v2', 'torch._utils']));
      out.push(s.length, ...s);
    } else if (op === OP.GLOBAL || op === OP.INST) {
      out.push(...text(rng.pick(['torch\nFloatStorage\n', 'collections\nOrderedDict\n', 'torch._utils\n_rebuild_tensor_v2\n', 'os\nsystem\n'])));
    } else if (op === OP.LONG1) {
      const n = rng.int(12);
      out.push(n, ...rng.bytes(n));
    } else {
      for (let k = 0; k < (ARG_BYTES[op] ?? 0); k++) out.push(rng.next() < 0.7 ? rng.int(4) : rng.int(256));
    }
  }
  out.push(OP.STOP);
  return Uint8Array.from(out);
}

export const pickleFamily: Family = {
  name: 'pickle',
  async handmade() {
    return CASES.map(([label, write]) => () => oneFile('checkpoint', FILE, rawCheckpoint(write), label));
  },
  async random(rng: Rng) {
    const r = rng.next();
    if (r < 0.3) return oneFile('checkpoint', FILE, zipParts({ pkl: opcodeSoup(rng), storages: [] }), 'random opcodes');
    if (r < 0.6) {
      const p = validParts();
      return oneFile('checkpoint', FILE, zipParts({ ...p, pkl: mutate(p.pkl, rng) }), 'the valid data.pkl mutated');
    }
    // A hand-made pickle mutated inside data.pkl, zipped again so the zip layer does not stop it first.
    const [label, write] = rng.pick(CASES);
    const p = rawParts(write);
    return oneFile('checkpoint', FILE, zipParts({ ...p, pkl: mutate(p.pkl, rng) }), `mutated: ${label}`);
  },
};
