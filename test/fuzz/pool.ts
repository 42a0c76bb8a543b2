// A pool of child processes that run file cases, each under a time limit and a memory limit (the child's RSS,
// sampled from /proc). A child that overruns is killed and replaced; one that dies is classified by its death.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { classifyDeath, type Verdict } from './classify.js';
import type { Job, JobAnswer } from './child.js';
import type { Limits, TargetName } from './types.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'child.js');
const SAMPLE_MS = 20;
/** A child left holding more than this after a case is replaced, so the next case starts fresh. */
const RECYCLE_BYTES = 300 * 1024 * 1024;

export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

// A child stuck in a synchronous loop never sees its IPC channel close, so children are killed when this
// process exits, however it exits.
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

class Worker {
  private proc: ChildProcess | null = null;
  private stderr = '';
  private ready: Promise<void> | null = null;
  private seq = 0;

  private start(): Promise<void> {
    this.stderr = '';
    // The heap may grow past the memory limit, so it is the RSS check that stops a runaway case, not V8.
    const proc = fork(CHILD, [], { execArgv: ['--max-old-space-size=4096'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    proc.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-8000)));
    this.proc = proc;
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    return new Promise((resolve, reject) => {
      const onMessage = (m: { ready?: boolean }) => {
        if (m.ready) {
          proc.off('message', onMessage);
          resolve();
        }
      };
      proc.on('message', onMessage);
      proc.once('exit', (code) => reject(new Error(`the fuzz child exited with ${code} before it was ready: ${this.stderr}`)));
    });
  }

  kill(): void {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    this.proc = null;
    this.ready = null;
  }

  async run(target: TargetName, input: string, work: string, limits: Limits): Promise<Verdict> {
    this.ready ??= this.start();
    await this.ready;
    const proc = this.proc!;
    const seq = ++this.seq;
    const verdict = await new Promise<Verdict & { keep: boolean }>((resolve) => {
      let settled = false;
      const finish = (v: Verdict, keep: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearInterval(sampler);
        proc.off('message', onMessage);
        proc.off('exit', onExit);
        resolve({ ...v, keep });
      };
      const onMessage = (m: JobAnswer) => {
        if (m.seq === seq) finish({ outcome: m.outcome, message: m.message }, true);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        // Let the last of stderr arrive before reading why it died.
        setTimeout(() => finish(classifyDeath(code, signal, this.stderr), false), 50);
      };
      const timer = setTimeout(() => finish({ outcome: 'hang', message: `still running after ${limits.timeMs / 1000} s` }, false), limits.timeMs);
      const sampler = setInterval(() => {
        const rss = rssBytes(proc.pid!);
        if (rss > limits.memoryBytes) finish({ outcome: 'memory', message: `resident memory reached ${Math.round(rss / 2 ** 20)} MB (limit ${Math.round(limits.memoryBytes / 2 ** 20)} MB)` }, false);
      }, SAMPLE_MS);
      proc.on('message', onMessage);
      proc.once('exit', onExit);
      proc.send({ seq, target, input, work } satisfies Job);
    });
    if (!verdict.keep || rssBytes(proc.pid!) > RECYCLE_BYTES) this.kill();
    return { outcome: verdict.outcome, message: verdict.message };
  }
}

export class ChildPool {
  private readonly idle: Worker[];
  private readonly waiting: Array<(w: Worker) => void> = [];

  constructor(size: number) {
    this.idle = Array.from({ length: size }, () => new Worker());
  }

  async run(target: TargetName, input: string, work: string, limits: Limits): Promise<Verdict> {
    const w = this.idle.pop() ?? (await new Promise<Worker>((r) => this.waiting.push(r)));
    try {
      return await w.run(target, input, work, limits);
    } finally {
      const next = this.waiting.shift();
      if (next) next(w);
      else this.idle.push(w);
    }
  }

  close(): void {
    for (const w of this.idle) w.kill();
  }
}
