// The shared networks as the UI sees them: each pitch network the f0 menu offers and each ONNX content encoder
// neural voices use, with its state on disk, and downloads from the catalogue with their progress pushed as
// events. An entry with no published SHA-256 is fetched only when the request says allowUnverified (the UI asks
// the user first); what arrived is then hashed and pinned beside the file, and the hash goes back to the user.
import path from 'node:path';
import { existsSync, statSync } from 'node:fs';
import type { DownloadProgress, DownloadResultInfo, NetworkInfo, NetworkState } from '../../protocol/models.js';
import { catalogueEntry, type CatalogueEntry, downloadModel, DownloadError, modelStatus, readPin, userSuppliedF0Networks, writePin } from '../models.js';
import { UserError } from '../../protocol/errors.js';
import { RequestError } from './errors.js';

/** Progress events at most this often per download: a browser needs no more, and a fast disk would flood it. */
const PROGRESS_INTERVAL_MS = 100;

export class ModelDirectory {
  private readonly running = new Map<string, Promise<DownloadResultInfo>>();
  /** Aborts every download when the host closes; each keeps its .part, which the next download resumes. */
  private readonly closing = new AbortController();

  constructor(
    private readonly catalogue: readonly CatalogueEntry[],
    private readonly dir: string,
    private readonly emit: (p: DownloadProgress) => void,
  ) {}

  /** What the UI lists: the catalogue's ONNX networks (a .pt needs the CLI's import) and the f0 networks nobody publishes. */
  list(): NetworkInfo[] {
    const out: NetworkInfo[] = [];
    for (const e of this.catalogue) {
      if (e.format !== 'onnx') continue;
      const s = modelStatus(e, this.dir);
      let state: NetworkState = s.state === 'verified' ? 'present' : s.state;
      let pinned: string | null = null;
      if (s.state === 'unverified' && e.sha256 === null) {
        const pin = readPin(s.path);
        pinned = pin?.sha256 ?? null;
        state = pin && !pin.unchanged ? 'changed' : pin ? 'present' : 'unverified';
      }
      out.push({ id: e.id, kind: e.kind, description: e.description, file: e.file, path: s.path, state, downloadable: true, size: e.size, sha256: e.sha256, pinned, partial: s.partial });
    }
    for (const n of userSuppliedF0Networks()) {
      const file = path.join(this.dir, n.file);
      const present = existsSync(file) && statSync(file).isFile();
      out.push({ id: n.id, kind: 'f0', description: n.description, file: n.file, path: file, state: present ? 'present' : 'missing', downloadable: false, size: null, sha256: null, pinned: null, partial: 0 });
    }
    return out;
  }

  /** Downloads a catalogue network; a second request for one under way joins it. */
  download(id: string, allowUnverified: boolean): Promise<DownloadResultInfo> {
    const e = this.entry(id);
    const running = this.running.get(e.id);
    if (running) return running;
    if (e.sha256 === null && !allowUnverified) {
      throw new RequestError(
        `nobody publishes a SHA-256 for ${e.id} (${e.file}), so Resona cannot check that the download is the intended file: ` +
          'confirm "download unverified" to fetch it anyway; Resona then shows the SHA-256 of what arrived and pins it',
        `model-${e.id}`,
      );
    }
    const p = this.run(e, allowUnverified).finally(() => this.running.delete(e.id));
    this.running.set(e.id, p);
    return p;
  }

  /** Stops the downloads under way (their partial files stay for a resume) and waits for them to settle. */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([...this.running.values()]);
  }

  private entry(id: string): CatalogueEntry {
    const supplied = userSuppliedF0Networks().find((n) => n.id === id);
    if (supplied) {
      throw new RequestError(`${id} has no published download: put ${supplied.file} in ${this.dir} yourself`, `model-${id}`);
    }
    try {
      return catalogueEntry(id, this.catalogue);
    } catch (e) {
      throw new RequestError((e as Error).message, `model-${id}`);
    }
  }

  private async run(e: CatalogueEntry, allowUnverified: boolean): Promise<DownloadResultInfo> {
    let last = 0;
    const progress = (done: number, total: number | null) => {
      const now = performance.now();
      if (now - last < PROGRESS_INTERVAL_MS && done !== total) return;
      last = now;
      this.emit({ id: e.id, phase: 'downloading', done, total });
    };
    try {
      const r = await downloadModel(e, this.dir, { allowUnverified, onProgress: progress, signal: this.closing.signal });
      // No published hash: record what arrived, so a later change to the file shows (as the CLI does).
      if (!r.verified) await writePin(r.path, r.sha256);
      const info: DownloadResultInfo = { id: e.id, path: r.path, size: r.size, sha256: r.sha256, verified: r.verified, resumedFrom: r.resumedFrom };
      this.emit({ id: e.id, phase: 'done', done: r.size, total: r.size, sha256: r.sha256, verified: r.verified, resumedFrom: r.resumedFrom });
      return info;
    } catch (err) {
      // Never a silent failure: every client hears why, and the answer carries it to the one who asked.
      const message = err instanceof Error ? err.message : String(err);
      this.emit({ id: e.id, phase: 'failed', done: 0, total: null, message });
      if (err instanceof DownloadError) throw new DownloadFailed(err, e.id);
      throw err;
    }
  }
}

/** A download's failure (still a model error), placed beside the network it concerns in the UI. */
export class DownloadFailed extends UserError {
  override name = 'DownloadFailed';
  constructor(e: DownloadError, id: string) {
    super(e.message, 'model', `model-${id}`);
  }
}
