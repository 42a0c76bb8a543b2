// WAV reading and writing: RIFF, big-endian RIFX and RF64 (64-bit sizes in a ds64 chunk); PCM of 1 to 32
// bits, A-law and µ-law, 32- and 64-bit float, plain or in WAVE_FORMAT_EXTENSIBLE headers.
//
// The reader walks the chunk headers and reads only the fmt chunk (its first 40 bytes), the ds64 sizes and the
// samples: every other chunk (cue, smpl, bext, LIST, junk of any claimed size) is stepped over by its size
// without being read, so what a header claims never decides how much is read or allocated. Every size is
// checked against what the file holds before anything is allocated; samples are decoded straight into one
// Float32Array per channel.
import { LimitError } from '../../models/archive/limit.js';
import { AudioFileError } from './audio-error.js';
import { tooLong } from './limits.js';

/** Random access to the bytes of a file or a buffer. */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function bufferSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: async (offset, length) => bytes.subarray(offset, offset + length) };
}

type Encoding = 'pcm' | 'float' | 'alaw' | 'ulaw';

export interface WavLayout {
  encoding: Encoding;
  /** Bytes per sample of one channel (the container; PCM of 12 or 20 bits sits left-justified in 2 or 3). */
  container: number;
  bits: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bigEndian: boolean;
  /** Where the samples start, and how many bytes of whole frames the file really holds. */
  dataOffset: number;
  dataBytes: number;
  /** Bytes the data chunk claims beyond the end of the file. */
  missingBytes: number;
}

/** Chunks walked before giving up: real files have a handful; thousands of tiny ones only make a slow loop. */
const MAX_CHUNKS = 4096;
const UNKNOWN_SIZE = 0xffffffff;

/** Format tags of codecs Resona does not decode, so the refusal can name them. */
const CODEC_NAMES: Record<number, string> = {
  0x0002: 'Microsoft ADPCM',
  0x0010: 'OKI ADPCM',
  0x0011: 'IMA ADPCM',
  0x0016: 'ITU G.723 ADPCM',
  0x0020: 'Yamaha ADPCM',
  0x0022: 'DSP Group TrueSpeech',
  0x0031: 'GSM 6.10',
  0x0040: 'G.721 ADPCM',
  0x0042: 'G.723.1',
  0x0045: 'G.726 ADPCM',
  0x0050: 'MPEG-1',
  0x0055: 'MPEG Layer 3 (MP3)',
  0x0064: 'G.726 ADPCM',
  0x0092: 'Dolby AC-3 (S/PDIF)',
  0x00ff: 'AAC',
  0x0161: 'Windows Media Audio',
  0x0162: 'Windows Media Audio Pro',
  0x0163: 'Windows Media Audio Lossless',
  0x1610: 'AAC (ADTS)',
  0x2000: 'Dolby AC-3',
  0x2001: 'DTS',
  0x674f: 'Ogg Vorbis',
  0xf1ac: 'FLAC',
};

const PLEASE_CONVERT = 'convert it to PCM or float WAV, FLAC, MP3 or Ogg Vorbis first (e.g. sox in.wav -e signed -b 16 out.wav)';

function fourcc(b: Uint8Array, o: number): string {
  let s = '';
  for (let i = 0; i < 4; i++) {
    const c = b[o + i] ?? 0;
    s += c >= 32 && c < 127 ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/** Walks the chunks and returns where the samples are and how they are encoded. */
export async function readWavLayout(src: ByteSource, name: string): Promise<WavLayout> {
  const fail = (why: string) => new AudioFileError(`${name}: ${why}`);
  if (src.size < 12) throw fail(`the WAV header is truncated (${src.size} bytes; a WAV header needs at least 44)`);
  const head = await src.read(0, 12);
  const form = fourcc(head, 0);
  const bigEndian = form === 'RIFX';
  if (fourcc(head, 8) !== 'WAVE') throw fail(`a ${form} file of type "${fourcc(head, 8)}", not WAVE audio; ${PLEASE_CONVERT}`);
  const le = !bigEndian;

  let fmt: Omit<WavLayout, 'dataOffset' | 'dataBytes' | 'missingBytes' | 'bigEndian'> | null = null;
  let data: { offset: number; declared: number } | null = null;
  let ds64Data: number | null = null;
  let pos = 12;
  for (let n = 0; pos + 8 <= src.size && !(fmt && data); n++) {
    if (n === MAX_CHUNKS) throw fail(`more than ${MAX_CHUNKS} chunks before the audio; the file is damaged or not a WAV`);
    const h = await src.read(pos, 8);
    const id = fourcc(h, 0);
    let size = new DataView(h.buffer, h.byteOffset, 8).getUint32(4, le);
    const body = pos + 8;
    const left = src.size - body;
    if (id === 'ds64' && form === 'RF64') {
      if (size < 16 || size > left) throw fail(`its RF64 ds64 chunk is damaged (${size} bytes, ${left} left in the file)`);
      const d = await src.read(body, 16);
      const v = new DataView(d.buffer, d.byteOffset, 16);
      ds64Data = v.getUint32(12, true) * 2 ** 32 + v.getUint32(8, true);
    }
    if (id === 'data') {
      if (form === 'RF64' && size === UNKNOWN_SIZE && ds64Data !== null) size = ds64Data;
      // Writers that stream to a pipe leave the size at -1: the samples run to the end of the file.
      const declared = size === UNKNOWN_SIZE ? left : size;
      data = { offset: body, declared };
      if (declared > left) break; // cut short: nothing can follow it
    } else if (id === 'fmt ') {
      if (size < 16) throw fail(`the WAV header is damaged: its fmt chunk is ${size} bytes (at least 16 are needed)`);
      if (size > left) throw fail(`the WAV header is truncated: its fmt chunk ends past the end of the file`);
      const f = await src.read(body, Math.min(size, 40));
      fmt = parseFmt(new DataView(f.buffer, f.byteOffset, f.length), le, fail);
    } else if (size > left) {
      throw fail(`its "${id}" chunk claims ${size} bytes but only ${left} are left in the file; the file is truncated or damaged`);
    }
    pos = body + size + (size & 1);
  }
  if (!fmt) {
    throw fail(src.size < 44 ? `the WAV header is truncated (${src.size} bytes; a WAV header needs at least 44)` : 'the WAV header is truncated or damaged (no fmt chunk before the samples)');
  }
  if (!data) throw fail('the WAV file holds no data chunk (no audio samples)');
  const available = Math.min(data.declared, src.size - data.offset);
  const dataBytes = available - (available % fmt.blockAlign);
  return { ...fmt, bigEndian, dataOffset: data.offset, dataBytes, missingBytes: Math.max(0, data.declared - available) };
}

function parseFmt(v: DataView, le: boolean, fail: (why: string) => Error) {
  let tag = v.getUint16(0, le);
  const channels = v.getUint16(2, le);
  const sampleRate = v.getUint32(4, le);
  const blockAlign = v.getUint16(12, le);
  const bits = v.getUint16(14, le);
  if (tag === 0xfffe) {
    if (v.byteLength < 40) throw fail('the WAV header is damaged: a WAVE_FORMAT_EXTENSIBLE fmt chunk needs 40 bytes');
    // The sub-format GUID is the format tag followed by the fixed KSDATAFORMAT suffix. Writers disagree on
    // its byte order in RIFX files (sox writes the tag big-endian and 0x0010 little-endian), so each field is
    // accepted in either order.
    const g = (i: number) => v.getUint8(24 + i);
    const suffix = [0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
    const fixed = g(4) === 0 && g(5) === 0 && g(6) + g(7) === 0x10 && (g(6) === 0 || g(7) === 0) && suffix.every((b, i) => g(8 + i) === b);
    const sub = !fixed ? null : g(2) === 0 && g(3) === 0 ? v.getUint16(24, le) : g(0) === 0 && g(1) === 0 ? v.getUint16(26, false) : null;
    if (sub === null) {
      const hex = Array.from({ length: 16 }, (_, i) => g(i).toString(16).padStart(2, '0')).join('');
      throw fail(`a WAVE_FORMAT_EXTENSIBLE file of sub-format ${hex}, which Resona cannot decode; ${PLEASE_CONVERT}`);
    }
    tag = sub;
  }
  if (channels === 0) throw fail('the WAV header is damaged: it gives 0 channels');
  if (sampleRate === 0) throw fail('the WAV header is damaged: it gives a sample rate of 0 Hz');
  const encoding: Encoding | null = tag === 1 ? 'pcm' : tag === 3 ? 'float' : tag === 6 ? 'alaw' : tag === 7 ? 'ulaw' : null;
  if (!encoding) {
    const codec = CODEC_NAMES[tag] ?? `format tag 0x${tag.toString(16).padStart(4, '0')}`;
    throw fail(`the WAV holds ${codec} audio, which Resona cannot decode; ${PLEASE_CONVERT}`);
  }
  const wanted = encoding === 'pcm' ? Math.ceil(bits / 8) : encoding === 'float' ? bits / 8 : 1;
  const supported = encoding === 'pcm' ? bits >= 1 && bits <= 32 : encoding === 'float' ? bits === 32 || bits === 64 : bits === 8;
  const label = { pcm: 'PCM', float: 'float', alaw: 'A-law', ulaw: 'µ-law' }[encoding];
  if (!supported) throw fail(`${bits}-bit ${label} samples are not a WAV encoding Resona reads; ${PLEASE_CONVERT}`);
  // Some writers pad each sample to a wider container and say so only in the block alignment.
  const container = blockAlign % channels === 0 ? blockAlign / channels : 0;
  const fits = encoding === 'pcm' ? container >= wanted && container <= 4 : container === wanted;
  if (!fits) throw fail(`the WAV header is damaged: block alignment ${blockAlign} does not fit ${channels} channel(s) of ${bits}-bit samples`);
  return { encoding, container, bits, channels, sampleRate, blockAlign };
}

export type SampleFormat = Omit<WavLayout, 'dataOffset' | 'dataBytes' | 'missingBytes'>;

/** One Float32Array per channel from the bytes of whole frames. */
export function decodeFrames(d: Uint8Array, l: SampleFormat): Float32Array[] {
  const frames = Math.floor(d.length / l.blockAlign);
  const out = Array.from({ length: l.channels }, () => new Float32Array(frames));
  decodeFramesInto(d, frames, l, out);
  return out;
}

/**
 * Decodes the first `frames` whole frames of `d` into caller-owned arrays, one per channel, each at least
 * `frames` long: a streaming reader decodes chunk after chunk into the same arrays.
 */
export function decodeFramesInto(d: Uint8Array, frames: number, l: SampleFormat, out: Float32Array[]): void {
  const { channels, blockAlign } = l;
  const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const le = !l.bigEndian;
  for (let c = 0; c < channels; c++) {
    const ch = out[c]!;
    let p = c * l.container;
    if (l.encoding === 'float') {
      if (l.container === 4) for (let i = 0; i < frames; i++, p += blockAlign) ch[i] = view.getFloat32(p, le);
      else for (let i = 0; i < frames; i++, p += blockAlign) ch[i] = view.getFloat64(p, le);
    } else if (l.encoding === 'alaw' || l.encoding === 'ulaw') {
      const table = l.encoding === 'alaw' ? ALAW : ULAW;
      for (let i = 0; i < frames; i++, p += blockAlign) ch[i] = table[d[p]!]!;
    } else if (l.container === 1) {
      // 8-bit WAV is unsigned.
      for (let i = 0; i < frames; i++, p += blockAlign) ch[i] = (d[p]! - 128) * (1 / 128);
    } else if (l.container === 2) {
      for (let i = 0; i < frames; i++, p += blockAlign) ch[i] = view.getInt16(p, le) * (1 / 32768);
    } else if (l.container === 3) {
      if (le) for (let i = 0; i < frames; i++, p += blockAlign) ch[i] = (((d[p]! | (d[p + 1]! << 8) | (d[p + 2]! << 16)) << 8) >> 8) * (1 / 8388608);
      else for (let i = 0; i < frames; i++, p += blockAlign) ch[i] = (((d[p + 2]! | (d[p + 1]! << 8) | (d[p]! << 16)) << 8) >> 8) * (1 / 8388608);
    } else {
      for (let i = 0; i < frames; i++, p += blockAlign) ch[i] = view.getInt32(p, le) * (1 / 2147483648);
    }
  }
}

/** G.711 expansions (the ITU reference), scaled like 16-bit PCM. */
const ULAW = Float32Array.from({ length: 256 }, (_, i) => {
  const u = ~i & 0xff;
  const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
  return (u & 0x80 ? 0x84 - t : t - 0x84) / 32768;
});
const ALAW = Float32Array.from({ length: 256 }, (_, i) => {
  const a = i ^ 0x55;
  const seg = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  t = seg === 0 ? t + 8 : seg === 1 ? t + 0x108 : (t + 0x108) << (seg - 1);
  return (a & 0x80 ? t : -t) / 32768;
});

export interface WavAudio {
  sampleRate: number;
  channels: Float32Array[];
  warnings: string[];
}

/** What a reader of the layout should tell the user (the file did not stop the read). */
export function layoutWarnings(layout: WavLayout, name: string): string[] {
  return layout.missingBytes > 0 ? [`${name}: the WAV data is ${layout.missingBytes} bytes shorter than its header says; converting what is there`] : [];
}

/** Decodes the whole file into memory; a streaming reader (wav-stream.ts) needs no sample budget. */
export async function readWav(src: ByteSource, name: string): Promise<WavAudio> {
  const layout = await readWavLayout(src, name);
  tooLong(name, (layout.dataBytes / layout.blockAlign) * layout.channels);
  const warnings = layoutWarnings(layout, name);
  const bytes = await src.read(layout.dataOffset, layout.dataBytes);
  return { sampleRate: layout.sampleRate, channels: decodeFrames(bytes, layout), warnings };
}

/** Length of floatWavHeader's header: the samples start here. */
export const FLOAT_WAV_HEADER_BYTES = 58;

/** Header of a mono 32-bit float WAV (fmt with cbSize and a fact chunk, as the format asks of non-PCM data). */
export function floatWavHeader(frames: number, sampleRate: number): Uint8Array {
  const dataBytes = frames * 4;
  const h = new Uint8Array(FLOAT_WAV_HEADER_BYTES);
  const v = new DataView(h.buffer);
  const ascii = (o: number, s: string) => {
    for (let i = 0; i < 4; i++) h[o + i] = s.charCodeAt(i);
  };
  // RIFF sizes are 32-bit; the input budget keeps outputs far below this.
  if (50 + dataBytes > 0xffffffff) throw new LimitError(`${frames} samples are too many for one WAV file (4 GiB at most); convert the input in parts`);
  ascii(0, 'RIFF');
  v.setUint32(4, 50 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 18, true);
  v.setUint16(20, 3, true); // IEEE float
  v.setUint16(22, 1, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * 4, true);
  v.setUint16(32, 4, true);
  v.setUint16(34, 32, true);
  v.setUint16(36, 0, true);
  ascii(38, 'fact');
  v.setUint32(42, 4, true);
  v.setUint32(46, frames, true);
  ascii(50, 'data');
  v.setUint32(54, dataBytes, true);
  return h;
}

/** The samples as little-endian float32 bytes: the array's own memory on a little-endian machine. */
export function floatWavData(samples: Float32Array): Uint8Array {
  const bytes = new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) return bytes;
  const out = new Uint8Array(samples.length * 4);
  const v = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) v.setFloat32(i * 4, samples[i]!, true);
  return out;
}

/** A whole mono 32-bit float WAV in memory (tests, small files). */
export function encodeFloatWav(samples: Float32Array, sampleRate: number): Uint8Array {
  const h = floatWavHeader(samples.length, sampleRate);
  const out = new Uint8Array(h.length + samples.length * 4);
  out.set(h);
  out.set(floatWavData(samples), h.length);
  return out;
}
