// What front ends know about a voice: enough to list, choose and describe it, and the knobs it has.
import type { VoiceNote, VoiceParam } from './voice-params.js';

/** 'builtin' for the DSP voices that need no files, else the voice family's id (voice.json's "family", e.g. 'rvc'). */
export type VoiceKind = 'builtin' | (string & {});

/** The files a voice comes as: an ONNX or PyTorch model, or a zip of a voice folder. The one list of them. */
export const VOICE_FILE = /\.(onnx|zip|pth|pt)$/i;

/** What to say when a file is not one of them (the UI before an upload, the host on import). */
export const NOT_A_VOICE_FILE = 'is not a voice file: import an RVC .onnx or .pth model, or a .zip of a voice folder';

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
  /** The family's name as people know it ("RVC"); absent for built-in voices. */
  familyLabel?: string;
  /**
   * The knobs this voice has, in the order to show them, each with this voice's range and default (a
   * speaker knob only for a voice with several speakers, index ratio only with an index file). The UI draws
   * these and nothing else; the host refuses a voice setting that is not among them.
   */
  params: VoiceParam[];
  /** What the user should know beside the knobs (e.g. no index file: retrieval is off). */
  notes?: VoiceNote[];
}
