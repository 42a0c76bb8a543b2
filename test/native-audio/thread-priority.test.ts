// The audio worker's thread raises itself, and only itself, to round-robin real time where allowed; the rest of
// the host (and the audio thread, where real time was refused) then goes to nice −11, never real time.
// Read back from the kernel (/proc/<pid>/task/<tid>/stat), not from what the functions say they did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { AUDIO_NICE, AUDIO_RT_PRIORITY, raiseAllThreads } from '../../native-audio/thread-priority.js';

const SCHED_OTHER = 0;
const SCHED_RR = 2;

/** nice, rt_priority and policy of a thread, from its stat line (fields 19, 40 and 41). */
function sched(tid: string): { nice: number; rtPriority: number; policy: number } {
  const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { nice: Number(f[16]), rtPriority: Number(f[37]), policy: Number(f[38]) };
}

/** Raises a fresh worker thread as the audio worker does; `then` runs while it is still alive. */
async function audioWorker<T>(then: (realtime: boolean, tid: string) => T): Promise<T> {
  const url = new URL('../../native-audio/thread-priority.js', import.meta.url).href;
  const w = new Worker(
    `const { parentPort } = require('node:worker_threads');
     const { readlinkSync } = require('node:fs');
     import(${JSON.stringify(url)}).then((m) => {
       const realtime = m.raiseAudioThread();
       parentPort.postMessage({ realtime, tid: readlinkSync('/proc/thread-self').split('/').pop() });
       // Stay alive until the parent has read this thread's state.
       parentPort.once('message', () => process.exit(0));
     });`,
    { eval: true },
  );
  const m = await new Promise<{ realtime: boolean; tid: string }>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  try {
    return then(m.realtime, m.tid);
  } finally {
    w.postMessage('done');
    await new Promise((r) => w.once('exit', r));
  }
}

const linux = process.platform === 'linux';

test('the audio thread gets round-robin real time where allowed, and only that thread; then every other thread nice −11', { skip: !linux && 'per-thread scheduling is Linux only' }, async () => {
  const main = sched(String(process.pid));
  await audioWorker((realtime, tid) => {
    const after = sched(tid);
    // What it says it got is what the kernel has.
    if (realtime) {
      assert.equal(after.policy, SCHED_RR);
      assert.equal(after.rtPriority, AUDIO_RT_PRIORITY);
    } else {
      assert.equal(after.policy, SCHED_OTHER);
    }
    assert.deepEqual(sched(String(process.pid)), main, 'the main thread is not raised with it');
    // The host's step once its devices are open: every thread to nice −11; the audio thread keeps real time.
    const all = raiseAllThreads();
    if (all.level === 'raised') {
      for (const t of readdirSync('/proc/self/task')) {
        const s = sched(t);
        if (t === tid && realtime) assert.equal(s.policy, SCHED_RR, 'the audio thread lost real time');
        else assert.deepEqual([s.policy, s.nice], [SCHED_OTHER, AUDIO_NICE], `thread ${t}`);
      }
    } else {
      assert.ok(all.warning && /normal priority/.test(all.warning));
    }
  });
});
