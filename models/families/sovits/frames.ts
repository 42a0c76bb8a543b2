// The frame arithmetic of so-vits-svc inference (SOVITS-NOTES §2), as pure functions over typed arrays so
// each is checked on its own: content frames mapped onto model frames (mel2ph), unvoiced f0 filled in by
// linear interpolation with a separate uv flag, per-hop loudness, and the flow's noise. None allocates.

/**
 * mel2ph for T model frames over T_src content frames covering the same audio: frame i takes source
 * floor(i·T_src/T), written 1-based because the graph pads c with one zero row in front.
 */
export function fillMel2ph(mel2ph: BigInt64Array, T: number, tSrc: number): void {
  for (let i = 0; i < T; i++) mel2ph[i] = BigInt(Math.min(tSrc - 1, Math.floor((i * tSrc) / T)) + 1);
}

/**
 * f0 (Hz, 0 = unvoiced) of T frames in place: uv[i] = 1 where voiced; unvoiced runs between voiced frames
 * take the straight line between their neighbours, leading and trailing runs hold the nearest voiced value
 * (so-vits-svc's interpolate_f0). All unvoiced: f0 stays 0.
 */
export function interpolateF0(f0: Float32Array, uv: Float32Array, T: number): void {
  let last = -1;
  for (let i = 0; i < T; i++) {
    const voiced = f0[i]! > 0;
    uv[i] = voiced ? 1 : 0;
    if (!voiced) continue;
    if (last < 0) {
      for (let k = 0; k < i; k++) f0[k] = f0[i]!;
    } else if (i - last > 1) {
      const a = f0[last]!;
      const b = f0[i]!;
      for (let k = last + 1; k < i; k++) f0[k] = a + ((b - a) * (k - last)) / (i - last);
    }
    last = i;
  }
  if (last >= 0) for (let k = last + 1; k < T; k++) f0[k] = f0[last]!;
}

/**
 * RMS of each of T frames of `frameLen` samples (fractional) of x, the first starting at `start`; windows are
 * centred on their frame as so-vits-svc's Volume_Extractor does, and samples outside x count as silence.
 */
export function frameRms(x: Float32Array, start: number, frameLen: number, T: number, out: Float32Array): void {
  for (let i = 0; i < T; i++) {
    const c = start + (i + 0.5) * frameLen;
    const a = Math.round(c - frameLen / 2);
    const b = Math.round(c + frameLen / 2);
    let s = 0;
    for (let k = Math.max(0, a); k < Math.min(x.length, b); k++) s += x[k]! * x[k]!;
    out[i] = Math.sqrt(s / Math.max(1, b - a));
  }
}

/** N(0,1)·scale noise (Box–Muller over xorshift32) into d[0..n): no allocation; returns the next state. */
export function fillNormal(d: Float32Array, n: number, scale: number, seed: number): number {
  let s = seed | 0 || 1;
  for (let i = 0; i < n; i += 2) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    const u1 = ((s >>> 0) + 1) / 4294967297;
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    const u2 = (s >>> 0) / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1)) * scale;
    d[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) d[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return s;
}
