// `resona convert` as a user runs it: formats in, WAV out, figures printed, and bad input refused cleanly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { readAudioFile } from '../../host/audio-file.js';
import { CLI, sharedPath, tempDir } from '../helpers.js';

let dir = '';
let cleanup = () => {};
const speech = () => sharedPath('audio', 'librispeech', '2412-153947-0000.wav');

function resona(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function sox(...args: string[]) {
  const r = spawnSync('sox', args, { encoding: 'utf8' });
  if (r.error) throw new Error('sox is needed to make test files: install it (Debian: apt-get install sox libsox-fmt-all)');
  assert.equal(r.status, 0, `sox ${args.join(' ')}: ${r.stderr}`);
}

before(() => {
  ({ dir, cleanup } = tempDir());
});
after(() => cleanup());

describe('converts every supported format', () => {
  for (const ext of ['wav', 'flac', 'mp3', 'ogg']) {
    test(`${ext} in, WAV out at the input's rate, same length, figures printed`, async () => {
      const input = path.join(dir, `in.${ext}`);
      sox(speech(), '-r', '24000', input);
      const out = path.join(dir, `out-${ext}.wav`);
      const r = resona('convert', input, out, '--voice', 'higher');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /real-time factor \d/);
      assert.match(r.stdout, /algorithmic latency \d+(\.\d)? ms/);
      const a = await readAudioFile(input);
      const b = await readAudioFile(out);
      assert.equal(b.sampleRate, a.sampleRate);
      assert.equal(b.channels.length, 1);
      assert.equal(b.channels[0]!.length, a.channels[0]!.length);
    });
  }
});

describe('unusual but valid input converts', () => {
  for (const [name, soxArgs, expectRate, warning] of [
    ['8 kHz', ['-r', '8000'], 8000, null],
    ['192 kHz', ['-r', '192000'], 192000, null],
    ['stereo', ['-c', '2'], 16000, /2 channels mixed down to mono/],
    ['24-bit', ['-b', '24'], 16000, null],
  ] as const) {
    test(name, async () => {
      const input = path.join(dir, `odd-${name.replace(/\W/g, '')}.wav`);
      sox(speech(), ...soxArgs, input);
      const out = path.join(dir, `odd-out-${name.replace(/\W/g, '')}.wav`);
      const r = resona('convert', input, out, '--voice', 'deeper', '--quiet');
      assert.equal(r.code, 0, r.stderr);
      if (warning) assert.match(r.stderr, warning);
      const b = await readAudioFile(out);
      assert.equal(b.sampleRate, expectRate);
      assert.equal(b.channels[0]!.length, (await readAudioFile(input)).channels[0]!.length);
    });
  }
});

describe('bad input: one-line error, non-zero exit, no output file', () => {
  const cases: Array<[string, () => string, string[], RegExp]> = [
    ['empty file', () => write('empty.wav', Buffer.alloc(0)), [], /empty/],
    ['truncated header', () => write('trunc.wav', readFileSync(speech()).subarray(0, 30)), [], /header is truncated/],
    ['unknown format', () => write('noise.bin', Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7919) % 251))), [], /not an audio file/],
    ['text file named .wav', () => write('notes.wav', Buffer.from('these are my notes, not audio\n'.repeat(20))), [], /looks like a text file/],
    ['missing file', () => path.join(dir, 'nope.wav'), [], /no such file/],
    ['pitch out of range', speech, ['--pitch', '30'], /pitch shift 30 semitones is out of range: allowed -24 to 24/],
    ['block out of range', speech, ['--block', '5'], /block size 5 ms is out of range/],
    ['not a number', speech, ['--formant', 'abc'], /--formant needs a number/],
    ['unknown voice', speech, ['--voice', 'nobody'], /unknown voice "nobody"/],
    ['unknown option', speech, ['--pitchh', '3'], /Unknown option '--pitchh'/],
    ['input is a FIFO', () => fifo('in-fifo.wav'), [], /in-fifo\.wav: is a named pipe \(FIFO\), not a regular file; give the audio file itself/],
    ['input is /dev/zero', () => '/dev/zero', [], /\/dev\/zero: is a character device, not a regular file/],
    ['input is a folder', () => dir, [], /is a folder, not a regular file/],
    ['f0 network is a FIFO', speech, ['--f0', path.join(dir, 'f0-fifo.onnx')], /f0-fifo\.onnx: is a named pipe \(FIFO\), not a regular file; give the ONNX model itself/],
    ['a WAV whose bext chunk claims 2 GB', () => write('bext.wav', bextClaim()), [], /bext\.wav: its "bext" chunk claims 2147483648 bytes but only \d+ are left in the file/],
    ['ADPCM WAV', () => soxed('adpcm.wav', '-e', 'ms-adpcm'), [], /adpcm\.wav: the WAV holds Microsoft ADPCM audio, which Resona cannot decode; convert it/],
    ['sample rate below 8 kHz', () => soxed('4k.wav', '-r', '4000'), [], /4k\.wav: its sample rate is 4000 Hz; Resona converts files at 8000 to 192000 Hz/],
  ];
  /** 92 bytes as the fuzzer made them: a header, a bext chunk claiming 2 GB, and a few samples. */
  function bextClaim(): Buffer {
    const fmt = Buffer.alloc(24);
    fmt.write('fmt ', 0, 'latin1');
    fmt.writeUInt32LE(16, 4);
    fmt.writeUInt16LE(1, 8);
    fmt.writeUInt16LE(1, 10);
    fmt.writeUInt32LE(16000, 12);
    fmt.writeUInt32LE(32000, 16);
    fmt.writeUInt16LE(2, 20);
    fmt.writeUInt16LE(16, 22);
    const bext = Buffer.alloc(24);
    bext.write('bext', 0, 'latin1');
    bext.writeUInt32LE(0x80000000, 4);
    const data = Buffer.alloc(32);
    data.write('data', 0, 'latin1');
    data.writeUInt32LE(24, 4);
    const body = Buffer.concat([Buffer.from('WAVE'), fmt, bext, data]);
    const head = Buffer.alloc(8);
    head.write('RIFF', 0, 'latin1');
    head.writeUInt32LE(body.length, 4);
    return Buffer.concat([head, body]);
  }
  function fifo(name: string): string {
    const p = path.join(dir, name);
    if (!existsSync(p)) assert.equal(spawnSync('mkfifo', [p]).status, 0);
    return p;
  }
  function soxed(name: string, ...args: string[]): string {
    const p = path.join(dir, name);
    sox(speech(), ...args, p, 'trim', '0', '1');
    return p;
  }
  function write(name: string, data: Buffer): string {
    const p = path.join(dir, name);
    writeFileSync(p, data);
    return p;
  }
  for (const [name, make, extra, expected] of cases) {
    test(name, { timeout: 30_000 }, () => {
      if (extra.includes('--f0')) fifo('f0-fifo.onnx');
      const input = make();
      const out = path.join(dir, `bad-${name.replace(/\W/g, '')}.wav`);
      const before = new Set(readdirSync(dir));
      const r = resona('convert', input, out, ...extra);
      assert.notEqual(r.code, 0);
      const lines = r.stderr.trim().split('\n');
      assert.match(lines[0]!, /^resona: error: /);
      assert.match(lines[0]!, expected);
      assert.ok(lines.length <= 2, `expected a one-line error, got:\n${r.stderr}`);
      assert.equal(existsSync(out), false, 'an output file was left behind');
      const added = readdirSync(dir).filter((f) => !before.has(f));
      assert.deepEqual(added, [], 'files were left behind');
    });
  }
});
