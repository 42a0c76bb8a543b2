// `resona models`: what the catalogue holds, where it lives, and downloading the shared networks voices need.
// The second parameter exists for tests and embedders: a catalogue whose URLs point at a local server, an
// environment (RESONA_HOME), output streams and a fetch. The command line itself has no catalogue override.
import { statSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import {
  CATALOGUE,
  catalogueEntry,
  downloadModel,
  DownloadError,
  findModel,
  ModelMissingError,
  modelsDir,
  modelStatus,
  readPin,
  UnknownModelError,
  userSuppliedF0Networks,
  writePin,
  type CatalogueEntry,
  type ModelStatus,
  type UserSuppliedNetwork,
} from '../host/models.js';
import { parse, UsageError } from './args.js';

export const MODELS_USAGE = `usage: resona models [list | path | download <id> [--allow-unverified]]
  list                 (the default) every network Resona can use, its status, size and path
  path                 print the models folder: $RESONA_HOME/models, else the per-user data folder
  download <id>        fetch a model, resuming an interrupted download; checks its size and SHA-256
    --allow-unverified   accept a model whose SHA-256 is not published: the download cannot be checked, so
                         Resona prints the SHA-256 of what it got and pins it (a later change then shows)
`;

type Out = NodeJS.WritableStream & { isTTY?: boolean };

export interface ModelsCommandIO {
  catalogue?: readonly CatalogueEntry[];
  env?: NodeJS.ProcessEnv;
  stdout?: Out;
  stderr?: Out;
  fetchImpl?: typeof fetch;
  /** Networks listed beside the catalogue that the user supplies (default: SwiftF0 and CREPE). */
  userSupplied?: readonly UserSuppliedNetwork[];
}

export async function modelsCommand(argv: string[], io: ModelsCommandIO = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  try {
    const { values, positionals } = parse(argv, { 'allow-unverified': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
    if (values.help) {
      stdout.write(MODELS_USAGE);
      return 0;
    }
    const [sub, id, ...extra] = positionals;
    const catalogue = io.catalogue ?? CATALOGUE;
    const dir = modelsDir(io.env ?? process.env);
    if (sub === 'download') {
      if (id === undefined) throw new UsageError(`'resona models download' needs a model id: one of ${catalogue.map((e) => e.id).join(', ')}`);
      if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
      return await download(catalogueEntry(id, catalogue), dir, catalogue, values['allow-unverified'] === true, { stdout, stderr, fetchImpl: io.fetchImpl });
    }
    if (id !== undefined) throw new UsageError(`unexpected argument "${id}"`);
    if (values['allow-unverified']) throw new UsageError(`--allow-unverified goes with 'resona models download'`);
    if (sub === 'path') {
      stdout.write(`${dir}\n`);
      return 0;
    }
    if (sub === undefined || sub === 'list') {
      list(catalogue, io.userSupplied ?? userSuppliedF0Networks(), dir, stdout);
      return 0;
    }
    throw new UsageError(`unknown models command "${sub}"; try 'resona models --help'`);
  } catch (e) {
    if (e instanceof UsageError || e instanceof UnknownModelError) {
      stderr.write(`resona: error: ${e.message}\n`);
      return 2;
    }
    if (e instanceof DownloadError || e instanceof ModelMissingError) {
      stderr.write(`resona: error: ${e.message}\n`);
      return e instanceof DownloadError && e.reason === 'aborted' ? 130 : 1;
    }
    throw e;
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** The status word a user sees, and a note that says what to do about it. */
function describe(e: CatalogueEntry, s: ModelStatus): { word: string; note: string } {
  const cmd = `'resona models download ${e.id}${e.sha256 === null ? ' --allow-unverified' : ''}'`;
  const partial = s.partial > 0 ? `partial download of ${mb(s.partial)}: ${cmd} resumes it` : '';
  switch (s.state) {
    case 'verified':
      return { word: 'present', note: '' };
    case 'unverified': {
      if (e.sha256 !== null) return { word: 'unverified', note: `SHA-256 not checked yet: ${cmd} checks it` };
      const pin = readPin(s.path);
      if (!pin) return { word: 'unverified', note: 'no published SHA-256 to check it against' };
      if (!pin.unchanged) return { word: 'changed', note: `differs from the download whose SHA-256 was pinned (${pin.sha256}); delete it and download again if you did not change it` };
      return { word: 'present', note: `no published SHA-256; pinned at download: ${pin.sha256}` };
    }
    case 'wrong-size':
      return { word: 'wrong size', note: `has ${mb(s.size)}; ${partial || `${cmd} replaces it`}` };
    case 'missing':
      return { word: 'missing', note: partial };
  }
}

/** The size column: the published size, else the size on disk, else a word (never a bare "?"). */
function sizeText(e: CatalogueEntry, s: ModelStatus): string {
  if (e.size !== null) return mb(e.size);
  return s.size > 0 ? mb(s.size) : 'unpublished';
}

function list(catalogue: readonly CatalogueEntry[], userSupplied: readonly UserSuppliedNetwork[], dir: string, out: Out): void {
  out.write(`models folder: ${dir}\n`);
  for (const e of catalogue) {
    const s = modelStatus(e, dir);
    const { word, note } = describe(e, s);
    out.write(`${e.id.padEnd(20)} ${e.kind.padEnd(16)} ${word.padEnd(11)} ${sizeText(e, s).padStart(11)}  ${s.path}${note ? `  (${note})` : ''}\n`);
  }
  if (userSupplied.length === 0) return;
  // No published download exists for these: say where the file goes instead of offering a command that cannot work.
  out.write(`pitch networks you supply yourself (no published download; put the file in the models folder, or pass --f0 <file.onnx>):\n`);
  for (const n of userSupplied) {
    const file = path.join(dir, n.file);
    const size = fileSize(file);
    out.write(`${n.id.padEnd(20)} ${'f0'.padEnd(16)} ${(size === null ? 'missing' : 'present').padEnd(11)} ${(size === null ? '' : mb(size)).padStart(11)}  ${file}  (${n.description})\n`);
  }
}

function fileSize(file: string): number | null {
  try {
    const st = statSync(file);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

interface DownloadIO {
  stdout: Out;
  stderr: Out;
  fetchImpl: typeof fetch | undefined;
}

async function download(e: CatalogueEntry, dir: string, catalogue: readonly CatalogueEntry[], allowUnverified: boolean, io: DownloadIO): Promise<number> {
  const before = modelStatus(e, dir);
  if (e.sha256 === null && !allowUnverified && before.state !== 'unverified') {
    // One line, in words: what an unpublished hash means and the one command that proceeds.
    io.stderr.write(
      `resona: error: nobody publishes a SHA-256 for ${e.id} (${e.file}), so Resona cannot check that the download is the intended ` +
        `file (a corrupted or tampered copy would look the same). To download it anyway, run ` +
        `'resona models download ${e.id} --allow-unverified': Resona then prints the SHA-256 of what it got and pins it, ` +
        `so you can compare it with another source and a later change to the file shows in 'resona models'.\n`,
    );
    return 1;
  }
  if (before.state === 'verified' || (before.state === 'unverified' && e.sha256 === null)) {
    io.stdout.write(`${e.id}: already present${before.state === 'verified' ? ' and verified' : ''}: ${before.path}\n`);
    return 0;
  }
  if (before.state === 'unverified') {
    // A file that arrived some other way: hashing it is quicker than fetching it again.
    io.stderr.write(`${e.id}: checking the SHA-256 of ${before.path}\n`);
    if (await findModel(e.id, { verify: true, dir, catalogue })) {
      io.stdout.write(`${e.id}: already present and verified: ${before.path}\n`);
      return 0;
    }
    io.stderr.write(`${e.id}: ${before.path} does not match the published SHA-256; downloading it again\n`);
  }
  const progress = new DownloadProgress(io.stderr, e.file);
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.once('SIGINT', onSigint);
  try {
    const r = await downloadModel(e, dir, { allowUnverified, signal: ac.signal, fetchImpl: io.fetchImpl, onProgress: (d, t) => progress.update(d, t) });
    progress.done();
    const resumed = r.resumedFrom > 0 ? `, resumed at ${mb(r.resumedFrom)}` : '';
    if (!r.verified) await writePin(r.path, r.sha256);
    const check = r.verified ? 'SHA-256 verified' : `SHA-256 ${r.sha256}, not verified: none is published; pinned, so a later change shows in 'resona models'`;
    io.stdout.write(`${e.id}: saved ${r.path} (${mb(r.size)}${resumed}, ${check})\n`);
    return 0;
  } finally {
    progress.done();
    process.removeListener('SIGINT', onSigint);
  }
}

/** A bar on a terminal; elsewhere (logs, CI) a line every 10 % so the output stays readable. */
class DownloadProgress {
  private bar: cliProgress.SingleBar | null = null;
  private nextLine = 0;

  constructor(
    private readonly stream: Out,
    private readonly file: string,
  ) {}

  update(done: number, total: number | null): void {
    if (this.stream.isTTY && total) {
      const payload = { doneMB: (done / 1e6).toFixed(1), totalMB: (total / 1e6).toFixed(1) };
      if (!this.bar) {
        this.bar = new cliProgress.SingleBar(
          { stream: this.stream, format: `${this.file} [{bar}] {percentage}% | {doneMB}/{totalMB} MB | eta {eta_formatted}`, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        this.bar.start(total, done, payload);
      } else {
        this.bar.update(done, payload);
      }
      return;
    }
    const step = total ? total / 10 : 25e6;
    if (done < this.nextLine && done !== total) return;
    const pct = total ? `${Math.floor((100 * done) / total)}% (${mb(done)} of ${mb(total)})` : mb(done);
    this.stream.write(`${this.file}: ${pct}\n`);
    this.nextLine = (Math.floor(done / step) + 1) * step;
  }

  done(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
