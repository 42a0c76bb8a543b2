// Continuity voicing for YIN: a frame whose CMND does not reach the strict threshold on its own is still
// voiced when it has a dip below a looser threshold within `toleranceCents` of a voiced neighbour's period.
// This is the idea behind pYIN's HMM (a voiced track prefers to stay voiced and near its pitch), kept
// local so that it streams: voicing spreads at most `continuityFrames` frames from a frame that is voiced
// on its own, so a frame's result depends only on the frames that many either side of it, whichever block
// it falls in. Measured on the 20 shared speech clips, the frames YIN missed against CREPE sat mostly one
// or two frames from a voiced frame (the edges of voiced sounds), with a dip near the neighbour's period
// that a single loose threshold would also have found, along with octave errors and noise elsewhere.
// On those clips (bench/f0-accuracy.ts) YIN, with its own threshold at 0.4, now voices 95.2 % of CREPE's
// voiced frames (83.8 % at 0.3 without continuity) and agrees within 50 cents on 91.2 % of them (94.6 %);
// it also voices 21.7 % of the frames neither network voices (7.8 %), mostly beside voiced sounds.
// 5 frames or a 0.8 threshold add under a point of recall and several of extra voicing.
// Noise cannot start a voiced run (it needs a frame under the strict threshold) and white noise's CMND
// hardly dips below 0.8, so the looser threshold does not voice it.
import { refineDip } from './dip.js';

/**
 * Frames voicing may spread from a frame voiced on its own (each costs 10 ms of f0 look-ahead). Off (0) by
 * default for now: the frames it adds are where SwiftF0 and YIN disagree most on pitch, and with it the
 * SwiftF0–YIN agreement on LibriSpeech falls to 87–89 %, under the 90 % the agreement test requires.
 * EDGE_VOICING is the measured setting that reaches 95 % of CREPE's voiced frames.
 */
export const CONTINUITY_FRAMES = 0;
/** Strict threshold 0.4 with 3 frames of continuity: the setting measured below. */
export const EDGE_VOICING = { threshold: 0.4, continuityFrames: 3 } as const;
/** CMND a continued frame's dip must reach. */
export const CONTINUITY_THRESHOLD = 0.7;
/** How far (cents) a continued frame's period may lie from its voiced neighbour's. */
export const CONTINUITY_CENTS = 100;

export interface ContinuityOptions {
  /** 0 turns continuity off: each frame is judged alone, as plain YIN does. */
  continuityFrames?: number;
  continuityThreshold?: number;
  continuityCents?: number;
}

/** What continuity needs from the estimator: the lag range and the refinement of a dip. */
export interface DipSource {
  readonly tauMin: number;
  readonly tauMax: number;
  readonly rowLength: number;
}

/**
 * Voices frames by continuity. `cmnd` holds one CMND row per frame (rowLength each); `period` holds each
 * frame's own period in samples (0 = unvoiced) and receives the result; `silent` frames stay unvoiced;
 * `scratch` is a buffer of at least `rows`. Allocation-free.
 */
export function continuityVoicing(
  y: DipSource,
  cmnd: Float32Array,
  silent: Uint8Array,
  period: Float64Array,
  scratch: Float64Array,
  rows: number,
  o: ContinuityOptions = {},
): void {
  const steps = o.continuityFrames ?? CONTINUITY_FRAMES;
  const threshold = o.continuityThreshold ?? CONTINUITY_THRESHOLD;
  const ratio = Math.pow(2, (o.continuityCents ?? CONTINUITY_CENTS) / 1200);
  const len = y.rowLength;
  // Each step spreads voicing by one frame from the previous step's state (all frames at once, never
  // within a step), so after `steps` steps a frame has heard only from frames `steps` away.
  let cur = period;
  let next = scratch;
  for (let s = 0; s < steps; s++) {
    let changed = false;
    for (let r = 0; r < rows; r++) {
      next[r] = cur[r]!;
      if (cur[r]! > 0 || silent[r]) continue;
      let best = 0;
      let bestDepth = threshold;
      for (let n = r - 1; n <= r + 1; n += 2) {
        if (n < 0 || n >= rows || !(cur[n]! > 0)) continue;
        const dip = dipNear(cmnd, r * len, y, cur[n]!, ratio);
        if (dip > 0 && cmnd[r * len + Math.round(dip)]! < bestDepth) {
          bestDepth = cmnd[r * len + Math.round(dip)]!;
          best = dip;
        }
      }
      if (best > 0) {
        next[r] = best;
        changed = true;
      }
    }
    const t = cur;
    cur = next;
    next = t;
    if (!changed) break;
  }
  if (cur !== period) period.set(cur.subarray(0, rows));
}

/** The deepest local minimum of a CMND row within a factor `ratio` of lag `tau`, refined; 0 if none. */
function dipNear(cmnd: Float32Array, base: number, y: DipSource, tau: number, ratio: number): number {
  const lo = Math.max(y.tauMin, Math.ceil(tau / ratio));
  const hi = Math.min(y.tauMax, Math.floor(tau * ratio));
  let best = -1;
  for (let t = lo; t <= hi; t++) {
    const v = cmnd[base + t]!;
    if (v <= cmnd[base + t - 1]! && v <= cmnd[base + t + 1]! && (best < 0 || v < cmnd[base + best]!)) best = t;
  }
  return best < 0 ? 0 : refineDip(cmnd, base, best);
}
