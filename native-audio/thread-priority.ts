// Scheduling priority for the live engine's threads. A device buffer is 3–5 ms, and a thread of the audio path
// that waits that long for a CPU is an underrun. Sampled on a 2-core machine with one core busy (per-thread run
// delay, /proc/<tid>/schedstat, 180 s), with every thread of the host at nice −11 the audio worker waited 3.6 s
// for a CPU against 5.4 s of running, and PortAudio's and naudiodon's threads up to 2.5× as long as they ran:
// they queued behind each other, the rest of the host and the busy process, and the voice ran dry after 15–25 ms
// stalls. With the audio path at real time they waited 35–78 ms and the audio worker 0.14 s. So, as PulseAudio,
// PipeWire and JACK do for their own audio threads:
//   - the audio worker asks for round-robin real-time scheduling, just under PulseAudio's own (5), before it
//     opens a stream, so the PortAudio and naudiodon threads it creates inherit it. Nothing on that path does
//     more than copy a buffer; the kernel's real-time throttling (95 % of a period) bounds a bug. Without the
//     right (root, CAP_SYS_NICE or an RLIMIT_RTPRIO, e.g. the `audio` group's limits.conf entry) it is raised
//     with the rest, to nice −11;
//   - every other thread of the host goes to nice −11 once the devices are open (raiseAllThreads), never real
//     time: a neural voice runs on libuv's pool and onnxruntime's threads (created by them, so they inherit it)
//     and can keep a core busy for a whole block; at real-time priority it would starve the desktop.
// Linux keeps policy and nice per thread; elsewhere the process is raised as a whole.
import { spawnSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import os from 'node:os';

/** Nice value asked for: PulseAudio's own default (`nice-level = -11` in daemon.conf). */
export const AUDIO_NICE = -11;
/** Round-robin real-time priority of the audio path: under PulseAudio's (5), so the sound server goes first. */
export const AUDIO_RT_PRIORITY = 4;

export interface PriorityResult {
  /** Whether the threads were raised to nice −11 (the process raised, elsewhere than Linux). */
  level: 'raised' | 'normal';
  /** Why they were not, for the user; null when they were. */
  warning: string | null;
}

/**
 * Asks round-robin real time for the calling thread, the audio worker's (see the header); answers whether it
 * got it. Without it the thread stays as it is until raiseAllThreads raises it with the rest. Never throws.
 */
export function raiseAudioThread(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    // The calling thread's id: /proc/thread-self links to <pid>/task/<tid>.
    const tid = readlinkSync('/proc/thread-self').split('/').pop()!;
    // util-linux's chrt sets one thread's policy (sched_setscheduler on a thread id); it is on every Linux desktop.
    return spawnSync('chrt', ['--rr', '--pid', String(AUDIO_RT_PRIORITY), tid], { stdio: 'ignore', timeout: 5000 }).status === 0;
  } catch {
    return false;
  }
}

/**
 * Every thread of this process to nice −11 (a real-time one keeps its policy; nice does not touch it). Called
 * once the devices are open, so their threads exist; later ones inherit from the thread that creates them.
 * Elsewhere than Linux, where priority is the process's, the process is raised.
 */
export function raiseAllThreads(): PriorityResult {
  if (process.platform !== 'linux') {
    try {
      os.setPriority(0, os.constants.priority.PRIORITY_HIGH);
      return { level: 'raised', warning: null };
    } catch (e) {
      return { level: 'normal', warning: `could not raise the audio priority: ${(e as Error).message}` };
    }
  }
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch (e) {
    return { level: 'normal', warning: `could not list this process's threads to raise their priority: ${(e as Error).message}` };
  }
  let failed: string | null = null;
  for (const tid of tids) {
    try {
      if (os.getPriority(Number(tid)) > AUDIO_NICE) os.setPriority(Number(tid), AUDIO_NICE);
    } catch (e) {
      failed ??= (e as Error).message;
    }
  }
  if (!failed) return { level: 'raised', warning: null };
  return {
    level: 'normal',
    warning: `the audio threads run at normal priority (${failed}): on a busy machine small device buffers may underrun; allow it with CAP_SYS_NICE, or an RLIMIT_RTPRIO of ${AUDIO_RT_PRIORITY} and an RLIMIT_NICE of ${-AUDIO_NICE} (limits.conf)`,
  };
}
