// Reading and writing audio files. WAV through Resona's own reader (host/audio/wav.ts), FLAC, MP3 and Ogg
// Vorbis through the reference decoders (host/audio/compressed.ts). The format is told by the file's first
// bytes, never by its name, and only a regular file is opened. Writing is atomic: a temporary file renamed
// into place, so a failed conversion never leaves a partial output behind.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { openRegularFile, readRange, type OpenedFile } from '../models/regular-file.js';
import { AudioFileError } from './audio/audio-error.js';
import { decodeCompressed } from './audio/compressed.js';
import { byteSize, LimitError } from '../models/archive/limit.js';
import { AUDIO_LIMITS, tooLong } from './audio/limits.js';
import { bufferSource, floatWavData, floatWavHeader, readWav, type ByteSource } from './audio/wav.js';

export { AudioFileError } from './audio/audio-error.js';

export type AudioFormat = 'wav' | 'flac' | 'mp3' | 'ogg';

export interface DecodedAudio {
  format: AudioFormat;
  sampleRate: number;
  /** One array per channel. */
  channels: Float32Array[];
  /** Things the user should know that did not stop the decode (e.g. a WAV cut short). */
  warnings: string[];
}

export function detectFormat(bytes: Uint8Array): AudioFormat | null {
  const ascii = (o: number, n: number) => String.fromCharCode(...bytes.subarray(o, o + n));
  if (bytes.length >= 4 && (ascii(0, 4) === 'RIFF' || ascii(0, 4) === 'RIFX' || ascii(0, 4) === 'RF64')) return 'wav';
  if (bytes.length >= 4 && ascii(0, 4) === 'fLaC') return 'flac';
  if (bytes.length >= 4 && ascii(0, 4) === 'OggS') return 'ogg';
  if (bytes.length >= 3 && ascii(0, 3) === 'ID3') return 'mp3';
  if (bytes.length >= 2 && bytes[0] === 0xff && (bytes[1]! & 0xe0) === 0xe0 && (bytes[1]! & 0x06) !== 0) return 'mp3';
  return null;
}

function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 512);
  let printable = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127) || b >= 0xc2) printable++;
  }
  return n > 0 && printable / n > 0.95;
}

const fileError = (message: string) => new AudioFileError(message);


function fileSource(f: OpenedFile, file: string): ByteSource {
  return { size: f.size, read: (offset, length) => readRange(f, offset, length, file, fileError) };
}

/** Reads an audio file: only the parts of a WAV that hold the format and the samples are read. */
export async function readAudioFile(file: string): Promise<DecodedAudio> {
  const f = await openRegularFile(file, { what: 'audio file', fail: fileError });
  try {
    return await decodeSource(fileSource(f, file), file);
  } finally {
    await f.handle.close();
  }
}

export async function decodeAudio(bytes: Uint8Array, name = 'input'): Promise<DecodedAudio> {
  return decodeSource(bufferSource(bytes), name);
}

async function decodeSource(src: ByteSource, name: string): Promise<DecodedAudio> {
  if (src.size === 0) throw new AudioFileError(`${name}: the file is empty`);
  const head = await src.read(0, Math.min(src.size, 512));
  const format = detectFormat(head);
  if (!format) {
    const what = looksLikeText(head) ? 'it looks like a text file' : 'its first bytes match no known audio format';
    throw new AudioFileError(`${name}: not an audio file Resona can read (${what}); use WAV, FLAC, MP3 or Ogg Vorbis`);
  }
  let audio: Omit<DecodedAudio, 'format'>;
  if (format === 'wav') {
    audio = await readWav(src, name);
  } else {
    const l = AUDIO_LIMITS.compressedBytes;
    if (src.size > l.max) throw new LimitError(`${name}: ${byteSize(src.size)} of ${format.toUpperCase()} is more than Resona decodes at once (${byteSize(l.max)}, ${l.sizedFrom}); split the file first`);
    audio = await decodeCompressed(await src.read(0, src.size), format, name);
    tooLong(name, audio.channels.reduce((n, c) => n + c.length, 0));
  }
  const frames = audio.channels[0]?.length ?? 0;
  if (frames === 0) throw new AudioFileError(`${name}: the ${format.toUpperCase()} file holds no audio samples`);
  for (const ch of audio.channels) {
    for (let i = 0; i < ch.length; i++) {
      if (!Number.isFinite(ch[i]!)) throw new AudioFileError(`${name}: sample ${i} is not a finite number (NaN or infinity)`);
    }
  }
  return { format, ...audio };
}

/** Averages channels to mono (the voice is mono). */
export function toMono(channels: Float32Array[]): Float32Array {
  if (channels.length === 1) return channels[0]!;
  const n = channels[0]!.length;
  const out = new Float32Array(n);
  for (const ch of channels) for (let i = 0; i < n; i++) out[i] = out[i]! + ch[i]! / channels.length;
  return out;
}

/** Writes a mono 32-bit float WAV atomically: the file appears whole or not at all. */
export async function writeWavAtomic(file: string, samples: Float32Array, sampleRate: number): Promise<void> {
  const header = floatWavHeader(samples.length, sampleRate);
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.partial`);
  try {
    const fh = await fs.open(tmp, 'w');
    try {
      await fh.writeFile(header);
      await fh.writeFile(floatWavData(samples));
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    throw new AudioFileError(`${file}: cannot write the output (${code ?? (e as Error).message})`);
  }
}
