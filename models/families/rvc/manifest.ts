// RVC's own fields of voice.json: which ONNX contract the synthesizer was exported with, v1 or v2 features,
// the index file, and the three rates RVC models are trained at.
import type { VoiceManifest } from '../../../protocol/voice-manifest.js';
import { type ManifestFields, VoiceFormatError } from '../../voices/manifest-fields.js';

export const RVC_RATES = [32000, 40000, 48000] as const;
export const RVC_CONTRACTS = ['vcclient', 'vcclient-skip', 'webui'] as const;

export interface RvcManifest extends VoiceManifest {
  family: 'rvc';
  /** Which ONNX contract the synthesizer was exported with. */
  contract: (typeof RVC_CONTRACTS)[number];
  /** RVC generation: v1 = 256-d layer-9 features, v2 = 768-d layer-12. */
  version: 'v1' | 'v2';
  /** The FAISS index file for retrieval, if the voice has one. */
  index: string | null;
  sampleRate: (typeof RVC_RATES)[number];
  featureSize: 256 | 768;
  encoderLayer: 9 | 12;
}

export function checkRvcManifest(f: ManifestFields, common: VoiceManifest): RvcManifest {
  const index = f.fileName('index', false);
  const contract = f.oneOf('contract', RVC_CONTRACTS);
  const version = f.oneOf('version', ['v1', 'v2'] as const, 'v1 or v2');
  const featureSize = f.oneOf('featureSize', [256, 768] as const, '256 (v1) or 768 (v2)');
  const encoderLayer = f.oneOf('encoderLayer', [9, 12] as const, '9 (v1) or 12 (v2)');
  // Field order as voice.json is written, so a rewritten file reads the same.
  const { format, id, name, model, preview, sampleRate, f0, speakers, defaultPitch, source, description, provider } = common;
  return {
    format, id, name, family: 'rvc', contract, version, model, index, preview,
    sampleRate: sampleRate as RvcManifest['sampleRate'],
    featureSize, encoderLayer, f0, speakers, defaultPitch, source, description,
    ...(provider !== undefined ? { provider } : {}),
  };
}

/** A checked manifest as RVC's, for the RVC-only paths (its loader, its importer); another family is refused. */
export function asRvcManifest(m: VoiceManifest, where: string): RvcManifest {
  if (m.family !== 'rvc') throw new VoiceFormatError(`${where}: is a ${m.family} voice, not an RVC one`);
  return m as RvcManifest;
}
