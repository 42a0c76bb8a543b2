// so-vits-svc voices (issue 12): the 4.0 and 4.1 ONNX forms recognised by their inputs and anything else
// refused by name; the frame arithmetic (mel2ph, f0 interpolation with uv, per-hop loudness) checked
// numerically; import of .onnx + its exporter .json (bare, folder, zip) into a library; the voice listed with
// its family and knobs; `resona convert` through it at the input's length and rate with the asked pitch.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { yinTrack } from '../../engine/f0/yin.js';
import { medianVoiced, ratioToCents } from '../../engine/pitch.js';
import { readAudioFile, writeWavAtomic } from '../../host/audio-file.js';
import { listVoices } from '../../host/voices.js';
import { detectSovitsForm, looksLikeSovits, SovitsFormError } from '../../models/families/sovits/forms.js';
import { fillMel2ph, frameRms, interpolateF0 } from '../../models/families/sovits/frames.js';
import { SovitsSynth } from '../../models/families/sovits/synthesizer.js';
import { parseOnnxInfo } from '../../models/onnx/model-info.js';
import { loadSession } from '../../models/runtime.js';
import { importVoice } from '../../models/voices/import-voice.js';
import { UserError } from '../../protocol/errors.js';
import { runResona, sine, tempDir } from '../helpers.js';
import { buildTinyEncoder, buildTinySynth, writeModel } from './tiny-models.js';
import { buildTinySovits, sovitsConfig, sovitsSpeakerGain } from './tiny-sovits.js';

const T_OUT = { timeout: 120_000 };
const tmp = tempDir();
process.env.RESONA_HOME = path.join(tmp.dir, 'home');
const library = path.join(tmp.dir, 'home', 'voices');
after(() => tmp.cleanup());

const info = (bytes: Uint8Array) => parseOnnxInfo(bytes, 'm.onnx');

describe('forms', () => {
  test('4.0 and 4.1 exports are recognised by their inputs', T_OUT, () => {
    const a = detectSovitsForm(info(buildTinySovits({ form: 'sovits40', channels: 256 })), 'a.onnx');
    assert.deepEqual(a, { id: 'sovits40', channels: 256, noiseChannels: 192, vol: false, speakerInput: 'id', mixSpeakers: null, keep: false, decoderContext: 0 });
    const b = detectSovitsForm(info(buildTinySovits({ form: 'sovits41' })), 'b.onnx');
    assert.deepEqual(b, { id: 'sovits41', channels: 768, noiseChannels: 192, vol: true, speakerInput: 'id', mixSpeakers: null, keep: false, decoderContext: 0 });
    const mix = detectSovitsForm(info(buildTinySovits({ form: 'sovits41', speakers: 3 })), 'b.onnx');
    assert.equal(mix.speakerInput, 'mix');
    assert.equal(mix.mixSpeakers, 3);
  });

  test('the kept-region form (skip_head, return_length scalars) is its own form; a non-scalar skip_head is refused by name', T_OUT, () => {
    const keep = (dims: number[]) => [{ name: 'skip_head', type: 'int64' as const, dims }, { name: 'return_length', type: 'int64' as const, dims }];
    const k = detectSovitsForm(info(buildTinySovits({ form: 'sovits41', extraInputs: keep([]) })), 'k.onnx');
    // No metadata saying the decoder's reach: the so-vits-svc template's, 14 frames.
    assert.deepEqual([k.id, k.keep, k.decoderContext, k.vol], ['sovits41-keep', true, 14, true]);
    assert.equal(detectSovitsForm(info(buildTinySovits({ form: 'sovits40', extraInputs: keep([]) })), 'k.onnx').id, 'sovits40-keep');
    assert.throws(() => detectSovitsForm(info(buildTinySovits({ form: 'sovits40', extraInputs: keep([1]) })), 'k1.onnx'), (e: Error) => {
      assert.ok(e instanceof SovitsFormError);
      assert.match(e.message, /^k1\.onnx: input skip_head has shape \[1\]; a scalar \[\] expected/);
      return true;
    });
  });

  test('other so-vits graphs are refused with their inputs and the forms known; RVC models are not claimed', T_OUT, async () => {
    const v2 = info(buildTinySovits({ form: 'sovits40', extraInputs: [{ name: 't_window', type: 'float32', dims: [1, 2048, 'T'] }] }));
    assert.ok(looksLikeSovits(v2));
    assert.throws(() => detectSovitsForm(v2, 'v2.onnx'), (e: Error) => {
      assert.ok(e instanceof SovitsFormError && e instanceof UserError);
      assert.match(e.message, /^v2\.onnx: matches no so-vits-svc ONNX form/);
      assert.match(e.message, /Its inputs: c float32\[1,T_h,768\], .*t_window float32\[1,2048,T\]/);
      assert.match(e.message, /Known: so-vits-svc 4\.0 export .*so-vits-svc 4\.1 export/);
      return true;
    });
    assert.equal(looksLikeSovits(info(buildTinySynth({ contract: 'vcclient-skip', rate: 40000, f0: true, channels: 768 }))), false);
    // Through the importer: refused by the so-vits family, and nothing lands in the library.
    const file = await writeModel(tmp.dir, 'v2.onnx', buildTinySovits({ form: 'sovits40', extraInputs: [{ name: 't_window', type: 'float32', dims: [1, 2048, 'T'] }] }));
    await assert.rejects(importVoice(file, path.join(tmp.dir, 'refused')), SovitsFormError);
    assert.deepEqual((await fs.readdir(path.join(tmp.dir, 'refused')).catch(() => [])).filter((n) => !n.startsWith('.')), []);
  });
});

describe('frame arithmetic', () => {
  test('mel2ph: model frame i takes content frame floor(i·T_src/T), 1-based', T_OUT, () => {
    const m = new BigInt64Array(10);
    fillMel2ph(m, 10, 4);
    assert.deepEqual([...m].map(Number), [1, 1, 1, 2, 2, 3, 3, 3, 4, 4]);
    // The real ratio: 50 content frames a second onto 86.13 model frames a second.
    const T = 86;
    const big = new BigInt64Array(T);
    fillMel2ph(big, T, 50);
    assert.equal(Number(big[0]), 1);
    assert.equal(Number(big[T - 1]), 50);
    for (let i = 1; i < T; i++) assert.ok(Number(big[i]) - Number(big[i - 1]) <= 1, 'never skips back or jumps two');
  });

  test('f0: unvoiced frames interpolated linearly, edges held, uv separate; all unvoiced stays 0', T_OUT, () => {
    const f0 = Float32Array.from([0, 100, 0, 0, 200, 0]);
    const uv = new Float32Array(6);
    interpolateF0(f0, uv, 6);
    assert.deepEqual([...uv], [0, 1, 0, 0, 1, 0]);
    const want = [100, 100, 100 + 100 / 3, 100 + 200 / 3, 200, 200];
    f0.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-3, `frame ${i}: ${v}`));
    const silent = new Float32Array(4);
    interpolateF0(silent, uv, 4);
    assert.deepEqual([...silent], [0, 0, 0, 0]);
    assert.deepEqual([...uv.subarray(0, 4)], [0, 0, 0, 0]);
  });

  test('vol: RMS per hop, centred on each frame', T_OUT, () => {
    const x = new Float32Array(1000);
    x.fill(0.5, 0, 500);
    x.fill(-0.25, 500);
    const out = new Float32Array(4);
    frameRms(x, 100, 100, 4, out); // frames at [100,200) … [400,500): all 0.5
    out.forEach((v) => assert.ok(Math.abs(v - 0.5) < 1e-6));
    frameRms(x, 500, 200, 2, out);
    out.subarray(0, 2).forEach((v) => assert.ok(Math.abs(v - 0.25) < 1e-6));
  });

  test('the tiny 4.1 model takes c rows through mel2ph and speaker mix weights as the real graph does', T_OUT, async () => {
    const s = await loadSession(buildTinySovits({ form: 'sovits41', channels: 256, speakers: 3 }), { provider: 'cpu', threads: 1, name: 'tiny' });
    const form = detectSovitsForm(info(buildTinySovits({ form: 'sovits41', channels: 256, speakers: 3 })), 'x');
    const synth = new SovitsSynth(s, form, 256, 3);
    const tSrc = 4;
    const T = 7;
    synth.configure(tSrc, T);
    for (let k = 0; k < tSrc; k++) synth.c.fill((k + 1) / 10, k * 256, (k + 1) * 256);
    fillMel2ph(synth.mel2ph, T, tSrc);
    synth.f0.fill(44100 / 4, 0, T); // a quarter of the rate: each frame's peak is its amplitude
    synth.uv.fill(1, 0, T);
    synth.uv[3] = 0;
    const audio = await synth.run(tSrc, T, 2, 0.4);
    assert.equal(audio.length, T * 512);
    for (let i = 0; i < T; i++) {
      let peak = 0;
      for (let k = i * 512; k < (i + 1) * 512; k++) peak = Math.max(peak, Math.abs(audio[k]!));
      const want = i === 3 ? 0 : (Number(synth.mel2ph[i]) / 10) * sovitsSpeakerGain(2);
      assert.ok(Math.abs(peak - want) < 1e-3, `frame ${i}: peak ${peak}, want ${want}`);
    }
    await s.release();
  });
});

describe('import and listing', () => {
  let enc: string;
  before(async () => {
    enc = await writeModel(tmp.dir, 'enc.onnx', buildTinyEncoder('vec', 768));
  });

  test('.onnx with its exporter .json beside it: rate, hop, encoder, speakers and vol from both', T_OUT, async () => {
    const dir = path.join(tmp.dir, 'beside');
    await fs.mkdir(dir);
    const file = await writeModel(dir, 'Alto.onnx', buildTinySovits({ form: 'sovits41', speakers: 3 }));
    await fs.writeFile(path.join(dir, 'Alto.json'), sovitsConfig({ name: 'Alto Choir', speakers: ['a', 'b', 'c'], volume: true }));
    const m = await importVoice(file, library);
    const saved = JSON.parse(await fs.readFile(path.join(library, m.id, 'voice.json'), 'utf8'));
    assert.equal(saved.family, 'sovits');
    assert.equal(saved.name, 'Alto Choir');
    assert.equal(saved.id, 'alto-choir');
    assert.deepEqual(
      [saved.contract, saved.sampleRate, saved.hop, saved.featureSize, saved.encoderLayer, saved.speakers, saved.speakerMix, saved.vol, saved.noiseScale, saved.f0],
      ['sovits41', 44100, 512, 768, 12, 3, true, true, 0.4, true],
    );
    assert.ok(await fs.stat(path.join(library, m.id, 'model.onnx')));
    const { voices, broken } = await listVoices();
    assert.deepEqual(broken, []);
    const v = voices.find((x) => x.id === 'alto-choir')!;
    assert.equal(v.kind, 'sovits');
    assert.equal(v.familyLabel, 'so-vits-svc');
    assert.deepEqual(v.params.map((p) => p.id), ['pitch', 'noiseScale', 'silenceDb', 'speaker']);
    assert.equal(v.params.find((p) => p.id === 'speaker')!.max, 2);
  });

  test('4.0 without a .json: 44.1 kHz assumed only because it renders 512 per frame; encoder from c', T_OUT, async () => {
    const file = await writeModel(tmp.dir, 'Plain.onnx', buildTinySovits({ form: 'sovits40', channels: 256 }));
    const m = await importVoice(file, library);
    const saved = JSON.parse(await fs.readFile(path.join(library, m.id, 'voice.json'), 'utf8'));
    assert.deepEqual([saved.contract, saved.sampleRate, saved.hop, saved.featureSize, saved.encoderLayer, saved.speakers, saved.vol], ['sovits40', 44100, 512, 256, 9, 1, false]);
    // Another hop without the .json: the rate cannot be assumed.
    const odd = await writeModel(tmp.dir, 'Odd.onnx', buildTinySovits({ form: 'sovits40', hop: 320 }));
    await assert.rejects(importVoice(odd, library), /renders 320 samples per frame, not so-vits-svc's 512.*Odd\.json/);
  });

  test('a folder or zip holding model and .json; a .json that disagrees with the model is refused', T_OUT, async () => {
    const model = buildTinySovits({ form: 'sovits41', rate: 32000, hop: 320 });
    const cfg = new TextEncoder().encode(sovitsConfig({ name: 'Zipped', rate: 32000, hop: 320 }));
    const zip = path.join(tmp.dir, 'voice.zip');
    await fs.writeFile(zip, zipSync({ 'Zipped/Zipped.onnx': model, 'Zipped/Zipped.json': cfg }));
    const m = await importVoice(zip, library);
    assert.deepEqual([m.family, m.sampleRate, (m as unknown as { hop: number }).hop], ['sovits', 32000, 320]);
    const folder = path.join(tmp.dir, 'wrong');
    await fs.mkdir(folder);
    await fs.writeFile(path.join(folder, 'W.onnx'), model);
    await fs.writeFile(path.join(folder, 'W.json'), sovitsConfig({ rate: 32000, hop: 512 }));
    await assert.rejects(importVoice(folder, library), /renders 320 samples per frame, but .*W\.json says Hop 512/);
    await fs.writeFile(path.join(folder, 'W.json'), JSON.stringify({ Type: 'SoVits', Rate: 32000, Hop: 320, Hubert: 'whisper-ppg' }));
    await assert.rejects(importVoice(folder, library), /"Hubert" is "whisper-ppg"; .*not supported yet/);
  });

  test('resona convert --voice <sovits.onnx>: the input\'s length and rate, pitch as asked within 10 cents', T_OUT, async () => {
    const RATE = 48000;
    const voice = await writeModel(tmp.dir, 'cli-voice.onnx', buildTinySovits({ form: 'sovits40' }));
    const input = path.join(tmp.dir, 'in.wav');
    const x = sine(200, RATE, 2);
    await writeWavAtomic(input, x, RATE);
    const out = path.join(tmp.dir, 'out.wav');
    const r = await runResona(['convert', input, out, '--voice', voice, '--encoder', enc, '--f0', 'yin', '--pitch', '5', '--block', '100', '--extra', '300'], { ...process.env });
    assert.equal(r.code, 0, r.stderr);
    const y = await readAudioFile(out);
    assert.equal(y.sampleRate, RATE);
    assert.equal(y.channels[0]!.length, x.length);
    const f = medianVoiced(yinTrack(y.channels[0]!.subarray(RATE / 2, RATE * 1.7), RATE));
    assert.ok(Math.abs(ratioToCents(f / 200) - 500) < 10, `${f.toFixed(2)} Hz`);
    // The stage seam: the voice's two networks, each with its provider and a mean time per block above 0.
    const st = /stages, mean per block: content encoder (\S+) (\d+\.\d) ms, synthesizer (\S+) (\d+\.\d) ms\n/.exec(r.stdout);
    assert.ok(st, r.stdout);
    assert.ok(Number(st[2]) > 0 && Number(st[4]) > 0, st[0]);
  });

  test('--speaker on a 4.1 mix model picks that speaker\'s weights: level as the tiny graph predicts', T_OUT, async () => {
    const RATE = 48000;
    const dir = path.join(tmp.dir, 'mixcli');
    await fs.mkdir(dir);
    const voice = await writeModel(dir, 'Mix.onnx', buildTinySovits({ form: 'sovits41', speakers: 3 }));
    await fs.writeFile(path.join(dir, 'Mix.json'), sovitsConfig({ name: 'Mix', speakers: ['a', 'b', 'c'], volume: true }));
    const input = path.join(dir, 'in.wav');
    await writeWavAtomic(input, sine(200, RATE, 2), RATE);
    const out = path.join(dir, 'out.wav');
    const r = await runResona(['convert', input, out, '--voice', voice, '--encoder', enc, '--f0', 'yin', '--speaker', '2'], { ...process.env });
    assert.equal(r.code, 0, r.stderr);
    const y = (await readAudioFile(out)).channels[0]!;
    let s = 0;
    for (let i = RATE / 2; i < RATE * 1.5; i++) s += y[i]! * y[i]!;
    // The tiny encoder gives the input's RMS (0.5/√2) as c; the graph sings it × speaker 2's gain.
    const want = ((0.5 / Math.SQRT2) * sovitsSpeakerGain(2)) / Math.SQRT2;
    const rms = Math.sqrt(s / RATE);
    assert.ok(Math.abs(rms / want - 1) < 0.05, `rms ${rms.toFixed(4)}, want ${want.toFixed(4)}`);
  });
});
