// A WAV file written as it is recorded (32-bit float mono): the header's sizes are patched on close, so a
// long session never sits in memory. Writes go through one file handle, in order, off the audio path.
import { promises as fs } from 'node:fs';
import { FLOAT_WAV_HEADER_BYTES, floatWavHeader } from '../audio/wav.js';

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
    await fh.write(floatWavHeader(0, rate), 0, FLOAT_WAV_HEADER_BYTES, 0);
    return w;
  }

  /** Appends samples (copied now, written in order). */
  append(x: Float32Array): void {
    if (x.length === 0) return;
    const b = Buffer.from(Float32Array.from(x).buffer);
    const pos = FLOAT_WAV_HEADER_BYTES + this.written * 4;
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
    await this.fh.write(floatWavHeader(this.written, this.rate), 0, FLOAT_WAV_HEADER_BYTES, 0);
    await this.fh.close();
  }
}
