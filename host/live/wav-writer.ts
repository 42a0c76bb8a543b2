// A WAV file written as it is recorded (32-bit float mono): the header's sizes are patched on close, so a
// long session never sits in memory. Writes go through one file handle, in order, off the audio path.
import { promises as fs } from 'node:fs';

export class WavWriter {
  private written = 0;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly fh: fs.FileHandle,
    readonly path: string,
    readonly rate: number,
  ) {}

  static async create(path: string, rate: number): Promise<WavWriter> {
    const fh = await fs.open(path, 'w');
    const w = new WavWriter(fh, path, rate);
    await fh.write(w.header(0), 0, 44, 0);
    return w;
  }

  private header(frames: number): Buffer {
    const h = Buffer.alloc(44);
    const bytes = frames * 4;
    h.write('RIFF', 0, 'ascii');
    h.writeUInt32LE(36 + bytes, 4);
    h.write('WAVE', 8, 'ascii');
    h.write('fmt ', 12, 'ascii');
    h.writeUInt32LE(16, 16);
    h.writeUInt16LE(3, 20); // IEEE float
    h.writeUInt16LE(1, 22);
    h.writeUInt32LE(this.rate, 24);
    h.writeUInt32LE(this.rate * 4, 28);
    h.writeUInt16LE(4, 32);
    h.writeUInt16LE(32, 34);
    h.write('data', 36, 'ascii');
    h.writeUInt32LE(bytes, 40);
    return h;
  }

  /** Appends samples (copied now, written in order). */
  append(x: Float32Array): void {
    if (x.length === 0) return;
    const b = Buffer.from(Float32Array.from(x).buffer);
    const pos = 44 + this.written * 4;
    this.written += x.length;
    this.chain = this.chain.then(() => this.fh.write(b, 0, b.length, pos));
  }

  get frames(): number {
    return this.written;
  }

  get seconds(): number {
    return this.written / this.rate;
  }

  async flush(): Promise<void> {
    await this.chain;
  }

  async close(): Promise<void> {
    await this.chain;
    await this.fh.write(this.header(this.written), 0, 44, 0);
    await this.fh.close();
  }
}
