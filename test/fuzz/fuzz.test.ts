// The CI-sized fuzz run (issue 15): a fixed seed, every hand-made hostile case of every family and random
// ones up to a few dozen per family, each in a child process under 10 s and 500 MB (server cases against a
// real `resona serve`). Bad input may be accepted or refused with a one-line UserError; a wrong kind of
// error, a hang, a memory blow-up or a crash is a defect. The longer run is bench/fuzz.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAMILIES } from './families.js';
import { runFamilies } from './run.js';
import { formatTable, tally } from './table.js';
import { BAD_OUTCOMES } from './types.js';

const SEED = 15;
const CASES_PER_FAMILY = 45;

test('hostile input: no wrong-kind error, hang, memory blow-up or crash in any family', { timeout: 900_000 }, async () => {
  const t0 = performance.now();
  const results = await runFamilies(FAMILIES, { seed: SEED, cases: CASES_PER_FAMILY, workers: 2 });
  const rows = tally(results);
  const table = formatTable(rows);
  console.log(`fuzz: seed ${SEED}, ${results.length} cases in ${((performance.now() - t0) / 1000).toFixed(1)} s\n${table}`);
  // Every family ran, valid inputs included: a harness that refused everything would pass vacuously.
  assert.deepEqual(rows.map((r) => r.family), FAMILIES.map((f) => f.name));
  for (const r of rows) assert.ok(r.counts.success > 0, `${r.family}: not even its valid base was accepted`);
  const bad = results.filter((r) => BAD_OUTCOMES.includes(r.outcome));
  assert.equal(bad.length, 0, `${bad.length} defects:\n${bad.map((r) => `  ${r.outcome} ${r.id} (${r.label}): ${r.message}`).join('\n')}\n${table}`);
});
