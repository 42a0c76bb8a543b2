// `resona convert` with neural voices and f0 networks from the command line: the options reach the engine,
// and every missing or wrong file is one line saying what to do.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { yinTrack } from '../../engine/f0/yin.js';
import { medianVoiced, ratioToCents } from '../../engine/pitch.js';
import { readAudioFile, writeWavAtomic } from '../../host/audio-file.js';
import { buildTinyEncoder, buildTinySynth, writeModel } from '../models/tiny-models.js';
import { runResona, sharedPath, sine, tempDir } from '../helpers.js';

const tmp = tempDir();
const env = { ...process.env, RESONA_HOME: path.join(tmp.dir, 'home') };
const RATE = 48000;
let enc: string;
let voice: string;
let input: string;

const resona = (...args: string[]) => runResona(args, env);

before(async () => {
  enc = await writeModel(tmp.dir, 'enc.onnx', buildTinyEncoder('vec', 768));
  voice = await writeModel(tmp.dir, 'tiny.onnx', buildTinySynth({ contract: 'vcclient-skip', rate: 40000, f0: true, channels: 768 }));
  input = path.join(tmp.dir, 'in.wav');
  await writeWavAtomic(input, sine(200, RATE, 2), RATE);
});
after(() => tmp.cleanup());

describe('convert with a neural voice from the command line', () => {
  for (const [method, file] of [['crepe', sharedPath('models', 'f0', 'crepe_tiny.onnx')], ['yin', 'yin']] as const) {
    test(`--f0 ${method}: the voice sings 5 semitones up`, async () => {
      const out = path.join(tmp.dir, `out-${method}.wav`);
      const r = await resona('convert', input, out, '--voice', voice, '--encoder', enc, '--f0', file, '--pitch', '5', '--block', '50', '--extra', '300');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`pitch 5, formant 0, f0 ${method}, block 50 ms`));
      const y = (await readAudioFile(out)).channels[0]!;
      const f = medianVoiced(yinTrack(y.subarray(RATE / 2, RATE * 1.7), RATE));
      assert.ok(Math.abs(ratioToCents(f / 200) - 500) < 10, `${f.toFixed(2)} Hz`);
    });
  }

  test('--f0 with a SwiftF0 file drives a built-in voice too', async () => {
    const r = await resona('convert', input, path.join(tmp.dir, 'o.wav'), '--voice', 'natural', '--f0', sharedPath('models', 'f0', 'swiftf0.onnx'), '--pitch', '3');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /f0 swiftf0/);
  });

  const oneLine = (r: { code: number; stderr: string }, re: RegExp) => {
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^resona: error: /);
    assert.match(r.stderr, re);
  };

  test('missing or wrong files: one line that says what to do', async () => {
    const out = path.join(tmp.dir, 'never.wav');
    oneLine(await resona('convert', input, out, '--voice', voice, '--f0', 'swiftf0', '--encoder', enc), /f0 method "swiftf0" needs swiftf0\.onnx: put it in .*home\/models, or pass --f0/);
    oneLine(await resona('convert', input, out, '--voice', voice, '--f0', enc, '--encoder', enc), /enc\.onnx: not a known f0 network/);
    oneLine(await resona('convert', input, out, '--voice', voice, '--f0', 'bogus', '--encoder', enc), /unknown f0 method "bogus"/);
    oneLine(await resona('convert', input, out, '--voice', voice), /vec-768-layer-12\.onnx was not found\. Run 'resona models download contentvec-768-l12.*https:\/\/.*put it in /);
    oneLine(await resona('convert', input, out, '--voice', voice, '--encoder', voice), /not a content encoder/);
    oneLine(await resona('convert', input, out, '--voice', 'no-such-voice'), /unknown voice "no-such-voice"/);
    oneLine(await resona('convert', input, out, '--voice', voice, '--encoder', enc, '--speaker', '1.5'), /speaker id must be a whole number/);
    const { existsSync } = await import('node:fs');
    assert.equal(existsSync(out), false);
  });
});
