// The app's settings file (settings.json in Electron's userData folder) as far as hotkeys go: the user edits
// it (tray → Edit hotkeys…) and the app re-reads it when it changes. A wrong entry never stops the app: it is
// reported by name and that action keeps its default. Pure file and data work, no Electron, so it is tested.
import { promises as fs } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../protocol/errors.js';
import { DEFAULT_HOTKEYS, HOTKEY_ACTIONS, type HotkeyAction, type HotkeyBindings } from './hotkeys.js';

/** A hotkey entry that cannot be used; the action keeps its default. */
export class HotkeySettingsError extends UserError {
  override name = 'HotkeySettingsError';
  constructor(message: string, field?: string) {
    super(message, 'file', field);
  }
}

const MODIFIERS = new Set(['command', 'cmd', 'control', 'ctrl', 'commandorcontrol', 'cmdorctrl', 'alt', 'option', 'altgr', 'shift', 'super', 'meta']);
const NAMED_KEYS = new Set([
  'plus', 'space', 'tab', 'capslock', 'numlock', 'scrolllock', 'backspace', 'delete', 'insert', 'return', 'enter', 'up', 'down', 'left', 'right',
  'home', 'end', 'pageup', 'pagedown', 'escape', 'esc', 'volumeup', 'volumedown', 'volumemute', 'medianexttrack', 'mediaprevioustrack',
  'mediastop', 'mediaplaypause', 'printscreen', 'numadd', 'numsub', 'numdec', 'nummult', 'numdiv',
]);

/** Why an accelerator (Electron's syntax) cannot be a global hotkey, or null when it can. */
export function acceleratorProblem(acc: string): string | null {
  const parts = acc.split('+').map((p) => p.trim());
  // "Ctrl++" is the plus key: the empty part after a trailing "+" is it.
  if (acc.endsWith('++')) parts.splice(parts.length - 2, 2, 'Plus');
  const key = parts.pop() ?? '';
  const mods = parts.map((p) => p.toLowerCase());
  const bad = mods.find((m) => !MODIFIERS.has(m));
  if (bad !== undefined) return `"${bad}" is not a modifier (use CommandOrControl, Alt, Shift, Super)`;
  const k = key.toLowerCase();
  const fKey = /^f([1-9]|1[0-9]|2[0-4])$/.test(k);
  if (!(key.length === 1 || fKey || /^num[0-9]$/.test(k) || NAMED_KEYS.has(k))) return `"${key}" is not a key Electron knows`;
  // A global hotkey takes its key from every app: a bare letter would make it untypable everywhere.
  if (mods.length === 0 && !fKey) return 'a global hotkey needs a modifier (CommandOrControl, Alt, Shift) or an F-key';
  return null;
}

const fileSchema = z.looseObject({
  hotkeys: z.record(z.string(), z.unknown()).optional(),
});

export interface HotkeySettings {
  bindings: HotkeyBindings;
  problems: HotkeySettingsError[];
}

/** Reads the hotkeys from the settings' JSON text: every valid entry over the defaults, each problem named. */
export function parseHotkeySettings(text: string): HotkeySettings {
  const bindings: HotkeyBindings = { ...DEFAULT_HOTKEYS };
  const problems: HotkeySettingsError[] = [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { bindings, problems: [new HotkeySettingsError(`the settings file is not valid JSON (${(e as Error).message}); the default hotkeys apply`)] };
  }
  const r = fileSchema.safeParse(json);
  if (!r.success) return { bindings, problems: [new HotkeySettingsError('the settings file must be a JSON object like {"hotkeys": {"mute": "CommandOrControl+Alt+Shift+M"}}; the default hotkeys apply')] };
  for (const [action, value] of Object.entries(r.data.hotkeys ?? {})) {
    if (!(HOTKEY_ACTIONS as readonly string[]).includes(action)) {
      problems.push(new HotkeySettingsError(`unknown hotkey "${action}": the actions are ${HOTKEY_ACTIONS.join(', ')}`, action));
      continue;
    }
    const a = action as HotkeyAction;
    if (typeof value !== 'string') {
      problems.push(new HotkeySettingsError(`hotkey "${a}" must be a string such as "${DEFAULT_HOTKEYS[a]}" ("" to unbind)`, a));
      continue;
    }
    const why = value === '' ? null : acceleratorProblem(value);
    if (why) problems.push(new HotkeySettingsError(`hotkey "${a}": ${why}; it stays ${DEFAULT_HOTKEYS[a]}`, a));
    else bindings[a] = value;
  }
  // One accelerator for two actions would fire only one of them: the later one keeps its default.
  const seen = new Map<string, HotkeyAction>();
  for (const a of HOTKEY_ACTIONS) {
    const acc = bindings[a].toLowerCase();
    if (!acc) continue;
    const first = seen.get(acc);
    if (first) {
      problems.push(new HotkeySettingsError(`hotkey "${a}" repeats "${bindings[a]}" of "${first}"; it stays ${DEFAULT_HOTKEYS[a]}`, a));
      bindings[a] = DEFAULT_HOTKEYS[a];
    } else seen.set(acc, a);
  }
  return { bindings, problems };
}

/** Reads the settings file; a missing file is the defaults. */
export async function readHotkeySettings(file: string): Promise<HotkeySettings> {
  try {
    return parseHotkeySettings(await fs.readFile(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { bindings: { ...DEFAULT_HOTKEYS }, problems: [] };
    return { bindings: { ...DEFAULT_HOTKEYS }, problems: [new HotkeySettingsError(`cannot read ${file}: ${(e as Error).message}`)] };
  }
}

/** Creates the settings file with the defaults written out (so there is something to edit); keeps an existing one. */
export async function ensureSettingsFile(file: string): Promise<void> {
  const text = `${JSON.stringify({ hotkeys: DEFAULT_HOTKEYS }, null, 2)}\n`;
  await fs.writeFile(file, text, { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
}
