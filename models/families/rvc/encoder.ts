// Which content encoder an RVC voice needs (v1: 256-d layer 9, v2: 768-d layer 12), from the model catalogue.
import path from 'node:path';
import { CATALOGUE, findModel, modelsDir, requireModel } from '../../catalogue/catalogue.js';
import { convertedEncoderName, convertHubertCheckpoint } from '../../torch/hubert-import.js';
import { exists } from '../../voices/import-voice.js';
import type { RvcManifest } from './manifest.js';

/** The catalogue's content encoder for a voice's layer and size that is present, else a clear error. */
export async function encoderFor(m: Pick<RvcManifest, 'encoderLayer' | 'featureSize'>): Promise<string> {
  const fits = CATALOGUE.filter((e) => e.kind === 'content-encoder' && e.format === 'onnx' && e.encoder.features.some((f) => f.layer === m.encoderLayer && f.dims === m.featureSize));
  for (const e of fits) {
    const found = await findModel(e.id);
    if (found) return found;
  }
  // No ONNX encoder, but RVC's own hubert_base.pt: convert it once (safe reader, no Python) and keep it.
  const choice = { layer: m.encoderLayer, channels: m.featureSize };
  const converted = path.join(modelsDir(), convertedEncoderName(choice));
  if (await exists(converted)) return converted;
  const pt = await findModel('hubert-base');
  if (pt) return convertHubertCheckpoint(pt, modelsDir(), choice);
  if (!fits[0]) throw new Error(`no content encoder in the catalogue gives ${m.featureSize}-d layer-${m.encoderLayer} features`);
  return requireModel(fits[0].id);
}
