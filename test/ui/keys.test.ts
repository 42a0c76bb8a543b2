// Keyboard control in the browser UI, end to end: the real `resona serve`, Chromium, and the private PulseAudio.
// Keys are pressed in the page and checked on the host (its state over the control API, never the UI's word);
// push-to-talk's release is timed from the key-up to the host's state; and what the virtual microphone carries
// while muted is recorded and measured.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { type PulseEnv, MIC_SINK, RATE } from '../live/pulse-env.js';
import { speech } from '../live/live-analysis.js';
import { sine } from '../helpers.js';
import { type ProbeClient, REPO, UiSession, until } from './harness.js';

const INPUT = `pulse:${MIC_SINK}.monitor`;
const SHOTS = path.join(REPO, 'out', 'ui-screenshots');
/** The bound from key-up to the host muted: about one block, on a loaded 2-core machine. */
const PTT_RELEASE_BOUND_MS = 150;
let ui: UiSession;
let env: PulseEnv;
let page: Page;
let probe: ProbeClient;

const state = () => probe.call('getState', {});
const dbfs = (x: Float32Array) => 20 * Math.log10(x.reduce((m, v) => Math.max(m, Math.abs(v)), 0) + 1e-12);

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** Plays speech into the test microphone and records the virtual microphone meanwhile. */
async function recordVirtualMic(seconds: number): Promise<Float32Array> {
  const x = await speech(seconds, RATE);
  return env.playAndRecord('resona_vmic', x, 500);
}

/** Time from `act` until the host reports `want` (polled every 2 ms on the pushed state events). */
async function msUntilMuted(want: boolean, act: () => Promise<void>): Promise<number> {
  const from = probe.events.length;
  const t0 = performance.now();
  await act();
  for (;;) {
    const hit = probe.events.slice(from).some((e) => e.type === 'state' && e.state.selection.muted === want);
    if (hit) return performance.now() - t0;
    if (performance.now() - t0 > 5000) throw new Error(`the host never reported muted=${want}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  ui = await UiSession.start({ name: 'resona-keys' });
  ({ env, page, probe } = ui);
  await ui.openPage();
  await until('the device list', async () => (await page.getByTestId('device-input').locator('option').count()) > 2);
  await probe.call('setDevice', { role: 'input', spec: INPUT });
  await probe.call('setVoice', { voice: 'natural' });
  await page.getByTestId('start-stop').click();
  await until('the engine running', async () => (await state()).running && !(await state()).busy, 30000);
  await page.locator('body').click({ position: { x: 5, y: 790 } }); // focus on the page, not on a control
});

after(async () => {
  await ui?.close();
});

test('B, M, [ ], + and − (and Alt+↑/↓) change the host’s state; "?" lists the shortcuts', { timeout: 60000 }, async () => {
  // A toggle key flips what the page shows, so each press waits for the page to show the last one (as a user's
  // eyes would): the host may answer the probe before the page has its reply.
  const shows = (id: string, pressed: boolean) => until(`the page showing ${id}=${pressed}`, async () => (await page.getByTestId(id).getAttribute('aria-pressed')) === String(pressed));
  await page.keyboard.press('b');
  await until('bypass on', async () => (await state()).selection.bypass);
  await shows('bypass', true);
  await page.keyboard.press('b');
  await until('bypass off', async () => !(await state()).selection.bypass);
  await shows('bypass', false);
  await page.keyboard.press('m');
  await until('muted', async () => (await state()).selection.muted);
  await shows('mute', true);
  assert.equal(await page.getByTestId('mute').textContent(), 'Muted');
  assert.match((await page.getByTestId('engine-state').textContent()) ?? '', /MUTED/);
  await shot('keys-01-muted');
  await page.keyboard.press('m');
  await until('unmuted', async () => !(await state()).selection.muted);
  const voice = (await state()).selection.voice;
  await page.keyboard.press(']');
  await until('the next voice', async () => (await state()).selection.voice !== voice && !(await state()).busy, 30000);
  await page.keyboard.press('[');
  await until('back to the first voice', async () => (await state()).selection.voice === voice && !(await state()).busy, 30000);
  const pitch = (await state()).selection.settings.pitch;
  await page.keyboard.press('+');
  await until('pitch +1', async () => (await state()).selection.settings.pitch === pitch + 1);
  await page.keyboard.press('Alt+ArrowUp');
  await until('pitch +2', async () => (await state()).selection.settings.pitch === pitch + 2);
  await page.keyboard.press('-');
  await page.keyboard.press('Alt+ArrowDown');
  await until('pitch back', async () => (await state()).selection.settings.pitch === pitch);
  await page.keyboard.press('?');
  const help = page.getByTestId('shortcuts');
  await help.waitFor();
  const text = (await help.textContent()) ?? '';
  for (const want of ['Bypass', 'Mute', 'Push-to-talk', 'Next voice', 'Pitch up']) assert.ok(text.includes(want), `the list names ${want}: ${text}`);
  await shot('keys-02-help');
  await page.keyboard.press('Escape');
  await help.waitFor({ state: 'detached' });
});

test('typing in a number field triggers no shortcut', { timeout: 30000 }, async () => {
  const before = await state();
  const field = page.locator('[data-field="pitch"] input[type="number"]');
  await field.focus();
  for (const k of ['b', 'm', ']', 't', ' ', '?']) await page.keyboard.press(k);
  await new Promise((r) => setTimeout(r, 500)); // room for a wrongly sent command to land
  const after = await state();
  assert.equal(after.selection.bypass, before.selection.bypass);
  assert.equal(after.selection.muted, before.selection.muted);
  assert.equal(after.selection.voice, before.selection.voice);
  assert.equal(await page.getByTestId('shortcuts').count(), 0, 'no help list opened');
  await field.press('Escape');
  await page.locator('body').click({ position: { x: 5, y: 790 } });
});

test(`push-to-talk: T down talks, T up mutes within ${PTT_RELEASE_BOUND_MS} ms; muted, the virtual microphone is silent even in bypass`, { timeout: 120000 }, async () => {
  // Holding T switches push-to-talk on and talks; releasing mutes.
  const openMs = await msUntilMuted(false, () => page.keyboard.down('t'));
  await new Promise((r) => setTimeout(r, 1500)); // the voice settles after the earlier voice switches
  const talking = recordVirtualMic(3);
  const talked = await talking;
  const releases: number[] = [];
  releases.push(await msUntilMuted(true, () => page.keyboard.up('t')));
  assert.equal(await page.getByTestId('ptt-mode').getAttribute('aria-pressed'), 'true', 'holding the key turned push-to-talk on');
  // A few more presses for a figure that is not one sample; Space does the same where nothing is focused.
  for (const key of ['t', 'Space', 't']) {
    await msUntilMuted(false, () => page.keyboard.down(key));
    await new Promise((r) => setTimeout(r, 200));
    releases.push(await msUntilMuted(true, () => page.keyboard.up(key)));
  }
  // Muted with bypass on: the real voice would leak here if mute did not win.
  await probe.call('setBypass', { on: true });
  await new Promise((r) => setTimeout(r, 300));
  const silent = await recordVirtualMic(3);
  await probe.call('setBypass', { on: false });
  await shot('keys-03-push-to-talk-released');
  const talkDb = dbfs(talked);
  const mutedDb = dbfs(silent);
  console.log(`keys: push-to-talk open ${openMs.toFixed(0)} ms, release ${releases.map((m) => m.toFixed(0)).join('/')} ms (key-up → host muted); virtual microphone peak talking ${talkDb.toFixed(1)} dBFS, muted ${mutedDb === -240 ? '-inf' : mutedDb.toFixed(1)} dBFS over ${(silent.length / RATE).toFixed(1)} s`);
  assert.ok(Math.max(...releases) <= PTT_RELEASE_BOUND_MS, `release took ${releases.join(', ')} ms`);
  assert.ok(talkDb > -30, `speech on the virtual microphone while talking: ${talkDb.toFixed(1)} dBFS`);
  assert.ok(silent.length > RATE * 2, `recorded ${silent.length} samples`);
  assert.ok(mutedDb < -80, `muted peak ${mutedDb.toFixed(1)} dBFS`);
  assert.ok((await state()).selection.muted);
});

/** When (performance.now()) sample k of a recording reached the test, from its chunks' arrival times. */
function sampleTime(arrivals: { frames: number; atMs: number }[], k: number): number {
  const a = arrivals.find((c) => c.frames > k) ?? arrivals.at(-1)!;
  return a.atMs - ((a.frames - k) / RATE) * 1000;
}

test('push-to-talk in the output: the virtual microphone goes silent after key-up no later than it opened after key-down, plus one block', { timeout: 60000 }, async (t) => {
  assert.equal(await page.getByTestId('ptt-mode').getAttribute('aria-pressed'), 'true');
  assert.ok((await state()).selection.muted, 'muted between presses');
  const blockMs = (await state()).selection.settings.blockMs;
  // A steady tone, so the output is sound exactly while the voice is on air (speech has pauses of its own).
  const tone = env.play(sine(220, RATE, 8, 0.3));
  const rec = env.record('resona_vmic');
  await rec.ready;
  await new Promise((r) => setTimeout(r, 1500));
  const downAt = performance.now();
  await page.keyboard.down('t');
  await new Promise((r) => setTimeout(r, 2000));
  const upAt = performance.now();
  await page.keyboard.up('t');
  await new Promise((r) => setTimeout(r, 1500));
  const y = await rec.stop();
  tone.stop();
  // Both delays include the same path from the mixer to the recorder (device queues, PulseAudio, parec), so their
  // difference is what the release adds: the old push-to-talk stayed open ~600 ms on key repeat.
  const loud = (i: number) => Math.abs(y[i]!) > 1e-3;
  let on = -1;
  for (let i = 0; i < y.length && on < 0; i++) if (loud(i) && sampleTime(rec.arrivals, i) > downAt) on = i;
  let off = -1;
  for (let i = y.length - 1; i >= 0 && off < 0; i--) if (loud(i)) off = i;
  assert.ok(on >= 0 && off > on, `the tone was heard while talking (on ${on}, off ${off} of ${y.length})`);
  const openMs = sampleTime(rec.arrivals, on) - downAt;
  const releaseMs = sampleTime(rec.arrivals, off) - upAt;
  const talkedMs = ((off - on) / RATE) * 1000;
  const msg = `key-down → sound ${openMs.toFixed(0)} ms, key-up → silence ${releaseMs.toFixed(0)} ms (block ${blockMs} ms); on air ${talkedMs.toFixed(0)} ms for a ${(upAt - downAt).toFixed(0)} ms press`;
  t.diagnostic(msg);
  console.log(`keys: push-to-talk in the output: ${msg}`);
  assert.ok(openMs > 0 && openMs < 1000, msg);
  assert.ok(releaseMs <= openMs + blockMs, msg);
  // On air for the press, give or take the same block: neither cut short nor held open.
  assert.ok(Math.abs(talkedMs - (upAt - downAt)) <= blockMs + 50, msg);
  // After the release, exact silence to the end of the recording (the mute fades to zeros).
  assert.ok(y.length - off > RATE, `silence after the release: ${((y.length - off) / RATE).toFixed(2)} s`);
});

test('the on-screen button: a click toggles mute; in push-to-talk mode it is held to talk', { timeout: 30000 }, async () => {
  const button = page.getByTestId('mute');
  // Leaving push-to-talk mode puts the voice on air.
  await page.getByTestId('ptt-mode').click();
  await until('unmuted when push-to-talk mode ends', async () => !(await state()).selection.muted);
  await button.click();
  await until('muted by a click', async () => (await state()).selection.muted);
  await button.click();
  await until('unmuted by a click', async () => !(await state()).selection.muted);
  await page.getByTestId('ptt-mode').click();
  await until('muted in push-to-talk mode', async () => (await state()).selection.muted);
  const box = (await button.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await until('held: talking', async () => !(await state()).selection.muted);
  // The page shows it once the host's state reaches it.
  await until('the button reads Talk', async () => (await button.textContent()) === 'Talk');
  await page.mouse.up();
  await until('released: muted', async () => (await state()).selection.muted);
});
