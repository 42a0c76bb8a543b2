// The pieces every voice.json check is made of: the error, how a bad value is shown, and readers for the
// kinds of field (file names inside the folder, bounded text). The common check (manifest.ts) and each
// family's own check (models/families/<family>/manifest.ts) use the same ones, so every family's messages
// name the field, what was found and what is wanted in the same words.
import path from 'node:path';
import { UserError } from '../../protocol/errors.js';

export class VoiceFormatError extends UserError {
  override name = 'VoiceFormatError';
  constructor(message: string) {
    super(message, 'voice');
  }
}

/** File names in a voice folder: one name, no separators, no "..", within what file systems take. */
const MAX_NAME_BYTES = 255;
export const MAX_SPEAKERS = 1024;
export const PREVIEW_EXT = ['.png', '.jpg', '.jpeg', '.webp'];

/** A value as a message shows it: short, and never the whole of a long string. */
export function shown(x: unknown): string {
  if (typeof x === 'string') return JSON.stringify(x.length > 60 ? `${x.slice(0, 57)}...` : x);
  if (x === null || typeof x === 'number' || typeof x === 'boolean') return String(x);
  if (Array.isArray(x)) return 'a list';
  return x === undefined ? 'missing' : `a ${typeof x}`;
}

/** Whether `f` is a plain file name inside the folder, so joining it to the folder stays in the folder. */
export function isPlainFileName(f: string): boolean {
  return f !== '' && f !== '.' && f !== '..' && !/[/\\\0]/.test(f) && !path.isAbsolute(f) && Buffer.byteLength(f) <= MAX_NAME_BYTES;
}

/** One voice.json object being checked: its raw fields and the readers that refuse a bad one by name. */
export class ManifestFields {
  constructor(
    readonly raw: Readonly<Record<string, unknown>>,
    readonly where: string,
  ) {}

  /** The error for a field: what it holds, what is wanted, and how to get a good file. */
  bad(field: string, want: string, got: unknown = this.raw[field]): VoiceFormatError {
    return new VoiceFormatError(`${this.where}: "${field}" is ${shown(got)}; ${want}. Fix it, or import the voice again to rewrite voice.json`);
  }

  /** A plain file name inside the voice folder; null only where the file is optional. */
  fileName(k: string, required: boolean): string | null {
    const x = this.raw[k];
    if (x === null && !required) return null;
    if (typeof x !== 'string') throw this.bad(k, required ? 'a file name is required' : 'a file name or null', x);
    if (!isPlainFileName(x)) throw this.bad(k, `a plain file name inside the voice folder (no folders, at most ${MAX_NAME_BYTES} bytes)`, x);
    return x;
  }

  /** A string of at most `max` characters; a missing optional one is ''. */
  text(k: string, max: number, required: boolean): string {
    const x = this.raw[k] ?? (required ? undefined : '');
    if (typeof x !== 'string' || (required && !x)) throw this.bad(k, required ? 'a non-empty string is required' : 'a string', x);
    if (x.length > max) throw this.bad(k, `at most ${max} characters`, x);
    return x;
  }

  /** One of a fixed set of values (compared with ===). */
  oneOf<T>(k: string, allowed: readonly T[], want = `one of ${allowed.join(', ')}`): T {
    const x = this.raw[k];
    if (!allowed.includes(x as T)) throw this.bad(k, want, x);
    return x as T;
  }
}
