// Reading and writing audio files. WAV goes through wavefile (every PCM depth, float, extensible headers);
// FLAC, MP3 and Ogg Vorbis through the WebAssembly builds of libFLAC, mpg123 and libvorbis
// (@wasm-audio-decoders): the reference decoders, with no native build step and no ffmpeg to install.
// The format is told by the file's first bytes, never by its name. Writing is atomic: a temporary file
// renamed into place, so a failed conversion never leaves a partial output behind.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { WaveFile as WaveFileType } from 'wavefile';
import { UserError } from '../protocol/errors.js';

const require = createRequire(import.meta.url);
const { WaveFile } = require('wavefile') as { WaveFile: typeof WaveFileType };

export type AudioFormat = 'wav' | 'flac' | 'mp3' | 'ogg';

export interface DecodedAudio {
  format: AudioFormat;
  sampleRate: number;
  /** One array per channel. */
  channels: Float32Array[];
  /** Things the user should know that did not stop the decode (e.g. a WAV cut short). */
  warnings: string[];
}

/** A file that cannot be read as audio; the message says what was wrong and what to do. */
export class AudioFileError extends UserError {
  override name = 'AudioFileError';
  constructor(message: string) {
    super(message, 'file');
  }
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

export async function readAudioFile(file: string): Promise<DecodedAudio> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AudioFileError(`${file}: no such file`);
    if (code === 'EISDIR') throw new AudioFileError(`${file}: is a folder, not an audio file`);
    throw new AudioFileError(`${file}: cannot be read (${code ?? (e as Error).message})`);
  }
  return decodeAudio(bytes, file);
}

export async function decodeAudio(bytes: Uint8Array, name = 'input'): Promise<DecodedAudio> {
  if (bytes.length === 0) throw new AudioFileError(`${name}: the file is empty`);
  const format = detectFormat(bytes);
  if (!format) {
    const what = looksLikeText(bytes) ? 'it looks like a text file' : 'its first bytes match no known audio format';
    throw new AudioFileError(`${name}: not an audio file Resona can read (${what}); use WAV, FLAC, MP3 or Ogg Vorbis`);
  }
  const audio = format === 'wav' ? decodeWav(bytes, name) : await decodeCompressed(bytes, format, name);
  const frames = audio.channels[0]?.length ?? 0;
  if (frames === 0) throw new AudioFileError(`${name}: the ${format.toUpperCase()} file holds no audio samples`);
  for (const ch of audio.channels) {
    for (let i = 0; i < ch.length; i++) {
      if (!Number.isFinite(ch[i]!)) throw new AudioFileError(`${name}: sample ${i} is not a finite number (NaN or infinity)`);
    }
  }
  return audio;
}

function riffDataShortfall(bytes: Uint8Array): number {
  // wavefile reads a data chunk cut short without complaint; find out how much is missing ourselves.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 12;
  while (o + 8 <= bytes.length) {
    const id = String.fromCharCode(...bytes.subarray(o, o + 4));
    const size = view.getUint32(o + 4, true);
    if (id === 'data') return Math.max(0, o + 8 + size - bytes.length);
    o += 8 + size + (size & 1);
  }
  return 0;
}

function decodeWav(bytes: Uint8Array, name: string): DecodedAudio {
  const warnings: string[] = [];
  if (bytes.length < 44) {
    throw new AudioFileError(`${name}: the WAV header is truncated (${bytes.length} bytes; a WAV header needs at least 44)`);
  }
  const wav = new WaveFile();
  try {
    wav.fromBuffer(bytes);
  } catch (e) {
    throw new AudioFileError(`${name}: not a valid WAV file (${(e as Error).message})`);
  }
  // Copy the header fields: toBitDepth() below rebuilds wav.fmt and zeroes the old object.
  const fmt = { ...(wav.fmt as { numChannels: number; sampleRate: number; audioFormat: number; bitsPerSample: number }) };
  if (!fmt.numChannels || !fmt.sampleRate) {
    throw new AudioFileError(`${name}: the WAV header is truncated or damaged (no channel count or sample rate)`);
  }
  const short = riffDataShortfall(bytes);
  if (short > 0) warnings.push(`${name}: the WAV data is ${short} bytes shorter than its header says; converting what is there`);
  let raw: Float64Array[] | Float64Array;
  try {
    const depth = wav.bitDepth as string;
    if (depth !== '32f' && depth !== '64') wav.toBitDepth('32f');
    raw = wav.getSamples(false, Float64Array) as unknown as Float64Array[] | Float64Array;
  } catch (e) {
    throw new AudioFileError(`${name}: WAV encoding not supported (format ${fmt.audioFormat}, ${fmt.bitsPerSample} bits): ${(e as Error).message}; convert it to 16-bit PCM or 32-bit float`);
  }
  // wavefile returns one array for mono files and an array of arrays otherwise.
  const list: Float64Array[] = raw instanceof Float64Array ? [raw] : Array.from(raw as ArrayLike<Float64Array>);
  return { format: 'wav', sampleRate: fmt.sampleRate, channels: list.map((c) => Float32Array.from(c)), warnings };
}

async function decodeCompressed(bytes: Uint8Array, format: Exclude<AudioFormat, 'wav'>, name: string): Promise<DecodedAudio> {
  let decoded: { channelData: Float32Array[]; samplesDecoded: number; sampleRate: number; errors: { message: string }[] };
  try {
    if (format === 'flac') {
      const { FLACDecoder } = await import('@wasm-audio-decoders/flac');
      const d = new FLACDecoder();
      await d.ready;
      decoded = await d.decodeFile(bytes);
      d.free();
    } else if (format === 'mp3') {
      const { MPEGDecoder } = await import('mpg123-decoder');
      const d = new MPEGDecoder();
      await d.ready;
      decoded = d.decode(bytes);
      d.free();
    } else {
      const { OggVorbisDecoder } = await import('@wasm-audio-decoders/ogg-vorbis');
      const d = new OggVorbisDecoder();
      await d.ready;
      decoded = await d.decodeFile(bytes);
      d.free();
    }
  } catch (e) {
    const hint = format === 'ogg' ? ' (Ogg files must hold Vorbis audio)' : '';
    throw new AudioFileError(`${name}: the ${format.toUpperCase()} data could not be decoded${hint}: ${(e as Error).message}`);
  }
  if (!decoded.samplesDecoded || !decoded.sampleRate) {
    const hint = format === 'ogg' ? ' (Ogg files must hold Vorbis audio)' : '';
    throw new AudioFileError(`${name}: the ${format.toUpperCase()} data holds no decodable audio${hint}`);
  }
  const warnings = decoded.errors.length
    ? [`${name}: ${decoded.errors.length} damaged ${format.toUpperCase()} frame(s) skipped (${decoded.errors[0]!.message})`]
    : [];
  return {
    format,
    sampleRate: decoded.sampleRate,
    channels: decoded.channelData.map((c) => c.subarray(0, decoded.samplesDecoded)),
    warnings,
  };
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
  const wav = new WaveFile();
  wav.fromScratch(1, sampleRate, '32f', samples);
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.partial`);
  try {
    await fs.writeFile(tmp, wav.toBuffer());
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    const code = (e as NodeJS.ErrnoException).code;
    throw new AudioFileError(`${file}: cannot write the output (${code ?? (e as Error).message})`);
  }
}
