// `resona pitch`: the CSV it prints for a sine and for silence, and its one-line errors.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeWavAtomic } from '../../host/audio-file.js';
import { CLI, sharedPath, sine, tempDir } from '../helpers.js';

const run = promisify(execFile);
const { dir, cleanup } = tempDir();
after(cleanup);

async function pitch(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, 'pitch', ...args], { maxBuffer: 1 << 24 });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

function rows(csv: string): number[][] {
  const lines = csv.trimEnd().split('\n');
  assert.equal(lines[0], 'time,hz,voiced,confidence');
  return lines.slice(1).map((l) => l.split(',').map(Number));
}

test('a 1 s 220 Hz sine at 22.05 kHz (yin, pyin, crepe): one row per 10 ms, voiced at 220 Hz (±10 cents) away from the edges', { timeout: 120000 }, async () => {
  const file = path.join(dir, 'sine.wav');
  await writeWavAtomic(file, sine(220, 22050, 1), 22050);
  for (const args of [[], ['--f0', 'pyin'], ['--f0', 'crepe', '--model', sharedPath('models', 'f0', 'crepe_tiny.onnx')]]) {
    const r = await pitch(file, ...args);
    assert.equal(r.code, 0, r.stderr);
    const t = rows(r.stdout);
    assert.equal(t.length, 101, args.join(' '));
    t.forEach((row, f) => assert.equal(row[0], Number((f / 100).toFixed(2))));
    for (const [time, hz, voiced, conf] of t.slice(5, -5)) {
      assert.equal(voiced, 1, `${args.join(' ')} at ${time} s`);
      assert.ok(Math.abs(1200 * Math.log2(hz! / 220)) <= 10, `${args.join(' ')} at ${time} s: ${hz} Hz`);
      assert.ok(conf! > 0.5 && conf! <= 1, `confidence ${conf}`);
    }
  }
});

test('silence: every row unvoiced with hz 0', { timeout: 60000 }, async () => {
  const file = path.join(dir, 'silence.wav');
  await writeWavAtomic(file, new Float32Array(8000), 16000);
  const r = await pitch(file);
  assert.equal(r.code, 0, r.stderr);
  const t = rows(r.stdout);
  assert.equal(t.length, 51);
  assert.ok(t.every(([, hz, voiced, conf]) => hz === 0 && voiced === 0 && conf === 0));
});

test('errors: one line, non-zero exit', { timeout: 60000 }, async () => {
  const missing = await pitch(path.join(dir, 'nope.wav'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^resona: error: .*nope\.wav/);
  const usage = await pitch();
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /pitch needs one input file/);
  const yinModel = await pitch(path.join(dir, 'silence.wav'), '--f0', 'yin', '--model', 'x.onnx');
  assert.equal(yinModel.code, 2);
  const pyinModel = await pitch(path.join(dir, 'silence.wav'), '--f0', 'pyin', '--model', 'x.onnx');
  assert.equal(pyinModel.code, 2);
  assert.match(pyinModel.stderr, /pyin needs no file/);
  const help = await pitch('--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--f0 <method\|file>/);
});
