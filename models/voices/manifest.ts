// Reading and checking voice.json. Every field is checked, type and range, so a hand-edited or hostile file
// fails here with the field named, not later inside a session with a shape error or an index out of range.
// Only the known fields are kept: whatever else the file holds is never carried along.
import path from 'node:path';
import { RVC_CONTRACTS, RVC_RATES, VOICE_MANIFEST_VERSION, type VoiceManifest } from '../../protocol/voice-manifest.js';
import { UserError } from '../../protocol/errors.js';
import { isProviderChoice, PROVIDER_CHOICES, type ProviderChoice } from '../../protocol/runtime.js';
import { readRegularFile } from '../regular-file.js';
import { VOICE_FILES } from './voice-limits.js';

export class VoiceFormatError extends UserError {
  override name = 'VoiceFormatError';
  constructor(message: string) {
    super(message, 'voice');
  }
}

export const MANIFEST_FILE = 'voice.json';

/** Ids are folder names in the library, made by slug(): lower-case letters, digits and dashes. */
const ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** File names in a voice folder: one name, no separators, no "..", within what file systems take. */
const MAX_NAME_BYTES = 255;
export const MAX_SPEAKERS = 1024;
export const PREVIEW_EXT = ['.png', '.jpg', '.jpeg', '.webp'];
const TEXT_LENGTH = { name: 200, description: 2000, source: 4096 } as const;

/** A value as a message shows it: short, and never the whole of a long string. */
function shown(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x.length > 60 ? `${x.slice(0, 57)}...` : x);
  if (x === null || typeof x === 'number' || typeof x === 'boolean') return String(x);
  if (Array.isArray(x)) return 'a list';
  return x === undefined ? 'missing' : `a ${typeof x}`;
}

/** Whether `f` is a plain file name inside the folder, so joining it to the folder stays in the folder. */
export function isPlainFileName(f: string): boolean {
  return f !== '' && f !== '.' && f !== '..' && !/[/\\\0]/.test(f) && !path.isAbsolute(f) && Buffer.byteLength(f) <= MAX_NAME_BYTES;
}

export function checkManifest(m: unknown, where: string): VoiceManifest {
  const bad = (field: string, want: string, got: unknown) =>
    new VoiceFormatError(`${where}: "${field}" is ${shown(got)}; ${want}. Fix it, or import the voice again to rewrite voice.json`);
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw new VoiceFormatError(`${where}: holds ${shown(m)}, not a JSON object; import the voice again to rewrite voice.json`);
  const v = m as Record<string, unknown>;
  const text = (k: keyof typeof TEXT_LENGTH, required: boolean): string => {
    const x = v[k] ?? (required ? undefined : '');
    if (typeof x !== 'string' || (required && !x)) throw bad(k, required ? 'a non-empty string is required' : 'a string', x);
    if (x.length > TEXT_LENGTH[k]) throw bad(k, `at most ${TEXT_LENGTH[k]} characters`, x);
    return x;
  };
  const fileName = (k: 'model' | 'index' | 'preview', required: boolean): string | null => {
    const x = v[k];
    if (x === null && !required) return null;
    if (typeof x !== 'string') throw bad(k, required ? 'a file name is required' : 'a file name or null', x);
    if (!isPlainFileName(x)) throw bad(k, `a plain file name inside the voice folder (no folders, at most ${MAX_NAME_BYTES} bytes)`, x);
    return x;
  };
  if (v.format !== VOICE_MANIFEST_VERSION) throw bad('format', `expected ${VOICE_MANIFEST_VERSION}`, v.format);
  if (typeof v.id !== 'string' || !ID.test(v.id)) throw bad('id', 'lower-case letters, digits and dashes (at most 64)', v.id);
  const name = text('name', true);
  const model = fileName('model', true)!;
  const index = fileName('index', false);
  const preview = fileName('preview', false);
  if (preview && !PREVIEW_EXT.includes(path.extname(preview).toLowerCase())) throw bad('preview', `an image file (${PREVIEW_EXT.join(', ')}) or null`, preview);
  if (v.family !== 'rvc') throw bad('family', 'only "rvc" voices exist so far', v.family);
  if (!RVC_CONTRACTS.includes(v.contract as never)) throw bad('contract', `one of ${RVC_CONTRACTS.join(', ')}`, v.contract);
  if (v.version !== 'v1' && v.version !== 'v2') throw bad('version', 'v1 or v2', v.version);
  if (!RVC_RATES.includes(v.sampleRate as never)) throw bad('sampleRate', `RVC voices run at ${RVC_RATES.join(', ')} Hz`, v.sampleRate);
  if (v.featureSize !== 256 && v.featureSize !== 768) throw bad('featureSize', '256 (v1) or 768 (v2)', v.featureSize);
  if (v.encoderLayer !== 9 && v.encoderLayer !== 12) throw bad('encoderLayer', '9 (v1) or 12 (v2)', v.encoderLayer);
  if (typeof v.f0 !== 'boolean') throw bad('f0', 'true or false', v.f0);
  if (!Number.isInteger(v.speakers) || (v.speakers as number) < 1 || (v.speakers as number) > MAX_SPEAKERS) {
    throw bad('speakers', `a whole number from 1 to ${MAX_SPEAKERS} (RVC models carry 109 speaker slots)`, v.speakers);
  }
  if (typeof v.defaultPitch !== 'number' || !Number.isFinite(v.defaultPitch) || Math.abs(v.defaultPitch) > 24) throw bad('defaultPitch', 'semitones from -24 to 24', v.defaultPitch);
  if (v.provider !== undefined && !isProviderChoice(v.provider)) throw bad('provider', `one of ${PROVIDER_CHOICES.join(', ')}, or absent`, v.provider);
  return {
    format: VOICE_MANIFEST_VERSION,
    id: v.id,
    name,
    family: 'rvc',
    contract: v.contract as VoiceManifest['contract'],
    version: v.version,
    model,
    index,
    preview,
    sampleRate: v.sampleRate as VoiceManifest['sampleRate'],
    featureSize: v.featureSize,
    encoderLayer: v.encoderLayer,
    f0: v.f0,
    speakers: v.speakers as number,
    defaultPitch: v.defaultPitch,
    source: text('source', false),
    description: text('description', false),
    ...(v.provider !== undefined ? { provider: v.provider as ProviderChoice } : {}),
  };
}

/** voice.json's text, parsed and checked; `where` names it in messages. */
export function parseManifest(text: string, where: string): VoiceManifest {
  if (!text.trim()) throw new VoiceFormatError(`${where}: is empty; import the voice's model file again to rewrite it`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new VoiceFormatError(`${where}: not valid JSON (${(e as Error).message}); import the voice again to rewrite it`);
  }
  return checkManifest(json, where);
}

export function manifestText(bytes: Uint8Array, where: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new VoiceFormatError(`${where}: is not UTF-8 text; import the voice again to rewrite it`);
  }
}

export async function readManifest(dir: string): Promise<VoiceManifest> {
  const file = path.join(dir, MANIFEST_FILE);
  const bytes = await readRegularFile(file, {
    what: MANIFEST_FILE,
    noFollow: true,
    limit: VOICE_FILES.manifest,
    fail: (m, problem) =>
      new VoiceFormatError(problem === 'missing' ? `${dir}: no ${MANIFEST_FILE} in this folder; import the voice's .onnx file (resona import <file>) to make one` : m),
  });
  return parseManifest(manifestText(bytes, file), file);
}
