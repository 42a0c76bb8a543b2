// Global hotkeys for use mid-stream (the app need not have focus), as data: an action → accelerator table
// with defaults, rebindable in the app's settings file (hotkey-settings.ts). Pure mapping from the host's
// state to a command, so the table is testable without Electron.
//
// Why these defaults: Ctrl+Alt+←/→ (and Ctrl+Alt+Shift+arrows) switch or move between workspaces on GNOME,
// KDE and others, and Ctrl+Alt+↑/↓ open overviews; a global shortcut there either fails to register or
// steals the desktop's. Ctrl(Cmd)+Alt+Shift with a letter is left free by the common desktops, browsers,
// OBS and Discord, and the letters match the page's own keys (B bypass, M mute, T talk).
import type { CommandName, ControlCommands, HostState } from '../protocol/control.js';

export const HOTKEY_ACTIONS = ['bypass', 'mute', 'push-to-talk', 'next-voice', 'previous-voice', 'pitch-up', 'pitch-down'] as const;
export type HotkeyAction = (typeof HOTKEY_ACTIONS)[number];

/** Accelerator per action (Electron's syntax); "" leaves an action unbound. */
export type HotkeyBindings = Record<HotkeyAction, string>;

export const DEFAULT_HOTKEYS: Readonly<HotkeyBindings> = {
  bypass: 'CommandOrControl+Alt+Shift+B',
  mute: 'CommandOrControl+Alt+Shift+M',
  'push-to-talk': 'CommandOrControl+Alt+Shift+T',
  'next-voice': 'CommandOrControl+Alt+Shift+N',
  'previous-voice': 'CommandOrControl+Alt+Shift+P',
  'pitch-up': 'CommandOrControl+Alt+Shift+U',
  'pitch-down': 'CommandOrControl+Alt+Shift+D',
};

export const HOTKEY_LABELS: Readonly<Record<HotkeyAction, string>> = {
  bypass: 'bypass on/off',
  mute: 'mute on/off',
  'push-to-talk': 'push-to-talk',
  'next-voice': 'next voice',
  'previous-voice': 'previous voice',
  'pitch-up': 'pitch up',
  'pitch-down': 'pitch down',
};

export type HotkeyCommand = { [C in CommandName]: { cmd: C; args: ControlCommands[C]['args'] } }[CommandName];

/** The command a hotkey sends given the host's state; push-to-talk is stateful (PushToTalk) and has none. */
export function hotkeyCommand(action: HotkeyAction, s: HostState | null): HotkeyCommand | null {
  switch (action) {
    case 'bypass':
      return { cmd: 'setBypass', args: { on: !s?.selection.bypass } };
    case 'mute':
      return { cmd: 'setMute', args: { on: !s?.selection.muted } };
    case 'next-voice':
      return { cmd: 'stepVoice', args: { by: 1 } };
    case 'previous-voice':
      return { cmd: 'stepVoice', args: { by: -1 } };
    case 'pitch-up':
      return { cmd: 'nudgePitch', args: { by: 1 } };
    case 'pitch-down':
      return { cmd: 'nudgePitch', args: { by: -1 } };
    case 'push-to-talk':
      return null;
  }
}

/**
 * The first auto-repeat of a held key comes after the system's repeat delay (250–600 ms on the common
 * desktops' defaults): until it comes, a press alone keeps the voice open this long.
 */
export const PTT_FIRST_REPEAT_MS = 650;
/** Once repeats flow (~25–40 a second), this long without one means the key was released. */
export const PTT_REPEAT_GAP_MS = 120;

type SendMute = (on: boolean) => void;

/**
 * Push-to-talk from a global shortcut. Global shortcuts report presses only, never releases, so "held" means
 * "pressed again by auto-repeat"; the release is inferred from the repeats stopping, at most PTT_REPEAT_GAP_MS
 * late once they flow (a tap stays open PTT_FIRST_REPEAT_MS). While the mode is on the output is muted (the
 * engine's true silence, setMute) except while the key is held; turning the mode off unmutes. With the window
 * focused the page's own push-to-talk key (T) sees the key-up and is exact; the mute hotkey is a toggle.
 */
export class PushToTalk {
  private enabled = false;
  private open = false;
  private repeating = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly sendMute: SendMute) {}

  get mode(): boolean {
    return this.enabled;
  }

  setMode(on: boolean): void {
    this.enabled = on;
    this.clear();
    this.open = false;
    this.sendMute(on);
  }

  press(): void {
    if (!this.enabled) return;
    if (!this.open) {
      this.open = true;
      this.repeating = false;
      this.sendMute(false);
    } else {
      this.repeating = true;
    }
    this.clear();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open = false;
      if (this.enabled) this.sendMute(true);
    }, this.repeating ? PTT_REPEAT_GAP_MS : PTT_FIRST_REPEAT_MS);
  }

  private clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
