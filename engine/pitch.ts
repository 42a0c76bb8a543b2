// Pitch conversions shared by DSP and neural voices. The coarse-pitch mapping is the one every RVC
// synthesizer was trained with (FIELD-NOTES §2), so it must match to the bin.

export const F0_MIN_HZ = 50;
export const F0_MAX_HZ = 1100;

export function semitonesToRatio(semitones: number): number {
  return Math.pow(2, semitones / 12);
}

export function ratioToCents(ratio: number): number {
  return 1200 * Math.log2(ratio);
}

export function hzToMel(hz: number): number {
  return 1127 * Math.log(1 + hz / 700);
}

const MEL_MIN = hzToMel(F0_MIN_HZ);
const MEL_MAX = hzToMel(F0_MAX_HZ);

/** Coarse pitch 1..255 for RVC synthesizers; unvoiced (f0 <= 0) maps to 1. */
export function coarsePitch(f0Hz: number): number {
  if (!(f0Hz > 0)) return 1;
  const m = ((hzToMel(f0Hz) - MEL_MIN) * 254) / (MEL_MAX - MEL_MIN) + 1;
  return Math.min(255, Math.max(1, Math.round(m)));
}

/** Shifts a voiced f0 track in place; unvoiced frames (0) stay 0. */
export function shiftF0InPlace(f0: Float32Array, semitones: number, length = f0.length): void {
  const r = semitonesToRatio(semitones);
  for (let i = 0; i < length; i++) if (f0[i]! > 0) f0[i] = f0[i]! * r;
}

/** Median of the positive entries, or 0 when there are none. Allocates: analysis use only, not per block. */
export function medianVoiced(f0: ArrayLike<number>): number {
  const v: number[] = [];
  for (let i = 0; i < f0.length; i++) if (f0[i]! > 0) v.push(f0[i]!);
  if (v.length === 0) return 0;
  v.sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}
