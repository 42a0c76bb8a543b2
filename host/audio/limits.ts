// How much audio Resona takes in at once: one table, each figure with what it was sized from.
import { count, type Limit, LimitError } from '../../models/archive/limit.js';

export const AUDIO_LIMITS = {
  // A file decoded whole (readAudioFile; FLAC, MP3 and Ogg in convert) is held as float32, one array per
  // channel, and convert adds their mono mix: 2^28 samples is 1 GiB of float32. convert streams a WAV instead
  // (host/audio/wav-stream.ts), so no sample budget applies there: only what one output WAV can hold (4 GiB).
  samples: { max: 2 ** 28, sizedFrom: '101 minutes of mono or 50 of stereo at 44.1 kHz' },
  // A compressed file is read whole before its decoder runs. MP3 and Ogg of this size run to many hours,
  // past the sample budget anyway.
  compressedBytes: { max: 512 * 2 ** 20, sizedFrom: 'about 50 minutes of 96 kHz 24-bit stereo FLAC' },
} as const satisfies Record<string, Limit>;

/** Refuses audio of more samples (all channels together) than the budget, before they are decoded. */
export function tooLong(name: string, samples: number): void {
  const l = AUDIO_LIMITS.samples;
  if (samples > l.max) throw new LimitError(`${name}: ${count(samples)} samples is more than Resona converts at once (${count(l.max)}, ${l.sizedFrom}); split the file first (e.g. sox in.wav part.wav trim 0 1800 : newfile : restart)`);
}
