// A so-vits-svc training checkpoint (G_*.pth) and its config.json as the import takes them: the pickle read by
// the safe reader, checked against the config (models/torch/sovits-checkpoint.ts), rebuilt by Resona's own
// builder as the kept-region form of the 4.x graph (the official inputs plus skip_head / return_length, so a
// block draws only the frames it keeps), and described by the .json the 4.1 exporter would have written beside
// it, so the rest of the import (the family's importer: form, hop measured by a render, speakers) is the path
// an exported voice takes.
import { readCheckpoint } from '../../torch/checkpoint.js';
import { buildHubertSoftEncoder, hubertSoftStateDict } from '../../torch/hubert-soft.js';
import { parseSovitsCheckpoint, type SovitsCheckpoint, SOVITS_ENCODERS } from '../../torch/sovits-checkpoint.js';
import { SovitsGraphError } from '../../torch/sovits-spec.js';
import { buildSovitsF0Decoder, hasF0Decoder } from '../../torch/sovits-f0-decoder.js';
import { buildSovitsSynthesizer } from '../../torch/sovits-graph.js';

export interface SovitsFromPth {
  /** ONNX bytes of the kept-region form of the 4.0 graph (4.1 with vol when the voice has vol_embedding). */
  model: Uint8Array;
  /** The exporter's {name}.json for it (Type, Rate, Hop, Hubert, Characters, Volume). */
  companion: { path: string; bytes: Uint8Array };
  /** ONNX bytes of the F0 decoder (use_automatic_f0_prediction), when the checkpoint has one; else null. */
  f0Decoder: Uint8Array | null;
  /** ONNX bytes of the voice's own content encoder (speech_encoder "hubertsoft", built from --encoder); else null. */
  contentEncoder: Uint8Array | null;
}

/** The name a hubertsoft voice's encoder checkpoint has in a folder beside G_*.pth (bshall's release names). */
export const HUBERT_SOFT_FILE = /^hubert[-_]soft.*\.pt$/i;

/** Where the one published HuBERT-Soft comes from, for the message that asks for it. */
const HUBERT_SOFT_SOURCE = 'hubert-soft-0d54a1f4.pt from the bshall/hubert releases on GitHub (so-vits-svc keeps it as pretrain/hubert-soft-0d54a1f4.pt)';

/**
 * The voice's own encoder for a config whose speech_encoder is one the voice brings (hubertsoft): read by the
 * safe reader, its soft-unit size checked against ssl_dim before the (large) build, then built by the HuBERT
 * builder. Null for the shared encoders; an encoder given with one of those is refused rather than ignored.
 */
function ownEncoder(ckpt: SovitsCheckpoint, configWhere: string, encoder: { bytes: Uint8Array; where: string } | undefined): Uint8Array | null {
  if (!SOVITS_ENCODERS[ckpt.encoder].own) {
    if (encoder) throw new SovitsGraphError(`${encoder.where}: a content encoder checkpoint goes with a config whose model.speech_encoder is "hubertsoft"; ${configWhere} uses ${ckpt.encoder}, which Resona provides itself: leave out --encoder`);
    return null;
  }
  if (!encoder) {
    throw new SovitsGraphError(`${configWhere}: model.speech_encoder is "hubertsoft", so the voice needs the HuBERT-Soft checkpoint it was trained with: ${HUBERT_SOFT_SOURCE}; give it with --encoder <file>, or put it beside G_*.pth and config.json in the folder you import`);
  }
  const root = readCheckpoint(encoder.bytes, encoder.where);
  const proj = hubertSoftStateDict(root, encoder.where).get('proj.weight')!;
  const units = proj.shape[0];
  if (units !== ckpt.config.ssl_dim) {
    throw new SovitsGraphError(`${configWhere}: model.ssl_dim is ${ckpt.config.ssl_dim}, expected ${units}: the encoder ${encoder.where} gives ${units}-d soft units (proj.weight [${proj.shape.join(', ')}]); the encoder and the voice do not belong together`);
  }
  return buildHubertSoftEncoder(root, encoder.where);
}

export function sovitsFromCheckpoint(pth: Uint8Array, pthWhere: string, config: Uint8Array, configWhere: string, encoder?: { bytes: Uint8Array; where: string }): SovitsFromPth {
  const ckpt = parseSovitsCheckpoint(readCheckpoint(pth, pthWhere), pthWhere, config, configWhere);
  const contentEncoder = ownEncoder(ckpt, configWhere, encoder);
  // Resona's kept-region form: the voice draws only the frames it keeps (the exports' form draws the window).
  const model = buildSovitsSynthesizer(ckpt, { keep: true });
  const enc = SOVITS_ENCODERS[ckpt.encoder];
  const exported = {
    Type: 'SoVits',
    Rate: ckpt.config.sampling_rate,
    Hop: ckpt.hop,
    Hubert: `vec-${enc.featureSize}-layer-${enc.layer}`,
    SoVits4: true,
    CharaMix: false,
    Volume: ckpt.weights.has('emb_vol.weight'),
    HiddenSize: ckpt.config.gin_channels,
    Characters: ckpt.speakers,
  };
  const f0Decoder = ckpt.autoF0 && hasF0Decoder(ckpt.weights) ? buildSovitsF0Decoder(ckpt) : null;
  return { model, companion: { path: configWhere, bytes: new TextEncoder().encode(JSON.stringify(exported)) }, f0Decoder, contentEncoder };
}

/** Whether a config.json is so-vits-svc's (its model section names ssl_dim), not RVC's or another tool's. */
export function isSovitsConfig(bytes: Uint8Array): boolean {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes)) as { model?: Record<string, unknown> };
    return !!v && typeof v === 'object' && !!v.model && typeof v.model === 'object' && 'ssl_dim' in v.model;
  } catch {
    return false;
  }
}
