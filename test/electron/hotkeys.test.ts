// Electron's global hotkeys without Electron: the default table (no desktop-reserved arrows), the settings
// file's rebinding with a problem named per bad entry, and press-only push-to-talk driving the engine's mute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_HOTKEYS, HOTKEY_ACTIONS, hotkeyCommand, PTT_FIRST_REPEAT_MS, PTT_REPEAT_GAP_MS, PushToTalk } from '../../electron/hotkeys.js';
import { acceleratorProblem, ensureSettingsFile, HotkeySettingsError, parseHotkeySettings, readHotkeySettings } from '../../electron/hotkey-settings.js';
import { UserError } from '../../protocol/errors.js';
import type { HostState } from '../../protocol/control.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the default hotkeys are valid, distinct, and stay off the desktops’ Ctrl+Alt+arrow workspace keys', { timeout: 5000 }, () => {
  const accs = HOTKEY_ACTIONS.map((a) => DEFAULT_HOTKEYS[a]);
  for (const acc of accs) {
    assert.equal(acceleratorProblem(acc), null, acc);
    assert.doesNotMatch(acc, /\+(Up|Down|Left|Right)$/, `${acc} is a workspace key on GNOME/KDE`);
  }
  assert.equal(new Set(accs.map((a) => a.toLowerCase())).size, accs.length);
  const s = { selection: { bypass: false, muted: true } } as HostState;
  assert.deepEqual(hotkeyCommand('bypass', s), { cmd: 'setBypass', args: { on: true } });
  assert.deepEqual(hotkeyCommand('mute', s), { cmd: 'setMute', args: { on: false } });
  assert.deepEqual(hotkeyCommand('previous-voice', s), { cmd: 'stepVoice', args: { by: -1 } });
  assert.equal(hotkeyCommand('push-to-talk', s), null);
});

test('the settings file rebinds hotkeys; each bad entry is named and keeps its default', { timeout: 5000 }, () => {
  const r = parseHotkeySettings(JSON.stringify({
    window: { width: 1280 }, // other settings are not the hotkeys' business
    hotkeys: { mute: 'Ctrl+Shift+F10', bypass: 'B', 'next-voice': 'Ctrl+Hyper+N', 'pitch-up': '', 'pitch-down': 'Ctrl+Shift+F10', volume: 'Alt+V', 'push-to-talk': 7 },
  }));
  assert.equal(r.bindings.mute, 'Ctrl+Shift+F10');
  assert.equal(r.bindings['pitch-up'], '', '"" unbinds');
  assert.equal(r.bindings.bypass, DEFAULT_HOTKEYS.bypass);
  assert.equal(r.bindings['next-voice'], DEFAULT_HOTKEYS['next-voice']);
  assert.equal(r.bindings['pitch-down'], DEFAULT_HOTKEYS['pitch-down'], 'a repeated accelerator keeps the default');
  assert.equal(r.bindings['push-to-talk'], DEFAULT_HOTKEYS['push-to-talk']);
  assert.deepEqual(r.problems.map((p) => p.field).sort(), ['bypass', 'next-voice', 'pitch-down', 'push-to-talk', 'volume']);
  assert.ok(r.problems.every((p) => p instanceof HotkeySettingsError && p instanceof UserError));
  assert.match(r.problems.find((p) => p.field === 'bypass')!.message, /needs a modifier/);
  assert.equal(parseHotkeySettings('{not json').problems.length, 1);
  assert.equal(parseHotkeySettings('[1]').bindings.mute, DEFAULT_HOTKEYS.mute);
});

test('a missing settings file is the defaults; "Edit hotkeys…" writes them out once and keeps the user’s', { timeout: 5000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resona-hotkeys-'));
  try {
    const file = path.join(dir, 'settings.json');
    assert.deepEqual((await readHotkeySettings(file)).bindings, DEFAULT_HOTKEYS);
    await ensureSettingsFile(file);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { hotkeys: DEFAULT_HOTKEYS });
    writeFileSync(file, JSON.stringify({ hotkeys: { mute: 'Alt+F9' } }));
    await ensureSettingsFile(file);
    assert.equal((await readHotkeySettings(file)).bindings.mute, 'Alt+F9');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('push-to-talk from presses only: mode mutes, a press talks, repeats hold it, their end mutes within the gap', { timeout: 10000 }, async () => {
  const sent: boolean[] = [];
  const ptt = new PushToTalk((on) => sent.push(on));
  ptt.press();
  assert.deepEqual(sent, [], 'nothing until push-to-talk mode is on');
  ptt.setMode(true);
  assert.deepEqual(sent, [true], 'the mode mutes');
  ptt.press();
  assert.deepEqual(sent, [true, false], 'a press talks');
  // Auto-repeat: the first repeat after a typical delay, then every 33 ms; the voice stays open throughout.
  await sleep(400);
  for (let i = 0; i < 10; i++) {
    ptt.press();
    await sleep(33);
  }
  assert.deepEqual(sent, [true, false]);
  const released = Date.now();
  while (sent.length < 3 && Date.now() - released < 2000) await sleep(5);
  const closedMs = Date.now() - released + 33;
  assert.deepEqual(sent, [true, false, true], 'muted again once the repeats stop');
  assert.ok(closedMs <= PTT_REPEAT_GAP_MS + 80, `closed ${closedMs} ms after the last repeat`);
  // A tap (no repeats) stays open only until a repeat would have come.
  ptt.press();
  await sleep(PTT_FIRST_REPEAT_MS + 100);
  assert.deepEqual(sent, [true, false, true, false, true]);
  ptt.setMode(false);
  assert.equal(sent.at(-1), false, 'leaving the mode unmutes');
});
