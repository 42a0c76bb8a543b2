// What front ends know about a voice: enough to list, choose and describe it.

export type VoiceKind = 'builtin' | 'rvc';

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
}
