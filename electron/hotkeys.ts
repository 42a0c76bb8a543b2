// Global hotkeys for use mid-stream (the app need not have focus). Pure mapping from the host's state to a
// command, so the table is testable without Electron.
import type { CommandName, ControlCommands, HostState } from '../protocol/control.js';

export interface Hotkey {
  accelerator: string;
  label: string;
  action: (s: HostState | null) => { cmd: CommandName; args: ControlCommands[CommandName]['args'] } | null;
}

/** Output gain while push-to-talk is released: the floor reads as silence. */
export const PTT_MUTED_DB = -60;
/** Key auto-repeat keeps push-to-talk open while held; this long after the last repeat it closes. */
export const PTT_RELEASE_MS = 600;

export const HOTKEYS: readonly Hotkey[] = [
  { accelerator: 'CommandOrControl+Alt+B', label: 'bypass', action: (s) => ({ cmd: 'setBypass', args: { on: !s?.selection.bypass } }) },
  { accelerator: 'CommandOrControl+Alt+Right', label: 'next voice', action: () => ({ cmd: 'stepVoice', args: { by: 1 } }) },
  { accelerator: 'CommandOrControl+Alt+Left', label: 'previous voice', action: () => ({ cmd: 'stepVoice', args: { by: -1 } }) },
  { accelerator: 'CommandOrControl+Alt+Up', label: 'pitch up', action: () => ({ cmd: 'nudgePitch', args: { by: 1 } }) },
  { accelerator: 'CommandOrControl+Alt+Down', label: 'pitch down', action: () => ({ cmd: 'nudgePitch', args: { by: -1 } }) },
];

export const PTT_ACCELERATOR = 'CommandOrControl+Alt+Space';

type Send = (cmd: 'setGain', args: ControlCommands['setGain']['args']) => void;

/**
 * Push-to-talk. Global shortcuts report key presses only, never releases, so "held" means "pressed again
 * by auto-repeat within PTT_RELEASE_MS". While the mode is on, the voice output is at the floor (silent)
 * except while the key is held; turning the mode off restores the user's gain.
 */
export class PushToTalk {
  private enabled = false;
  private open = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly send: Send,
    private readonly gainDb: () => number,
  ) {}

  get mode(): boolean {
    return this.enabled;
  }

  setMode(on: boolean): void {
    this.enabled = on;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.open = false;
    this.send('setGain', { role: 'output', db: on ? PTT_MUTED_DB : this.gainDb() });
  }

  press(): void {
    if (!this.enabled) return;
    if (!this.open) {
      this.open = true;
      this.send('setGain', { role: 'output', db: this.gainDb() });
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.open = false;
      this.timer = null;
      if (this.enabled) this.send('setGain', { role: 'output', db: PTT_MUTED_DB });
    }, PTT_RELEASE_MS);
  }
}
