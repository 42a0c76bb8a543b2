// Coalescing of setSettings bursts (a slider dragged, a client replaying updates): see the class comment.
import type { EngineSettings } from '../../protocol/settings.js';
import type { Job } from './lanes.js';

/**
 * setSettings calls waiting for their turn: later updates merge into this one (a later value wins), so a
 * burst costs one engine update and one state broadcast; every caller is answered with the resulting state.
 */
export class SettingsBatch implements Job {
  private readonly update: Partial<EngineSettings>;
  private readonly callers: ((result: Promise<unknown>) => void)[];

  constructor(
    private readonly apply: (update: Partial<EngineSettings>) => Promise<unknown>,
    update: Partial<EngineSettings>,
    caller: (result: Promise<unknown>) => void,
  ) {
    this.update = { ...update };
    this.callers = [caller];
  }

  absorb(next: Job): boolean {
    if (!(next instanceof SettingsBatch)) return false;
    Object.assign(this.update, next.update);
    this.callers.push(...next.callers);
    return true;
  }

  run(): Promise<void> {
    const result = this.apply(this.update);
    for (const c of this.callers) c(result);
    return result.then(() => undefined, () => undefined);
  }
}
