// voice.json: what a voice folder holds and how to run it. Written at import (derived from the model's own
// metadata and checked against the model), read at every load. These are the fields every voice family
// shares; each family adds its own (models/families/<family>/manifest.ts) and checks them itself.
import type { ProviderChoice } from './runtime.js';

export const VOICE_MANIFEST_VERSION = 1;

export interface VoiceManifest {
  format: typeof VOICE_MANIFEST_VERSION;
  id: string;
  name: string;
  /** The voice family that reads the rest of the file and runs the voice ("rvc"; see models/families/registry.ts). */
  family: string;
  /** File names inside the voice folder. */
  model: string;
  preview: string | null;
  /** The rate the voice renders at; which rates a family allows is the family's to say. */
  sampleRate: number;
  /** Whether the voice follows the input's pitch (it then needs a pitch estimator). */
  f0: boolean;
  speakers: number;
  defaultPitch: number;
  /** Where the voice came from (the file the user imported). */
  source: string;
  description: string;
  /**
   * Where this voice's networks run when the user leaves the provider on 'auto' (an explicit choice wins):
   * e.g. "cpu" for a voice whose graph misbehaves on a GPU. Absent: the machine's best.
   */
  provider?: ProviderChoice;
  /**
   * The user's own vocoder file for the stages after the synthesizer (models/vocoder/vocoder.ts): an absolute
   * path, outside the voice folder, because its weights are CC BY-NC-SA and never travel with a voice. Absent:
   * no vocoder stage.
   */
  vocoder?: string;
}
