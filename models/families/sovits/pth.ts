// A so-vits-svc training checkpoint (G_*.pth) and its config.json as the import takes them: the pickle read by
// the safe reader, checked against the config (models/torch/sovits-checkpoint.ts), rebuilt as the official 4.x
// ONNX form by Resona's own builder, and described by the .json the 4.1 exporter would have written beside it,
// so the rest of the import (the family's importer: form, hop measured by a render, speakers) is the path an
// exported voice takes.
import { readCheckpoint } from '../../torch/checkpoint.js';
import { parseSovitsCheckpoint, SOVITS_ENCODERS } from '../../torch/sovits-checkpoint.js';
import { buildSovitsF0Decoder, hasF0Decoder } from '../../torch/sovits-f0-decoder.js';
import { buildSovitsSynthesizer } from '../../torch/sovits-graph.js';

export interface SovitsFromPth {
  /** ONNX bytes of the so-vits-svc 4.0 form (4.1 with vol when the voice has vol_embedding). */
  model: Uint8Array;
  /** The exporter's {name}.json for it (Type, Rate, Hop, Hubert, Characters, Volume). */
  companion: { path: string; bytes: Uint8Array };
  /** ONNX bytes of the F0 decoder (use_automatic_f0_prediction), when the checkpoint has one; else null. */
  f0Decoder: Uint8Array | null;
}

export function sovitsFromCheckpoint(pth: Uint8Array, pthWhere: string, config: Uint8Array, configWhere: string): SovitsFromPth {
  const ckpt = parseSovitsCheckpoint(readCheckpoint(pth, pthWhere), pthWhere, config, configWhere);
  const model = buildSovitsSynthesizer(ckpt);
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
  return { model, companion: { path: configWhere, bytes: new TextEncoder().encode(JSON.stringify(exported)) }, f0Decoder };
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
