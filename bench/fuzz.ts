// The long fuzz run over Resona's parsers of untrusted input (issue 15): every family, or one, with N cases
// each from a seed, and a table of outcomes with the first example of each bad one.
//   node dist/bench/fuzz.js --cases 2000 --seed 7 [--family wav] [--workers 2]
//   node dist/bench/fuzz.js --case wav:7:123      reruns one case and prints its outcome and message
//   --list prints every case's outcome and message as it finishes
import { parseArgs } from 'node:util';
import { buildCase } from '../test/fuzz/family.js';
import { FAMILIES, familyNamed } from '../test/fuzz/families.js';
import { CaseRunner, runFamilies } from '../test/fuzz/run.js';
import { badCount, formatTable, tally } from '../test/fuzz/table.js';
import { BAD_OUTCOMES } from '../test/fuzz/types.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '200' },
    seed: { type: 'string', default: '7' },
    family: { type: 'string' },
    workers: { type: 'string', default: '2' },
    case: { type: 'string' },
    list: { type: 'boolean', default: false },
  },
});

function whole(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number (got ${v})`);
  return n;
}

if (values.case) {
  const [family, seed, index] = values.case.split(':');
  if (!family || seed === undefined || index === undefined) throw new Error(`--case takes <family>:<seed>:<index>, as the table prints it (got ${values.case})`);
  const spec = await buildCase(familyNamed(family), whole('seed', seed), whole('case index', index));
  const runner = new CaseRunner(1);
  try {
    const r = await runner.run(spec);
    console.log(`${r.id}  ${r.label}\n${r.outcome} in ${r.ms} ms: ${r.message}`);
    process.exitCode = BAD_OUTCOMES.includes(r.outcome) ? 1 : 0;
  } finally {
    await runner.close();
  }
} else {
  const families = values.family ? values.family.split(',').map(familyNamed) : FAMILIES;
  const cases = whole('cases', values.cases);
  const seed = whole('seed', values.seed);
  const t0 = performance.now();
  let done = 0;
  const results = await runFamilies(families, {
    seed,
    cases,
    workers: Math.max(1, whole('workers', values.workers)),
    onResult: (r) => {
      if (values.list) console.log(`${r.id.padEnd(16)} ${r.outcome.padEnd(11)} ${String(r.ms).padStart(6)} ms  ${r.label}: ${r.message}`);
      else if (++done % 100 === 0) process.stderr.write(`  ${done} cases…\n`);
    },
  });
  const rows = tally(results);
  console.log(`fuzz: seed ${seed}, ${cases} cases per family (hand-made cases always included), ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  console.log(formatTable(rows));
  process.exitCode = badCount(rows) ? 1 : 0;
}
