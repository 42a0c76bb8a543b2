// A family of cases: hand-made hostile cases first (every run includes them all), then random ones drawn from
// a per-case seeded generator. Bases (valid files the random cases mutate) are built once per process.
import type { Rng } from './rng.js';
import { caseRng } from './rng.js';
import type { CaseSpec, FileCase, ServerCase, TargetName } from './types.js';

export interface Built {
  label: string;
  body: FileCase | ServerCase;
}

export interface Family {
  name: string;
  /** Hand-made cases, in a fixed order. */
  handmade(): Promise<Array<() => Built>>;
  /** One random case. */
  random(rng: Rng): Promise<Built>;
}

/** Case `index` of `family` under `seed`: hand-made below the hand-made count, random above it. */
export async function buildCase(family: Family, seed: number, index: number): Promise<CaseSpec> {
  const hand = await family.handmade();
  const built = index < hand.length ? hand[index]!() : await family.random(caseRng(family.name, seed, index));
  return { id: `${family.name}:${seed}:${index}`, family: family.name, ...built };
}

/** A case of one file handed to `target`. */
export function oneFile(target: TargetName, name: string, bytes: Uint8Array, label: string): Built {
  return { label, body: { kind: 'file', target, files: { [name]: bytes }, input: name } };
}
