// The pitch grid CREPE and RMVPE were both trained on: 360 bins 20 cents apart, bin i at
// 1997.379 + 20·i cents above 10 Hz (31.7 Hz … 2005.5 Hz). Both networks output one salience per bin and
// frame; RMVPE's reference decode (RVC's rmvpe.py `to_local_average_cents`) reads it as implemented here,
// and torchcrepe's weighted-argmax decode is the same local average, so one decoder serves both.

export const SALIENCE_BINS = 360;
export const CENTS_PER_BIN = 20;
/** Cents (above 10 Hz) of bin 0, as CREPE and RMVPE define it. */
export const BIN0_CENTS = 1997.3794084376191;
/** RVC's default RMVPE voicing threshold on the peak salience. */
export const RMVPE_THRESHOLD = 0.03;
/** The decode averages the argmax bin and 4 bins either side (9 bins, ±80 cents). */
const HALF_WINDOW = 4;

export function binToHz(bin: number): number {
  return 10 * Math.pow(2, (BIN0_CENTS + CENTS_PER_BIN * bin) / 1200);
}

/** Fractional bin of a frequency (inverse of binToHz). */
export function hzToBin(hz: number): number {
  return (1200 * Math.log2(hz / 10) - BIN0_CENTS) / CENTS_PER_BIN;
}

export interface SalienceDecode {
  /** Frames whose peak salience is at or below this are unvoiced (0 Hz). */
  threshold: number;
  /** Bins searched for the peak (inclusive); CREPE limits them to the product's f0 range, RMVPE searches all. */
  minBin?: number;
  maxBin?: number;
}

/**
 * Decodes `frames` rows of salience (row-major, 360 per row, starting at `offset`) into f0 Hz (0 = unvoiced):
 * weighted mean of the 9 bins around the peak, in cents. The peak value itself (CREPE's "periodicity") goes
 * to `peak` when given. Allocation-free.
 */
export function decodeSalience(
  salience: Float32Array,
  offset: number,
  frames: number,
  out: Float32Array,
  o: SalienceDecode,
  peak?: Float32Array,
  outOffset = 0,
): void {
  const lo = Math.max(0, o.minBin ?? 0);
  const hi = Math.min(SALIENCE_BINS - 1, o.maxBin ?? SALIENCE_BINS - 1);
  for (let f = 0; f < frames; f++) {
    const row = offset + f * SALIENCE_BINS;
    let best = lo;
    for (let i = lo + 1; i <= hi; i++) if (salience[row + i]! > salience[row + best]!) best = i;
    const max = salience[row + best]!;
    if (peak) peak[outOffset + f] = max;
    // The window is clipped at the grid's ends, as RVC's zero padding of the salience does in effect.
    let weight = 0;
    let cents = 0;
    const a = Math.max(0, best - HALF_WINDOW);
    const b = Math.min(SALIENCE_BINS - 1, best + HALF_WINDOW);
    for (let i = a; i <= b; i++) {
      const s = salience[row + i]!;
      weight += s;
      cents += s * (BIN0_CENTS + CENTS_PER_BIN * i);
    }
    out[outOffset + f] = max > o.threshold && weight > 0 ? 10 * Math.pow(2, cents / weight / 1200) : 0;
  }
}
