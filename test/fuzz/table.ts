// The report: one row per family with the count of each outcome, then the first example of each bad outcome
// per family, with the case id that reproduces it.
import { BAD_OUTCOMES, OUTCOMES, type CaseResult, type Outcome } from './types.js';

export interface FamilyRow {
  family: string;
  cases: number;
  counts: Record<Outcome, number>;
  /** First case of each bad outcome. */
  examples: Partial<Record<Outcome, CaseResult>>;
}

export function tally(results: readonly CaseResult[]): FamilyRow[] {
  const rows = new Map<string, FamilyRow>();
  for (const r of results) {
    let row = rows.get(r.family);
    if (!row) {
      row = { family: r.family, cases: 0, counts: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>, examples: {} };
      rows.set(r.family, row);
    }
    row.cases++;
    row.counts[r.outcome]++;
    if (BAD_OUTCOMES.includes(r.outcome) && !row.examples[r.outcome]) row.examples[r.outcome] = r;
  }
  return [...rows.values()];
}

export function formatTable(rows: readonly FamilyRow[]): string {
  const head = ['family', 'cases', ...OUTCOMES];
  const body = rows.map((r) => [r.family, String(r.cases), ...OUTCOMES.map((o) => String(r.counts[o]))]);
  const total = ['total', String(rows.reduce((n, r) => n + r.cases, 0)), ...OUTCOMES.map((o) => String(rows.reduce((n, r) => n + r.counts[o], 0)))];
  const all = [head, ...body, total];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line), line(total)];
  const examples = rows.flatMap((r) => BAD_OUTCOMES.filter((o) => r.examples[o]).map((o) => {
    const e = r.examples[o]!;
    return `  ${o.padEnd(10)} ${e.id}  (${e.label})  ${e.message}`;
  }));
  if (examples.length) out.push('', 'first example of each bad outcome (reproduce with --case <id>):', ...examples);
  return out.join('\n');
}

export function badCount(rows: readonly FamilyRow[]): number {
  return rows.reduce((n, r) => n + BAD_OUTCOMES.reduce((m, o) => m + r.counts[o], 0), 0);
}
