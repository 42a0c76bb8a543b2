// The process a file case runs in: it receives jobs over IPC, runs each through its target and answers with
// the verdict. The parent watches time and memory and kills this process when either runs out.
import { TARGETS } from './targets.js';
import { classifyError } from './classify.js';
import type { TargetName } from './types.js';

export interface Job {
  seq: number;
  target: TargetName;
  input: string;
  work: string;
}

export interface JobAnswer {
  seq: number;
  outcome: 'success' | 'clean-error' | 'wrong-kind';
  message: string;
}

// Warnings a decoder prints are not the product's answer; keep the parent's output readable.
console.warn = () => undefined;
console.log = () => undefined;

process.on('message', (job: Job) => {
  void (async () => {
    let answer: JobAnswer;
    try {
      await TARGETS[job.target](job.input, job.work);
      answer = { seq: job.seq, outcome: 'success', message: 'accepted' };
    } catch (e) {
      answer = { seq: job.seq, ...classifyError(e) } as JobAnswer;
    }
    process.send!(answer);
  })();
});
process.send!({ ready: true });
