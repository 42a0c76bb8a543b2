// Reading and checking voice.json. Every field is checked, so a hand-edited file fails here with the field
// named, not later inside a session with a shape error.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { RVC_CONTRACTS, RVC_RATES, VOICE_MANIFEST_VERSION, type VoiceManifest } from '../../protocol/voice-manifest.js';
import { UserError } from '../../protocol/errors.js';

export class VoiceFormatError extends UserError {
  override name = 'VoiceFormatError';
  constructor(message: string) {
    super(message, 'voice');
  }
}

export const MANIFEST_FILE = 'voice.json';

export function checkManifest(m: unknown, where: string): VoiceManifest {
  const bad = (field: string, want: string, got: unknown) =>
    new VoiceFormatError(`${where}: "${field}" is ${JSON.stringify(got)}; ${want}. Fix it, or import the voice again to rewrite voice.json`);
  if (!m || typeof m !== 'object') throw new VoiceFormatError(`${where}: not a JSON object; import the voice again to rewrite voice.json`);
  const v = m as Record<string, unknown>;
  if (v.format !== VOICE_MANIFEST_VERSION) throw bad('format', `expected ${VOICE_MANIFEST_VERSION}`, v.format);
  for (const k of ['id', 'name', 'model']) if (typeof v[k] !== 'string' || !(v[k] as string)) throw bad(k, 'a non-empty string is required', v[k]);
  if (v.family !== 'rvc') throw bad('family', 'only "rvc" voices exist so far', v.family);
  if (!RVC_CONTRACTS.includes(v.contract as never)) throw bad('contract', `one of ${RVC_CONTRACTS.join(', ')}`, v.contract);
  if (v.version !== 'v1' && v.version !== 'v2') throw bad('version', 'v1 or v2', v.version);
  if (!RVC_RATES.includes(v.sampleRate as never)) throw bad('sampleRate', `RVC voices run at ${RVC_RATES.join(', ')} Hz`, v.sampleRate);
  if (v.featureSize !== 256 && v.featureSize !== 768) throw bad('featureSize', '256 (v1) or 768 (v2)', v.featureSize);
  if (v.encoderLayer !== 9 && v.encoderLayer !== 12) throw bad('encoderLayer', '9 (v1) or 12 (v2)', v.encoderLayer);
  if (typeof v.f0 !== 'boolean') throw bad('f0', 'true or false', v.f0);
  if (!Number.isInteger(v.speakers) || (v.speakers as number) < 1) throw bad('speakers', 'a whole number ≥ 1', v.speakers);
  if (typeof v.defaultPitch !== 'number' || Math.abs(v.defaultPitch) > 24) throw bad('defaultPitch', 'semitones from -24 to 24', v.defaultPitch);
  for (const k of ['index', 'preview']) if (v[k] !== null && typeof v[k] !== 'string') throw bad(k, 'a file name or null', v[k]);
  for (const k of ['model', 'index', 'preview']) {
    const f = v[k];
    if (typeof f === 'string' && (path.isAbsolute(f) || f.includes('..') || f.includes('/') || f.includes('\\'))) {
      throw bad(k, 'a plain file name inside the voice folder', f);
    }
  }
  return { source: '', description: '', ...(v as object) } as VoiceManifest;
}

export async function readManifest(dir: string): Promise<VoiceManifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new VoiceFormatError(`${dir}: no ${MANIFEST_FILE} in this folder; import the voice's .onnx file (resona import <file>) to make one`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new VoiceFormatError(`${file}: not valid JSON (${(e as Error).message}); import the voice again to rewrite it`);
  }
  return checkManifest(json, file);
}
