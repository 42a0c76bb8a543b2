// Seeded randomness for case generation: every case gets its own generator from (family, seed, index), so a
// case can be rebuilt alone from its id without replaying the cases before it.
import { mulberry32 } from '../../models/random.js';

export interface Rng {
  /** Uniform [0, 1). */
  next(): number;
  /** Whole number in [0, n). */
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
  bytes(n: number): Uint8Array;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function caseRng(family: string, seed: number, index: number): Rng {
  const next = mulberry32(hash(`${family}:${seed}:${index}`));
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    pick: (xs) => xs[int(xs.length)]!,
    bytes: (n) => Uint8Array.from({ length: n }, () => int(256)),
  };
}

/** Values that sit on the edges parsers get wrong: zero, signs, powers of two, all ones. */
const INTERESTING_U32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** One to a few random edits: bit flips, byte overwrites, interesting 32-bit values, inserts, deletes, a cut. */
export function mutate(src: Uint8Array, rng: Rng): Uint8Array {
  let b: Uint8Array = Uint8Array.from(src);
  const edits = 1 + rng.int(4);
  for (let e = 0; e < edits && b.length > 0; e++) {
    const at = rng.int(b.length);
    switch (rng.int(7)) {
      case 0:
        b[at] = b[at]! ^ (1 << rng.int(8));
        break;
      case 1:
        b[at] = rng.int(256);
        break;
      case 2: {
        const v = rng.pick(INTERESTING_U32);
        for (let k = 0; k < 4 && at + k < b.length; k++) b[at + k] = (v >>> (8 * k)) & 0xff;
        break;
      }
      case 3: {
        const ins = rng.bytes(1 + rng.int(16));
        b = concat(b.subarray(0, at), ins, b.subarray(at));
        break;
      }
      case 4:
        b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(32))));
        break;
      case 5:
        b = b.slice(0, at);
        break;
      default: {
        // A run of the same byte, as a zeroed or 0xff-filled sector leaves.
        const n = Math.min(b.length - at, 1 + rng.int(64));
        b.fill(rng.pick([0, 0xff]), at, at + n);
      }
    }
  }
  return b;
}

export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  return concatAll(parts);
}

/** concat for lists too long to spread into arguments. */
export function concatAll(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
