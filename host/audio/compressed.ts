// FLAC, MP3 and Ogg Vorbis through the WebAssembly builds of libFLAC, mpg123 and libvorbis
// (@wasm-audio-decoders): the reference decoders, with no native build step and no ffmpeg to install.
// Whatever they throw on a damaged stream becomes one AudioFileError: their own complaints are quoted, but an
// error from a fault in the JavaScript around them (codec-parser's "logError is not defined" on a broken
// Vorbis header) says nothing to the user, so it is reported as damaged data.
import { AudioFileError } from './audio-error.js';

export type CompressedFormat = 'flac' | 'mp3' | 'ogg';

interface Decoded {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  errors: { message: string }[];
}

export interface CompressedAudio {
  sampleRate: number;
  channels: Float32Array[];
  warnings: string[];
}

const LABEL: Record<CompressedFormat, string> = { flac: 'FLAC', mp3: 'MP3', ogg: 'Ogg' };

/** The WebAssembly decoders share a life cycle: wait until ready, decode once, free the module's memory. */
async function once<D extends { ready: Promise<unknown>; free(): void }>(d: D, decode: (d: D) => Decoded | Promise<Decoded>): Promise<Decoded> {
  await d.ready;
  try {
    return await decode(d);
  } finally {
    d.free();
  }
}

async function runDecoder(bytes: Uint8Array, format: CompressedFormat): Promise<Decoded> {
  if (format === 'flac') return once(new (await import('@wasm-audio-decoders/flac')).FLACDecoder(), (d) => d.decodeFile(bytes));
  if (format === 'mp3') return once(new (await import('mpg123-decoder')).MPEGDecoder(), (d) => d.decode(bytes));
  return once(new (await import('@wasm-audio-decoders/ogg-vorbis')).OggVorbisDecoder(), (d) => d.decodeFile(bytes));
}

/** The decoder's own words, or nothing when the error is a fault in the decoder's code rather than the data. */
// RuntimeError: WebAssembly's trap (unreachable, out-of-bounds access) inside the decoder.
function decoderMessage(e: unknown): string {
  if (e instanceof ReferenceError || e instanceof TypeError || e instanceof SyntaxError || (e as Error)?.name === 'RuntimeError') return '';
  if (e instanceof RangeError) return 'it asks for more memory than it could hold';
  const m = typeof (e as { message?: unknown })?.message === 'string' ? (e as { message: string }).message : String(e);
  return m.length > 200 ? `${m.slice(0, 199)}…` : m;
}

export async function decodeCompressed(bytes: Uint8Array, format: CompressedFormat, name: string): Promise<CompressedAudio> {
  const label = LABEL[format];
  const hint = format === 'ogg' ? ' (Ogg files must hold Vorbis audio)' : '';
  let decoded: Decoded;
  try {
    decoded = await runDecoder(bytes, format);
  } catch (e) {
    const why = decoderMessage(e);
    throw new AudioFileError(`${name}: the ${label} data is damaged and could not be decoded${hint}${why ? ` (${why})` : ''}; export or download it again`);
  }
  if (!decoded.samplesDecoded || !decoded.sampleRate) throw new AudioFileError(`${name}: the ${label} data holds no decodable audio${hint}`);
  const warnings = decoded.errors.length ? [`${name}: ${decoded.errors.length} damaged ${label} frame(s) skipped (${decoderMessage(decoded.errors[0]) || 'damaged frame'})`] : [];
  return {
    sampleRate: decoded.sampleRate,
    channels: decoded.channelData.map((c) => c.subarray(0, decoded.samplesDecoded)),
    warnings,
  };
}
