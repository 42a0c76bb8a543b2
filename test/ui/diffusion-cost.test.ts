// The shallow-diffusion knobs preview their cost per block in the app (issue 13, deliverable 4): a tiny so-vits
// voice with a diffusion model and the tiny vocoder, the real `resona serve`, Debian's Chromium. Before the
// voice runs the preview gives the pass count alone; running on speech it gives the measured figures, and a
// k_step being typed shows what it would cost before it is applied (the host's settings do not change).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { importVoice } from '../../models/voices/import-voice.js';
import { type PulseEnv, MIC_SINK, RATE } from '../live/pulse-env.js';
import { speech } from '../live/live-analysis.js';
import { buildTinyEncoder, writeModel } from '../models/tiny-models.js';
import { buildTinySovits } from '../models/tiny-sovits.js';
import { writeDiffusion } from '../models/tiny-diffusion.js';
import { ROOT } from '../helpers.js';
import { type ProbeClient, screenshot, UiSession, until } from './harness.js';

const INPUT = `pulse:${MIC_SINK}.monitor`;
const VOCODER = path.join(ROOT, 'test', 'fixtures', 'torch', 'vocoder', 'nsf-hifigan-tiny', 'model.pt');
let ui: UiSession;
let env: PulseEnv;
let page: Page;
let probe: ProbeClient;
let voice: string;

before(async () => {
  ui = await UiSession.start({
    name: 'resona-ui-diff',
    viewport: { width: 1280, height: 900 },
    prepare: async (home) => {
      mkdirSync(path.join(home, 'models'), { recursive: true });
      writeFileSync(path.join(home, 'models', 'vec-768-layer-12.onnx'), buildTinyEncoder('vec', 768));
      const model = await writeModel(home, 'tiny.onnx', buildTinySovits({ form: 'sovits40' }));
      const d = await writeDiffusion(path.join(home, 'diff'));
      voice = (await importVoice(model, path.join(home, 'voices'), { name: 'Diffused', diffusion: d.model, vocoder: VOCODER })).id;
    },
  });
  ({ env, page, probe } = ui);
  await ui.openPage();
});

after(async () => {
  await ui?.close();
});

const preview = async () => (await page.getByTestId('diffusion-preview').textContent()) ?? '';

test('the diffusion knobs show their cost per block: the pass count before the voice runs, measured figures and a draft once it runs', { timeout: 240_000 }, async () => {
  await page.locator(`[data-voice="${voice}"]`).click();
  await until('the voice chosen', async () => (await probe.call('getState', {})).selection.voice === voice, 30000);
  // so-vits-svc's defaults: k_step 100, speedup 10, DPM-Solver++: 10 passes.
  await until('the not-running preview', async () => (await preview()) === 'Denoiser: 10 passes per block; the cost shows once the voice runs.', 30000);

  await page.getByTestId('device-input').selectOption(INPUT);
  await until('the host to take the input', async () => (await probe.call('getState', {})).selection.devices.input === INPUT);
  await page.getByTestId('start-stop').click();
  await until('the voice running', async () => {
    const s = await probe.call('getState', {});
    return s.running && !s.busy;
  }, 60000);
  // Speech, so the silence gate lets blocks through and the denoiser is timed.
  const x = await speech(20, RATE);
  const played = env.play(x);
  try {
    const now = /^now: 10 passes, (\d+) ms\/block \((\d+) % of the block\)/;
    const text = await until('the measured preview', async () => {
      const t = await preview();
      return now.test(t) ? t : null;
    }, 60000);
    const tel = probe.lastTelemetry!;
    const stage = tel.stages.find((s) => s.name === 'diffusion');
    assert.equal(stage?.calls, 10, `the host runs 10 passes: ${JSON.stringify(tel.stages)}`);

    // A k_step typed but not applied: half the passes, about half the diffusion ms, and nothing sent.
    await page.locator('[data-field="kStep"] input[type="number"]').fill('50');
    const drafted = await until('the draft preview', async () => {
      const m = /^now: 10 passes, (\d+) ms\/block \((\d+) % of the block\) → 5 passes, (\d+) ms \((\d+) %\)/.exec(await preview());
      return m;
    });
    const [nowMs, nowPct, nextMs, nextPct] = drafted.slice(1).map(Number) as [number, number, number, number];
    assert.ok(Math.abs(nextMs - nowMs / 2) <= 1, `5 of 10 passes cost half the ms: ${drafted[0]} (first: ${text})`);
    assert.ok(nextPct <= nowPct, drafted[0]);
    assert.equal((await probe.call('getState', {})).selection.settings.kStep, 100, 'a draft is not applied');
    await screenshot(page, 'diffusion-cost');
    // Applied: the host runs 5 passes and the preview's "now" follows.
    await page.locator('[data-field="kStep"] input[type="number"]').press('Enter');
    await until('5 passes on the host', () => probe.lastTelemetry?.stages.find((s) => s.name === 'diffusion')?.calls === 5, 30000);
    await until('the preview at 5 passes', async () => /^now: 5 passes, \d+ ms\/block/.test(await preview()), 30000);
    // A pause in the speech: the gated blocks time no pass, and the preview keeps the last measured figure.
    played.stop();
    await until('gated blocks', () => probe.lastTelemetry?.stages.find((s) => s.name === 'diffusion')?.ms === 0, 30000);
    await new Promise((r) => setTimeout(r, 500));
    assert.match(await preview(), /^now: 5 passes, \d+ ms\/block \(\d+ % of the block\)/);
  } finally {
    played.stop();
  }
});
