// voice.json: what a neural voice folder holds and how to run it. Written at import (derived from the
// model's own metadata and checked against the model), read at every load.
import type { ProviderChoice } from './runtime.js';

export const VOICE_MANIFEST_VERSION = 1;
export const RVC_RATES = [32000, 40000, 48000] as const;
export const RVC_CONTRACTS = ['vcclient', 'vcclient-skip', 'webui'] as const;

export interface VoiceManifest {
  format: typeof VOICE_MANIFEST_VERSION;
  id: string;
  name: string;
  family: 'rvc';
  /** Which ONNX contract the synthesizer was exported with. */
  contract: (typeof RVC_CONTRACTS)[number];
  /** RVC generation: v1 = 256-d layer-9 features, v2 = 768-d layer-12. */
  version: 'v1' | 'v2';
  /** File names inside the voice folder. */
  model: string;
  index: string | null;
  preview: string | null;
  sampleRate: (typeof RVC_RATES)[number];
  featureSize: 256 | 768;
  encoderLayer: 9 | 12;
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
}
