// Reading and checking voice.json. Every field is checked, type and range, so a hand-edited or hostile file
// fails here with the field named, not later inside a session with a shape error or an index out of range.
// Only the known fields are kept: whatever else the file holds is never carried along.
import path from 'node:path';
import { VOICE_MANIFEST_VERSION, type VoiceManifest } from '../../protocol/voice-manifest.js';
import { isProviderChoice, PROVIDER_CHOICES, type ProviderChoice } from '../../protocol/runtime.js';
import { familyIds, findFamily } from '../families/registry.js';
import { readRegularFile } from '../regular-file.js';
import { ManifestFields, MAX_SPEAKERS, PREVIEW_EXT, shown, VoiceFormatError } from './manifest-fields.js';
import { VOICE_FILES } from './voice-limits.js';

export { isPlainFileName, MAX_SPEAKERS, PREVIEW_EXT, VoiceFormatError } from './manifest-fields.js';

export const MANIFEST_FILE = 'voice.json';

/** Ids are folder names in the library, made by slug(): lower-case letters, digits and dashes. */
const ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const TEXT_LENGTH = { name: 200, description: 2000, source: 4096 } as const;
/** Any rate a family without a fixed list may name: what the audio reader takes. */
const ANY_RATE = { min: 8000, max: 192000 };

/**
 * Checks the fields every voice shares, then hands the rest to the voice's family, which keeps only the
 * fields it knows: whatever else the file holds is never carried along.
 */
export function checkManifest(m: unknown, where: string): VoiceManifest {
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw new VoiceFormatError(`${where}: holds ${shown(m)}, not a JSON object; import the voice again to rewrite voice.json`);
  const v = m as Record<string, unknown>;
  const f = new ManifestFields(v, where);
  if (v.format !== VOICE_MANIFEST_VERSION) throw f.bad('format', `expected ${VOICE_MANIFEST_VERSION}`);
  if (typeof v.id !== 'string' || !ID.test(v.id)) throw f.bad('id', 'lower-case letters, digits and dashes (at most 64)');
  const name = f.text('name', TEXT_LENGTH.name, true);
  const model = f.fileName('model', true)!;
  const preview = f.fileName('preview', false);
  if (preview && !PREVIEW_EXT.includes(path.extname(preview).toLowerCase())) throw f.bad('preview', `an image file (${PREVIEW_EXT.join(', ')}) or null`);
  const family = findFamily(v.family);
  if (!family) throw f.bad('family', `one of ${familyIds().map((id) => JSON.stringify(id)).join(', ')}`);
  const rates = family.sampleRates;
  if (rates ? !rates.includes(v.sampleRate as number) : !Number.isInteger(v.sampleRate) || (v.sampleRate as number) < ANY_RATE.min || (v.sampleRate as number) > ANY_RATE.max) {
    throw f.bad('sampleRate', rates ? `${family.label} voices run at ${rates.join(', ')} Hz` : `a whole number of Hz from ${ANY_RATE.min} to ${ANY_RATE.max}`);
  }
  if (typeof v.f0 !== 'boolean') throw f.bad('f0', 'true or false');
  if (!Number.isInteger(v.speakers) || (v.speakers as number) < 1 || (v.speakers as number) > MAX_SPEAKERS) {
    throw f.bad('speakers', `a whole number from 1 to ${MAX_SPEAKERS} (RVC models carry 109 speaker slots)`);
  }
  if (typeof v.defaultPitch !== 'number' || !Number.isFinite(v.defaultPitch) || Math.abs(v.defaultPitch) > 24) throw f.bad('defaultPitch', 'semitones from -24 to 24');
  if (v.provider !== undefined && !isProviderChoice(v.provider)) throw f.bad('provider', `one of ${PROVIDER_CHOICES.join(', ')}, or absent`);
  if (v.vocoder !== undefined && (typeof v.vocoder !== 'string' || !path.isAbsolute(v.vocoder) || v.vocoder.length > TEXT_LENGTH.source || v.vocoder.includes('\0'))) {
    throw f.bad('vocoder', 'the absolute path of your NSF-HiFiGAN vocoder (its checkpoint with config.json beside it, or an .onnx), or absent');
  }
  const common: VoiceManifest = {
    format: VOICE_MANIFEST_VERSION,
    id: v.id,
    name,
    family: family.id,
    model,
    preview,
    sampleRate: v.sampleRate as number,
    f0: v.f0,
    speakers: v.speakers as number,
    defaultPitch: v.defaultPitch,
    source: f.text('source', TEXT_LENGTH.source, false),
    description: f.text('description', TEXT_LENGTH.description, false),
    ...(v.provider !== undefined ? { provider: v.provider as ProviderChoice } : {}),
    ...(v.vocoder !== undefined ? { vocoder: v.vocoder as string } : {}),
  };
  return family.checkManifest(f, common);
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
