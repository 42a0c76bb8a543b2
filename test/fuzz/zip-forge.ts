// A zip writer that says whatever it is told: sizes, offsets and counts that disagree with the bytes, several
// central entries over one local record, zip64 records. Readers must not trust any of it, so the fuzz cases
// need a writer that does not either (fflate's zipSync always tells the truth).
import { concatAll, utf8 } from './rng.js';

export interface ForgeEntry {
  name: string;
  /** The bytes as stored (already deflated when method is 8). */
  data: Uint8Array;
  method?: 0 | 8;
  crc?: number;
  /** The uncompressed size claimed (default: data's length, right for stored entries). */
  size?: number;
  /** The compressed size claimed (default: data's length). */
  csize?: number;
}

export interface ForgeOptions {
  /** Extra central entries pointing at the local record of entry `of`, under other names. */
  aliases?: { of: number; names: string[]; size?: number }[];
  /** Write a zip64 end record claiming this many entries (the classic record then says 0xffff). */
  zip64Entries?: bigint;
  /** Claimed entry count in the classic end record. */
  entries?: number;
  /** Claimed central directory offset. */
  cdOffset?: number;
}

let crcTable: Uint32Array | null = null;
export function crc32(b: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

class Out {
  private parts: Uint8Array[] = [];
  length = 0;
  u16(v: number) {
    return this.raw(new Uint8Array([v & 0xff, (v >>> 8) & 0xff]));
  }
  u32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    return this.raw(b);
  }
  u64(v: bigint) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    return this.raw(b);
  }
  raw(b: Uint8Array) {
    this.parts.push(b);
    this.length += b.length;
    return this;
  }
  bytes() {
    return concatAll(this.parts);
  }
}

export function forgeZip(entries: ForgeEntry[], o: ForgeOptions = {}): Uint8Array {
  const out = new Out();
  const central = new Out();
  let count = 0;
  const centralEntry = (e: ForgeEntry, name: string, offset: number, size?: number) => {
    const n = utf8(name);
    central.u32(0x02014b50).u16(20).u16(20).u16(0).u16(e.method ?? 0).u16(0).u16(0x21)
      .u32(e.crc ?? crc32(e.data)).u32(e.csize ?? e.data.length).u32(size ?? e.size ?? e.data.length)
      .u16(n.length).u16(0).u16(0).u16(0).u16(0).u32(0).u32(offset).raw(n);
    count++;
  };
  const offsets: number[] = [];
  for (const e of entries) {
    const n = utf8(e.name);
    offsets.push(out.length);
    out.u32(0x04034b50).u16(20).u16(0).u16(e.method ?? 0).u16(0).u16(0x21)
      .u32(e.crc ?? crc32(e.data)).u32(e.csize ?? e.data.length).u32(e.size ?? e.data.length)
      .u16(n.length).u16(0).raw(n).raw(e.data);
  }
  entries.forEach((e, i) => centralEntry(e, e.name, offsets[i]!));
  for (const a of o.aliases ?? []) for (const name of a.names) centralEntry(entries[a.of]!, name, offsets[a.of]!, a.size);
  const cdOffset = out.length;
  const cd = central.bytes();
  out.raw(cd);
  if (o.zip64Entries !== undefined) {
    const at = out.length;
    out.u32(0x06064b50).u64(44n).u16(45).u16(45).u32(0).u32(0).u64(o.zip64Entries).u64(o.zip64Entries)
      .u64(BigInt(cd.length)).u64(BigInt(cdOffset));
    out.u32(0x07064b50).u32(0).u64(BigInt(at)).u32(1);
    out.u32(0x06054b50).u16(0).u16(0).u16(0xffff).u16(0xffff).u32(0xffffffff).u32(0xffffffff).u16(0);
  } else {
    const n = o.entries ?? count;
    out.u32(0x06054b50).u16(0).u16(0).u16(n).u16(n).u32(cd.length).u32(o.cdOffset ?? cdOffset).u16(0);
  }
  return out.bytes();
}
