// Reading and writing audio files. WAV through Resona's own reader (host/audio/wav.ts), FLAC, MP3 and Ogg
// Vorbis through the reference decoders (host/audio/compressed.ts). The format is told by the file's first
// bytes, never by its name, and only a regular file is opened. A WAV can also be opened as a stream of mono
// frames (openAudioStream), which is how `convert` reads it. Writing is atomic: a temporary file renamed into
// place, so a failed conversion never leaves a partial output behind (host/audio/float-wav-file.ts).
import { openRegularFile, readRange, type OpenedFile } from '../models/regular-file.js';
import { AudioFileError } from './audio/audio-error.js';
import { decodeCompressed } from './audio/compressed.js';
import { byteSize, LimitError } from '../models/archive/limit.js';
import { FloatWavFile } from './audio/float-wav-file.js';
import { AUDIO_LIMITS, tooLong } from './audio/limits.js';
import { bufferSource, layoutWarnings, readWav, readWavLayout, type ByteSource } from './audio/wav.js';
import { WavStream } from './audio/wav-stream.js';

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

async function sniffFormat(src: ByteSource, name: string): Promise<AudioFormat> {
  if (src.size === 0) throw new AudioFileError(`${name}: the file is empty`);
  const head = await src.read(0, Math.min(src.size, 512));
  const format = detectFormat(head);
  if (!format) {
    const what = looksLikeText(head) ? 'it looks like a text file' : 'its first bytes match no known audio format';
    throw new AudioFileError(`${name}: not an audio file Resona can read (${what}); use WAV, FLAC, MP3 or Ogg Vorbis`);
  }
  return format;
}

const noSamples = (name: string, format: AudioFormat) => new AudioFileError(`${name}: the ${format.toUpperCase()} file holds no audio samples`);

async function decodeSource(src: ByteSource, name: string): Promise<DecodedAudio> {
  const format = await sniffFormat(src, name);
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
  if (frames === 0) throw noSamples(name, format);
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

/** Mono frames of an audio file, read in order. */
export interface AudioStream {
  format: AudioFormat;
  sampleRate: number;
  /** Channels in the file (the frames handed out are their average). */
  channels: number;
  frames: number;
  warnings: string[];
  /** Fills `dest` from its start with the next frames; fewer than its length only at the end. */
  read(dest: Float32Array): Promise<number>;
  close(): Promise<void>;
}

/**
 * Opens an audio file for reading in order. A WAV is streamed from the file a chunk at a time, so its length
 * costs no memory; FLAC, MP3 and Ogg are decoded whole first (their WebAssembly decoders take the whole file)
 * and handed out from memory.
 */
export async function openAudioStream(file: string, o: { chunkFrames?: number } = {}): Promise<AudioStream> {
  const f = await openRegularFile(file, { what: 'audio file', fail: fileError });
  try {
    const src = fileSource(f, file);
    const format = await sniffFormat(src, file);
    if (format !== 'wav') {
      const audio = await decodeSource(src, file);
      await f.handle.close();
      return memoryStream(toMono(audio.channels), audio.sampleRate, { format, channels: audio.channels.length, warnings: audio.warnings });
    }
    const layout = await readWavLayout(src, file);
    if (layout.dataBytes === 0) throw noSamples(file, format);
    const wav = new WavStream(f, file, layout, o.chunkFrames);
    return { format, sampleRate: layout.sampleRate, channels: layout.channels, frames: wav.frames, warnings: layoutWarnings(layout, file), read: (d) => wav.read(d), close: () => wav.close() };
  } catch (e) {
    await f.handle.close().catch(() => {});
    throw e;
  }
}

/** Samples already in memory as an AudioStream (decoded compressed files, convertSamples). */
export function memoryStream(x: Float32Array, sampleRate: number, o: { format?: AudioFormat; channels?: number; warnings?: string[] } = {}): AudioStream {
  let pos = 0;
  return {
    format: o.format ?? 'wav',
    sampleRate,
    channels: o.channels ?? 1,
    frames: x.length,
    warnings: o.warnings ?? [],
    read: async (dest) => {
      const n = Math.min(dest.length, x.length - pos);
      dest.set(x.subarray(pos, pos + n));
      pos += n;
      return n;
    },
    close: async () => {},
  };
}

/** Writes a mono 32-bit float WAV atomically: the file appears whole or not at all. */
export async function writeWavAtomic(file: string, samples: Float32Array, sampleRate: number): Promise<void> {
  const out = await FloatWavFile.create(file, samples.length, sampleRate);
  try {
    await out.write(samples);
    await out.commit();
  } catch (e) {
    await out.abort();
    throw e;
  }
}
