// Writes zips byte by byte, so tests can make the ones no zip library would: entries that share one compressed
// stream, sizes that lie, directories that claim billions of entries, zip64 records. Also a deflate stream that
// inflates to a chosen number of zeros, made by repeating one block, so a gigabyte bomb costs megabytes to build.

export interface RawEntry {
  name: string;
  /** The entry's bytes as stored in the file (already deflated when method is 8). */
  data: Uint8Array;
  method: 0 | 8;
  /** Uncompressed size as the directory declares it. */
  size: number;
  /** Points this directory record at the named earlier entry's local header (and so its bytes). */
  shareWith?: string;
}

export interface ZipShape {
  /** Writes sizes and offsets as zip64 extra fields with a zip64 end record. */
  zip64?: boolean;
  /** Entry count the end record(s) claim, whatever the directory holds. */
  claimEntries?: number;
}

class Bytes {
  private readonly parts: Uint8Array[] = [];
  length = 0;

  add(b: Uint8Array): this {
    this.parts.push(b);
    this.length += b.length;
    return this;
  }

  /** Little-endian fields: [value, width in bytes]. */
  fields(...f: [number, 1 | 2 | 4 | 8][]): this {
    const b = new Uint8Array(f.reduce((n, [, w]) => n + w, 0));
    const v = new DataView(b.buffer);
    let at = 0;
    for (const [x, w] of f) {
      if (w === 1) v.setUint8(at, x);
      else if (w === 2) v.setUint16(at, x, true);
      else if (w === 4) v.setUint32(at, x, true);
      else v.setBigUint64(at, BigInt(x), true);
      at += w;
    }
    return this.add(b);
  }

  join(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

const FF4 = 0xffffffff;

export function buildZip(entries: readonly RawEntry[], o: ZipShape = {}): Uint8Array {
  const out = new Bytes();
  const headerAt = new Map<string, number>();
  const dir = new Bytes();
  for (const e of entries) {
    const name = new TextEncoder().encode(e.name);
    let at = e.shareWith === undefined ? undefined : headerAt.get(e.shareWith);
    if (at === undefined) {
      at = out.length;
      headerAt.set(e.name, at);
      const extra = o.zip64 ? new Bytes().fields([1, 2], [16, 2], [e.size, 8], [e.data.length, 8]).join() : new Uint8Array(0);
      out.fields([0x04034b50, 4], [o.zip64 ? 45 : 20, 2], [0x800, 2], [e.method, 2], [0, 2], [0x21, 2], [0, 4]);
      out.fields([o.zip64 ? FF4 : e.data.length, 4], [o.zip64 ? FF4 : e.size, 4], [name.length, 2], [extra.length, 2]);
      out.add(name).add(extra).add(e.data);
    }
    const extra = o.zip64 ? new Bytes().fields([1, 2], [24, 2], [e.size, 8], [e.data.length, 8], [at, 8]).join() : new Uint8Array(0);
    dir.fields([0x02014b50, 4], [45, 2], [o.zip64 ? 45 : 20, 2], [0x800, 2], [e.method, 2], [0, 2], [0x21, 2], [0, 4]);
    dir.fields([o.zip64 ? FF4 : e.data.length, 4], [o.zip64 ? FF4 : e.size, 4], [name.length, 2], [extra.length, 2], [0, 2], [0, 2], [0, 2], [0, 4], [o.zip64 ? FF4 : at, 4]);
    dir.add(name).add(extra);
  }
  const dirAt = out.length;
  const dirSize = dir.length;
  out.add(dir.join());
  const count = o.claimEntries ?? entries.length;
  if (o.zip64) {
    const end64 = out.length;
    out.fields([0x06064b50, 4], [44, 8], [45, 2], [45, 2], [0, 4], [0, 4], [count, 8], [count, 8], [dirSize, 8], [dirAt, 8]);
    out.fields([0x07064b50, 4], [0, 4], [end64, 8], [1, 4]);
    out.fields([0x06054b50, 4], [0, 2], [0, 2], [0xffff, 2], [0xffff, 2], [FF4, 4], [FF4, 4], [0, 2]);
  } else {
    out.fields([0x06054b50, 4], [0, 2], [0, 2], [count & 0xffff, 2], [count & 0xffff, 2], [dirSize, 4], [dirAt, 4], [0, 2]);
  }
  return out.join();
}

class BitWriter {
  private readonly out: number[] = [];
  private acc = 0;
  private n = 0;

  /** `count` bits of `v`, least significant first (deflate's order for everything but Huffman codes). */
  bits(v: number, count: number): this {
    for (let i = 0; i < count; i++) this.bit((v >>> i) & 1);
    return this;
  }

  /** A Huffman code, most significant bit first. */
  code(v: number, len: number): this {
    for (let i = len - 1; i >= 0; i--) this.bit((v >>> i) & 1);
    return this;
  }

  private bit(b: number): void {
    this.acc |= b << this.n;
    if (++this.n === 8) {
      this.out.push(this.acc);
      this.acc = 0;
      this.n = 0;
    }
  }

  /** Pads to a byte boundary with zero bits. */
  align(): this {
    if (this.n) this.bits(0, 8 - this.n);
    return this;
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

/** One fixed-Huffman block of `literal` (a zero byte, or none) then `runs` copies of 258 bytes at distance 1,
 * and an empty stored block after it so the unit ends on a byte boundary and units can be concatenated. */
function unit(literal: boolean, runs: number): Uint8Array {
  const w = new BitWriter().bits(0, 1).bits(1, 2);
  if (literal) w.code(0x30, 8);
  for (let i = 0; i < runs; i++) w.code(0xc5, 8).code(0, 5);
  w.code(0, 7);
  return w.bits(0, 1).bits(0, 2).align().bits(0, 16).bits(0xffff, 16).bytes();
}

/** A raw deflate stream of about `size` zero bytes (exactly the returned size), ~160:1. */
export function zeroStream(size: number): { data: Uint8Array; size: number } {
  const per = 65536;
  const repeats = Math.max(1, Math.floor((size - 1) / (per * 258)));
  const first = unit(true, per);
  const rest = unit(false, per);
  const last = new BitWriter().bits(1, 1).bits(1, 2).code(0, 7).align().bytes();
  const data = new Uint8Array(first.length + (repeats - 1) * rest.length + last.length);
  data.set(first, 0);
  for (let i = 1; i < repeats; i++) data.set(rest, first.length + (i - 1) * rest.length);
  data.set(last, data.length - last.length);
  return { data, size: 1 + repeats * per * 258 };
}
