// Raised-cosine fades in place: the one shape every gap, skip, voice switch and recording pad uses, so a seam
// made anywhere in the live path sounds the same and never clicks. Sample i of a k-sample fade is weighted
// sin²(π/2 · (i+1)/k) in and cos² of the same out (they sum to 1, so a fade-out plus a fade-in is a crossfade).
// Allocation-free: safe on the audio worker's per-buffer path.

/** Fades x[0..k) in. */
export function fadeIn(x: Float32Array, k: number): void {
  for (let i = 0; i < k; i++) {
    const s = Math.sin((0.5 * Math.PI * (i + 1)) / k);
    x[i] = x[i]! * s * s;
  }
}

/** Fades x[0..k) out. */
export function fadeOut(x: Float32Array, k: number): void {
  for (let i = 0; i < k; i++) {
    const c = Math.cos((0.5 * Math.PI * (i + 1)) / k);
    x[i] = x[i]! * c * c;
  }
}

/** Cross-fades from `from` to `to` over their first k samples, into `to`. */
export function crossfadeInto(from: Float32Array, to: Float32Array, k: number): void {
  for (let i = 0; i < k; i++) {
    const s = Math.sin((0.5 * Math.PI * (i + 1)) / k);
    const w = s * s;
    to[i] = (1 - w) * from[i]! + w * to[i]!;
  }
}
