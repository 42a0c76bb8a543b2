// Shared-memory rings between the threads of a live session. ringbuf.js gives a wait-free SPSC ring over a
// SharedArrayBuffer; it has no way to sleep until data arrives, so the consumer waits on an Int32 signal
// slot (Atomics.waitAsync) that the producer bumps and notifies after each push.
import { RingBuffer } from 'ringbuf.js';
import { CTRL, CTRL_SLOTS, INPUT_RING_SEC, OUTPUT_RING_SEC, RECORD_RING_SEC, STATS_SLOTS, type SharedBuffers } from '../protocol/rings.js';

export function createSharedBuffers(inputRate: number, outputRate: number, maxBlockFrames: number): SharedBuffers {
  const storage = (frames: number) => RingBuffer.getStorageForCapacity(Math.ceil(frames), Float32Array);
  return {
    inputRing: storage(inputRate * INPUT_RING_SEC + maxBlockFrames),
    outputRing: storage(outputRate * OUTPUT_RING_SEC + maxBlockFrames),
    recordIn: storage(inputRate * RECORD_RING_SEC),
    recordOut: storage(outputRate * RECORD_RING_SEC),
    ctrl: new SharedArrayBuffer(CTRL_SLOTS * 4),
    stats: new SharedArrayBuffer(STATS_SLOTS * 8),
  };
}

/** A Float32 SPSC ring (one producer thread, one consumer thread). */
export class AudioRing {
  private readonly rb: RingBuffer;
  private readonly scratch = new Float32Array(1024);

  constructor(sab: SharedArrayBuffer) {
    this.rb = new RingBuffer(sab, Float32Array);
  }

  get capacity(): number {
    return this.rb.capacity();
  }
  /** Producer: writes what fits, returns how many were written (never waits). */
  push(x: Float32Array, length = x.length, offset = 0): number {
    return length > 0 ? this.rb.push(x, length, offset) : 0;
  }
  /** Consumer: reads up to `length`, returns how many were read. */
  pop(out: Float32Array, length = out.length, offset = 0): number {
    return length > 0 ? this.rb.pop(out, length, offset) : 0;
  }
  availableRead(): number {
    return this.rb.availableRead();
  }
  availableWrite(): number {
    return this.rb.availableWrite();
  }
  /** Consumer: throws away the oldest `n` frames (or all there are); returns how many. */
  discard(n = Infinity): number {
    let done = 0;
    while (done < n) {
      const got = this.rb.pop(this.scratch, Math.min(this.scratch.length, n - done));
      if (got === 0) break;
      done += got;
    }
    return done;
  }
}

/** Atomics.waitAsync is in Node 20 but not in the ES2022 library types this project compiles against. */
interface AtomicsWaitAsync {
  waitAsync(a: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: Promise<string> | string };
}

/** Views over the control block, the same in every thread. */
export class Control {
  readonly ctrl: Int32Array;
  readonly stats: Float64Array;
  constructor(b: Pick<SharedBuffers, 'ctrl' | 'stats'>) {
    this.ctrl = new Int32Array(b.ctrl);
    this.stats = new Float64Array(b.stats);
  }
  get(slot: number): number {
    return Atomics.load(this.ctrl, slot);
  }
  set(slot: number, v: number): void {
    Atomics.store(this.ctrl, slot, v);
  }
  add(slot: number, v: number): void {
    Atomics.add(this.ctrl, slot, v);
  }
  /** Producer side of the input signal: never waits, wakes a sleeping consumer. */
  signalInput(): void {
    Atomics.add(this.ctrl, CTRL.INPUT_SIGNAL, 1);
    Atomics.notify(this.ctrl, CTRL.INPUT_SIGNAL);
  }
  /**
   * Consumer side: resolves when the input signal moves past `seen` or after `timeoutMs`. Asynchronous, so
   * the inference worker's event loop stays free for settings messages while it waits.
   */
  async waitInput(seen: number, timeoutMs: number): Promise<void> {
    const r = (Atomics as unknown as AtomicsWaitAsync).waitAsync(this.ctrl, CTRL.INPUT_SIGNAL, seen, timeoutMs);
    if (r.async) await r.value;
  }
}

/** Wall-clock milliseconds comparable across threads (performance.now() has a per-thread origin). */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}
