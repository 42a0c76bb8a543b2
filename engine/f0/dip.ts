// The bottom of a dip in a YIN CMND row, shared by YIN's own pick and its continuity voicing.

/** Parabolic interpolation of the dip at integer lag t of d[base …]: the fractional lag of its bottom. */
export function refineDip(d: Float32Array, base: number, t: number): number {
  const a = d[base + t - 1]!;
  const b = d[base + t]!;
  const c = d[base + t + 1]!;
  const den = a - 2 * b + c;
  const shift = den > 0 ? (0.5 * (a - c)) / den : 0;
  return t + Math.max(-0.5, Math.min(0.5, shift));
}
