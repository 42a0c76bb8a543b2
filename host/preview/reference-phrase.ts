// The phrase every voice preview is rendered from. It is synthesised here, not recorded: espeak-ng is not
// on every user's machine, and a committed recording would need a licence. Five voiced syllables (a-i-u-e-o)
// with a speech-like pitch contour (a rise, then a falling statement), made by additive synthesis: each
// harmonic of the glottal source weighted by a -12 dB/octave source tilt and three formant resonances that
// glide from vowel to vowel. Deterministic (no noise, no randomness), so a preview's cache key never needs the
// phrase's bytes, only its version.

/** Bump when the phrase changes: it is part of every preview's cache key. */
export const REFERENCE_PHRASE_VERSION = 1;
export const REFERENCE_RATE = 48000;

/** Formant frequencies and bandwidths (Hz) of adult male vowels (Peterson & Barney, rounded). */
const VOWELS: readonly { f: readonly [number, number, number]; b: readonly [number, number, number] }[] = [
  { f: [730, 1090, 2440], b: [90, 110, 160] }, // a
  { f: [270, 2290, 3010], b: [60, 100, 170] }, // i
  { f: [300, 870, 2240], b: [60, 90, 150] }, // u
  { f: [530, 1840, 2480], b: [70, 100, 160] }, // e
  { f: [570, 840, 2410], b: [80, 90, 150] }, // o
];

const SYLLABLE_S = 0.36;
const GAP_S = 0.08;
const LEAD_S = 0.1;
/** Harmonics stop here: enough for vowel colour, and the sum stays cheap (about 40 ms for the phrase). */
const TOP_HZ = 5000;

/** f0 (Hz) at time t in the voiced span [0, span]: a rise to the second syllable, then a statement fall. */
function f0At(t: number, span: number): number {
  const u = t / span;
  const base = u < 0.3 ? 125 + (u / 0.3) * 45 : 170 - ((u - 0.3) / 0.7) * 65;
  return base * (1 + 0.01 * Math.sin(2 * Math.PI * 5.5 * t)); // a little vibrato, as a held vowel has
}

/** Magnitude of a second-order resonance at `f` with centre `F` and bandwidth `B`, 1 at 0 Hz. */
function resonance(f: number, F: number, B: number): number {
  const r = f / F;
  return 1 / Math.sqrt((1 - r * r) ** 2 + ((f * B) / (F * F)) ** 2);
}

let cached: Float32Array | null = null;

/** The phrase at REFERENCE_RATE, mono, peak at -6 dBFS; built once, then the same array (do not modify it). */
export function referencePhrase(): Float32Array {
  if (cached) return cached;
  const sr = REFERENCE_RATE;
  const n = VOWELS.length;
  const span = n * SYLLABLE_S + (n - 1) * GAP_S;
  const total = Math.round((LEAD_S * 2 + span) * sr);
  const out = new Float32Array(total);
  const maxK = Math.floor(TOP_HZ / 90);
  const phase = new Float64Array(maxK + 1);
  const start = Math.round(LEAD_S * sr);
  const voicedLen = Math.round(span * sr);
  for (let i = 0; i < voicedLen; i++) {
    const t = i / sr;
    const slot = SYLLABLE_S + GAP_S;
    const s = Math.min(n - 1, Math.floor(t / slot));
    const within = t - s * slot;
    // Amplitude: 40 ms raised-cosine onset and offset per syllable, silence in the gaps.
    const ramp = 0.04;
    const env = within > SYLLABLE_S ? 0 : Math.min(1, within / ramp, (SYLLABLE_S - within) / ramp);
    const amp = env <= 0 ? 0 : 0.5 - 0.5 * Math.cos(Math.PI * env);
    // Formants glide to the next vowel over the last 30 % of a syllable and through the gap.
    const glide = Math.max(0, Math.min(1, (within - 0.7 * SYLLABLE_S) / (0.3 * SYLLABLE_S + GAP_S)));
    const a = VOWELS[s]!;
    const b = VOWELS[Math.min(n - 1, s + 1)]!;
    const f0 = f0At(t, span);
    let x = 0;
    for (let k = 1; k <= maxK; k++) {
      phase[k] = (phase[k]! + (2 * Math.PI * k * f0) / sr) % (2 * Math.PI);
      const fk = k * f0;
      if (amp === 0 || fk > TOP_HZ) continue;
      let g = 1 / (k * k); // glottal source tilt
      for (let j = 0; j < 3; j++) {
        const F = a.f[j]! + (b.f[j]! - a.f[j]!) * glide;
        const B = a.b[j]! + (b.b[j]! - a.b[j]!) * glide;
        g *= resonance(fk, F, B);
      }
      x += g * Math.sin(phase[k]!);
    }
    out[start + i] = amp * x;
  }
  let peak = 0;
  for (const v of out) peak = Math.max(peak, Math.abs(v));
  const gain = peak > 0 ? 0.5 / peak : 0;
  for (let i = 0; i < total; i++) out[i] = out[i]! * gain;
  cached = out;
  return out;
}
