// Input noise suppression with RNNoise (Xiph's recurrent-network denoiser) compiled to WebAssembly by
// Jitsi (@jitsi/rnnoise-wasm, used by Jitsi Meet). Its synchronous build loads in plain Node inside a
// worker thread; @shiguredo/rnnoise-wasm refuses to run outside a browser. RNNoise works on 10 ms frames
// of 480 samples at 48 kHz on a 16-bit scale: other stream rates are resampled to 48 kHz and back, and the
// FIFOs between block and frame sizes are allocated once.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { StreamResampler } from '../../engine/resampler.js';
import { Fifo } from '../../native-audio/fifo.js';

interface RnnoiseModule {
  _rnnoise_create(model: number): number;
  _rnnoise_destroy(st: number): void;
  _rnnoise_process_frame(st: number, out: number, inp: number): number;
  _malloc(n: number): number;
  _free(p: number): void;
  HEAPF32: Float32Array;
}

const FRAME = 480;
const RATE = 48000;

async function loadModule(): Promise<RnnoiseModule> {
  // The package has no "exports" map and ships ES-module syntax in .js files; Node loads it by path.
  const path = createRequire(import.meta.url).resolve('@jitsi/rnnoise-wasm/dist/rnnoise-sync.js');
  const mod = (await import(pathToFileURL(path).href)) as { default: () => Promise<RnnoiseModule> };
  return mod.default();
}

export class NoiseSuppressor {
  /** Delay the suppressor adds, seconds (RNNoise's frame plus the rate-conversion queue). */
  readonly delaySec: number;
  private readonly frame: Float32Array;
  private readonly in48: Fifo;
  private readonly out48: Fifo;
  private readonly outRate: Fifo;
  private readonly buf48: Float32Array;
  private heap: Float32Array;

  private constructor(
    private readonly m: RnnoiseModule,
    private readonly st: number,
    private readonly ptr: number,
    rate: number,
    private readonly up: StreamResampler | null,
    private readonly down: StreamResampler | null,
    maxBlock: number,
  ) {
    this.frame = new Float32Array(FRAME);
    const max48 = Math.ceil((maxBlock * RATE) / rate) + 2 * FRAME + 64;
    this.in48 = new Fifo(max48 + FRAME);
    this.out48 = new Fifo(max48 + FRAME);
    this.outRate = new Fifo(maxBlock * 2 + 4 * FRAME);
    this.buf48 = new Float32Array(max48 + FRAME);
    this.heap = new Float32Array(m.HEAPF32.buffer, ptr, FRAME);
    // Whole frames only: up to one frame waits in the 48 kHz queue, so a frame (plus the converters'
    // delays) of silence is queued ahead of the output once, and the output never runs short.
    const pad = up ? Math.ceil((FRAME * rate) / RATE) + 2 : 0;
    if (pad) this.outRate.push(new Float32Array(pad));
    const convDelay = (up ? up.delay / RATE : 0) + (down ? down.delay / rate : 0);
    this.delaySec = FRAME / RATE + pad / rate + convDelay;
  }

  static async create(rate: number, maxBlock: number): Promise<NoiseSuppressor> {
    const m = await loadModule();
    const st = m._rnnoise_create(0);
    const ptr = m._malloc(FRAME * 4);
    const up = rate === RATE ? null : await StreamResampler.create(rate, RATE, maxBlock);
    const down = rate === RATE ? null : await StreamResampler.create(RATE, rate, Math.ceil((maxBlock * RATE) / rate) + 2 * FRAME);
    return new NoiseSuppressor(m, st, ptr, rate, up, down, maxBlock);
  }

  private runFrame(x: Float32Array, off: number): void {
    if (this.heap.buffer !== this.m.HEAPF32.buffer) this.heap = new Float32Array(this.m.HEAPF32.buffer, this.ptr, FRAME); // heap grew
    const heap = this.heap;
    for (let i = 0; i < FRAME; i++) heap[i] = x[off + i]! * 32768;
    this.m._rnnoise_process_frame(this.st, this.ptr, this.ptr);
    for (let i = 0; i < FRAME; i++) x[off + i] = heap[i]! / 32768;
  }

  /** Denoises a block in place. */
  process(x: Float32Array): void {
    if (!this.up) {
      // 48 kHz: blocks are whole 10 ms frames, so frames are processed in place with no queue.
      for (let off = 0; off + FRAME <= x.length; off += FRAME) this.runFrame(x, off);
      return;
    }
    this.in48.push(this.up.process(x));
    while (this.in48.length >= FRAME) {
      this.in48.pop(this.frame, FRAME);
      this.runFrame(this.frame, 0);
      this.out48.push(this.frame);
    }
    const n48 = this.out48.pop(this.buf48, this.out48.length);
    this.outRate.push(this.down!.process(this.buf48.subarray(0, n48)));
    const got = this.outRate.pop(x, x.length);
    x.fill(0, got);
  }

  destroy(): void {
    this.m._free(this.ptr);
    this.m._rnnoise_destroy(this.st);
    this.up?.destroy();
    this.down?.destroy();
  }
}
