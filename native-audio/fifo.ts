// A plain single-thread FIFO of samples, allocated once: the audio worker's private queues (the dry
// input for passthrough, the monitor feed), which never cross threads and so need no atomics.
export class Fifo {
  private readonly buf: Float32Array;
  private read = 0;
  private count = 0;

  constructor(capacity: number) {
    this.buf = new Float32Array(capacity);
  }
  get length(): number {
    return this.count;
  }
  get capacity(): number {
    return this.buf.length;
  }
  /** Appends; when full, the oldest samples make room (a live queue prefers fresh audio). */
  push(x: Float32Array, n = x.length): void {
    const cap = this.buf.length;
    let src = 0;
    if (n > cap) {
      src = n - cap;
      n = cap;
    }
    const over = this.count + n - cap;
    if (over > 0) this.drop(over);
    let w = (this.read + this.count) % cap;
    for (let i = 0; i < n; i++) {
      this.buf[w] = x[src + i]!;
      if (++w === cap) w = 0;
    }
    this.count += n;
  }
  /** Takes up to n samples into out[offset…]; returns how many. */
  pop(out: Float32Array, n: number, offset = 0): number {
    const m = Math.min(n, this.count);
    const cap = this.buf.length;
    let r = this.read;
    for (let i = 0; i < m; i++) {
      out[offset + i] = this.buf[r]!;
      if (++r === cap) r = 0;
    }
    this.read = r;
    this.count -= m;
    return m;
  }
  drop(n: number): void {
    const m = Math.min(n, this.count);
    this.read = (this.read + m) % this.buf.length;
    this.count -= m;
  }
  clear(): void {
    this.read = 0;
    this.count = 0;
  }
}
