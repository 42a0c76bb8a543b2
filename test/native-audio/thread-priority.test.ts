// Each live thread raises itself, and only itself: the audio worker to round-robin real time (or nice −11
// without the right), the inference worker to nice −11 and never real time, the main thread left alone.
// Read back from the kernel (/proc/<pid>/task/<tid>/stat), not from what the function says it did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { AUDIO_NICE, AUDIO_RT_PRIORITY, type PriorityResult } from '../../native-audio/thread-priority.js';

const SCHED_OTHER = 0;
const SCHED_RR = 2;

/** nice, rt_priority and policy of a thread, from its stat line (fields 19, 40 and 41). */
function sched(tid: string): { nice: number; rtPriority: number; policy: number } {
  const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { nice: Number(f[16]), rtPriority: Number(f[37]), policy: Number(f[38]) };
}

/** Runs raiseThisThread(role) in a fresh worker thread; answers what it said and that thread's id. */
async function inWorker(role: 'audio' | 'inference'): Promise<{ r: PriorityResult; tid: string; after: ReturnType<typeof sched> }> {
  const url = new URL('../../native-audio/thread-priority.js', import.meta.url).href;
  const w = new Worker(
    `const { parentPort } = require('node:worker_threads');
     const { readlinkSync } = require('node:fs');
     import(${JSON.stringify(url)}).then((m) => {
       const r = m.raiseThisThread(${JSON.stringify(role)});
       parentPort.postMessage({ r, tid: readlinkSync('/proc/thread-self').split('/').pop() });
       // Stay alive until the parent has read this thread's state.
       parentPort.once('message', () => process.exit(0));
     });`,
    { eval: true },
  );
  const m = await new Promise<{ r: PriorityResult; tid: string }>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  const after = sched(m.tid);
  w.postMessage('done');
  await new Promise((r) => w.once('exit', r));
  return { ...m, after };
}

const linux = process.platform === 'linux';

test('the audio thread gets round-robin real time where allowed (else nice −11), and only that thread', { skip: !linux && 'per-thread scheduling is Linux only' }, async () => {
  const main = sched(String(process.pid));
  const { r, after } = await inWorker('audio');
  if (r.level === 'realtime') {
    assert.equal(after.policy, SCHED_RR);
    assert.equal(after.rtPriority, AUDIO_RT_PRIORITY);
  } else if (r.level === 'raised') {
    assert.equal(after.policy, SCHED_OTHER);
    assert.equal(after.nice, AUDIO_NICE);
  } else {
    assert.ok(r.warning && /normal priority/.test(r.warning), `a thread left at normal priority says so: ${JSON.stringify(r)}`);
  }
  assert.deepEqual(sched(String(process.pid)), main, 'the main thread is not raised');
});

test('the inference thread gets nice −11, never real time (a neural voice can keep a core busy)', { skip: !linux && 'per-thread scheduling is Linux only' }, async () => {
  const { r, after } = await inWorker('inference');
  assert.notEqual(r.level, 'realtime');
  assert.equal(after.policy, SCHED_OTHER);
  if (r.level === 'raised') assert.equal(after.nice, AUDIO_NICE);
});
