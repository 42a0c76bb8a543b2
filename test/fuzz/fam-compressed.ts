// FLAC, MP3 and Ogg Vorbis: small valid files made with sox, then cut, padded, re-headed and mutated.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { oneFile, type Built, type Family } from './family.js';
import { concat, mutate, utf8, type Rng } from './rng.js';

type Format = 'flac' | 'mp3' | 'ogg';
const bases = new Map<Format, Uint8Array>();

/** Half a second of a 200 Hz sine at 16 kHz, as sox writes it (sox with its FLAC/MP3/Ogg plug-ins). */
export function soxFile(format: Format): Uint8Array {
  let b = bases.get(format);
  if (!b) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'resona-fuzz-sox-'));
    try {
      const file = path.join(dir, `x.${format}`);
      execFileSync('sox', ['-n', '-r', '16000', file, 'synth', '0.5', 'sine', '200'], { stdio: 'pipe', timeout: 20_000 });
      b = new Uint8Array(readFileSync(file));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    bases.set(format, b);
  }
  return b;
}

const MAGIC: Record<Format, Uint8Array> = { flac: utf8('fLaC'), mp3: utf8('ID3'), ogg: utf8('OggS') };

function handmade(format: Format): Array<[string, () => Uint8Array]> {
  const b = soxFile(format);
  const list: Array<[string, () => Uint8Array]> = [
    ['valid (sox)', () => b],
    ['magic only', () => MAGIC[format]],
    ['magic + 64 KB of zeros', () => concat(MAGIC[format], new Uint8Array(65536))],
    ['magic + 64 KB of 0xff', () => concat(MAGIC[format], new Uint8Array(65536).fill(0xff))],
    ['the file twice', () => concat(b, b)],
    ['its second half behind its magic', () => concat(MAGIC[format], b.subarray(b.length >> 1))],
  ];
  for (const f of [0.02, 0.1, 0.5, 0.9]) list.push([`cut at ${f * 100}%`, () => b.subarray(0, Math.floor(b.length * f))]);
  if (format === 'mp3') {
    list.push(['ID3 tag claiming 256 MB, then nothing', () => concat(utf8('ID3'), new Uint8Array([4, 0, 0, 0x7f, 0x7f, 0x7f, 0x7f]))]);
    list.push(['frame syncs only', () => new Uint8Array(8192).map((_, i) => (i % 2 ? 0xfb : 0xff))]);
  }
  if (format === 'flac') list.push(['STREAMINFO claiming 0 Hz and 0 channels', () => concat(utf8('fLaC'), new Uint8Array([0x80, 0, 0, 34]), new Uint8Array(34))]);
  if (format === 'ogg') list.push(['an Ogg page claiming 255 segments of 255 bytes', () => concat(utf8('OggS'), new Uint8Array([0, 2]), new Uint8Array(20), new Uint8Array([255]), new Uint8Array(255).fill(255))]);
  return list;
}

function family(format: Format): Family {
  const name = `input.${format}`;
  return {
    name: format,
    async handmade() {
      return handmade(format).map(([label, make]) => () => oneFile('audio', name, make(), label));
    },
    async random(rng: Rng): Promise<Built> {
      return oneFile('audio', name, mutate(soxFile(format), rng), 'random mutation');
    },
  };
}

export const flacFamily = family('flac');
export const mp3Family = family('mp3');
export const oggFamily = family('ogg');
