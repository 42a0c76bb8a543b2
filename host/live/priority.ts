// Scheduling priority for the live engine. On a loaded machine the audio path's threads (the audio worker, the
// inference worker, naudiodon's thread-pool threads that wait on PortAudio, PortAudio's own callback thread)
// compete with every other runnable thread; at 1–3 ms device buffers a few ms of preemption is an underrun.
// PulseAudio and PipeWire raise their own threads for this reason. Linux keeps a nice value per thread, so every
// thread of this process is raised, after the devices are open (their threads exist then; later ones inherit
// from the thread that creates them). Raising needs CAP_SYS_NICE or an RLIMIT_NICE allowance (limits.conf
// `@audio - nice -11`); without it nothing changes and the caller says so once.
import { readdirSync } from 'node:fs';
import os from 'node:os';

/** Nice value asked for: PulseAudio's own default (`nice-level = -11` in daemon.conf). */
export const AUDIO_NICE = -11;

export interface PriorityResult {
  /** Threads raised. */
  raised: number;
  /** Why some or all could not be raised; null when all were. */
  warning: string | null;
}

export function raiseAudioPriority(nice = AUDIO_NICE): PriorityResult {
  if (process.platform !== 'linux') {
    try {
      os.setPriority(0, os.constants.priority.PRIORITY_HIGH);
      return { raised: 1, warning: null };
    } catch (e) {
      return { raised: 0, warning: `could not raise the audio priority: ${(e as Error).message}` };
    }
  }
  let raised = 0;
  let failed: string | null = null;
  let tids: string[] = [];
  try {
    tids = readdirSync('/proc/self/task');
  } catch (e) {
    return { raised: 0, warning: `could not list this process's threads to raise their priority: ${(e as Error).message}` };
  }
  for (const tid of tids) {
    try {
      // On Linux setpriority(PRIO_PROCESS, tid) sets that one thread's nice value.
      if (os.getPriority(Number(tid)) > nice) os.setPriority(Number(tid), nice);
      raised++;
    } catch (e) {
      failed ??= (e as Error).message;
    }
  }
  return {
    raised,
    warning: failed
      ? `the audio threads run at normal priority (${failed}): on a busy machine small device buffers may underrun; allow it with CAP_SYS_NICE or an RLIMIT_NICE of ${-nice} (limits.conf)`
      : null,
  };
}
