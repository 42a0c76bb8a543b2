// The f0 track of a whole file, as `resona pitch` prints it: the file mixed to mono and resampled to the
// estimators' 16 kHz, then every 10 ms frame of the grid the live engine uses, estimated by the same
// F0Estimator the engine would run (so what it prints is what a voice would follow).
import type { F0Estimator } from '../engine/f0/estimator.js';
import { F0_FPS, F0_HOP, F0_RATE } from '../engine/f0/estimator.js';
import { YinEstimator } from '../engine/f0/yin.js';
import { StreamResampler } from '../engine/resampler.js';
import { readAudioFile, toMono } from './audio-file.js';
import { createF0 } from './f0.js';

export interface PitchTrackOptions {
  /** yin (default), pyin, swiftf0, crepe, rmvpe, or an .onnx path. */
  f0?: string;
  /** The network file for a method that needs one, instead of the models folder's. */
  model?: string;
  threads?: number;
}

export interface PitchTrack {
  method: string;
  /** Seconds between frames; frame f describes time f × hopSec. */
  hopSec: number;
  /** Hz per frame, 0 where unvoiced. */
  hz: Float32Array;
  /** The estimator's voicing confidence, 0 … 1 (its voicing, 1 or 0, where it reports none). */
  confidence: Float32Array;
  warnings: string[];
}

/** Frames per estimate call: bounds the networks' input buffers on long files. */
const CHUNK_FRAMES = 512;

export async function pitchTrack(file: string, o: PitchTrackOptions = {}): Promise<PitchTrack> {
  const audio = await readAudioFile(file);
  const warnings = [...audio.warnings];
  if (audio.channels.length > 1) warnings.push(`${file}: ${audio.channels.length} channels mixed down to mono`);
  const x = await resampleAligned(toMono(audio.channels), audio.sampleRate);
  const est: F0Estimator = (await createF0(o.f0, { provider: 'cpu', threads: o.threads ?? 1 }, o.model)) ?? new YinEstimator();
  try {
    const { hz, confidence } = await estimateAll(est, x);
    return { method: est.id, hopSec: 1 / F0_FPS, hz, confidence, warnings };
  } finally {
    await est.dispose?.();
  }
}

/** 16 kHz copy of x with the resampler's delay removed, so frame times are the file's own. */
async function resampleAligned(x: Float32Array, rate: number): Promise<Float32Array> {
  if (rate === F0_RATE) return x;
  const r = await StreamResampler.create(rate, F0_RATE, x.length + rate);
  try {
    const padded = new Float32Array(x.length + rate); // a second of silence flushes the filter's delay
    padded.set(x);
    const y = r.process(padded);
    const n = Math.round((x.length * F0_RATE) / rate);
    return Float32Array.from(y.subarray(r.delay, r.delay + n));
  } finally {
    r.destroy();
  }
}

/** Every frame of the 10 ms grid over x (the last at or before its end), silence read beyond its edges. */
async function estimateAll(est: F0Estimator, x: Float32Array): Promise<{ hz: Float32Array; confidence: Float32Array }> {
  const frames = Math.floor(x.length / F0_HOP) + 1;
  const padded = new Float32Array(est.contextBefore + x.length + est.contextAfter + F0_HOP);
  padded.set(x, est.contextBefore);
  const hz = new Float32Array(frames);
  const confidence = new Float32Array(frames).fill(NaN);
  for (let first = 0; first < frames; first += CHUNK_FRAMES) {
    const count = Math.min(CHUNK_FRAMES, frames - first);
    await est.estimate(padded, -est.contextBefore, first, count, hz.subarray(first), confidence.subarray(first));
  }
  for (let f = 0; f < frames; f++) if (Number.isNaN(confidence[f]!)) confidence[f] = hz[f]! > 0 ? 1 : 0;
  return { hz, confidence };
}
