// so-vits-svc's own fields of voice.json: the ONNX form, the hop, the content encoder, loudness input and the
// flow's noise scale.
import path from 'node:path';
import type { VoiceManifest } from '../../../protocol/voice-manifest.js';
import { isPlainFileName, type ManifestFields } from '../../voices/manifest-fields.js';
import { formVersion, SOVITS_FORMS, type SovitsFormId } from './forms.js';
import { EXPORTED_PARTS, type ExportedPart } from '../../diffusion/exported.js';

/** so-vits-svc's inference default (infer_tool.py / inference_main.py). */
export const DEFAULT_NOISE_SCALE = 0.4;

export interface SovitsManifest extends VoiceManifest {
  family: 'sovits';
  contract: SovitsFormId;
  /** Output samples per frame (512 in every so-vits-svc 4.x config). */
  hop: number;
  featureSize: 256 | 768;
  encoderLayer: 9 | 12;
  /** Whether the model takes per-hop loudness (vol, 4.1 with vol_embedding). */
  vol: boolean;
  /** Whether sid is per-frame mix weights (f32 [T, n_spk]) rather than an id. */
  speakerMix: boolean;
  /** Scale of the flow's N(0,1) noise; 0.4 is so-vits-svc's default (the noise-scale knob starts here). */
  noiseScale: number;
  /**
   * Retrieval imported with the voice: kmeans centres ('cluster') or training features ('index'), one FAISS
   * IVF-Flat file per speaker in id order (./retrieval-files.ts); absent or null: none.
   */
  retrieval?: SovitsRetrieval | null;
  /**
   * so-vits-svc 4.1's shallow diffusion: its model_*.pt and diffusion.yaml, or an exported ONNX set, each
   * file of the voice folder (what import writes: diffusion.pt, diffusion.yaml, diffusion_<part>.onnx) or an
   * absolute path; it runs only with `vocoder` set.
   */
  diffusion?: SovitsDiffusion | null;
  /** The F0 decoder's ONNX file (a checkpoint trained with use_automatic_f0_prediction); absent or null: none. */
  f0Decoder?: string | null;
  /**
   * The voice's own content encoder ONNX (speech_encoder "hubertsoft": built from its HuBERT-Soft checkpoint at
   * import), used instead of the shared one; absent or null: the shared encoder for featureSize / encoderLayer.
   */
  contentEncoder?: string | null;
}

/** A model_*.pt and its diffusion.yaml (Resona builds the graphs), or an exported ONNX set (../../diffusion/exported.ts). */
export type SovitsDiffusion = SovitsDiffusionModel | SovitsDiffusionExported;

export interface SovitsDiffusionModel {
  model: string;
  config: string;
}

export interface SovitsDiffusionExported {
  /** Each part's file (what import writes: diffusion_encoder.onnx …); _pred and _after are optional. */
  exported: { encoder: string; denoise: string; pred?: string; after?: string };
  /**
   * The model's diffusion.yaml, or null: then the graphs give the sizes, and rate, hop and k_step_max are
   * so-vits-svc's template values (44.1 kHz, hop 512, the whole 1000-step chain).
   */
  config: string | null;
}

export interface SovitsRetrieval {
  kind: 'cluster' | 'index';
  files: string[];
}

export function checkSovitsManifest(f: ManifestFields, common: VoiceManifest): SovitsManifest {
  const contract = f.oneOf('contract', SOVITS_FORMS);
  const hop = f.raw.hop;
  if (!Number.isInteger(hop) || (hop as number) < 64 || (hop as number) > 4096) throw f.bad('hop', 'output samples per frame, a whole number from 64 to 4096 (so-vits-svc uses 512)');
  const featureSize = f.oneOf('featureSize', [256, 768] as const, '256 or 768');
  const encoderLayer = f.oneOf('encoderLayer', [9, 12] as const, '9 or 12');
  const vol = f.oneOf('vol', [true, false] as const, 'true or false');
  const speakerMix = f.oneOf('speakerMix', [true, false] as const, 'true or false');
  const ns = f.raw.noiseScale ?? DEFAULT_NOISE_SCALE;
  if (typeof ns !== 'number' || !(ns >= 0 && ns <= 2)) throw f.bad('noiseScale', 'a number from 0 to 2 (so-vits-svc uses 0.4)');
  if (vol && formVersion(contract) !== '4.1') throw f.bad('vol', 'false: only the 4.1 forms take loudness');
  const retrieval = checkRetrieval(f, common.speakers);
  const diffusion = checkDiffusion(f);
  const ce = f.raw.contentEncoder;
  if (ce !== undefined && ce !== null && !(typeof ce === 'string' && isPlainFileName(ce))) throw f.bad('contentEncoder', 'null, or the plain file name of the voice\'s own content encoder ONNX in the voice folder');
  const f0d = f.raw.f0Decoder;
  if (f0d !== undefined && f0d !== null && !(typeof f0d === 'string' && isPlainFileName(f0d))) throw f.bad('f0Decoder', 'null, or the plain file name of the F0 decoder ONNX');
  const { format, id, name, model, preview, sampleRate, f0, speakers, defaultPitch, source, description, provider, vocoder } = common;
  return {
    format, id, name, family: 'sovits', contract, model, preview, sampleRate, hop: hop as number, featureSize, encoderLayer,
    vol, speakerMix, noiseScale: ns, f0, speakers, defaultPitch, source, description,
    ...(provider !== undefined ? { provider } : {}),
    ...(retrieval ? { retrieval } : {}),
    ...(diffusion ? { diffusion } : {}),
    ...(typeof f0d === 'string' ? { f0Decoder: f0d } : {}),
    ...(typeof ce === 'string' ? { contentEncoder: ce } : {}),
    // The vocoder stage (shallow diffusion's renderer) belongs to so-vits voices; other families drop the field.
    ...(vocoder !== undefined ? { vocoder } : {}),
  };
}

function checkRetrieval(f: ManifestFields, speakers: number): SovitsRetrieval | null {
  const r = f.raw.retrieval;
  if (r === undefined || r === null) return null;
  const want = `null, or {"kind": "cluster" or "index", "files": one plain file name per speaker (${speakers})}`;
  if (typeof r !== 'object' || Array.isArray(r)) throw f.bad('retrieval', want);
  const { kind, files } = r as Record<string, unknown>;
  if (kind !== 'cluster' && kind !== 'index') throw f.bad('retrieval', want);
  if (!Array.isArray(files) || files.length !== speakers || !files.every((x) => typeof x === 'string' && isPlainFileName(x))) throw f.bad('retrieval', want);
  return { kind, files: files as string[] };
}

function checkDiffusion(f: ManifestFields): SovitsDiffusion | null {
  const d = f.raw.diffusion;
  if (d === undefined || d === null) return null;
  const parts = EXPORTED_PARTS.map((p) => `"${p}"`).join(', ');
  const want = `null, {"model": the model_*.pt, "config": its diffusion.yaml}, or {"exported": {${parts}: the exported set's ONNX files (encoder and denoise required)}, "config": its diffusion.yaml or null}, each file a file name in the voice folder or an absolute path`;
  if (typeof d !== 'object' || Array.isArray(d)) throw f.bad('diffusion', want);
  const ok = (x: unknown) => typeof x === 'string' && x.length <= 4096 && !x.includes('\0') && (isPlainFileName(x) || path.isAbsolute(x));
  const { model, config, exported, ...rest } = d as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw f.bad(`diffusion.${extra}`, `no such field; "diffusion" is ${want}`, rest[extra]);
  if (exported === undefined) {
    if (!ok(model) || !ok(config)) throw f.bad('diffusion', want);
    return { model: model as string, config: config as string };
  }
  // An exported set: each sub-field by name (a misspelt part would silently run without it).
  const file = 'a file name in the voice folder or an absolute path';
  if (model !== undefined) throw f.bad('diffusion.model', 'absent beside "exported": a voice has a model_*.pt or an exported set, not both', model);
  if (config !== null && config !== undefined && !ok(config)) throw f.bad('diffusion.config', `null, or the set's diffusion.yaml: ${file}`, config);
  if (typeof exported !== 'object' || exported === null || Array.isArray(exported)) throw f.bad('diffusion.exported', `{${parts}: the exported set's ONNX files}`, exported);
  const e = exported as Record<string, unknown>;
  const unknown = Object.keys(e).find((k) => !(EXPORTED_PARTS as readonly string[]).includes(k));
  if (unknown !== undefined) throw f.bad(`diffusion.exported.${unknown}`, `no part of an exported set; its parts are ${parts}`, e[unknown]);
  const files: Partial<Record<ExportedPart, string>> = {};
  for (const p of EXPORTED_PARTS) {
    const x = e[p];
    const optional = p === 'pred' || p === 'after';
    if (x === undefined && optional) continue;
    if (!ok(x)) throw f.bad(`diffusion.exported.${p}`, `${file} (the set's _${p}.onnx${optional ? ', or absent' : ', required'})`, x);
    files[p] = x as string;
  }
  return { exported: files as SovitsDiffusionExported['exported'], config: (config as string | null | undefined) ?? null };
}
