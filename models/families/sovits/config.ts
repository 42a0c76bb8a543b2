// The companion {name}.json the so-vits-svc 4.1 exporter writes beside the ONNX (SOVITS-NOTES §3b): the rate,
// hop, encoder and speakers of the voice. Read as data only, bounded, every field checked by name.
import { MAX_SPEAKERS } from '../../voices/manifest-fields.js';
import { SovitsFormError } from './forms.js';

/** The exporter writes a few hundred bytes; speaker names make it grow, not past this (the importer reads it within voice.json's budget, the same figure). */
export const CONFIG_MAX_BYTES = 64 * 1024;

export interface SovitsConfig {
  name: string | null;
  rate: number;
  hop: number;
  featureSize: 256 | 768;
  encoderLayer: 9 | 12;
  speakers: string[];
  volume: boolean;
  charaMix: boolean;
}

const HUBERT = /^vec-(768|256)-layer-(12|9)$/;

export function parseSovitsConfig(bytes: Uint8Array, where: string): SovitsConfig {
  const bad = (why: string) => new SovitsFormError(`${where}: ${why}; it should be the .json the so-vits-svc exporter wrote beside the model`);
  if (bytes.length > CONFIG_MAX_BYTES) throw bad(`is ${bytes.length} bytes, over ${CONFIG_MAX_BYTES}`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw bad(`is not UTF-8 JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('is not a JSON object');
  const v = raw as Record<string, unknown>;
  const field = (k: string, want: string) => bad(`"${k}" is ${JSON.stringify(v[k])?.slice(0, 60) ?? 'missing'}; ${want}`);
  if (v.Type !== 'SoVits') throw field('Type', '"SoVits" expected');
  const int = (k: string, min: number, max: number) => {
    const x = v[k];
    if (!Number.isInteger(x) || (x as number) < min || (x as number) > max) throw field(k, `a whole number from ${min} to ${max}`);
    return x as number;
  };
  const rate = int('Rate', 8000, 192000);
  const hop = int('Hop', 1, 4096);
  const hubert = v.Hubert;
  const m = typeof hubert === 'string' ? HUBERT.exec(hubert) : null;
  if (!m) throw field('Hubert', 'vec-768-layer-12, vec-256-layer-9 (or vec-768-layer-9 / vec-256-layer-12); other encoders (whisper-ppg, cnhubertlarge) are not supported yet, and a hubertsoft voice is imported from its G_*.pth and config.json with --encoder hubert-soft-0d54a1f4.pt');
  const bool = (k: string) => {
    if (v[k] === undefined) return false;
    if (typeof v[k] !== 'boolean') throw field(k, 'true or false');
    return v[k] as boolean;
  };
  const chars = v.Characters ?? [];
  if (!Array.isArray(chars) || chars.length > MAX_SPEAKERS || !chars.every((c) => typeof c === 'string' && c.length <= 200)) {
    throw field('Characters', `a list of at most ${MAX_SPEAKERS} speaker names`);
  }
  const name = typeof v.Name === 'string' && v.Name.trim() ? v.Name.trim().slice(0, 200) : null;
  return {
    name,
    rate,
    hop,
    featureSize: Number(m[1]) as 256 | 768,
    encoderLayer: Number(m[2]) as 9 | 12,
    speakers: chars as string[],
    volume: bool('Volume'),
    charaMix: bool('CharaMix'),
  };
}
