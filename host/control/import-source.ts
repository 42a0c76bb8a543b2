// What an import by path may name: a voice file or a voice folder on the host. Anything else is refused with
// one line that names the path given and what to pick; the answer never describes what else is there, so a
// client cannot use the import to look around the host's disk.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { MANIFEST_FILE } from '../../models/voices/manifest.js';
import { UserError } from '../../protocol/errors.js';
import { VOICE_FILE } from '../../protocol/voices.js';

const PICK = "pick the voice's .onnx or .pth model, a .zip of its folder, or the folder that holds them";
const MODEL_FILE = /\.(onnx|pth)$/i;

/** Resolves with `src` when it is a voice file or a folder holding a voice; throws a one-line UserError otherwise. */
export async function checkVoiceSource(src: string): Promise<string> {
  const refuse = (what: string) => new UserError(`${src}: ${what}; ${PICK}`, 'import', 'file');
  const st = await fs.stat(src).catch(() => null);
  if (!st) throw refuse('no such file or folder (or it cannot be read)');
  if (st.isFile()) {
    if (!VOICE_FILE.test(src)) throw refuse('not a voice file');
    return src;
  }
  if (!st.isDirectory()) throw refuse('not a file or folder');
  const names = await fs.readdir(src).catch(() => null);
  if (!names) throw refuse('the folder cannot be read');
  if (!names.some((n) => n === MANIFEST_FILE || MODEL_FILE.test(n))) throw refuse(`no voice folder (it holds no ${MANIFEST_FILE} and no .onnx or .pth model)`);
  return path.resolve(src);
}
