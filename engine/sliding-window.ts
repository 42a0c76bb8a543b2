// A fixed-capacity window over the newest samples of a stream, oldest first, so voices can read it as one
// contiguous array. Shifting with copyWithin keeps it allocation-free per block.

export class SlidingWindow {
  readonly data: Float32Array;
  /** Absolute index (in this stream's samples) of data[0]; negative while the start is zero padding. */
  startIndex: number;

  constructor(readonly capacity: number, initialEnd = 0) {
    this.data = new Float32Array(capacity);
    this.startIndex = initialEnd - capacity;
  }

  /** Absolute index one past the newest sample. */
  get endIndex(): number {
    return this.startIndex + this.capacity;
  }

  push(src: Float32Array, n = src.length): void {
    const d = this.data;
    if (n >= this.capacity) {
      d.set(src.subarray(n - this.capacity, n));
    } else {
      d.copyWithin(0, n);
      // An element loop, not set(subarray): the streaming path pushes every quantum, and a view per push
      // was garbage per quantum.
      const at = this.capacity - n;
      if (n === src.length) d.set(src, at);
      else for (let i = 0; i < n; i++) d[at + i] = src[i]!;
    }
    this.startIndex += n;
  }

  /** A window of another capacity holding the same newest samples (used on a settings change). */
  resized(capacity: number): SlidingWindow {
    const w = new SlidingWindow(capacity, this.endIndex);
    const keep = Math.min(capacity, this.capacity);
    w.data.set(this.data.subarray(this.capacity - keep), capacity - keep);
    return w;
  }
}
