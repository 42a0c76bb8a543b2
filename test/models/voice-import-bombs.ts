// Zip bombs handed to the voice importer (resona import, the UI's import), run one per child process by
// voice-import-hostile.test so each one's time and peak memory are its own. The files are generated here.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importVoice } from '../../models/voices/import-voice.js';
import { buildZip, type RawEntry, zeroStream } from './archive/zip-writer.js';
import { sharedStreamZip, zip64Claim } from './archive/zip-bombs.js';

const GiB = 2 ** 30;

async function importZip(bytes: Uint8Array): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resona-bomb-'));
  try {
    const file = path.join(dir, 'voice.zip');
    writeFileSync(file, bytes);
    await importVoice(file, path.join(dir, 'library'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function oneBigEntry(name: string): Uint8Array {
  const s = zeroStream(GiB);
  const entry: RawEntry = { name, data: s.data, method: 8, size: s.size };
  return buildZip([entry]);
}

export const cases: Record<string, () => unknown> = {
  // The fuzzer's bomb: a 1 MB voice zip whose entries all share one 1 GiB deflated stream.
  'voice files sharing one 1 GiB stream': () => importZip(sharedStreamZip(['Voice/model.onnx', 'Voice/added_x.index', 'Voice/cover.png', 'Voice/notes.txt'], 'true')),
  'a model entry inflating to 1 GiB of zeros': () => importZip(oneBigEntry('Voice/model.onnx')),
  'a voice zip claiming 4 billion entries': () => importZip(zip64Claim([{ name: 'Voice/model.onnx', data: new Uint8Array(200), method: 0, size: 200 }])),
};
