// The page's keyboard shortcuts, as one table of data: which keys, what the help list says, and what each does
// (a control command built from the host's state, push-to-talk, or the help list). Used in every mode (the
// browser and Electron's window); Electron's global hotkeys are a separate, rebindable table (electron/hotkeys.ts)
// because they act while another app has focus. Pure: matching takes plain key data, so it is testable alone.
import type { CommandName, ControlCommands, HostState } from '../../protocol/control.js';

export type Command = { [C in CommandName]: { cmd: C; args: ControlCommands[C]['args'] } }[CommandName];

export type ShortcutAction =
  | { kind: 'command'; run: (s: HostState) => Command }
  /** Talk while held, muted on release (the key-up is what makes it exact; see push-to-talk.ts). */
  | { kind: 'push-to-talk' }
  | { kind: 'help' };

export interface Shortcut {
  /** Normalised keys (see keyName): a lower-case character, or "Alt+" and a KeyboardEvent.key name. */
  keys: readonly string[];
  /** How the help list writes the keys. */
  display: string;
  label: string;
  action: ShortcutAction;
  /** Held keys repeat the action (pitch steps); toggles and voice changes act once per press. */
  repeats?: boolean;
}

export const SHORTCUTS: readonly Shortcut[] = [
  { keys: ['b'], display: 'B', label: 'Bypass on/off (your own voice)', action: { kind: 'command', run: (s) => ({ cmd: 'setBypass', args: { on: !s.selection.bypass } }) } },
  { keys: ['m'], display: 'M', label: 'Mute on/off (silence on the virtual microphone)', action: { kind: 'command', run: (s) => ({ cmd: 'setMute', args: { on: !s.selection.muted } }) } },
  { keys: ['t', ' '], display: 'hold T, or Space', label: 'Push-to-talk: talk while held, muted when released', action: { kind: 'push-to-talk' } },
  { keys: ['['], display: '[', label: 'Previous voice', action: { kind: 'command', run: () => ({ cmd: 'stepVoice', args: { by: -1 } }) } },
  { keys: [']'], display: ']', label: 'Next voice', action: { kind: 'command', run: () => ({ cmd: 'stepVoice', args: { by: 1 } }) } },
  { keys: ['+', '=', 'Alt+ArrowUp'], display: '+ or Alt+↑', label: 'Pitch up a semitone', repeats: true, action: { kind: 'command', run: () => ({ cmd: 'nudgePitch', args: { by: 1 } }) } },
  { keys: ['-', 'Alt+ArrowDown'], display: '− or Alt+↓', label: 'Pitch down a semitone', repeats: true, action: { kind: 'command', run: () => ({ cmd: 'nudgePitch', args: { by: -1 } }) } },
  { keys: ['?'], display: '?', label: 'Show or hide this list', action: { kind: 'help' } },
];

export interface KeyData {
  key: string;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
}

/**
 * The table's name for a key, or null for keys the page leaves alone: anything with Ctrl or Cmd belongs to
 * the browser and the desktop (Ctrl+B, Cmd+M…). Shift is not part of the name: "?" and "+" need it on most
 * layouts, and KeyboardEvent.key already says what it produced.
 */
export function keyName(e: KeyData): string | null {
  if (e.ctrlKey || e.metaKey) return null;
  const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  return e.altKey ? `Alt+${k}` : k;
}

export function findShortcut(e: KeyData): Shortcut | null {
  const name = keyName(e);
  return name === null ? null : (SHORTCUTS.find((s) => s.keys.includes(name)) ?? null);
}

/** Input types where a key is not text: a shortcut typed there is meant as a shortcut. */
const NOT_TEXT = new Set(['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file']);

export interface FocusData {
  tagName: string;
  type?: string;
  isContentEditable?: boolean;
}

/** The user is typing into a field: letters, digits and "+/−" are theirs, not shortcuts. */
export function isTyping(el: FocusData | null): boolean {
  if (!el) return false;
  if (el.isContentEditable) return true;
  const tag = el.tagName.toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  return tag === 'INPUT' && !NOT_TEXT.has((el.type ?? 'text').toLowerCase());
}

/** Space presses a focused button or checkbox: it means push-to-talk only where nothing is focused. */
export function spaceIsFree(el: FocusData | null): boolean {
  if (!el) return true;
  const tag = el.tagName.toUpperCase();
  return tag === 'BODY' || tag === 'MAIN' || tag === 'HTML';
}
