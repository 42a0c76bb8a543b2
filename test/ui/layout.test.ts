// The UI's layout and honesty, in Debian's Chromium against the real `resona serve`: at 1024×640, 1280×800
// and 1920×1080 no control spills out of its panel and the page does not grow past the window; the number
// boxes show what is applied (a refused or cleared value goes back on blur, never a silent 0); the tab title
// and the badge carry the engine's state; a lost device gets an alert banner; built-in voices show no RVC
// knobs; the favicon loads. Screenshots of each size go to out/ui-screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ALT_SINK, type PulseEnv, RATE } from '../live/pulse-env.js';
import { type ProbeClient, REPO, UiSession, until, writeTinyAlto } from './harness.js';

const SHOTS = path.join(REPO, 'out', 'ui-screenshots');
const SIZES = [
  { width: 1024, height: 640 },
  { width: 1280, height: 800 },
  { width: 1920, height: 1080 },
] as const;
const MONITOR = `pulse:${ALT_SINK}`;

let ui: UiSession;
let env: PulseEnv;
let page: Page;
let probe: ProbeClient;
/** Responses the page got while loading, for the favicon check. */
const responses: { url: string; status: number }[] = [];

const state = () => probe.call('getState', {});
const title = () => page.title();
const badge = async () => (await page.getByTestId('engine-state').textContent()) ?? '';

async function shot(name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

function get(url: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
      })
      .on('error', reject);
  });
}

interface Box {
  what: string;
  left: number;
  right: number;
  top: number;
  bottom: number;
}
interface Measure {
  viewport: { width: number; height: number };
  page: { scrollHeight: number; scrollWidth: number };
  /** Controls outside their panel (horizontally, or outside the panel's scrollable content). */
  spills: string[];
  /** Panels that scroll sideways. */
  wide: string[];
  panels: Record<string, Box>;
  controls: number;
  /** The main controls: fully on screen and not hidden by their panel's scrolling. */
  visible: Record<string, boolean>;
}

// Runs in the page (a string: the test build has no DOM types). Every input, select, button, slider and
// meter inside a panel (or the header) must lie within that panel's left and right edges and within its
// scrollable content; a panel must not scroll sideways.
const MEASURE = `(() => {
  const r = (el) => el.getBoundingClientRect();
  const name = (el) => el.getAttribute('data-testid') || el.getAttribute('aria-label') || el.name || el.id || (el.textContent || '').trim().slice(0, 30) || el.tagName;
  const spills = [], wide = [], panels = {};
  let controls = 0;
  for (const p of document.querySelectorAll('.panel, header')) {
    const pr = r(p);
    const key = p.tagName === 'HEADER' ? 'header' : p.className.replace('panel', '').trim();
    panels[key] = { what: key, left: pr.left, right: pr.right, top: pr.top, bottom: pr.bottom };
    if (p.scrollWidth > p.clientWidth + 1) wide.push(key + ' scrolls sideways: ' + p.scrollWidth + ' > ' + p.clientWidth);
    for (const el of p.querySelectorAll('input:not([type=hidden]):not([hidden]), select, button, meter')) {
      const b = r(el);
      if (b.width === 0 && b.height === 0) continue;
      controls++;
      const top = b.top - pr.top + p.scrollTop, bottom = b.bottom - pr.top + p.scrollTop;
      if (b.left < pr.left - 1 || b.right > pr.right + 1 || top < -1 || bottom > p.scrollHeight + 1)
        spills.push(key + ': ' + el.tagName.toLowerCase() + ' "' + name(el) + '" at ' + [b.left, b.right, b.top, b.bottom].map(Math.round).join('/') + ' outside ' + [pr.left, pr.right, pr.top, pr.bottom].map(Math.round).join('/'));
    }
  }
  const vw = innerWidth, vh = innerHeight;
  const shown = (sel) => {
    const el = document.querySelector(sel);
    if (!el) return false;
    const b = r(el);
    if (b.top < 0 || b.left < 0 || b.bottom > vh || b.right > vw || b.width === 0) return false;
    const p = el.closest('.panel');
    if (!p) return true;
    const pr = r(p);
    return b.top >= pr.top + p.clientTop - 1 && b.bottom <= pr.top + p.clientTop + p.clientHeight + 1;
  };
  const visible = {};
  for (const [k, sel] of Object.entries({
    startStop: '[data-testid=start-stop]', badge: '[data-testid=engine-state]', voice: '.voice-list li.selected button',
    pitch: '[data-field=pitch] input[type=number]', pitchSlider: '[data-field=pitch] input[type=range]',
    microphone: '[data-testid=device-input]', output: '[data-testid=device-output]', monitor: '[data-testid=device-monitor]',
  })) visible[k] = shown(sel);
  const d = document.documentElement;
  return { viewport: { width: vw, height: vh }, page: { scrollHeight: d.scrollHeight, scrollWidth: d.scrollWidth }, spills, wide, panels, controls, visible };
})()`;

before(async () => {
  let voiceFile = '';
  ui = await UiSession.start({
    name: 'resona-ui-layout',
    prepare: (home) => {
      voiceFile = writeTinyAlto(home);
    },
  });
  ({ env, page, probe } = ui);
  // An imported neural voice (no index file) beside the built-in ones.
  await probe.call('importVoice', { name: 'Tiny Alto.onnx', path: voiceFile });
  page.on('response', (r) => responses.push({ url: r.url(), status: r.status() }));
  await ui.openPage();
  await until('the device list', async () => (await page.getByTestId('device-monitor').locator('option').count()) > 1);
});

after(async () => {
  await ui?.close();
});

test('the favicon is linked and loads with 200; nothing the page loads is missing', { timeout: 30_000 }, async () => {
  const href = await page.locator('link[rel="icon"]').getAttribute('href');
  assert.ok(href, 'index.html links an icon');
  const url = new URL(href, ui.served.url).href;
  const r = await get(url);
  assert.equal(r.status, 200, `${url}: ${r.status}`);
  assert.match(r.type, /^image\/svg\+xml/);
  assert.match(r.body, /<svg[\s>]/);
  // Chromium asks for the linked icon itself: it was answered, and no request of the page failed.
  await until('the browser to fetch the icon', () => responses.some((x) => x.url === url), 10_000);
  const failed = responses.filter((x) => x.status >= 400);
  assert.deepEqual(failed, [], `failed requests: ${JSON.stringify(failed)}`);
});

/** ALSA's plugin and PCM names as PortAudio reports them: what the device menus showed before friendly names. */
const RAW_ALSA = /^(default|sysdefault|pulse|pipewire|jack|dmix|dsnoop|front|rear|center_lfe|side|surround\d+|iec958|spdif|hdmi|modem|phoneline|lavrate|samplerate|speexrate|upmix|vdownmix|a52|oss|usbstream|(plug)?hw:.*)$|Null Output/i;

test('the device menus name devices as the sound settings do: no raw ALSA plugin names', { timeout: 30_000 }, async () => {
  const menus: Record<string, string[]> = {};
  for (const r of ['input', 'output', 'monitor']) menus[r] = (await page.getByTestId(`device-${r}`).locator('option').allTextContents()).map((o) => o.trim());
  const all = Object.values(menus).flat();
  // The chain's devices are all offered (by their descriptions), so the check below saw real entries.
  assert.ok(menus.input!.includes('Monitor of Test microphone'), `inputs: ${menus.input!.join(' | ')}`);
  assert.ok(menus.output!.includes('Alternative output') && menus.monitor!.includes('Alternative output'), `outputs: ${menus.output!.join(' | ')}`);
  assert.ok(menus.output!.some((o) => o.startsWith('Resona Virtual Microphone')), `outputs: ${menus.output!.join(' | ')}`);
  // PortAudio lists ALSA's "pulse" and "default" on this machine: they are offered, under what they stand for.
  assert.ok(all.includes('PulseAudio sound server') && all.includes('System default device'), all.join(' | '));
  const raw = all.filter((o) => RAW_ALSA.test(o.replace(/\s*\(pulse:[^)]*\)$/, '')));
  assert.deepEqual(raw, [], `raw ALSA names in the device menus: ${raw.join(' | ')}`);
});

test('the tab title says the state: stopped', { timeout: 20_000 }, async () => {
  await until('the stopped title', async () => (await title()) === 'Stopped · Resona', 10_000);
  assert.match(await badge(), /^stopped/);
});

test('a built-in voice shows no index ratio or protect; a neural voice shows protect', { timeout: 60_000 }, async () => {
  await page.locator('[data-voice="tiny-alto"]').click();
  await until('the neural voice chosen', async () => (await state()).selection.voice === 'tiny-alto');
  await page.locator('[data-field="protect"]').waitFor({ timeout: 10_000 });
  // This voice has no index file: no index-ratio knob either, and a note that says why.
  assert.equal(await page.locator('[data-field="indexRatio"]').count(), 0);
  assert.equal(await page.getByTestId('no-index').count(), 1);
  await shot('voice-neural-1280x800');

  await page.locator('[data-voice="deeper"]').click();
  await until('deeper chosen', async () => (await state()).selection.voice === 'deeper');
  await page.locator('[data-field="protect"]').waitFor({ state: 'detached', timeout: 10_000 });
  assert.equal(await page.locator('[data-field="indexRatio"]').count(), 0, 'no index ratio for a built-in voice');
  assert.equal(await page.locator('[data-field="protect"]').count(), 0, 'no protect for a built-in voice');
  assert.equal(await page.locator('input:disabled').count(), 0, 'no greyed-out knobs');
  assert.equal(await page.locator('[data-field="pitch"]').count(), 1, 'the voice\'s own settings stay');
  await shot('voice-builtin-1280x800');
});

test('a value out of range or a cleared box is refused inline and goes back to the applied value; errors clear', { timeout: 60_000 }, async () => {
  const applied = (await state()).selection.settings.pitch;
  assert.notEqual(applied, 0, 'deeper has its own pitch (so a silent 0 would show)');
  const field = page.locator('[data-field="pitch"]');
  const box = field.locator('input[type="number"]');
  const slider = field.locator('input[type="range"]');
  const err = field.locator('.error');

  await box.fill('99');
  await box.press('Enter');
  await err.waitFor({ timeout: 5000 });
  assert.match((await err.textContent()) ?? '', /out of range: allowed -24 to 24/);
  assert.equal(await box.getAttribute('aria-invalid'), 'true');
  await box.press('Tab');
  await until('the box back at the applied pitch', async () => (await box.inputValue()) === String(applied), 5000);
  assert.equal(await slider.inputValue(), String(applied), 'the slider and the box agree');
  assert.match((await err.textContent()) ?? '', new RegExp(`kept ${applied}`));
  assert.equal((await state()).selection.settings.pitch, applied, 'nothing was sent');

  // A cleared box is not 0.
  await box.fill('');
  await box.press('Tab');
  await until('the cleared box back at the applied pitch', async () => (await box.inputValue()) === String(applied), 5000);
  assert.match((await err.textContent()) ?? '', /needs a value/);
  assert.equal((await state()).selection.settings.pitch, applied, 'a cleared box sent nothing');

  // The next successful command (any) clears the message.
  await page.getByTestId('bypass').click();
  await until('bypass on the host', async () => (await state()).selection.bypass);
  await err.waitFor({ state: 'detached', timeout: 5000 });
  await page.getByTestId('bypass').click();
  await until('bypass off', async () => !(await state()).selection.bypass);

  // Fixed in place: a good value is applied and the message goes.
  await box.fill('99');
  await box.press('Enter');
  await err.waitFor({ timeout: 5000 });
  await box.fill(String(applied - 1));
  await box.press('Enter');
  await until('the new pitch on the host', async () => (await state()).selection.settings.pitch === applied - 1);
  await err.waitFor({ state: 'detached', timeout: 5000 });
  await box.fill(String(applied));
  await box.press('Enter');
  await until('the pitch back', async () => (await state()).selection.settings.pitch === applied);

  // A timing draft: clearing the context box is not a 0 ms draft waiting to be applied.
  const extra = page.locator('[data-field="extraMs"] input[type="number"]');
  const extraApplied = (await state()).selection.settings.extraMs;
  await extra.fill('');
  await extra.press('Tab');
  await until('the context box back', async () => (await extra.inputValue()) === String(extraApplied), 5000);
  assert.equal(await page.getByRole('button', { name: 'Apply' }).isEnabled(), false, 'nothing to apply');
  assert.match((await page.locator('[data-field="extraMs"] .error').textContent()) ?? '', /needs a value/);
});

test('running: the title and the badge say so; a lost device is an alert banner, not small text under "running"', { timeout: 120_000 }, async () => {
  await page.getByTestId('device-monitor').selectOption(MONITOR);
  await until('the monitor on the host', async () => (await state()).selection.devices.monitor === MONITOR);
  await page.getByTestId('start-stop').click();
  await until('the engine running', async () => {
    const s = await state();
    return s.running && !s.busy;
  }, 60_000);
  await until('the live title', async () => (await title()) === '● Live — Deeper · Resona', 15_000);
  await until('the running badge', async () => (await badge()) === 'running', 15_000);
  assert.equal(await page.getByTestId('device-banner').count(), 0);
  await shot('running-1280x800');

  // The monitor's sink goes away.
  const modules = await env.pactl('list', 'short', 'modules');
  const alt = modules.split('\n').find((l) => l.includes(`sink_name=${ALT_SINK}`))!.split('\t')[0]!;
  await env.pactl('unload-module', alt);
  const banner = page.getByTestId('device-banner');
  await banner.waitFor({ timeout: 15_000 });
  assert.equal(await banner.getAttribute('role'), 'alert');
  assert.match((await banner.textContent()) ?? '', /Monitor lost/);
  const box = await banner.boundingBox();
  assert.ok(box && box.height >= 30 && box.width >= 600, `a banner, not a line of small text: ${JSON.stringify(box)}`);
  const fontPx = await page.evaluate<number>('parseFloat(getComputedStyle(document.querySelector("[data-testid=device-banner]")).fontSize)');
  assert.ok(fontPx >= 14, `banner font ${fontPx} px`);
  await until('the badge to say the device is lost', async () => /monitor lost/.test(await badge()));
  assert.doesNotMatch(await badge(), /running/, 'not a green "running"');
  assert.equal(await page.getByTestId('engine-state').getAttribute('data-state'), 'device-lost');
  await until('the title to say so', async () => /^⚠ Monitor lost — Deeper · Resona$/.test(await title()));
  await shot('device-lost-1280x800');

  // It comes back: the banner goes and the state is live again.
  await env.pactl('load-module', 'module-null-sink', `sink_name=${ALT_SINK}`, `rate=${RATE}`, 'channels=1');
  await banner.waitFor({ state: 'detached', timeout: 30_000 });
  await until('live again', async () => (await title()) === '● Live — Deeper · Resona' && (await badge()) === 'running', 15_000);
});

test('the layout holds at 1024×640, 1280×800 and 1920×1080: nothing spills out of its panel, the page fits the window', { timeout: 120_000 }, async (t) => {
  // The fullest screen: a neural voice (more knobs) running, the monitor on (a third gain and menu).
  await page.locator('[data-voice="tiny-alto"]').click();
  await until('the neural voice running', async () => {
    const s = await state();
    return s.selection.voice === 'tiny-alto' && s.running && !s.busy;
  }, 60_000);
  await page.locator('[data-field="protect"]').waitFor();
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await new Promise((r) => setTimeout(r, 600));
    const file = await shot(`layout-${size.width}x${size.height}`);
    const m = await page.evaluate<Measure>(MEASURE);
    const line = `${size.width}×${size.height}: page ${m.page.scrollWidth}×${m.page.scrollHeight}, ${m.controls} controls checked, ${file}`;
    t.diagnostic(line);
    console.log(`ui-layout: ${line}`);
    assert.ok(m.controls > 30, `controls were found: ${m.controls}`);
    assert.deepEqual(m.spills, [], `${size.width}×${size.height}: controls outside their panel`);
    assert.deepEqual(m.wide, [], `${size.width}×${size.height}: panels wider than themselves`);
    assert.ok(m.page.scrollWidth <= size.width, `${size.width}×${size.height}: the page scrolls sideways (${m.page.scrollWidth})`);
    assert.ok(m.page.scrollHeight <= size.height, `${size.width}×${size.height}: the page is ${m.page.scrollHeight} px tall`);
    // Start/stop, the voice, pitch and the devices are on screen without scrolling anything.
    for (const [k, v] of Object.entries(m.visible)) assert.ok(v, `${size.width}×${size.height}: ${k} not visible without scrolling`);
    if (size.width === 1920) {
      // The wide screen is used: the panels span the width and reach the bottom, the devices are not a strip.
      const ps = Object.values(m.panels).filter((p) => p.what !== 'header');
      const right = Math.max(...ps.map((p) => p.right));
      const left = Math.min(...ps.map((p) => p.left));
      const bottom = Math.max(...ps.map((p) => p.bottom));
      assert.ok(right - left >= 0.95 * size.width, `panels span ${left}–${right}`);
      assert.ok(bottom >= 0.95 * size.height, `panels reach ${bottom} of ${size.height}`);
      const dev = m.panels.devices!;
      assert.ok(dev.right - dev.left >= 380, `devices column ${dev.right - dev.left} px wide`);
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
});

test('stopping: the title goes back to stopped', { timeout: 60_000 }, async () => {
  await page.getByTestId('start-stop').click();
  await until('the engine stopped', async () => !(await state()).running, 30_000);
  await until('the stopped title', async () => (await title()) === 'Stopped · Resona', 10_000);
  assert.match(await badge(), /^stopped/);
});
