// Live-only settings (devices' gains and switches) with their ranges; the engine's own are in settings.ts.
import { SettingError } from './settings.js';

export interface LiveOptionsRanges {
  inputGainDb: { min: number; max: number };
  outputGainDb: { min: number; max: number };
  monitorGainDb: { min: number; max: number };
  deviceBufferFrames: { min: number; max: number };
  sampleRate: { min: number; max: number };
}

export const LIVE_RANGES: LiveOptionsRanges = {
  inputGainDb: { min: -60, max: 24 },
  outputGainDb: { min: -60, max: 24 },
  monitorGainDb: { min: -60, max: 24 },
  deviceBufferFrames: { min: 64, max: 4096 },
  sampleRate: { min: 8000, max: 192000 },
};

const NAMES: Record<keyof LiveOptionsRanges, string> = {
  inputGainDb: 'input gain',
  outputGainDb: 'output gain',
  monitorGainDb: 'monitor gain',
  deviceBufferFrames: 'device buffer',
  sampleRate: 'sample rate',
};
const UNITS: Record<keyof LiveOptionsRanges, string> = {
  inputGainDb: 'dB',
  outputGainDb: 'dB',
  monitorGainDb: 'dB',
  deviceBufferFrames: 'frames',
  sampleRate: 'Hz',
};

/** Checks a live setting; throws a SettingError that says what is allowed. */
export function checkLive(key: keyof LiveOptionsRanges, value: number): number {
  const r = LIVE_RANGES[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new SettingError(key, `${NAMES[key]} must be a number (got ${String(value)})`);
  if (value < r.min || value > r.max) {
    throw new SettingError(key, `${NAMES[key]} ${value} ${UNITS[key]} is out of range: allowed ${r.min} to ${r.max} ${UNITS[key]}`);
  }
  return value;
}

/** The gain floor reads as silence. */
export function dbToGain(db: number): number {
  return db <= LIVE_RANGES.outputGainDb.min ? 0 : Math.pow(10, db / 20);
}
