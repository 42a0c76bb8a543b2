// The voice families Resona runs, in one place: voice.json's "family" picks one, and from it come the
// manifest check, the allowed rates, the knobs the UI shows and how the voice loads. A new family is a
// folder beside rvc/ and one line in PRODUCT_FAMILIES.
import type { VoiceFamily } from './family.js';
import { rvcFamily } from './rvc/family.js';
import { sovitsFamily } from './sovits/family.js';

const PRODUCT_FAMILIES: readonly VoiceFamily[] = [
  rvcFamily,
  sovitsFamily,
];

const families = new Map<string, VoiceFamily>(PRODUCT_FAMILIES.map((f) => [f.id, f]));

/** The family with this id (voice.json's "family"), if Resona has it. */
export function findFamily(id: unknown): VoiceFamily | undefined {
  return typeof id === 'string' && families.has(id) ? families.get(id) : undefined;
}

export function familyIds(): string[] {
  return [...families.keys()];
}

/**
 * Adds a family for as long as the returned function is not called; for tests that prove a family needs
 * nothing but its own folder (a product family goes in PRODUCT_FAMILIES instead, so it is there from the start).
 */
export function registerFamily(f: VoiceFamily): () => void {
  if (families.has(f.id)) throw new Error(`a voice family "${f.id}" is registered already`);
  families.set(f.id, f);
  return () => {
    if (families.get(f.id) === f) families.delete(f.id);
  };
}
