// Where the catalogue's files come from can be changed without a rebuild: RESONA_CATALOGUE_OVERRIDES names a
// JSON file {"<id>": {"url": …, "size": …, "sha256": …}} whose fields replace the built-in entry's. For a
// mirror (an offline studio, a company proxy) and for tests that serve a small file from a local server. The
// contract facts (file name, format, layers) are never overridden: they describe the network, not its source.
import { readFileSync } from 'node:fs';
import { CATALOGUE, type CatalogueEntry } from '../models/catalogue/catalogue.js';
import { UserError } from '../protocol/errors.js';

export class CatalogueOverrideError extends UserError {
  override name = 'CatalogueOverrideError';
  constructor(message: string) {
    super(message, 'model');
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The catalogue with the overrides file's changes applied (the built-in one when the variable is unset). */
export function effectiveCatalogue(env: NodeJS.ProcessEnv = process.env): readonly CatalogueEntry[] {
  const file = env.RESONA_CATALOGUE_OVERRIDES;
  if (!file) return CATALOGUE;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CatalogueOverrideError(`RESONA_CATALOGUE_OVERRIDES: cannot read ${file} as JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new CatalogueOverrideError(`RESONA_CATALOGUE_OVERRIDES: ${file} must hold an object of catalogue id: {url, size, sha256}`);
  const over = raw as Record<string, { url?: unknown; size?: unknown; sha256?: unknown }>;
  for (const id of Object.keys(over)) {
    if (!CATALOGUE.some((e) => e.id === id)) throw new CatalogueOverrideError(`RESONA_CATALOGUE_OVERRIDES: unknown catalogue id "${id}"`);
  }
  return CATALOGUE.map((e) => {
    if (!Object.hasOwn(over, e.id)) return e;
    const o = over[e.id]!;
    const next = { ...e };
    if (o.url !== undefined) {
      if (typeof o.url !== 'string' || !/^https?:\/\//.test(o.url)) throw new CatalogueOverrideError(`RESONA_CATALOGUE_OVERRIDES: ${e.id}.url must be an http(s) URL`);
      next.url = o.url;
    }
    if (o.size !== undefined) {
      if (o.size !== null && (typeof o.size !== 'number' || !Number.isInteger(o.size) || o.size <= 0)) throw new CatalogueOverrideError(`RESONA_CATALOGUE_OVERRIDES: ${e.id}.size must be a byte count or null`);
      next.size = o.size;
    }
    if (o.sha256 !== undefined) {
      if (o.sha256 !== null && (typeof o.sha256 !== 'string' || !HEX64.test(o.sha256))) throw new CatalogueOverrideError(`RESONA_CATALOGUE_OVERRIDES: ${e.id}.sha256 must be 64 lowercase hex digits or null`);
      next.sha256 = o.sha256;
    }
    return next;
  });
}
