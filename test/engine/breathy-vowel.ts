// Test signals shared by the YIN voicing tests: a voiced sound with quiet edges and noise around it; noise alone.

/** A 150 Hz vowel-like tone (five harmonics) under breath noise, whose level ramps in and out over 80 ms. */
export function breathyVowel(): Float32Array {
  const n = 16000;
  const x = new Float32Array(n);
  let seed = 3;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    const t = i / 16000;
    const env = Math.min(1, Math.max(0, (t - 0.2) / 0.08), Math.max(0, (0.8 - t) / 0.08));
    let v = 0;
    for (let h = 1; h <= 5; h++) v += Math.sin(2 * Math.PI * 150 * h * t) / h;
    x[i] = 0.3 * env * v + 0.01 * (seed / 2 ** 32 - 0.5);
  }
  return x;
}

/** White noise at four levels, from near-silence to almost full scale (2 s each at 16 kHz, one seeded stream). */
export function noiseLevels(): { amp: number; x: Float32Array }[] {
  let seed = 11;
  return [0.001, 0.03, 0.3, 0.9].map((amp) => {
    const x = new Float32Array(32000);
    for (let i = 0; i < x.length; i++) {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      x[i] = amp * (seed / 2 ** 32 - 0.5);
    }
    return { amp, x };
  });
}
