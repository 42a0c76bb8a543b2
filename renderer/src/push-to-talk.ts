// Push-to-talk in the page: held sources (a key, the on-screen button) open the voice; when the last is
// released the output is muted at once. The page sees key-ups, so the release is exact (one message to the
// host, which sets the mixer's flag; the audio thread applies it within a device buffer). A page that loses
// focus while a key is held never gets that key-up: blur releases everything, so nobody stays on air.
import type { Store } from './store.js';

export class PushToTalk {
  private readonly held = new Set<string>();

  constructor(private readonly store: Store) {}

  get mode(): boolean {
    return this.store.snapshot().pushToTalk;
  }

  /** Push-to-talk mode on: muted unless held. Off: the voice goes out (mute stays available on M / the button). */
  setMode(on: boolean): void {
    this.held.clear();
    this.store.setUi({ pushToTalk: on });
    void this.store.run('setMute', { on });
  }

  /** A source starts holding (e.g. "key:t", "pointer"). Holding the key also switches the mode on. */
  press(source: string): void {
    if (this.held.has(source)) return;
    this.held.add(source);
    if (!this.mode) this.store.setUi({ pushToTalk: true });
    if (this.held.size === 1) void this.store.run('setMute', { on: false });
  }

  release(source: string): void {
    if (!this.held.delete(source)) return;
    if (this.held.size === 0 && this.mode) void this.store.run('setMute', { on: true });
  }

  releaseAll(): void {
    if (this.held.size === 0) return;
    this.held.clear();
    if (this.mode) void this.store.run('setMute', { on: true });
  }
}
