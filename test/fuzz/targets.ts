// What each file case is run through, in the child process: the same entry points the product uses for that
// kind of file. A target resolves when the input is accepted and throws what the product would throw.
// The voice importer is also held to what it must never do, whatever the input: write outside its library,
// or bring a file from outside the voice folder in through a link.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readAudioFile } from '../../host/audio-file.js';
import { readFaissIndex } from '../../models/index/faiss-ivf.js';
import { readCheckpointFile } from '../../models/torch/checkpoint.js';
import { hubertConfigFromCheckpoint } from '../../models/torch/hubert-config.js';
import { hubertFraming } from '../../models/torch/hubert-graph.js';
import { importVoice } from '../../models/voices/import-voice.js';
import { readManifest } from '../../models/voices/manifest.js';
import type { VoiceManifest } from '../../protocol/voice-manifest.js';
import { UserError } from '../../protocol/errors.js';
import { ESCAPE_NAME, PROBES, type TargetName } from './types.js';

/** A broken promise of the product (not an error it reports): classified as wrong-kind. */
export class InvariantError extends Error {
  override name = 'InvariantError';
}

type Target = (input: string, work: string) => Promise<unknown>;

async function walk(dir: string, visit: (file: string, isLink: boolean) => Promise<void>): Promise<void> {
  for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    await visit(p, e.isSymbolicLink());
    if (e.isDirectory()) await walk(p, visit);
  }
}

async function checkImportInvariants(work: string, library: string): Promise<void> {
  for (const dir of [os.tmpdir(), path.dirname(work), work, path.dirname(path.dirname(work)), path.dirname(library)]) {
    const escaped = path.join(dir, ESCAPE_NAME);
    if (await fs.lstat(escaped).then(() => true, () => false)) {
      await fs.rm(escaped, { force: true });
      throw new InvariantError(`the import wrote ${escaped}, outside its library`);
    }
  }
  const passwd = await fs.readFile('/etc/passwd').catch(() => null);
  await walk(library, async (file, isLink) => {
    if (isLink) throw new InvariantError(`the library holds a symbolic link: ${file}`);
    const st = await fs.stat(file);
    if (passwd && st.isFile() && st.size === passwd.length && (await fs.readFile(file)).equals(passwd)) {
      throw new InvariantError(`the import copied /etc/passwd into the library as ${path.relative(library, file)} (through a link)`);
    }
  });
}

/** An accepted manifest holds numbers the product can use: 1e308 speakers passes Number.isInteger, not this. */
function checkAccepted(m: VoiceManifest): VoiceManifest {
  if (!Number.isSafeInteger(m.speakers)) throw new InvariantError(`voice.json was accepted with speakers ${m.speakers}`);
  return m;
}

/** Does what its file names, so the harness's test can check that every outcome is told apart. */
async function probe(input: string): Promise<unknown> {
  const what = (await fs.readFile(input, 'utf8')).trim() as (typeof PROBES)[number];
  switch (what) {
    case 'accept': return true;
    case 'user-error': throw new UserError('a one-line refusal', 'file');
    case 'multi-line': {
      const e = new UserError('x', 'file');
      Object.defineProperty(e, 'message', { value: 'line one\nline two' });
      throw e;
    }
    case 'type-error': return (null as unknown as { x: number }).x;
    case 'recurse': {
      const f = (n: number): number => f(n + 1) + 1;
      return f(0);
    }
    case 'spin': for (;;);
    case 'allocate': {
      const keep: Uint8Array[] = [];
      for (;;) keep.push(new Uint8Array(16 << 20).fill(1));
    }
    case 'exit': return process.exit(3);
    case 'killed': return process.kill(process.pid, 'SIGKILL');
    default: throw new Error(`unknown probe ${what}`);
  }
}

export const TARGETS: Record<TargetName, Target> = {
  checkpoint: (input) => readCheckpointFile(input),
  async hubert(input) {
    const cfg = hubertConfigFromCheckpoint(await readCheckpointFile(input));
    return hubertFraming(cfg);
  },
  faiss: (input) => readFaissIndex(input),
  audio: (input) => readAudioFile(input),
  async 'voice-import'(input, work) {
    const library = path.join(work, 'library');
    try {
      return checkAccepted(await importVoice(input, library, { threads: 1 }));
    } finally {
      await checkImportInvariants(work, library);
    }
  },
  'voice-manifest': async (input) => checkAccepted(await readManifest(input)),
  probe,
};

