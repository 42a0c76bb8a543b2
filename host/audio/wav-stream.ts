// A WAV file read as a stream of mono frames, one chunk at a time, so converting an hour of audio holds a
// chunk of it in memory instead of the whole file. The chunk's bytes, its decoded channels and their mono mix
// live in buffers allocated once; reading a chunk allocates nothing.
//
// The mix-down is the same arithmetic as toMono() (host/audio-file.ts) applied to one chunk, so a file read
// this way gives bit-for-bit the samples a whole-file read gives.
import { readRangeInto, type OpenedFile } from '../../models/regular-file.js';
import { AudioFileError } from './audio-error.js';
import { decodeFramesInto, type WavLayout } from './wav.js';

/** Frames decoded per file read: 64 Ki frames is 1.5 s at 44.1 kHz, about 400 KB of 24-bit stereo. */
export const WAV_CHUNK_FRAMES = 65536;

const fileError = (message: string) => new AudioFileError(message);

export class WavStream {
  readonly frames: number;
  private readonly bytes: Uint8Array;
  private readonly decoded: Float32Array[];
  /** The chunk's mono frames: the one channel itself for a mono file, their average otherwise. */
  private readonly mono: Float32Array;
  /** Frames read from the file so far, and the part of the current chunk not yet handed out. */
  private fileFrames = 0;
  private chunkPos = 0;
  private chunkLen = 0;

  constructor(
    private readonly file: OpenedFile,
    private readonly name: string,
    private readonly layout: WavLayout,
    chunkFrames = WAV_CHUNK_FRAMES,
  ) {
    this.frames = layout.dataBytes / layout.blockAlign;
    const n = Math.max(1, Math.min(chunkFrames, this.frames));
    this.bytes = Buffer.allocUnsafe(n * layout.blockAlign);
    this.decoded = Array.from({ length: layout.channels }, () => new Float32Array(n));
    this.mono = layout.channels === 1 ? this.decoded[0]! : new Float32Array(n);
  }

  /** Fills `dest` from its start with the next frames; fewer than its length only at the end of the data. */
  async read(dest: Float32Array): Promise<number> {
    let filled = 0;
    while (filled < dest.length) {
      if (this.chunkPos === this.chunkLen && !(await this.nextChunk())) break;
      const n = Math.min(dest.length - filled, this.chunkLen - this.chunkPos);
      for (let i = 0; i < n; i++) dest[filled + i] = this.mono[this.chunkPos + i]!;
      filled += n;
      this.chunkPos += n;
    }
    return filled;
  }

  private async nextChunk(): Promise<boolean> {
    const l = this.layout;
    const n = Math.min(this.mono.length, this.frames - this.fileFrames);
    if (n === 0) return false;
    // The file stays open for the whole conversion: one that shrinks meanwhile is an error, not a short output.
    await readRangeInto(this.file, this.bytes, l.dataOffset + this.fileFrames * l.blockAlign, n * l.blockAlign, this.name, fileError);
    decodeFramesInto(this.bytes, n, l, this.decoded);
    if (l.encoding === 'float') this.checkFinite(n);
    if (l.channels > 1) mixDown(this.decoded, n, this.mono);
    this.fileFrames += n;
    this.chunkPos = 0;
    this.chunkLen = n;
    return true;
  }

  /** Only float encodings can hold NaN or infinity; the engine must never see them. */
  private checkFinite(n: number): void {
    for (const ch of this.decoded) {
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(ch[i]!)) throw new AudioFileError(`${this.name}: sample ${this.fileFrames + i} is not a finite number (NaN or infinity)`);
      }
    }
  }

  async close(): Promise<void> {
    await this.file.handle.close();
  }
}

/** toMono()'s average over the first n frames, into `out`. */
function mixDown(channels: Float32Array[], n: number, out: Float32Array): void {
  out.fill(0, 0, n);
  const c = channels.length;
  for (const ch of channels) for (let i = 0; i < n; i++) out[i] = out[i]! + ch[i]! / c;
}
