// WAV files chunk by chunk, so a case can say anything in any field: the fmt, data and metadata chunks
// (cue, smpl, bext, LIST) with sizes and counts that need not match the bytes that follow.
import { concat, concatAll, utf8 } from './rng.js';

export interface Chunk {
  id: string;
  body: Uint8Array;
  /** The size written in the chunk header (default: the body's length). */
  size?: number;
}

export function le(width: 2 | 4, ...values: number[]): Uint8Array {
  const b = new Uint8Array(width * values.length);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => (width === 2 ? v.setUint16(i * 2, x & 0xffff, true) : v.setUint32(i * 4, x >>> 0, true)));
  return b;
}

export function chunk(c: Chunk): Uint8Array {
  const pad = c.body.length & 1 ? new Uint8Array(1) : new Uint8Array(0);
  return concat(utf8(c.id.padEnd(4).slice(0, 4)), le(4, c.size ?? c.body.length), c.body, pad);
}

export interface Fmt {
  format: number;
  channels: number;
  rate: number;
  bits: number;
  blockAlign?: number;
  byteRate?: number;
  /** Bytes after the 16 basic ones (cbSize and extension), for codec formats. */
  extra?: Uint8Array;
}

export function fmtChunk(f: Fmt): Chunk {
  const align = f.blockAlign ?? (f.channels * f.bits) / 8;
  const body = concat(le(2, f.format, f.channels), le(4, f.rate, f.byteRate ?? f.rate * align), le(2, align, f.bits), f.extra ?? new Uint8Array(0));
  return { id: 'fmt ', body };
}

/** A RIFF file around chunks; `riffSize` overrides the RIFF header's size field. */
export function riff(chunks: Chunk[], o: { magic?: string; riffSize?: number } = {}): Uint8Array {
  const body = concatAll([utf8('WAVE'), ...chunks.map(chunk)]);
  return concat(utf8(o.magic ?? 'RIFF'), le(4, o.riffSize ?? body.length), body);
}

/** `n` samples of a 200 Hz sine as 16-bit PCM. */
export function pcm16(n: number, rate = 16000, channels = 1): Uint8Array {
  const b = new Uint8Array(n * 2 * channels);
  const v = new DataView(b.buffer);
  for (let i = 0; i < n; i++) for (let c = 0; c < channels; c++) v.setInt16((i * channels + c) * 2, Math.round(8000 * Math.sin((2 * Math.PI * 200 * i) / rate)), true);
  return b;
}

export const PCM16: Fmt = { format: 1, channels: 1, rate: 16000, bits: 16 };

/** `n` frames of a 200 Hz sine in the PCM (format 1: 8, 16, 24 bits) or float (format 3: 32 bits) of `f`. */
export function samples(f: Fmt, n: number): Uint8Array {
  const size = f.bits / 8;
  const b = new Uint8Array(n * f.channels * size);
  const v = new DataView(b.buffer);
  for (let i = 0; i < n * f.channels; i++) {
    const x = 0.25 * Math.sin((2 * Math.PI * 200 * Math.floor(i / f.channels)) / f.rate);
    const at = i * size;
    if (f.format === 3) v.setFloat32(at, x, true);
    else if (f.bits === 8) b[at] = Math.round(128 + 127 * x);
    else if (f.bits === 16) v.setInt16(at, Math.round(32767 * x), true);
    else {
      const s = Math.round(8388607 * x);
      b[at] = s & 0xff;
      b[at + 1] = (s >> 8) & 0xff;
      b[at + 2] = (s >> 16) & 0xff;
    }
  }
  return b;
}

export function validWav(extra: Chunk[] = [], fmt: Fmt = PCM16, frames = 800): Uint8Array {
  return riff([fmtChunk(fmt), ...extra, { id: 'data', body: samples(fmt, frames) }]);
}
