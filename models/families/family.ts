// What a voice family is to the rest of Resona: data and a few functions, so that the library, the host and
// the UI handle every family alike. A family is one folder (models/families/<id>/) and one line in
// registry.ts; nothing outside them tests which family a voice is.
import type { ExportedFiles } from '../diffusion/exported.js';
import type { VoiceStage } from '../../engine/voices/voice-stage.js';
import type { NetworkPlacement, RuntimeOptions } from '../../protocol/runtime.js';
import type { VoiceManifest } from '../../protocol/voice-manifest.js';
import type { VoiceNote, VoiceParam } from '../../protocol/voice-params.js';
import type { VoiceInfo } from '../../protocol/voices.js';
import type { OnnxModelInfo } from '../onnx/model-info.js';
import type { ManifestFields } from '../voices/manifest-fields.js';

export interface FamilyLoadOptions {
  /** Provider and threads for every network of the voice (voice.json's provider applies under 'auto'). */
  runtime: RuntimeOptions;
  /** A content encoder ONNX the user named (--encoder); default: the family picks the catalogue's. */
  encoder?: string;
}

/** A voice loaded and checked against its files, ready for the engine. */
export interface LoadedFamilyVoice {
  stage: VoiceStage;
  /** Where each network runs. */
  placement: NetworkPlacement[];
  /** Things the user should know (formant unsupported by this contract, accelerator fallback). */
  notes: string[];
  /** Frees the voice's sessions (after the engine using it is gone). */
  release(): Promise<void>;
}

type FileBytes = { path: string; bytes: Uint8Array };

/** so-vits-svc shallow diffusion as import read it: a model_*.pt with its diffusion.yaml, or an exported ONNX set (its yaml when there is one). */
export type ImportedDiffusion = { model: FileBytes; config: FileBytes } | { exported: ExportedFiles; config: FileBytes | null };

/** A model file being imported, as a family's importer sees it (read already, within its budgets). */
export interface FamilyImportSource {
  /** Where the model came from, for messages. */
  modelPath: string;
  model: Uint8Array;
  info: OnnxModelInfo;
  /** The exporter's companion JSON beside the model ({name}.json), when there is one. */
  companion: { path: string; bytes: Uint8Array } | null;
  /** The name the user gave (--name), if any, and the one to use when nothing else names the voice. */
  userName: string | undefined;
  fallbackName: string;
  threads: number;
  /** A retrieval file the user named (--cluster / --index), for families that retrieve; null when none. */
  retrieval: { kind: 'cluster' | 'index'; path: string; bytes: Uint8Array } | null;
  /** so-vits-svc shallow diffusion found or named (--diffusion); null when none. */
  diffusion?: ImportedDiffusion | null;
  /** The absolute path of the user's vocoder (--vocoder), written to voice.json, never copied. */
  vocoder?: string;
  /** so-vits-svc: the F0 decoder built from a G_*.pth that has one (use_automatic_f0_prediction). */
  f0Decoder?: Uint8Array | null;
  /** so-vits-svc: the voice's own content encoder (speech_encoder "hubertsoft"), built from its checkpoint. */
  contentEncoder?: Uint8Array | null;
  /** Adds a file (a fixed name of the family's choosing) to the voice folder being written. */
  addFile(name: string, bytes: Uint8Array): void;
}

/**
 * How a family turns a model file into a voice, for families the RVC importer does not know: it claims the
 * models whose inputs are its own, opens and renders one before anything is written, and returns voice.json
 * (the importer fills in id, preview and source and writes the folder).
 */
export interface FamilyImporter {
  claims(info: OnnxModelInfo): boolean;
  manifest(src: FamilyImportSource): Promise<VoiceManifest>;
}

export interface VoiceFamily<M extends VoiceManifest = VoiceManifest> {
  /** voice.json's "family" and VoiceInfo's kind. */
  readonly id: string;
  /** The name people know it by, for lists and messages ("RVC"). */
  readonly label: string;
  /** The rates voice.json may name; null: whatever the model's own config gives (checked at load). */
  readonly sampleRates: readonly number[] | null;
  /** Output samples per content frame at a rate: RVC renders 100 frames a second, so-vits-svc a 512 hop. */
  hop(sampleRate: number): number;
  /**
   * Reads and checks the family's own fields of voice.json (the common ones are checked already and given
   * as `common`); returns the whole manifest, holding only known fields.
   */
  checkManifest(f: ManifestFields, common: VoiceManifest): M;
  /** The knobs a voice of this family has, with this voice's ranges and defaults, in the order to show them. */
  params(m: M): VoiceParam[];
  /** What the user should know beside the knobs. */
  notes(m: M): VoiceNote[];
  /** Family fields front ends already know (kept for compatibility, e.g. RVC's hasIndex). */
  info(m: M): Partial<Pick<VoiceInfo, 'hasIndex' | 'defaultFormant'>>;
  /** Opens the voice's networks; everything is checked and loaded before anything is returned. */
  load(dir: string, m: M, o: FamilyLoadOptions): Promise<LoadedFamilyVoice>;
  /** Imports model files of this family (absent: the family's voices come only through the RVC importer). */
  readonly importer?: FamilyImporter;
}
