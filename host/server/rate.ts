// How fast one connection's messages are taken in. A token bucket: a burst up to `burst` is taken at once,
// then `perSecond`. Messages past the budget are not refused (that would lose a user's change): they wait, and
// once `maxBacklog` wait, the connection stops being read, so the client's own socket holds the rest.
// Messages are taken a slice at a time, the event loop turning in between: a socket chunk can hold a
// thousand small messages, and taking them all at once would keep every other client waiting meanwhile.

export interface RateLimit {
  perSecond: number;
  burst: number;
  maxBacklog: number;
  /** Messages taken before other work gets a turn. */
  slice: number;
}

export interface Flow {
  pause(): void;
  resume(): void;
}

export class RateGate<T> {
  private tokens: number;
  private last = performance.now();
  private readonly backlog: T[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  /** Messages taken since the event loop last turned. */
  private turn = 0;
  private paused = false;
  private closed = false;

  /** `held` says the receiver cannot take more now (its own queue is full); call `kick` when that changes. */
  constructor(
    private readonly limit: RateLimit,
    private readonly flow: Flow,
    private readonly take: (m: T) => void,
    private readonly held: () => boolean = () => false,
  ) {
    this.tokens = limit.burst;
  }

  push(m: T): void {
    if (this.closed) return;
    this.backlog.push(m);
    this.kick();
  }

  kick(): void {
    if (this.closed) return;
    const now = performance.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.last) * this.limit.perSecond) / 1000);
    this.last = now;
    while (this.head < this.backlog.length && this.tokens >= 1 && !this.held()) {
      // ws emits every message of a socket chunk synchronously: count what this turn of the loop took.
      if (this.turn >= this.limit.slice) break;
      if (this.turn++ === 0) {
        this.immediate = setImmediate(() => {
          this.immediate = null;
          this.turn = 0;
          this.kick();
        });
      }
      this.tokens -= 1;
      const m = this.backlog[this.head]!;
      this.backlog[this.head++] = undefined as T;
      this.take(m);
    }
    if (this.head === this.backlog.length) {
      this.backlog.length = 0;
      this.head = 0;
    }
    const waiting = this.backlog.length - this.head;
    if (waiting >= this.limit.maxBacklog && !this.paused) {
      this.paused = true;
      this.flow.pause();
    } else if (waiting < this.limit.maxBacklog / 2 && this.paused) {
      this.paused = false;
      this.flow.resume();
    }
    if (waiting > 0 && this.tokens < 1 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.kick();
      }, Math.ceil(((1 - this.tokens) * 1000) / this.limit.perSecond));
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.backlog.length = 0;
  }
}
