// Generators for the zip bombs the fuzzing campaign found, and the cases hostile.test runs on them in child
// processes. Each file is built by code here (the gigabyte streams by repeating one deflate block), never stored.
import { UserError } from '../../../protocol/errors.js';
import { openZip } from '../../../models/archive/zip.js';
import { CHECKPOINT_ZIP } from '../../../models/torch/budgets.js';
import { buildZip, type RawEntry, zeroStream } from './zip-writer.js';

const GiB = 2 ** 30;

/** `names` all pointing at one deflated stream of ~1 GiB of zeros, each declaring `declared` bytes; `first`
 * entries (a checkpoint's data.pkl…) are written before them, each with its own bytes. */
export function sharedStreamZip(names: readonly string[], declared: number | 'true', first: RawEntry[] = []): Uint8Array {
  const stream = zeroStream(GiB);
  const size = declared === 'true' ? stream.size : declared;
  return buildZip([...first, ...names.map((name, i): RawEntry => ({ name, data: stream.data, method: 8, size, ...(i ? { shareWith: names[0] } : {}) }))]);
}

/** A zip64 file of a few hundred bytes whose end records claim four billion entries. */
export function zip64Claim(first: RawEntry[] = []): Uint8Array {
  return buildZip(first, { zip64: true, claimEntries: 4_000_000_000 });
}

/** The caller's error class for a damaged zip, as a voice importer would pass its VoiceFormatError. */
const reader = (bytes: Uint8Array) => openZip(bytes, CHECKPOINT_ZIP, { name: 'bomb.zip', error: (m) => new UserError(m, 'file') });

/** Opens the file and reads every entry, as a naive caller would. */
function readAll(bytes: Uint8Array): number {
  const zip = reader(bytes);
  let n = 0;
  for (const name of zip.names) n += zip.read(name).length;
  return n;
}

export const cases: Record<string, () => unknown> = {
  // The fuzzer's bomb: four entries sharing one 1 GiB stream, each declaring its true size.
  'four entries share one 1 GiB stream': () => readAll(sharedStreamZip(['a', 'b', 'c', 'd'], 'true')),
  // The same with sizes under the ratio and total budgets, so only the overlap check stands in the way.
  'three entries share one stream, each declaring 600 MB': () => readAll(sharedStreamZip(['a', 'b', 'c'], 600e6)),
  'a zip64 file claiming 4 billion entries': () => readAll(zip64Claim([{ name: 'x', data: new Uint8Array(200), method: 0, size: 200 }])),
  // One entry declaring 100 MB (within the ratio) whose stream holds 1 GiB: inflating stops at the declared size.
  'an entry whose stream inflates past its declared size': () => readAll(sharedStreamZip(['a'], 100e6)),
};
