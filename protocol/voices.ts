// What front ends know about a voice: enough to list, choose and describe it.

export type VoiceKind = 'builtin' | 'rvc';

export interface VoiceInfo {
  id: string;
  name: string;
  kind: VoiceKind;
  description: string;
  /** Pitch (semitones) used when the user sets none. */
  defaultPitch: number;
  /** Formant shift (semitones) used when the user sets none. */
  defaultFormant: number;
  /** Neural voices: the model's rate, speaker count, whether it follows pitch, its folder and preview image. */
  sampleRate?: number;
  speakers?: number;
  f0?: boolean;
  hasIndex?: boolean;
  path?: string;
  preview?: string | null;
}
