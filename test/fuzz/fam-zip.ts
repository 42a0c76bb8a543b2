// Zip bombs and forged archives as checkpoint files: many central entries over one deflated stream, zip64
// records claiming 4 billion entries, deflated records claiming sizes deflate cannot reach. Built here, in
// a few kilobytes, each time; nothing large is stored.
import { deflateSync } from 'fflate';
import { pickle } from '../models/torch/torch-writer.js';
import { crc32, forgeZip, type ForgeEntry } from './zip-forge.js';
import { oneFile, type Family } from './family.js';
import { mutate, utf8, type Rng } from './rng.js';

const FILE = 'bomb.pth';
const MB = 1024 * 1024;

let zeros: { data: Uint8Array; size: number; crc: number } | null = null;
/** 64 MB of zeros deflated (about 64 KB), the stream every bomb entry shares. */
function zeroStream() {
  if (!zeros) {
    const raw = new Uint8Array(64 * MB);
    zeros = { data: deflateSync(raw, { level: 9 }), size: raw.length, crc: crc32(raw) };
  }
  return zeros;
}

function pkl(): Uint8Array {
  return pickle({ weight: {} }).pkl;
}

function records(extra: ForgeEntry[] = []): ForgeEntry[] {
  return [{ name: 'archive/data.pkl', data: pkl() }, { name: 'archive/version', data: utf8('3\n') }, ...extra];
}

/** `n` central entries named data/<i> all over one deflated stream of `zeroStream`. */
export function sharedStreamBomb(n: number, prefix = 'archive/data/'): Uint8Array {
  const z = zeroStream();
  const bomb: ForgeEntry = { name: `${prefix}0`, data: z.data, method: 8, crc: z.crc, size: z.size };
  const entries = records([bomb]);
  return forgeZip(entries, { aliases: [{ of: entries.length - 1, names: Array.from({ length: n - 1 }, (_, i) => `${prefix}${i + 1}`) }] });
}

export function zip64Claim(entries: bigint): Uint8Array {
  return forgeZip(records(), { zip64Entries: entries });
}

const CASES: Array<[string, () => Uint8Array]> = [
  ['64 entries sharing one 64 MB deflated stream (4 GB)', () => sharedStreamBomb(64)],
  ['1000 entries sharing one deflated stream (64 GB)', () => sharedStreamBomb(1000)],
  ['shared-stream bomb on data.pkl itself', () => {
    const z = zeroStream();
    const entries: ForgeEntry[] = [{ name: 'archive/data.pkl', data: z.data, method: 8, crc: z.crc, size: z.size }];
    return forgeZip(entries, { aliases: [{ of: 0, names: Array.from({ length: 31 }, (_, i) => `archive/data/${i}`) }] });
  }],
  ['zip64 claiming 4 billion entries', () => zip64Claim(4_000_000_000n)],
  ['zip64 claiming 2^64-1 entries', () => zip64Claim(0xffffffffffffffffn)],
  ['deflated record claiming 4 GB from 64 KB', () => {
    const z = zeroStream();
    return forgeZip(records([{ name: 'archive/data/0', data: z.data, method: 8, crc: z.crc, size: 0xffffffff }]));
  }],
  ['deflated record claiming 10 bytes but inflating to 64 MB', () => {
    const z = zeroStream();
    return forgeZip(records([{ name: 'archive/data/0', data: z.data, method: 8, crc: z.crc, size: 10 }]));
  }],
  ['a stored record claiming 4 GB', () => forgeZip(records([{ name: 'archive/data/0', data: new Uint8Array(16), size: 0xffffffff, csize: 0xffffffff }]))],
  ['end record claiming 65535 entries', () => forgeZip(records(), { entries: 0xffff })],
  ['central directory offset past the end', () => forgeZip(records(), { cdOffset: 0x7fffffff })],
  ['unknown compression method 99', () => forgeZip(records([{ name: 'archive/data/0', data: new Uint8Array(8), method: 99 as 0 }]))],
  ['20000 empty entries', () => forgeZip(records(Array.from({ length: 20000 }, (_, i) => ({ name: `archive/x/${i}`, data: new Uint8Array(0) }))))],
  ['an entry name of 65535 bytes', () => forgeZip(records([{ name: 'a'.repeat(65535), data: new Uint8Array(1) }]))],
  ['two data.pkl records', () => forgeZip([...records(), { name: 'other/data.pkl', data: pkl() }])],
  ['data.pkl under ../ traversal', () => forgeZip([{ name: '../../data.pkl', data: pkl() }, { name: '../../version', data: utf8('3\n') }])],
];

export const zipFamily: Family = {
  name: 'zip',
  async handmade() {
    return CASES.map(([label, make]) => () => oneFile('checkpoint', FILE, make(), label));
  },
  async random(rng: Rng) {
    if (rng.next() < 0.5) {
      // A bomb of random width with a random claimed size.
      const z = zeroStream();
      const n = 2 + rng.int(200);
      const size = rng.pick([z.size, 0, 1, 0xffffffff, rng.int(2 ** 32)]);
      const entries = records([{ name: 'archive/data/0', data: z.data, method: 8, crc: z.crc, size }]);
      const bytes = forgeZip(entries, { aliases: [{ of: entries.length - 1, names: Array.from({ length: n }, (_, i) => `archive/data/${i + 1}`), size }] });
      return oneFile('checkpoint', FILE, bytes, `bomb of ${n + 1} entries claiming ${size} bytes each`);
    }
    const [label, make] = rng.pick(CASES);
    return oneFile('checkpoint', FILE, mutate(make(), rng), `mutated: ${label}`);
  },
};
