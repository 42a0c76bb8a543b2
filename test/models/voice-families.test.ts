// The voice-family seam: a family is data and a few functions in its own folder plus one registry line, and
// nothing else in Resona tests which family a voice is. Proven with a tiny family defined here (never in
// the product registry): its manifest check, rates and knobs flow through listVoices, resolveVoice and the
// control API's voice list and settings checks. Also: the knobs RVC and built-in voices list.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { VoiceBlock, VoiceConfig, VoiceStage } from '../../engine/voices/voice-stage.js';
import { STREAM_RATE } from '../../engine/voices/voice-stage.js';
import { ControlApi } from '../../host/control/control-api.js';
import { convertSamples } from '../../host/convert.js';
import { listVoices, resolveVoice } from '../../host/voices.js';
import type { VoiceFamily } from '../../models/families/family.js';
import { findFamily, registerFamily } from '../../models/families/registry.js';
import type { VoiceManifest } from '../../protocol/voice-manifest.js';
import { pitchParam, silenceParam, voiceParam } from '../../protocol/voice-params.js';
import type { VoiceInfo } from '../../protocol/voices.js';
import { sine, tempDir } from '../helpers.js';

const tmp = tempDir();
process.env.RESONA_HOME = tmp.dir;
const library = path.join(tmp.dir, 'voices');

interface TinyManifest extends VoiceManifest {
  family: 'tiny';
  /** The family's own field: which tone the stage hums. */
  tone: number;
}

/** Hums a fixed tone at the stream's rate: enough to show the family's load() is what the host runs. */
class ToneStage implements VoiceStage {
  readonly inputRate = STREAM_RATE;
  readonly outputRate = STREAM_RATE;
  readonly lookaheadSec = 0;
  released = false;
  constructor(
    readonly id: string,
    readonly tone: number,
  ) {}
  configure(_c: VoiceConfig): void {}
  reset(): void {}
  render(_b: VoiceBlock, out: Float32Array): void {
    out.fill(0);
  }
}

const loads: { dir: string; provider: string; threads: number }[] = [];

const tinyFamily: VoiceFamily<TinyManifest> = {
  id: 'tiny',
  label: 'Tiny',
  sampleRates: [22050],
  hop: () => 256,
  checkManifest(f, common) {
    const tone = f.raw.tone;
    if (typeof tone !== 'number' || !(tone >= 50 && tone <= 2000)) throw f.bad('tone', 'a tone from 50 to 2000 Hz');
    return { ...common, family: 'tiny', tone };
  },
  params: (m) => [
    pitchParam(m.defaultPitch),
    // A family may narrow a shared setting's range and call it its own way.
    voiceParam('protect', { label: 'Breath', step: 0.01, default: 0.1, max: 0.2, hint: 'how much breath is kept' }),
    silenceParam(),
    ...(m.speakers > 1 ? [voiceParam('speaker', { label: 'Speaker', step: 1, default: 0, max: m.speakers - 1 })] : []),
  ],
  notes: (m) => [{ id: 'tiny-tone', text: `hums at ${m.tone} Hz` }],
  info: () => ({}),
  async load(dir, m, o) {
    loads.push({ dir, provider: o.runtime.provider, threads: o.runtime.threads });
    const stage = new ToneStage(m.id, m.tone);
    return { stage, placement: [{ network: 'tone', provider: 'cpu', note: 'no network' }], notes: [], release: async () => void (stage.released = true) };
  },
};

function writeVoice(id: string, fields: Record<string, unknown>): void {
  const dir = path.join(library, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'voice.json'),
    JSON.stringify({ format: 1, id, name: id, model: 'model.bin', preview: null, f0: true, speakers: 1, defaultPitch: 0, ...fields }),
  );
}

const RVC = { family: 'rvc', contract: 'webui', version: 'v2', sampleRate: 40000, featureSize: 768, encoderLayer: 12, index: null };

let unregister: () => void;
before(() => {
  unregister = registerFamily(tinyFamily);
  writeVoice('tiny-one', { family: 'tiny', sampleRate: 22050, tone: 220, speakers: 3, defaultPitch: 2 });
  writeVoice('tiny-bad-tone', { family: 'tiny', sampleRate: 22050, tone: 5 });
  writeVoice('tiny-bad-rate', { family: 'tiny', sampleRate: 44100, tone: 220 });
  writeVoice('rvc-plain', RVC);
  writeVoice('rvc-full', { ...RVC, contract: 'vcclient-skip', index: 'features.index', speakers: 4 });
  writeVoice('rvc-nof0', { ...RVC, f0: false });
});
after(() => {
  unregister?.();
  tmp.cleanup();
});

const ids = (v: VoiceInfo) => v.params.map((p) => p.id);

test('a family registered outside the product registry: its manifest check and knobs reach listVoices', async () => {
  const { voices, broken } = await listVoices();
  const tiny = voices.find((v) => v.id === 'tiny-one');
  assert.ok(tiny, `listed: ${voices.map((v) => v.id).join(', ')}; broken: ${broken.join(' | ')}`);
  assert.equal(tiny.kind, 'tiny');
  assert.equal(tiny.familyLabel, 'Tiny');
  assert.equal(tiny.sampleRate, 22050);
  assert.deepEqual(ids(tiny), ['pitch', 'protect', 'silenceDb', 'speaker']);
  const breath = tiny.params.find((p) => p.id === 'protect')!;
  assert.deepEqual([breath.label, breath.min, breath.max, breath.default, breath.hint], ['Breath', 0, 0.2, 0.1, 'how much breath is kept']);
  assert.equal(tiny.params.find((p) => p.id === 'speaker')!.max, 2, 'three speakers: ids 0 to 2');
  assert.equal(tiny.params.find((p) => p.id === 'pitch')!.default, 2, "the voice's own default pitch");
  assert.deepEqual(tiny.notes, [{ id: 'tiny-tone', text: 'hums at 220 Hz' }]);
  // The family's own field check and its rates, each failing by name.
  assert.ok(broken.some((m) => /tiny-bad-tone.*"tone" is 5; a tone from 50 to 2000 Hz/.test(m)), broken.join('\n'));
  assert.ok(broken.some((m) => /tiny-bad-rate.*"sampleRate" is 44100; Tiny voices run at 22050 Hz/.test(m)), broken.join('\n'));
});

test("the host loads a voice through its family's load(), with the runtime options as given", async () => {
  loads.length = 0;
  const r = await resolveVoice({ voice: 'tiny-one', runtime: { provider: 'cpu', threads: 3 } });
  assert.equal(r.stage.id, 'tiny-one');
  assert.equal((r.stage as ToneStage).tone, 220);
  assert.deepEqual(loads, [{ dir: path.join(library, 'tiny-one'), provider: 'cpu', threads: 3 }]);
  assert.ok(r.placement.some((p) => p.network === 'tone'));
  await r.release();
  assert.equal((r.stage as ToneStage).released, true);
});

test('the control API lists the family\'s voice and checks settings against its knobs', async () => {
  const api = await ControlApi.create();
  try {
    const list = await api.call('listVoices', {});
    assert.ok(list.ok);
    assert.deepEqual(ids(list.result.voices.find((v) => v.id === 'tiny-one')!), ['pitch', 'protect', 'silenceDb', 'speaker']);
    const chosen = await api.call('setVoice', { voice: 'tiny-one' });
    assert.ok(chosen.ok, JSON.stringify(chosen));
    // A fresh voice starts at its knobs' defaults.
    assert.equal(chosen.result.selection.settings.protect, 0.1);
    assert.equal(chosen.result.selection.settings.pitch, 2);

    const tooMuch = await api.call('setSettings', { settings: { protect: 0.3 } });
    assert.ok(!tooMuch.ok);
    assert.equal(tooMuch.error.field, 'protect');
    assert.match(tooMuch.error.message, /breath 0.3 is out of range for tiny-one: allowed 0 to 0.2/);
    const noIndex = await api.call('setSettings', { settings: { indexRatio: 0.5 } });
    assert.ok(!noIndex.ok);
    assert.match(noIndex.error.message, /tiny-one has no index ratio setting: its settings are pitch, breath, silence gate, speaker/);
    const speaker = await api.call('setSettings', { settings: { speaker: 3 } });
    assert.ok(!speaker.ok, 'speaker 3 of a three-speaker voice');
    const ok = await api.call('setSettings', { settings: { protect: 0.2, speaker: 2, blockMs: 120 } });
    assert.ok(ok.ok, JSON.stringify(ok));
    assert.deepEqual([ok.result.selection.settings.protect, ok.result.selection.settings.speaker, ok.result.selection.settings.blockMs], [0.2, 2, 120]);

    // Built-in voices take no retrieval settings.
    assert.ok((await api.call('setVoice', { voice: 'deeper' })).ok);
    const builtin = await api.call('setSettings', { settings: { protect: 0.2 } });
    assert.ok(!builtin.ok);
    assert.match(builtin.error.message, /^Deeper has no protect setting/);
  } finally {
    await api.close();
  }
});

test('without its registry line the family is unknown: its voices are listed as broken, by field', async () => {
  unregister();
  try {
    assert.equal(findFamily('tiny'), undefined);
    const { voices, broken } = await listVoices();
    assert.ok(!voices.some((v) => v.id === 'tiny-one'));
    assert.ok(broken.some((m) => /tiny-one.*"family" is "tiny"; one of "rvc"/.test(m)), broken.join('\n'));
  } finally {
    unregister = registerFamily(tinyFamily);
  }
});

test('RVC voices list the knobs they have: index ratio only with an index, speaker only with several, formant only with formant_length', async () => {
  const { voices } = await listVoices();
  const byId = (id: string) => voices.find((v) => v.id === id)!;
  assert.deepEqual(ids(byId('rvc-plain')), ['pitch', 'protect', 'silenceDb']);
  assert.deepEqual(byId('rvc-plain').notes!.map((n) => n.id), ['no-index', 'no-formant']);
  assert.equal(byId('rvc-plain').kind, 'rvc');
  assert.equal(byId('rvc-plain').hasIndex, false);
  assert.deepEqual(ids(byId('rvc-full')), ['pitch', 'formant', 'indexRatio', 'protect', 'silenceDb', 'speaker']);
  assert.equal(byId('rvc-full').params.find((p) => p.id === 'speaker')!.max, 3);
  assert.equal(byId('rvc-full').hasIndex, true);
  assert.deepEqual(ids(byId('rvc-nof0')), ['protect', 'silenceDb'], 'a voice that follows no pitch has no pitch knob');
  for (const id of ['natural', 'deeper', 'robot']) assert.deepEqual(ids(byId(id)), ['pitch', 'formant', 'silenceDb'], id);
  assert.equal(byId('deeper').params.find((p) => p.id === 'formant')!.default, -2);
  // 100 content frames a second at every RVC rate.
  assert.deepEqual([32000, 40000, 48000].map((r) => findFamily('rvc')!.hop(r)), [320, 400, 480]);
});

test("file conversion starts a voice at its knobs' defaults and says which given settings the voice does not have", async () => {
  const input = sine(220, 16000, 0.5);
  const tiny = await convertSamples(input, 16000, { voice: 'tiny-one', settings: { indexRatio: 0.5, silenceDb: -50 } });
  assert.equal(tiny.settings.protect, 0.1, "the family's default, not the engine's");
  assert.equal(tiny.settings.pitch, 2);
  assert.equal(tiny.settings.silenceDb, -50);
  assert.deepEqual(tiny.warnings, ['tiny-one has no index ratio setting; the value given is ignored']);
  const deeper = await convertSamples(input, 16000, { voice: 'deeper', settings: { protect: 0.2, speaker: undefined } });
  assert.deepEqual(deeper.warnings, ['Deeper has no protect setting; the value given is ignored']);
  assert.equal(deeper.settings.pitch, -5);
});

test('a preset saved before (every old key, values past this voice\'s ranges) still loads: what no longer fits takes the default', async () => {
  writeFileSync(
    path.join(tmp.dir, 'presets.json'),
    JSON.stringify({ 'tiny-one': { blockMs: 120, extraMs: 100, crossfadeMs: 20, searchMs: 10, pitch: 7, formant: 0, silenceDb: -55, loudnessMix: 1, indexRatio: 0.4, protect: 0.33, speaker: 9 } }),
  );
  const api = await ControlApi.create();
  try {
    const r = await api.call('setVoice', { voice: 'tiny-one' });
    assert.ok(r.ok, JSON.stringify(r));
    const s = r.result.selection.settings;
    assert.deepEqual([s.pitch, s.silenceDb, s.blockMs], [7, -55, 120], 'what fits is kept');
    assert.deepEqual([s.protect, s.speaker], [0.1, 0], 'past the voice\'s own range: its defaults');
  } finally {
    await api.close();
  }
});
