// A mono 32-bit float WAV written as the samples arrive, into a temporary file beside the output that is
// renamed into place only when every promised sample has been written: a conversion that fails or is stopped
// half-way leaves nothing behind. The frame count is known before the first sample (the input's length), so
// the header is written once, up front, and never patched.
//
// Samples are gathered in one staging buffer allocated at open and written in large pieces, so writing a
// block allocates nothing and the file sees few, big writes.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AudioFileError } from './audio-error.js';
import { floatWavData, floatWavHeader } from './wav.js';

/** Samples gathered before a write: 64 Ki float32 is 256 KB. */
const STAGING_SAMPLES = 65536;

export class FloatWavFile {
  private readonly staging = new Float32Array(STAGING_SAMPLES);
  private staged = 0;
  private written = 0;

  private constructor(
    private readonly fh: fs.FileHandle,
    readonly file: string,
    private readonly tmp: string,
    readonly frames: number,
  ) {}

  /** Opens the temporary file and writes the header for exactly `frames` samples. */
  static async create(file: string, frames: number, sampleRate: number): Promise<FloatWavFile> {
    const header = floatWavHeader(frames, sampleRate); // refuses more than a WAV can hold before anything is created
    const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.partial`);
    let fh: fs.FileHandle | null = null;
    try {
      fh = await fs.open(tmp, 'w');
      await fh.writeFile(header);
      return new FloatWavFile(fh, file, tmp, frames);
    } catch (e) {
      await fh?.close();
      await fs.rm(tmp, { force: true });
      throw writeError(file, e);
    }
  }

  /** Appends x[from, to). */
  async write(x: Float32Array, from = 0, to = x.length): Promise<void> {
    if (this.written + this.staged + (to - from) > this.frames) throw new RangeError(`${this.file}: more samples than the ${this.frames} the header promises`);
    while (from < to) {
      const n = Math.min(to - from, STAGING_SAMPLES - this.staged);
      for (let i = 0; i < n; i++) this.staging[this.staged + i] = x[from + i]!;
      this.staged += n;
      from += n;
      if (this.staged === STAGING_SAMPLES) await this.flush();
    }
  }

  private async flush(): Promise<void> {
    if (this.staged === 0) return;
    try {
      // writeFile, unlike write, loops until every byte is out; on a handle it appends at the file position.
      await this.fh.writeFile(floatWavData(this.staged === STAGING_SAMPLES ? this.staging : this.staging.subarray(0, this.staged)));
    } catch (e) {
      throw writeError(this.file, e);
    }
    this.written += this.staged;
    this.staged = 0;
  }

  /** Writes what is staged and renames the file into place; it must hold exactly the promised samples. */
  async commit(): Promise<void> {
    await this.flush();
    if (this.written !== this.frames) throw new RangeError(`${this.file}: ${this.written} samples written, the header promises ${this.frames}`);
    try {
      await this.fh.close();
      await fs.rename(this.tmp, this.file);
    } catch (e) {
      await fs.rm(this.tmp, { force: true });
      throw writeError(this.file, e);
    }
  }

  /** Closes and deletes the temporary file; safe to call after a failed write or commit. */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => {});
    await fs.rm(this.tmp, { force: true });
  }
}

function writeError(file: string, e: unknown): Error {
  if (e instanceof AudioFileError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  return new AudioFileError(`${file}: cannot write the output (${code ?? (e as Error).message})`);
}
