// Where cached voice previews live and which names may be served, in a module light enough for Electron's main
// process (which serves them over resona://) to import without pulling in the engine.
import path from 'node:path';
import { modelsDir } from '../../models/catalogue/catalogue.js';

/** The URL path the server and Electron's resona:// handler serve cached previews under. */
export const PREVIEW_URL_PREFIX = '/voice-sample/';
/** A cached preview's file name: its cache key in hex and .wav; anything else is never served. */
export const PREVIEW_FILE = /^[0-9a-f]{64}\.wav$/;

/** $RESONA_HOME/cache/previews (the home is the folder that holds models/, voices/ and presets.json). */
export function previewCacheDir(home = path.dirname(modelsDir())): string {
  return path.join(home, 'cache', 'previews');
}

/** The cached file for a served name, or null when the name is not a preview key (no path ever comes from a client). */
export function previewPath(name: string, dir = previewCacheDir()): string | null {
  return PREVIEW_FILE.test(name) ? path.join(dir, name) : null;
}
