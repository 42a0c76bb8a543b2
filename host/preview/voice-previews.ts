// Voice previews: the reference phrase rendered by a voice through the same convert path as `resona convert`
// (so a preview is what that voice really sounds like with its remembered settings), cached as a WAV under
// $RESONA_HOME/cache/previews named by a hash of everything that shapes it. A second request for the same
// voice and settings is a file lookup. Renders run one at a time (they are CPU work beside a live voice), and
// two requests for the same preview share one render.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { VoicePreview } from '../../protocol/control.js';
import type { EngineSettings } from '../../protocol/settings.js';
import type { VoiceInfo } from '../../protocol/voices.js';
import { writeWavAtomic } from '../audio-file.js';
import { convertSamples } from '../convert.js';
import { REFERENCE_PHRASE_VERSION, REFERENCE_RATE, referencePhrase } from './reference-phrase.js';

import { PREVIEW_URL_PREFIX, previewPath } from './preview-files.js';

export { previewCacheDir } from './preview-files.js';

/**
 * Previews kept before the oldest are removed: every settings change makes a new one (about 440 KB each), and
 * a cache that only grows would fill a disk over months of slider moves. 200 is about 90 MB.
 */
export const MAX_CACHED_PREVIEWS = 200;

export class VoicePreviews {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly inFlight = new Map<string, Promise<VoicePreview>>();

  constructor(
    readonly dir: string,
    private readonly maxCached = MAX_CACHED_PREVIEWS,
  ) {}

  /**
   * The cache key: the phrase's version, the voice (id, kind, and its folder's identity, so a voice imported
   * again under the same id is rendered anew), the settings, and the estimator (always the built-in YIN, so a
   * preview never waits on a network download).
   */
  async key(v: VoiceInfo, settings: EngineSettings): Promise<string> {
    let folder: string | null = null;
    if (v.path) {
      const st = await fs.stat(v.path).catch(() => null);
      folder = st ? `${v.path}:${st.mtimeMs}:${st.size}` : v.path;
    }
    const ordered = Object.fromEntries(Object.entries(settings).sort(([a], [b]) => a.localeCompare(b)));
    const basis = JSON.stringify({ phrase: REFERENCE_PHRASE_VERSION, rate: REFERENCE_RATE, voice: v.id, kind: v.kind, folder, settings: ordered, f0: 'yin' });
    return createHash('sha256').update(basis).digest('hex');
  }

  /** The voice's preview with these settings: from the cache, else rendered now and cached. */
  async get(v: VoiceInfo, settings: EngineSettings): Promise<VoicePreview> {
    const key = await this.key(v, settings);
    const file = path.join(this.dir, `${key}.wav`);
    const url = `${PREVIEW_URL_PREFIX}${key}.wav`;
    const durationMs = (referencePhrase().length / REFERENCE_RATE) * 1000;
    const base = { voice: v.id, url, durationMs, sampleRate: REFERENCE_RATE };
    if (await fs.stat(file).then((s) => s.isFile(), () => false)) return { ...base, renderMs: 0, cached: true };
    const running = this.inFlight.get(key);
    if (running) return running;
    const render = (async () => {
      const t0 = performance.now();
      const r = await convertSamples(referencePhrase(), REFERENCE_RATE, { voice: v.id, settings });
      await fs.mkdir(this.dir, { recursive: true });
      await writeWavAtomic(file, r.output, r.sampleRate);
      await this.prune();
      return { ...base, renderMs: Math.round(performance.now() - t0), cached: false };
    });
    const p = this.chain.then(render, render);
    this.chain = p.catch(() => undefined);
    this.inFlight.set(key, p);
    try {
      return await p;
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** Removes the least recently written previews beyond MAX_CACHED_PREVIEWS (best effort: a failure only keeps files). */
  private async prune(): Promise<void> {
    const names = (await fs.readdir(this.dir).catch(() => [] as string[])).filter((n) => previewPath(n, this.dir));
    if (names.length <= this.maxCached) return;
    const aged = await Promise.all(names.map(async (n) => ({ n, t: (await fs.stat(path.join(this.dir, n)).catch(() => null))?.mtimeMs ?? 0 })));
    aged.sort((a, b) => a.t - b.t);
    for (const { n } of aged.slice(0, aged.length - this.maxCached)) await fs.rm(path.join(this.dir, n), { force: true });
  }

  /** A cached preview's bytes by file name, or null (a name that is not a key, or not rendered yet). */
  async read(name: string): Promise<Buffer | null> {
    const file = previewPath(name, this.dir);
    return file ? fs.readFile(file).catch(() => null) : null;
  }
}
