// Mutated checkpoints: a small valid torch.save file with bytes flipped, inserted and cut, and its zip records'
// sizes and offsets forged.
import { validCheckpoint, validParts, zipParts } from './gen-torch.js';
import { oneFile, type Built, type Family } from './family.js';
import { mutate, type Rng } from './rng.js';

const FILE = 'voice.pth';
let base: Uint8Array | null = null;
const valid = () => (base ??= validCheckpoint());

/** Offsets of every zip signature (local header, central header, end record) in a file. */
function signatures(b: Uint8Array, sig: number): number[] {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const at: number[] = [];
  for (let i = 0; i + 4 <= b.length; i++) if (v.getUint32(i, true) === sig) at.push(i);
  return at;
}

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
/** Field offsets inside each record: [name, offset from the signature, width]. */
const FIELDS: Record<number, [string, number, 2 | 4][]> = {
  [LOCAL]: [['method', 8, 2], ['compressed size', 18, 4], ['size', 22, 4], ['name length', 26, 2], ['extra length', 28, 2]],
  [CENTRAL]: [['method', 10, 2], ['compressed size', 20, 4], ['size', 24, 4], ['name length', 28, 2], ['extra length', 30, 2], ['local offset', 42, 4]],
  [END]: [['entries', 10, 2], ['central size', 12, 4], ['central offset', 16, 4], ['comment length', 20, 2]],
};
const FORGED = [0, 1, 0xff, 0xffff, 0x7fffffff, 0xfffffffe, 0xffffffff];

function forge(b: Uint8Array, sig: number, which: number, field: string, value: number): Uint8Array {
  const out = Uint8Array.from(b);
  const at = signatures(out, sig)[which];
  const f = FIELDS[sig]!.find(([n]) => n === field)!;
  if (at === undefined) return out;
  const v = new DataView(out.buffer);
  if (f[2] === 2) v.setUint16(at + f[1], value & 0xffff, true);
  else v.setUint32(at + f[1], value >>> 0, true);
  return out;
}

export const pthFamily: Family = {
  name: 'pth',
  async handmade() {
    const b = valid();
    const cases: Array<() => Built> = [
      () => oneFile('checkpoint', FILE, b, 'the valid base'),
      () => oneFile('checkpoint', FILE, new Uint8Array(0), 'empty file'),
      () => oneFile('checkpoint', FILE, b.subarray(0, 4), 'only the zip signature'),
      () => oneFile('checkpoint', FILE, b.subarray(0, b.length >> 1), 'cut in half'),
      () => oneFile('checkpoint', FILE, b.subarray(0, b.length - 10), 'end record cut'),
    ];
    for (const sig of [LOCAL, CENTRAL, END]) {
      for (const [field] of FIELDS[sig]!) {
        for (const value of [0xffffffff, 0x7fffffff]) {
          cases.push(() => oneFile('checkpoint', FILE, forge(b, sig, 0, field, value), `forged ${sig === LOCAL ? 'local' : sig === CENTRAL ? 'central' : 'end'} ${field} = ${value}`));
        }
      }
    }
    return cases;
  },
  async random(rng: Rng) {
    const b = valid();
    if (rng.next() < 0.3) {
      const sig = rng.pick([LOCAL, CENTRAL, END]);
      const count = Math.max(1, signatures(b, sig).length);
      const [field] = rng.pick(FIELDS[sig]!);
      const value = rng.next() < 0.5 ? rng.pick(FORGED) : rng.int(2 ** 32);
      return oneFile('checkpoint', FILE, forge(b, sig, rng.int(count), field, value), `forged ${field} = ${value}`);
    }
    if (rng.next() < 0.5) {
      // Damage inside one record, zipped again with true sizes and CRCs, so it reaches the pickle and tensor checks.
      const p = validParts();
      const which = rng.int(p.storages.length + 1);
      if (which === p.storages.length) return oneFile('checkpoint', FILE, zipParts({ ...p, pkl: mutate(p.pkl, rng) }), 'data.pkl mutated');
      const storages = p.storages.map((st, i) => (i === which ? { ...st, bytes: mutate(st.bytes, rng) } : st));
      return oneFile('checkpoint', FILE, zipParts({ ...p, storages }), `storage ${p.storages[which]!.key} mutated`);
    }
    return oneFile('checkpoint', FILE, mutate(b, rng), 'random mutation');
  },
};
