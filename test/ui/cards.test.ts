// A streamer's first ten minutes, in Debian's Chromium against the real `resona serve`: voice cards that
// play a preview rendered by that voice (checked on the audio itself: the pitch-shifted voice's preview sits
// its preset's shift above the natural one's), favourites that survive a host restart, a named preset saved
// and applied, and a missing pitch network marked and downloaded from a local HTTP server (plus a network
// with no published hash, fetched only after the user confirms, its hash shown and pinned). Screenshots go to
// out/ui-screenshots/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { decodeAudio } from '../../host/audio-file.js';
import { referencePhrase, REFERENCE_RATE } from '../../host/preview/reference-phrase.js';
import { f0Track } from '../live/live-analysis.js';
import { pairedMedianCents } from '../helpers.js';
import { type ProbeClient, REPO, UiSession, until } from './harness.js';

const SHOTS = path.join(REPO, 'out', 'ui-screenshots');

/** The stand-in for rmvpe.onnx the test server hands out: its size and hash go into the catalogue override. */
const RMVPE = Buffer.alloc(4 * 1024 * 1024 + 777);
for (let i = 0; i < RMVPE.length; i++) RMVPE[i] = (i * 2654435761) >>> 24;
const RMVPE_SHA = createHash('sha256').update(RMVPE).digest('hex');
/** A content encoder nobody publishes a hash for (the catalogue's contentvec entries say null). */
const VEC = Buffer.from('not really an encoder, but bytes whose hash the UI must show and pin');
const VEC_SHA = createHash('sha256').update(VEC).digest('hex');

let ui: UiSession;
let home: string;
let page: Page;
let probe: ProbeClient;
let files: http.Server;
const fetched: string[] = [];

const state = () => probe.call('getState', {});

async function shot(name: string): Promise<string> {
  mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

function getBytes(url: string): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

/** Serves the stand-ins, slowly (64 KiB every 15 ms) so the page's progress bar has time to show. Honours Range. */
function serveFiles(req: http.IncomingMessage, res: http.ServerResponse): void {
  fetched.push(req.url ?? '');
  const body = req.url === '/rmvpe.onnx' ? RMVPE : req.url === '/vec.onnx' ? VEC : null;
  if (!body) {
    res.writeHead(404);
    return void res.end();
  }
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = m ? Number(m[1]) : 0;
  res.writeHead(m ? 206 : 200, { 'content-length': body.length - start, ...(m ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}) });
  let at = start;
  const step = () => {
    if (res.destroyed) return;
    if (at >= body.length) return void res.end();
    const next = Math.min(body.length, at + 64 * 1024);
    res.write(body.subarray(at, next));
    at = next;
    setTimeout(step, 15);
  };
  step();
}

before(async () => {
  files = http.createServer(serveFiles);
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  ui = await UiSession.start({
    name: 'resona-ui-cards',
    prepare: (home) => {
      const base = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
      // The catalogue's real URLs are on the internet: point rmvpe and one encoder at the local server instead.
      writeFileSync(
        path.join(home, 'catalogue-overrides.json'),
        JSON.stringify({
          rmvpe: { url: `${base}/rmvpe.onnx`, size: RMVPE.length, sha256: RMVPE_SHA },
          'contentvec-768-l12': { url: `${base}/vec.onnx` },
          'contentvec-256-l9': { url: `${base}/gone.onnx` },
        }),
      );
    },
    serveEnv: (home) => ({ RESONA_CATALOGUE_OVERRIDES: path.join(home, 'catalogue-overrides.json') }),
  });
  ({ home, page, probe } = ui);
  await ui.openPage();
});

after(async () => {
  await ui?.close();
  await new Promise((r) => (files ? files.close(r) : r(undefined)));
});

test('voice cards: each voice is a card with a star and a play button, and its preview plays in the page', { timeout: 60_000 }, async () => {
  for (const id of ['natural', 'deeper', 'higher', 'robot']) {
    await page.locator(`[data-card="${id}"]`).waitFor();
    assert.equal(await page.getByTestId(`fav-${id}`).count(), 1, `${id} has a star`);
    assert.equal(await page.getByTestId(`play-${id}`).count(), 1, `${id} has a play button`);
  }
  await page.getByTestId('play-higher').click();
  await until('the card to say the preview plays', async () => (await page.getByTestId('play-higher').getAttribute('aria-pressed')) === 'true', 20_000);
  // The page's audio element really plays the WAV the host served: its clock moves on.
  const t0 = await page.evaluate<number>(`document.querySelector('[data-testid=preview-audio]').currentTime`);
  await until('the preview to advance', async () => (await page.evaluate<number>(`document.querySelector('[data-testid=preview-audio]').currentTime`)) > t0 + 0.3, 10_000);
  const src = await page.evaluate<string>(`document.querySelector('[data-testid=preview-audio]').currentSrc`);
  assert.match(src, /\/voice-sample\/[0-9a-f]{64}\.wav$/);
  const line = (await page.locator('[data-card="higher"] small').textContent()) ?? '';
  assert.match(line, /preview 2\.\d s · (rendered in \d+ ms|cached)/);
  console.log(`ui-cards: first play of "higher": ${line}`);
  await shot('cards-preview-playing');
  await until('the preview to end', async () => (await page.getByTestId('play-higher').getAttribute('aria-pressed')) === 'false', 15_000);
});

test("a preview is rendered by that voice: higher's f0 sits its preset shift above natural's; the second request is a cache hit", { timeout: 90_000 }, async (t) => {
  const s = await state();
  const higher = s.voices.find((v) => v.id === 'higher')!;
  const shift = higher.defaultPitch; // the card renders with its remembered settings: here its defaults (none changed)
  assert.ok(shift !== 0, 'the "higher" voice shifts pitch');
  const nat = await probe.call('renderPreview', { voice: 'natural' });
  const hi = await probe.call('renderPreview', { voice: 'higher' });
  const again = await probe.call('renderPreview', { voice: 'higher' });
  assert.equal(again.cached, true, 'the second request for the same voice and settings is a cache hit');
  assert.equal(again.renderMs, 0);
  assert.equal(again.url, hi.url);
  const decode = async (url: string) => {
    const r = await getBytes(new URL(url, ui.served.url).toString());
    assert.equal(r.status, 200, url);
    assert.equal(r.type, 'audio/wav');
    const a = await decodeAudio(new Uint8Array(r.body), 'preview.wav');
    assert.equal(a.sampleRate, REFERENCE_RATE);
    return a.channels[0]!;
  };
  const xn = await decode(nat.url);
  const xh = await decode(hi.url);
  const phrase = referencePhrase();
  assert.equal(xh.length, phrase.length, 'the preview has the reference phrase’s length');
  assert.ok(Math.abs(hi.durationMs - (phrase.length / REFERENCE_RATE) * 1000) < 1);
  // A preview lines up with the phrase sample for sample (the convert path removes the engine's latency), so
  // the f0 tracks pair frame by frame; a lag search would latch onto the syllables' rhythm instead.
  const fp = f0Track(phrase, REFERENCE_RATE);
  const fn = f0Track(xn, REFERENCE_RATE);
  const natural = pairedMedianCents(fp, fn);
  const shifted = pairedMedianCents(fn, f0Track(xh, REFERENCE_RATE));
  const msg = `natural vs phrase ${natural.cents.toFixed(0)} cents (${natural.paired} frames); higher vs natural ${shifted.cents.toFixed(0)} cents (${shifted.paired} frames), preset ${shift * 100}; render natural ${nat.renderMs} ms (cached ${nat.cached}), higher ${hi.renderMs} ms, again ${again.renderMs} ms (cached ${again.cached})`;
  t.diagnostic(msg);
  console.log(`ui-cards: ${msg}`);
  assert.ok(natural.paired > 50 && shifted.paired > 50, msg);
  assert.ok(Math.abs(natural.cents) <= 30, msg);
  assert.ok(Math.abs(shifted.cents - shift * 100) <= 40, msg);
  // Not any WAV: a name that is not a rendered preview's key is not served.
  assert.equal((await getBytes(new URL('/voice-sample/..%2Fpresets.json', ui.served.url).toString())).status, 404);
  assert.equal((await getBytes(new URL(`/voice-sample/${'0'.repeat(64)}.wav`, ui.served.url).toString())).status, 404);
});

test('a named preset saves the current settings, applies them back, and deletes', { timeout: 60_000 }, async () => {
  await page.locator('[data-voice="natural"]').click();
  await until('natural chosen', async () => (await state()).selection.voice === 'natural');
  await probe.call('setSettings', { settings: { pitch: 7, formant: 2 } });
  await page.getByTestId('preset-name').fill('Bright');
  await page.getByTestId('preset-save').click();
  await until('the preset on the host', async () => (await state()).namedPresets.natural?.find((p) => p.name === 'Bright'));
  const saved = (await state()).namedPresets.natural!.find((p) => p.name === 'Bright')!;
  assert.equal(saved.settings.pitch, 7);
  assert.equal(saved.settings.formant, 2);
  // Move away from it, then apply it from the card.
  await probe.call('setSettings', { settings: { pitch: -3, formant: 0 } });
  await until('the UI to show pitch -3', async () => (await page.locator('[data-field="pitch"] input[type="number"]').inputValue()) === '-3');
  await page.getByTestId('preset-select').selectOption('Bright');
  await page.getByTestId('preset-apply').click();
  await until('the preset applied on the host', async () => {
    const s = (await state()).selection.settings;
    return s.pitch === 7 && s.formant === 2;
  });
  await until('the UI to show pitch 7', async () => (await page.locator('[data-field="pitch"] input[type="number"]').inputValue()) === '7');
  await shot('cards-preset-applied');
  // A second one to delete; "Bright" stays for the restart test.
  await page.getByTestId('preset-name').fill('Scratch');
  await page.getByTestId('preset-save').click();
  await until('the second preset', async () => (await state()).namedPresets.natural?.some((p) => p.name === 'Scratch'));
  await page.getByTestId('preset-select').selectOption('Scratch');
  await page.getByTestId('preset-delete').click();
  await until('the second preset deleted', async () => !(await state()).namedPresets.natural?.some((p) => p.name === 'Scratch'));
  // A name that is only spaces is refused inline, not saved.
  await probe.call('savePreset', { name: '   ' }).then(
    () => assert.fail('a blank name was accepted'),
    (e: Error) => assert.match(e.message, /give the preset a name/),
  );
});

test('favourites: a star lists the voice first and survives a host restart (with the named preset)', { timeout: 90_000 }, async () => {
  const firstCard = () => page.locator('.voice-list .card').first().getAttribute('data-card');
  assert.notEqual(await firstCard(), 'robot');
  await page.getByTestId('fav-robot').click();
  await until('robot a favourite on the host', async () => (await state()).favourites.includes('robot'));
  await until('robot listed first', async () => (await firstCard()) === 'robot');
  assert.equal(await page.getByTestId('fav-robot').getAttribute('aria-pressed'), 'true');
  // Restart the host on the same RESONA_HOME; the page reconnects to the new address.
  await ui.stopHost();
  await ui.startHost();
  probe = ui.probe;
  const s = await state();
  assert.deepEqual(s.favourites, ['robot']);
  assert.equal(s.namedPresets.natural?.find((p) => p.name === 'Bright')?.settings.pitch, 7, 'the named preset was kept');
  await ui.openPage();
  await until('robot still first after the restart', async () => (await firstCard()) === 'robot');
  assert.equal(await page.getByTestId('fav-robot').getAttribute('aria-pressed'), 'true');
  await shot('cards-favourite-after-restart');
  // And un-starring puts it back in the library's order.
  await page.getByTestId('fav-robot').click();
  await until('robot no longer first', async () => (await firstCard()) !== 'robot');
});

test('a missing pitch network is marked and downloads from the test server with progress and a verified SHA-256', { timeout: 90_000 }, async () => {
  const row = page.locator('[data-model="rmvpe"]');
  await row.scrollIntoViewIfNeeded();
  assert.equal(await page.getByTestId('model-state-rmvpe').textContent(), 'needs download');
  assert.match((await row.textContent()) ?? '', new RegExp(RMVPE_SHA), 'the published SHA-256 is shown');
  // Networks nobody publishes are marked with the file to place, and offer no download.
  assert.equal(await page.getByTestId('model-state-swiftf0').textContent(), 'needs file');
  assert.equal(await page.getByTestId('model-download-swiftf0').count(), 0);
  assert.match((await page.locator('[data-model="crepe"]').textContent()) ?? '', /put crepe_tiny\.onnx in/);
  await page.getByTestId('model-download-rmvpe').click();
  await page.getByTestId('model-progress-rmvpe').waitFor({ timeout: 10_000 });
  await row.scrollIntoViewIfNeeded();
  await shot('cards-network-downloading');
  await until('the download done', async () => (await page.getByTestId('model-state-rmvpe').textContent()) === 'ready', 60_000);
  assert.match((await page.getByTestId('model-done-rmvpe').textContent()) ?? '', new RegExp(`${RMVPE_SHA} verified`));
  const file = path.join(home, 'models', 'rmvpe.onnx');
  assert.equal(createHash('sha256').update(readFileSync(file)).digest('hex'), RMVPE_SHA);
  assert.ok(fetched.includes('/rmvpe.onnx'), 'the file came from the test server');
  assert.equal((await state()).models.find((m) => m.id === 'rmvpe')?.state, 'present');
  await row.scrollIntoViewIfNeeded();
  await shot('cards-network-downloaded');
  // A file placed by hand shows after "Check again".
  writeFileSync(path.join(home, 'models', 'swiftf0.onnx'), Buffer.from('placed by hand'));
  await page.getByTestId('models-recheck').click();
  await until('swiftf0 marked ready', async () => (await page.getByTestId('model-state-swiftf0').textContent()) === 'ready', 10_000);
});

test('a network with no published hash: a failed download says why; a download needs confirming, and its hash is shown and pinned', { timeout: 90_000 }, async () => {
  // Never a silent failure: the server has no such file, and the row says so.
  await page.getByTestId('model-download-contentvec-256-l9').click();
  await page.getByTestId('model-confirm-yes-contentvec-256-l9').click();
  await until('the failure shown', async () => /404/.test((await page.getByTestId('model-error-contentvec-256-l9').textContent().catch(() => '')) ?? ''), 20_000);
  // The host refuses an unconfirmed download of an unhashed file outright.
  await probe.call('downloadModel', { id: 'contentvec-768-l12' }).then(
    () => assert.fail('an unverified download went ahead without consent'),
    (e: Error) => assert.match(e.message, /nobody publishes a SHA-256/),
  );
  assert.ok(!fetched.includes('/vec.onnx'), 'nothing was fetched before the user confirmed');
  assert.ok(await page.getByTestId('needs-natural').count() === 0, 'built-in voices need no encoder');
  await page.getByTestId('model-download-contentvec-768-l12').click();
  const confirm = page.getByTestId('model-confirm-contentvec-768-l12');
  await confirm.waitFor();
  assert.match((await confirm.textContent()) ?? '', /Nobody publishes a SHA-256/);
  assert.ok(!fetched.includes('/vec.onnx'), 'nothing is fetched while the question is open');
  await confirm.scrollIntoViewIfNeeded();
  await shot('cards-network-confirm-unverified');
  await page.getByTestId('model-confirm-yes-contentvec-768-l12').click();
  await until('the pinned hash shown', async () => (await page.getByTestId('model-pin-contentvec-768-l12').textContent().catch(() => null)) === VEC_SHA, 30_000);
  const pin = JSON.parse(readFileSync(path.join(home, 'models', 'vec-768-layer-12.onnx.sha256-pin'), 'utf8')) as { sha256: string };
  assert.equal(pin.sha256, VEC_SHA);
  assert.ok(existsSync(path.join(home, 'models', 'vec-768-layer-12.onnx')));
});
