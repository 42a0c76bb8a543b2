// Runs cases: file cases laid out in a fresh folder each and handed to the child pool, server cases one at a
// time against the running servers. Results come back in case order.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildCase, type Family } from './family.js';
import { ChildPool } from './pool.js';
import { ServerRunner } from './server-run.js';
import { DEFAULT_LIMITS, type CaseResult, type CaseSpec, type FileCase, type Limits } from './types.js';

export interface RunOptions {
  seed: number;
  /** Cases per family; the hand-made ones always run, so a family runs at least that many. */
  cases: number;
  /** Child processes for file cases. */
  workers?: number;
  limits?: Limits;
  /** Called as each case finishes (progress output). */
  onResult?: (r: CaseResult) => void;
}

async function layOut(c: FileCase, dir: string): Promise<void> {
  for (const [rel, content] of Object.entries(c.files)) {
    const file = path.join(dir, rel);
    await fs.mkdir(path.dirname(file), { recursive: true });
    if (content instanceof Uint8Array) await fs.writeFile(file, content);
    else await fs.symlink(content.symlink, file);
  }
}

export class CaseRunner {
  private readonly pool: ChildPool;
  private readonly server = new ServerRunner();
  /** One folder for the run's cases; a promise, so lanes starting together share it. */
  private root: Promise<string> | null = null;
  private n = 0;

  constructor(
    workers: number,
    private readonly limits: Limits = DEFAULT_LIMITS,
  ) {
    this.pool = new ChildPool(workers);
  }

  async run(spec: CaseSpec): Promise<CaseResult> {
    const t0 = performance.now();
    const verdict = spec.body.kind === 'file' ? await this.runFile(spec.body) : await this.server.run(spec.body, this.limits);
    return { id: spec.id, family: spec.family, label: spec.label, ...verdict, ms: Math.round(performance.now() - t0) };
  }

  private async runFile(c: FileCase) {
    this.root ??= fs.mkdtemp(path.join(os.tmpdir(), 'resona-fuzz-'));
    const dir = path.join(await this.root, String(this.n++));
    const caseDir = path.join(dir, 'case');
    const work = path.join(dir, 'work');
    await fs.mkdir(work, { recursive: true });
    await layOut(c, caseDir);
    try {
      return await this.pool.run(c.target, path.join(caseDir, c.input), work, this.limits);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    this.pool.close();
    await this.server.close();
    if (this.root) await fs.rm(await this.root, { recursive: true, force: true });
  }
}

/** Case indexes of a family for a run: every hand-made one, then random ones up to `cases`. */
export async function caseIndexes(family: Family, cases: number): Promise<number[]> {
  const hand = (await family.handmade()).length;
  return Array.from({ length: Math.max(hand, cases) }, (_, i) => i);
}

/** Runs `families` and returns every result. File cases run `workers` at a time; server cases one at a time. */
export async function runFamilies(families: readonly Family[], o: RunOptions): Promise<CaseResult[]> {
  const runner = new CaseRunner(o.workers ?? 2, o.limits ?? DEFAULT_LIMITS);
  const results: CaseResult[] = [];
  try {
    for (const family of families) {
      const indexes = await caseIndexes(family, o.cases);
      const parallel = family.name === 'server' ? 1 : (o.workers ?? 2);
      let next = 0;
      const lane = async () => {
        while (next < indexes.length) {
          const spec = await buildCase(family, o.seed, indexes[next++]!);
          const r = await runner.run(spec);
          results.push(r);
          o.onResult?.(r);
        }
      };
      await Promise.all(Array.from({ length: parallel }, lane));
    }
  } finally {
    await runner.close();
  }
  const order = (id: string) => Number(id.split(':')[2]);
  return results.sort((a, b) => families.findIndex((f) => f.name === a.family) - families.findIndex((f) => f.name === b.family) || order(a.id) - order(b.id));
}
