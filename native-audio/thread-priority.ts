// Scheduling priority for the live engine's threads, each raised by itself. A device buffer is 3–5 ms, and a
// thread of the audio path that waits that long for a CPU is an underrun. Sampled on this 2-core machine with
// one core busy (per-thread run delay, /proc/<tid>/schedstat), PortAudio's and naudiodon's threads at nice −11
// spent three times as long waiting for a CPU as running: they queued behind each other, behind the host's
// main thread and V8's helper threads (which were raised with them) and behind a nice-0 process that held the
// other core, and the voice ran dry after 15–25 ms stalls. So, as PulseAudio, PipeWire and JACK do for theirs:
//   - the audio worker asks for round-robin real-time scheduling, just under PulseAudio's own (5), before it
//     opens a stream, so the PortAudio and naudiodon threads it creates inherit it. Nothing on that path does
//     more than copy a buffer; the kernel's real-time throttling (95 % of a period) bounds a bug. Without the
//     right (root, CAP_SYS_NICE or an RLIMIT_RTPRIO, e.g. the `audio` group's limits.conf entry), nice −11;
//   - the inference worker takes nice −11, never real time: a neural voice can keep a core busy for a whole
//     block, and at real-time priority it would starve the desktop (and its onnxruntime threads inherit it);
//   - the main thread (UI, telemetry, device following) and V8's helpers stay at normal priority.
// Linux keeps policy and nice per thread; elsewhere the process is raised as a whole.
import { spawnSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import os from 'node:os';

/** Nice value asked for: PulseAudio's own default (`nice-level = -11` in daemon.conf). */
export const AUDIO_NICE = -11;
/** Round-robin real-time priority of the audio path: under PulseAudio's (5), so the sound server goes first. */
export const AUDIO_RT_PRIORITY = 4;

export type ThreadRole = 'audio' | 'inference';

export interface PriorityResult {
  /** What the calling thread got: real-time scheduling, a raised nice value, or nothing. */
  level: 'realtime' | 'raised' | 'normal';
  /** Why it got less than it asked for, when that matters to the user; null otherwise. */
  warning: string | null;
}

/** The calling thread's id (Linux: /proc/thread-self links to <pid>/task/<tid>). */
function threadId(): number {
  return Number(readlinkSync('/proc/thread-self').split('/').pop());
}

/** Raises the calling thread for its role (see the header). Never throws. */
export function raiseThisThread(role: ThreadRole): PriorityResult {
  if (process.platform !== 'linux') {
    try {
      os.setPriority(0, os.constants.priority.PRIORITY_HIGH);
      return { level: 'raised', warning: null };
    } catch (e) {
      return { level: 'normal', warning: `could not raise the audio priority: ${(e as Error).message}` };
    }
  }
  let tid: number;
  try {
    tid = threadId();
  } catch (e) {
    return { level: 'normal', warning: `could not find the audio thread to raise its priority: ${(e as Error).message}` };
  }
  // util-linux's chrt sets one thread's policy (sched_setscheduler on a thread id); it is on every Linux desktop.
  if (role === 'audio') {
    const r = spawnSync('chrt', ['--rr', '--pid', String(AUDIO_RT_PRIORITY), String(tid)], { stdio: 'ignore', timeout: 5000 });
    if (r.status === 0) return { level: 'realtime', warning: null };
  }
  try {
    if (os.getPriority(tid) > AUDIO_NICE) os.setPriority(tid, AUDIO_NICE);
    return { level: 'raised', warning: null };
  } catch (e) {
    return {
      level: 'normal',
      warning: `the audio threads run at normal priority (${(e as Error).message}): on a busy machine small device buffers may underrun; allow it with CAP_SYS_NICE, or an RLIMIT_RTPRIO of ${AUDIO_RT_PRIORITY} and an RLIMIT_NICE of ${-AUDIO_NICE} (limits.conf)`,
    };
  }
}
