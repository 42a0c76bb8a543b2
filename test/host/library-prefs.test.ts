// The voice library's keepsakes on the host: favourites and named presets survive a reopen and refuse what
// cannot be kept; previews are cached per voice and settings; the catalogue overrides file is checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FavouriteStore } from '../../host/control/favourites.js';
import { MAX_PRESET_NAME, NamedPresetStore } from '../../host/control/named-presets.js';
import { effectiveCatalogue } from '../../host/catalogue-overrides.js';
import { previewPath } from '../../host/preview/preview-files.js';
import { referencePhrase, REFERENCE_RATE } from '../../host/preview/reference-phrase.js';
import { VoicePreviews } from '../../host/preview/voice-previews.js';
import { CATALOGUE } from '../../models/catalogue/catalogue.js';
import { DEFAULT_SETTINGS } from '../../protocol/settings.js';
import type { VoiceInfo } from '../../protocol/voices.js';
import { findBuiltinVoice } from '../../engine/voices/builtin.js';
import { tempDir } from '../helpers.js';

test('favourites persist, ignore duplicates, and a broken file starts empty', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = path.join(dir, 'favourites.json');
    const a = await FavouriteStore.open(file);
    await a.set('robot', true);
    await a.set('robot', true);
    await a.set('__proto__', true);
    await a.set('deeper', true);
    await a.set('deeper', false);
    assert.deepEqual((await FavouriteStore.open(file)).list(), ['robot', '__proto__']);
    writeFileSync(file, '{not json');
    assert.deepEqual((await FavouriteStore.open(file)).list(), []);
  } finally {
    cleanup();
  }
});

test('named presets: saved per voice, overwritten by name, applied back as saved, deleted; bad names refused', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = path.join(dir, 'named-presets.json');
    const s = await NamedPresetStore.open(file);
    await s.save('natural', '  Bright ', { ...DEFAULT_SETTINGS, pitch: 7 });
    await s.save('natural', 'Bright', { ...DEFAULT_SETTINGS, pitch: 8 });
    await s.save('deeper', 'Low', { ...DEFAULT_SETTINGS, pitch: -9 });
    const t = await NamedPresetStore.open(file);
    assert.equal(t.all().natural!.length, 1, 'same name overwrites');
    assert.equal(t.get('natural', 'Bright')!.settings.pitch, 8);
    assert.equal(t.get('deeper', 'Low')!.settings.pitch, -9);
    await assert.rejects(t.save('natural', '   ', DEFAULT_SETTINGS), /give the preset a name/);
    await assert.rejects(t.save('natural', 'x'.repeat(MAX_PRESET_NAME + 1), DEFAULT_SETTINGS), /at most 40/);
    await assert.rejects(t.delete('natural', 'Nope'), /no preset "Nope"/);
    await t.delete('natural', 'Bright');
    assert.equal((await NamedPresetStore.open(file)).get('natural', 'Bright'), undefined);
    // A preset whose values no longer pass the checks is dropped on open, the rest kept.
    writeFileSync(file, JSON.stringify({ natural: [{ name: 'Wild', settings: { pitch: 99 } }, { name: 'Ok', settings: { pitch: 2 } }] }));
    assert.deepEqual((await NamedPresetStore.open(file)).all().natural!.map((p) => p.name), ['Ok']);
  } finally {
    cleanup();
  }
});

test('the reference phrase is deterministic, about 2.3 s, and voiced', () => {
  const x = referencePhrase();
  assert.ok(x.length / REFERENCE_RATE > 2 && x.length / REFERENCE_RATE < 3);
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  assert.ok(Math.abs(peak - 0.5) < 1e-6, `peak ${peak}`);
  assert.equal(referencePhrase(), x, 'built once');
});

test('previews: cached per voice and settings; a settings change renders anew; only keys are served', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = new VoicePreviews(dir);
    const v: VoiceInfo = findBuiltinVoice('deeper')!;
    const s = { ...DEFAULT_SETTINGS, pitch: -5, formant: -2 };
    const [a, b] = await Promise.all([p.get(v, s), p.get(v, s)]);
    assert.equal(a.url, b.url, 'two requests at once share one render');
    const c = await p.get(v, s);
    assert.equal(c.cached, true);
    const d = await p.get(v, { ...s, pitch: -4 });
    assert.equal(d.cached, false);
    assert.notEqual(d.url, a.url);
    const name = path.basename(a.url);
    const wav = await p.read(name);
    assert.ok(wav && wav.subarray(0, 4).toString() === 'RIFF');
    assert.ok(wav.length >= referencePhrase().length * 4, 'a 32-bit float WAV of the whole phrase');
    assert.equal(await p.read('../x.wav'), null);
    assert.equal(previewPath('../../etc/passwd'), null);
    // The cache is bounded: past its size the oldest go.
    const small = new VoicePreviews(dir, 2);
    await small.get(v, { ...s, pitch: -3 });
    const { readdirSync } = await import('node:fs');
    assert.equal(readdirSync(dir).filter((n) => n.endsWith('.wav')).length, 2);
    assert.equal(previewPath(`${'a'.repeat(64)}.wav`, dir), path.join(dir, `${'a'.repeat(64)}.wav`));
  } finally {
    cleanup();
  }
});

test('catalogue overrides: url, size and hash replaced; unknown ids and bad values refused', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = path.join(dir, 'o.json');
    writeFileSync(file, JSON.stringify({ rmvpe: { url: 'http://127.0.0.1:9/r.onnx', size: 10, sha256: 'a'.repeat(64) } }));
    const c = effectiveCatalogue({ RESONA_CATALOGUE_OVERRIDES: file });
    const r = c.find((e) => e.id === 'rmvpe')!;
    assert.deepEqual([r.url, r.size, r.sha256, r.file], ['http://127.0.0.1:9/r.onnx', 10, 'a'.repeat(64), 'rmvpe.onnx']);
    assert.equal(CATALOGUE.find((e) => e.id === 'rmvpe')!.size, 361_688_443, 'the built-in catalogue is untouched');
    assert.equal(effectiveCatalogue({}), CATALOGUE);
    writeFileSync(file, JSON.stringify({ nope: {} }));
    assert.throws(() => effectiveCatalogue({ RESONA_CATALOGUE_OVERRIDES: file }), /unknown catalogue id "nope"/);
    writeFileSync(file, JSON.stringify({ rmvpe: { url: 'file:///etc/passwd' } }));
    assert.throws(() => effectiveCatalogue({ RESONA_CATALOGUE_OVERRIDES: file }), /http\(s\) URL/);
    writeFileSync(file, JSON.stringify({ rmvpe: { sha256: 'XYZ' } }));
    assert.throws(() => effectiveCatalogue({ RESONA_CATALOGUE_OVERRIDES: file }), /64 lowercase hex/);
    assert.ok(readFileSync(file, 'utf8'));
  } finally {
    cleanup();
  }
});
