// Fair turns for commands that must run one at a time. Each client (a WebSocket connection, Electron's window)
// has its own lane; lanes take turns, one command each, so a client that sends a thousand commands delays
// another client's next command by at most one of them. A queued job may absorb the next one from the same
// lane (settings updates not yet started merge into one).

export interface Job {
  /** Runs the job; never rejects (a job answers its callers itself). */
  run(): Promise<void>;
  /** Takes `next` into this job if they can run as one; false leaves `next` queued on its own. */
  absorb?(next: Job): boolean;
}

export class Lanes {
  /** Lanes with work, in turn order (a Map keeps insertion order: a served lane is re-inserted at the back). */
  private readonly waiting = new Map<object, Job[]>();
  private pumping = false;

  /** `exclusive` runs one job inside whatever else must not interleave with it (the host's own chain). */
  constructor(private readonly exclusive: (run: () => Promise<void>) => Promise<void>) {}

  push(lane: object, job: Job): void {
    const q = this.waiting.get(lane);
    if (q) {
      if (q.at(-1)?.absorb?.(job)) return;
      q.push(job);
    } else {
      this.waiting.set(lane, [job]);
    }
    void this.pump();
  }

  /** Jobs waiting (not running), over all lanes. */
  get size(): number {
    let n = 0;
    for (const q of this.waiting.values()) n += q.length;
    return n;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let turn = this.waiting.entries().next(); !turn.done; turn = this.waiting.entries().next()) {
        const [lane, q] = turn.value;
        const job = q.shift()!;
        this.waiting.delete(lane);
        if (q.length) this.waiting.set(lane, q);
        await this.exclusive(() => job.run()).catch(() => undefined);
      }
    } finally {
      this.pumping = false;
    }
  }
}
