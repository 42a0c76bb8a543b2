// The fuzz harness itself: each outcome it reports is one it can detect. A pool that missed hangs or memory
// blow-ups would let the fuzz run pass whatever the parsers do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CaseRunner } from './run.js';
import { PROBES, type Outcome } from './types.js';
import { utf8 } from './rng.js';
import { classifyDeath } from './classify.js';

const EXPECTED: Record<(typeof PROBES)[number], Outcome> = {
  accept: 'success',
  'user-error': 'clean-error',
  'multi-line': 'wrong-kind',
  'type-error': 'wrong-kind',
  recurse: 'wrong-kind',
  spin: 'hang',
  allocate: 'memory',
  exit: 'crash',
  killed: 'crash',
};

test('every outcome is told apart: success, clean-error, wrong-kind, hang, memory, crash', { timeout: 60_000 }, async () => {
  // 5 s: on a loaded 2-core machine the allocate probe took over 2 s to fill its 300 MiB and read as a hang.
  const runner = new CaseRunner(1, { timeMs: 5000, memoryBytes: 300 * 1024 * 1024 });
  try {
    for (const probe of PROBES) {
      const r = await runner.run({ id: `probe:0:${probe}`, family: 'probe', label: probe, body: { kind: 'file', target: 'probe', files: { p: utf8(probe) }, input: 'p' } });
      assert.equal(r.outcome, EXPECTED[probe], `${probe}: ${r.message}`);
    }
    // The pool replaced the children it killed: a plain case still runs after them.
    const again = await runner.run({ id: 'probe:0:again', family: 'probe', label: 'again', body: { kind: 'file', target: 'probe', files: { p: utf8('accept') }, input: 'p' } });
    assert.equal(again.outcome, 'success');
  } finally {
    await runner.close();
  }
});

test('a V8 out-of-memory death counts as memory, any other death as a crash', () => {
  assert.equal(classifyDeath(null, 'SIGABRT', 'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory').outcome, 'memory');
  assert.equal(classifyDeath(134, null, 'Segmentation fault').outcome, 'crash');
});
