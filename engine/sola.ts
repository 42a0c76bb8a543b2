// SOLA crossfade (FIELD-NOTES §3): each block's voice output overlaps the previous one; we pick the lag
// in the search window that best matches the stored tail, then crossfade with complementary sin² curves.
// All buffers are sized at construction so the per-block path allocates nothing.

export class Sola {
  private readonly tail: Float32Array;
  private readonly fadeIn: Float32Array;
  private hasTail = false;
  /** Lag chosen for the last block, in samples (telemetry and tests). */
  lastLag = 0;

  /**
   * @param crossfade S: samples faded from the old tail into the new output
   * @param search W: largest lag tried
   */
  constructor(
    readonly crossfade: number,
    readonly search: number,
  ) {
    this.tail = new Float32Array(crossfade);
    this.fadeIn = new Float32Array(crossfade);
    for (let i = 0; i < crossfade; i++) {
      const s = Math.sin((0.5 * Math.PI * (i + 0.5)) / crossfade);
      this.fadeIn[i] = s * s;
    }
  }

  /** Region length a block of `n` new samples needs. */
  regionLength(n: number): number {
    return n + this.crossfade + this.search;
  }

  /**
   * @param region voice output ending at the newest input, at least regionLength(n) samples
   * @param n samples to emit
   * @param out receives n samples
   */
  process(region: Float32Array, n: number, out: Float32Array): void {
    const S = this.crossfade;
    let k = 0;
    if (this.hasTail && this.search > 0) k = this.bestLag(region);
    this.lastLag = k;
    for (let i = 0; i < n; i++) out[i] = region[k + i]!;
    if (this.hasTail) {
      const m = Math.min(S, n);
      for (let i = 0; i < m; i++) {
        const fi = this.fadeIn[i]!;
        out[i] = this.tail[i]! * (1 - fi) + region[k + i]! * fi;
      }
    }
    this.tail.set(region.subarray(k + n, k + n + S));
    this.hasTail = true;
  }

  private bestLag(region: Float32Array): number {
    const S = this.crossfade;
    const tail = this.tail;
    let energy = 0;
    for (let i = 0; i < S; i++) energy += region[i]! * region[i]!;
    let best = 0;
    let bestScore = -Infinity;
    for (let k = 0; k <= this.search; k++) {
      if (k > 0) {
        const out = region[k - 1]!;
        const inn = region[k + S - 1]!;
        energy += inn * inn - out * out;
      }
      let dot = 0;
      for (let i = 0; i < S; i++) dot += region[k + i]! * tail[i]!;
      const score = dot / Math.sqrt(Math.max(energy, 0) + 1e-8);
      if (score > bestScore + 1e-9) {
        bestScore = score;
        best = k;
      }
    }
    return best;
  }

  reset(): void {
    this.hasTail = false;
    this.tail.fill(0);
    this.lastLag = 0;
  }
}
