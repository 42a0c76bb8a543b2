// WAV files: metadata chunks claiming billions of entries, codec formats Resona does not decode, truncations,
// absurd sizes, and random mutations of valid 16-bit, 24-bit, float and stereo files.
import { fmtChunk, le, PCM16, pcm16, riff, validWav, type Chunk, type Fmt } from './gen-wav.js';
import { oneFile, type Built, type Family } from './family.js';
import { concat, mutate, utf8, type Rng } from './rng.js';

const FILE = 'input.wav';
const wav = (bytes: Uint8Array, label: string) => oneFile('audio', FILE, bytes, label);

/** A cue chunk with `count` points declared and `present` written. */
const cue = (count: number, present = 1): Chunk => ({ id: 'cue ', body: concat(le(4, count), ...Array.from({ length: present }, (_, i) => concat(le(4, i, 0), utf8('data'), le(4, 0, 0, i)))) });
/** A smpl chunk (36 bytes of header) with `loops` declared and one written. */
const smpl = (loops: number): Chunk => ({ id: 'smpl', body: concat(le(4, 0, 0, 22675, 60, 0, 0, 0, loops, 0), le(4, 0, 0, 0, 100, 0, 0)) });
const bext = (size: number): Chunk => ({ id: 'bext', body: new Uint8Array(602), size });

const CODECS: Array<[string, Fmt]> = [
  ['MS ADPCM (2)', { format: 2, channels: 1, rate: 16000, bits: 4, blockAlign: 256, extra: concat(le(2, 32, 500, 7), new Uint8Array(28)) }],
  ['IMA ADPCM (0x11)', { format: 0x11, channels: 1, rate: 16000, bits: 4, blockAlign: 256, extra: le(2, 2, 505) }],
  ['MPEG (0x50)', { format: 0x50, channels: 1, rate: 16000, bits: 0, blockAlign: 1, extra: concat(le(2, 22), new Uint8Array(22)) }],
  ['MPEG Layer 3 (0x55)', { format: 0x55, channels: 1, rate: 16000, bits: 0, blockAlign: 1, extra: concat(le(2, 12, 1), le(4, 2), le(2, 104, 1, 1393)) }],
  ['GSM 6.10 (0x31)', { format: 0x31, channels: 1, rate: 8000, bits: 0, blockAlign: 65, extra: le(2, 2, 320) }],
  ['A-law (6)', { format: 6, channels: 1, rate: 8000, bits: 8 }],
  ['mu-law (7)', { format: 7, channels: 1, rate: 8000, bits: 8 }],
  ['extensible with an unknown subformat', { format: 0xfffe, channels: 1, rate: 16000, bits: 16, extra: concat(le(2, 22, 16), le(4, 4), new Uint8Array(16).fill(0xab)) }],
  ['format 0xffff', { format: 0xffff, channels: 1, rate: 16000, bits: 16 }],
];

const ODD_FMT: Array<[string, Partial<Fmt>]> = [
  ['0 channels', { channels: 0 }],
  ['65535 channels', { channels: 65535, blockAlign: 2 }],
  ['sample rate 0', { rate: 0 }],
  ['sample rate 4294967295', { rate: 0xffffffff }],
  ['0 bits per sample', { bits: 0, blockAlign: 2 }],
  ['7 bits per sample', { bits: 7, blockAlign: 1 }],
  ['33 bits per sample', { bits: 33, blockAlign: 5 }],
  ['64-bit integer PCM', { bits: 64, blockAlign: 8 }],
  ['65535 bits per sample', { bits: 65535, blockAlign: 2 }],
  ['block align 0', { blockAlign: 0 }],
];

function handmade(): Array<[string, () => Uint8Array]> {
  const base = validWav();
  const data = { id: 'data', body: pcm16(800) };
  const list: Array<[string, () => Uint8Array]> = [
    ['valid 16-bit mono', () => base],
    ['cue chunk claiming 4 billion points', () => validWav([cue(0xffffffff)])],
    ['cue chunk claiming 2^31 points', () => validWav([cue(0x80000000)])],
    ['smpl chunk claiming 4 billion loops', () => validWav([smpl(0xffffffff)])],
    ['smpl chunk claiming 2^31 loops', () => validWav([smpl(0x80000000)])],
    ['2 GB bext chunk', () => validWav([bext(0x80000000)])],
    ['4 GB bext chunk', () => validWav([bext(0xffffffff)])],
    ['LIST chunk claiming 4 GB', () => validWav([{ id: 'LIST', body: utf8('INFOINAM\x04\0\0\0abc\0'), size: 0xffffffff }])],
    ['data chunk claiming 4 GB', () => riff([fmtChunk(PCM16), { ...data, size: 0xffffffff }])],
    ['data chunk claiming 2 GB', () => riff([fmtChunk(PCM16), { ...data, size: 0x80000000 }])],
    ['fmt chunk claiming 4 GB', () => riff([{ ...fmtChunk(PCM16), size: 0xfffffffe }, data])],
    ['fmt chunk of 2 bytes', () => riff([{ id: 'fmt ', body: le(2, 1) }, data])],
    ['RIFF size 0', () => riff([fmtChunk(PCM16), data], { riffSize: 0 })],
    ['RIFF size 4 GB', () => riff([fmtChunk(PCM16), data], { riffSize: 0xffffffff })],
    ['no data chunk', () => riff([fmtChunk(PCM16)])],
    ['no fmt chunk', () => riff([data])],
    ['two fmt chunks that disagree', () => riff([fmtChunk(PCM16), fmtChunk({ ...PCM16, channels: 7, bits: 24 }), data])],
    ['RIFX (big-endian) header', () => riff([fmtChunk(PCM16), data], { magic: 'RIFX' })],
    ['RF64 without ds64', () => riff([fmtChunk(PCM16), { ...data, size: 0xffffffff }], { magic: 'RF64', riffSize: 0xffffffff })],
    ['RF64 with ds64 claiming 2^62 bytes', () => riff([{ id: 'ds64', body: concat(le(4, 0, 0x40000000, 0, 0x40000000, 0, 0x40000000, 0)) }, fmtChunk(PCM16), { ...data, size: 0xffffffff }], { magic: 'RF64', riffSize: 0xffffffff })],
    ['100000 empty junk chunks', () => riff([fmtChunk(PCM16), ...Array.from({ length: 100_000 }, () => ({ id: 'junk', body: new Uint8Array(0) })), data])],
    ['only "RIFF"', () => utf8('RIFF')],
    ['header only (44 bytes, no samples)', () => riff([fmtChunk(PCM16), { id: 'data', body: new Uint8Array(0) }])],
    ['odd data length for 16-bit', () => riff([fmtChunk(PCM16), { id: 'data', body: pcm16(800).subarray(0, 1599) }])],
    ['24-bit stereo', () => validWav([], { format: 1, channels: 2, rate: 44100, bits: 24 }, 400)],
  ];
  for (const cut of [12, 20, 36, 43, 44, 45, 100, base.length - 1]) list.push([`cut at byte ${cut}`, () => base.subarray(0, cut)]);
  for (const [label, fmt] of CODECS) list.push([`codec ${label}`, () => riff([fmtChunk(fmt), { id: 'data', body: new Uint8Array(1024).fill(0x55) }])]);
  for (const [label, f] of ODD_FMT) list.push([`fmt: ${label}`, () => riff([fmtChunk({ ...PCM16, ...f }), data])]);
  return list;
}

const VALID_VARIANTS: Fmt[] = [
  PCM16,
  { format: 1, channels: 2, rate: 44100, bits: 16 },
  { format: 1, channels: 1, rate: 48000, bits: 24 },
  { format: 3, channels: 1, rate: 16000, bits: 32 },
  { format: 1, channels: 1, rate: 8000, bits: 8 },
];

export const wavFamily: Family = {
  name: 'wav',
  async handmade() {
    return handmade().map(([label, make]) => () => wav(make(), label));
  },
  async random(rng: Rng): Promise<Built> {
    const fmt = rng.pick(VALID_VARIANTS);
    const extras: Chunk[] = [];
    if (rng.next() < 0.3) extras.push(rng.pick([cue(rng.int(2 ** 32), rng.int(4)), smpl(rng.int(2 ** 32)), bext(rng.int(2 ** 32)), { id: 'LIST', body: rng.bytes(rng.int(64)) }]));
    const b = validWav(extras, fmt, 200 + rng.int(600));
    return wav(mutate(b, rng), `mutated ${fmt.bits}-bit format ${fmt.format} × ${fmt.channels}${extras.length ? ` with ${extras[0]!.id.trim()}` : ''}`);
  },
};

