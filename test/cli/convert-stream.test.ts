// convert streams a WAV: read a chunk at a time, converted block by block, written as it is made. These tests
// hold it to the whole-file path (decode all, convert in memory, encode all): the output must be the same
// bytes, since the engine sees the same blocks and the per-chunk mix-down is toMono's arithmetic. Files span
// many read chunks, including chunks that do not line up with the engine's blocks. A file that gets shorter
// while it is being read, and a stop half-way, must fail cleanly and leave nothing behind.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { readAudioFile, toMono } from '../../host/audio-file.js';
import { encodeFloatWav } from '../../host/audio/wav.js';
import { convertFile, convertSamples, type ConvertOptions } from '../../host/convert.js';
import { CLI, sharedPath, tempDir } from '../helpers.js';

let dir = '';
let cleanup = () => {};
const speech = () => sharedPath('audio', 'librispeech', '2412-153947-0000.wav');

function sox(...args: string[]) {
  const r = spawnSync('sox', args, { encoding: 'utf8' });
  if (r.error) throw new Error('sox is needed to make test files: install it (Debian: apt-get install sox libsox-fmt-all)');
  assert.equal(r.status, 0, `sox ${args.join(' ')}: ${r.stderr}`);
}

/** The whole-file path: decode everything, convert in memory, encode everything. */
async function wholeFile(input: string, o: ConvertOptions): Promise<Uint8Array> {
  const a = await readAudioFile(input);
  const r = await convertSamples(toMono(a.channels), a.sampleRate, o);
  return encodeFloatWav(r.output, r.sampleRate);
}

/** Files in the folder that are not in `before` (a left-behind output or temporary file). */
const added = (before: Set<string>) => readdirSync(dir).filter((f) => !before.has(f));

before(() => {
  ({ dir, cleanup } = tempDir());
});
after(() => cleanup());

describe('streaming gives the bytes the whole-file path gives', () => {
  const cases: Array<[string, string[], ConvertOptions, number | undefined]> = [
    // 1000-frame chunks: 41 reads for 2.5 s, none aligned with the 100 ms (1600-sample) blocks.
    ['16 kHz mono, 1000-frame chunks', [], { voice: 'deeper' }, 1000],
    ['44.1 kHz 24-bit stereo (mixed down), 777-frame chunks', ['-r', '44100', '-b', '24', '-c', '2'], { voice: 'higher' }, 777],
    ['48 kHz, keep-latency, 20 ms blocks, 5000-frame chunks', ['-r', '48000'], { voice: 'natural', settings: { pitch: 4, blockMs: 20 }, keepLatency: true }, 5000],
  ];
  for (const [name, soxArgs, o, chunk] of cases) {
    test(name, { timeout: 120_000 }, async () => {
      const input = path.join(dir, `same-${name.replace(/\W/g, '')}.wav`);
      sox(speech(), ...soxArgs, input);
      const out = path.join(dir, `same-out-${name.replace(/\W/g, '')}.wav`);
      const r = await convertFile(input, out, { ...o, readChunkFrames: chunk });
      assert.equal(r.channelsIn, soxArgs.includes('-c') ? 2 : 1);
      // Bit-exact, not within a tolerance: the same blocks reach the same deterministic engine, the mono mix
      // is the same float arithmetic, and the writer copies float32 samples without converting them.
      assert.deepEqual(readFileSync(out), Buffer.from(await wholeFile(input, o)));
    });
  }

  test('a file of several default-size chunks through the CLI: exact length, same bytes', { timeout: 180_000 }, async () => {
    // Ten LibriSpeech clips joined: about 40 s at 44.1 kHz, so several 64 Ki-frame chunks and a partial last one.
    const clips = readdirSync(path.dirname(speech())).filter((f) => f.endsWith('.wav')).sort().map((f) => path.join(path.dirname(speech()), f));
    const input = path.join(dir, 'long.wav');
    sox(...clips, '-r', '44100', '-b', '16', input);
    const frames = (statSync(input).size - 44) / 2;
    assert.ok(frames > 3 * 65536, `the test file must span several chunks (${frames} frames)`);
    const out = path.join(dir, 'long-out.wav');
    const r = spawnSync(process.execPath, [CLI, 'convert', input, out, '--voice', 'deeper'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /real-time factor \d[\d.]* \([\d.]+x faster than real time\); whole process \d[\d.]* \([\d.]+ s from start, [\d.]+ s of it in the engine\)/);
    const y = await readAudioFile(out);
    assert.equal(y.channels[0]!.length, (await readAudioFile(input)).channels[0]!.length);
    assert.deepEqual(readFileSync(out), Buffer.from(await wholeFile(input, { voice: 'deeper' })));
  });
});

describe('a conversion that fails half-way leaves nothing behind', () => {
  test('a WAV cut off in its header: one clear error, no output', { timeout: 30_000 }, async () => {
    const input = path.join(dir, 'cut-header.wav');
    writeFileSync(input, readFileSync(speech()).subarray(0, 30));
    const out = path.join(dir, 'cut-header-out.wav');
    const before = new Set(readdirSync(dir));
    await assert.rejects(convertFile(input, out, { voice: 'deeper' }), /cut-header\.wav: the WAV header is truncated/);
    assert.deepEqual(added(before), []);
  });

  test('a WAV whose samples stop short of its header: converts what is there, at exactly that length, with a warning', { timeout: 30_000 }, async () => {
    const whole = readFileSync(speech());
    const input = path.join(dir, 'cut-data.wav');
    writeFileSync(input, whole.subarray(0, whole.length - 1001)); // an odd cut: half a 16-bit sample too
    const out = path.join(dir, 'cut-data-out.wav');
    const r = await convertFile(input, out, { voice: 'deeper', readChunkFrames: 4096 });
    assert.ok(r.warnings.some((w) => /the WAV data is 1001 bytes shorter than its header says; converting what is there/.test(w)), r.warnings.join('\n'));
    assert.equal((await readAudioFile(out)).channels[0]!.length, Math.floor((whole.length - 1001 - 44) / 2));
  });

  test('a WAV that gets shorter while it is being converted: a clear error, no output, no temporary file', { timeout: 30_000 }, async () => {
    const input = path.join(dir, 'shrinks.wav');
    writeFileSync(input, readFileSync(speech()));
    const out = path.join(dir, 'shrinks-out.wav');
    const before = new Set(readdirSync(dir));
    let cut = false;
    const run = convertFile(input, out, {
      voice: 'deeper',
      readChunkFrames: 4096,
      // The first progress report comes after the first block, with most of the file still unread.
      onProgress: () => {
        if (!cut) truncateSync(input, 20_000);
        cut = true;
      },
    });
    await assert.rejects(run, /shrinks\.wav: the file got shorter while it was being read; try again/);
    assert.equal(existsSync(out), false);
    assert.deepEqual(added(before), []);
  });

  test('stopped half-way (Ctrl+C): the signal stops it between blocks, no output, no temporary file', { timeout: 30_000 }, async () => {
    const out = path.join(dir, 'stopped-out.wav');
    const before = new Set(readdirSync(dir));
    const ac = new AbortController();
    const reason = new Error('stopped by the test');
    await assert.rejects(convertFile(speech(), out, { voice: 'deeper', signal: ac.signal, readChunkFrames: 4096, onProgress: () => ac.abort(reason) }), (e) => e === reason);
    assert.deepEqual(added(before), []);
  });
});
