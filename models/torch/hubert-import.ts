// fairseq HuBERT / ContentVec checkpoints (RVC's hubert_base.pt) to the 'vec' ONNX encoder the voices use,
// read with the safe checkpoint reader. One file per (layer, projection) a voice can ask for.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readCheckpointFile, stateDict } from './checkpoint.js';
import { hubertConfigFromCheckpoint, HubertCheckpointError } from './hubert-config.js';
import { buildHubertEncoder } from './hubert-graph.js';
import type { WeightTensor } from './hubert-ops.js';

export interface EncoderChoiceLike {
  layer: number;
  channels: number;
}

/** File name of the converted encoder for a voice's layer and feature size. */
export function convertedEncoderName(c: EncoderChoiceLike): string {
  return `hubert-base-l${c.layer}${c.channels === 256 ? '-proj' : ''}.onnx`;
}

/** Converts `ptFile` into `dir`/<convertedEncoderName>, atomically; returns its path. */
export async function convertHubertCheckpoint(ptFile: string, dir: string, c: EncoderChoiceLike): Promise<string> {
  const out = path.join(dir, convertedEncoderName(c));
  const root = await readCheckpointFile(ptFile);
  const weights = new Map<string, WeightTensor>();
  for (const [k, t] of stateDict(root, 'model')) {
    if (!(t.data instanceof Float32Array)) throw new HubertCheckpointError(`${ptFile}: weight ${k} is ${t.dtype}, a floating-point tensor expected`);
    weights.set(k, { shape: t.shape, data: t.data });
  }
  let config;
  try {
    config = hubertConfigFromCheckpoint(root);
  } catch (e) {
    throw e instanceof HubertCheckpointError ? new HubertCheckpointError(`${ptFile}: ${e.message}`) : e;
  }
  const bytes = buildHubertEncoder(weights, config, { layer: c.layer, finalProj: c.channels === 256, embedder: 'hubert_base' });
  const tmp = `${out}.${process.pid}.tmp`;
  await fs.writeFile(tmp, bytes);
  await fs.rename(tmp, out);
  return out;
}
