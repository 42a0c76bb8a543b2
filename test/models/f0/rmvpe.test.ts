// RMVPE in its three ONNX forms, without the 181 MB network: tiny graphs with the real I/O contracts and
// a predictable behaviour (./helpers.ts), so the form detection, the mel front end's wiring, the decode, the
// frame alignment and the streaming margins are all checked against numbers known in advance.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphBuilder } from '../../../models/onnx/graph-builder.js';
import { logMelSpectrogram, rmvpeFilterbank } from '../../../models/f0/mel.js';
import { RmvpeEstimator, detectRmvpeIo } from '../../../models/f0/rmvpe.js';
import { loadSession } from '../../../models/runtime.js';
import { tempDir } from '../../helpers.js';
import { cents, gridFrames, melHzNet, melSalienceNet, streamRun, waveformNet, wholeRun, writeModel } from './helpers.js';

const bank = rmvpeFilterbank();

/** 220 Hz for 1 s, then 330 Hz for 1 s, then 0.5 s of silence. */
function twoTones(): Float32Array {
  const x = new Float32Array(16000 * 2.5);
  let phase = 0;
  for (let i = 0; i < 32000; i++) {
    phase += (2 * Math.PI * (i < 16000 ? 220 : 330)) / 16000;
    x[i] = 0.5 * Math.sin(phase);
  }
  return x;
}

/** 0.1 … 0.3 as a slow ramp (f0 100 … 300 Hz through the waveform net), then silence. */
function ramp(): { x: Float32Array; expected: (f: number) => number } {
  const n = 16000 * 2;
  const x = new Float32Array(n + 8000);
  const level = (i: number) => 0.1 + (0.2 * i) / n;
  for (let i = 0; i < n; i++) x[i] = level(i);
  // Mean of a linear ramp over samples 160f − 80 … 160f + 79 is its value at 160f − 0.5.
  return { x, expected: (f) => 1000 * level(160 * f - 0.5) };
}

/** Cents spacing of the mel bands around f: a tone decoded to its loudest band's centre is within one band. */
function bandCents(f: number): number {
  const b = bank.centres.findIndex((c) => c > f);
  return cents(bank.centres[b]!, bank.centres[b - 1]!);
}

let dir: { dir: string; cleanup: () => void };
const files: Record<string, string> = {};
before(() => {
  dir = tempDir();
  files.salience = writeModel(dir.dir, 'rmvpe-salience.onnx', melSalienceNet());
  files.hz = writeModel(dir.dir, 'rmvpe-hz.onnx', melHzNet());
  files.waveform = writeModel(dir.dir, 'rmvpe-waveform.onnx', waveformNet());
});
after(() => dir.cleanup());

describe('form detection', () => {
  test('each tiny net is recognised as its form, with its input, threshold rank and output', async () => {
    const cases = [
      ['salience', { form: 'mel-salience', signal: 'input', threshold: undefined, output: 'output' }],
      ['hz', { form: 'mel-hz', signal: 'mel', threshold: { name: 'threshold', dims: [] }, output: 'pitchf', uv: undefined }],
      ['waveform', { form: 'waveform', signal: 'waveform', threshold: { name: 'threshold', dims: [1] }, output: 'f0', uv: 'uv' }],
    ] as const;
    for (const [key, want] of cases) {
      const s = await loadSession(files[key]!);
      try {
        assert.deepEqual(detectRmvpeIo(s, files[key]!), want);
      } finally {
        await s.release();
      }
    }
  });

  test('an ONNX matching no form is refused, naming the inputs found and the forms known', async () => {
    const g = new GraphBuilder('not-rmvpe');
    const a = g.input('spectrogram', 'float32', [1, 80, 'T']);
    g.op('Identity', [a], {}, 'y');
    g.output('y', 'float32', [1, 80, 'T']);
    const file = writeModel(dir.dir, 'other.onnx', g.toBytes());
    await assert.rejects(RmvpeEstimator.load(file), (e: Error) => {
      assert.match(e.message, /other\.onnx/);
      assert.match(e.message, /80 mel bands/);
      assert.match(e.message, /spectrogram float32 \[1, 80, T\]/);
      assert.match(e.message, /waveform: .*mel-hz: .*mel-salience: /);
      return true;
    });
    const two = new GraphBuilder('two-inputs');
    const p = two.input('a', 'float32', [1, 'N']);
    const q = two.input('b', 'float32', [1, 'N']);
    two.op('Add', [p, q], {}, 'f0');
    two.output('f0', 'float32', [1, 'N']);
    const file2 = writeModel(dir.dir, 'two.onnx', two.toBytes());
    await assert.rejects(RmvpeEstimator.load(file2), /expected one waveform or mel input, found 2.*inputs found: a float32 \[1, N\]; b float32/);
  });
});

describe('tones through the mel forms come out within one mel band', () => {
  for (const key of ['salience', 'hz'] as const) {
    test(`${key === 'salience' ? 'mel-salience (decoded here)' : 'mel-hz (decoded in the graph)'}: 220 and 330 Hz`, async (t) => {
      const est = await RmvpeEstimator.load(files[key]!, { maxFrames: 400 });
      try {
        const track = await wholeRun(est, twoTones());
        for (const [hz, from, to] of [[220, 20, 80], [330, 120, 180]] as const) {
          const errs = Array.from(track.subarray(from, to), (v) => cents(v, hz));
          const worst = Math.max(...errs.map(Math.abs));
          t.diagnostic(`${hz} Hz: ${errs[0]!.toFixed(1)} cents (worst over ${to - from} frames ${worst.toFixed(1)}; one band here is ${bandCents(hz).toFixed(0)} cents)`);
          assert.ok(worst < bandCents(hz), `${hz} Hz read ${worst.toFixed(1)} cents off`);
        }
        // Silence after the tones is unvoiced (peak salience 1e-6 against the 0.03 threshold).
        assert.ok(track.subarray(215).every((v) => v === 0), 'silence must read unvoiced');
        // Frames are where they should be: the change from 220 to 330 Hz at sample 16000 is centred on frame
        // 100; the whole-signal mel says exactly which frame first has the 330 Hz band loudest.
        const { mel, frames } = logMelSpectrogram(twoTones());
        const loudest = (t: number) => bank.centres.reduce((best, _, b) => (mel[b * frames + t]! > mel[best * frames + t]! ? b : best), 0);
        let flip = 51;
        while (bank.centres[loudest(flip)]! < 275) flip++;
        const change = track.findIndex((v, i) => i > 50 && v > 275);
        assert.ok(Math.abs(flip - 100) <= 1, `mel flips at frame ${flip}`);
        assert.equal(change, flip, `f0 changes at frame ${change}, the mel at ${flip}`);
      } finally {
        await est.dispose();
      }
    });
  }
});

describe('waveform form', () => {
  test('frame f reads the 160 samples centred on sample 160f; uv and the threshold are honoured', async () => {
    const est = await RmvpeEstimator.load(files.waveform!, { maxFrames: 400 });
    try {
      assert.equal(est.form, 'waveform');
      const { x, expected } = ramp();
      const track = await wholeRun(est, x);
      assert.equal(track.length, gridFrames(x.length));
      for (let f = 1; f < 199; f++) assert.ok(Math.abs(track[f]! - expected(f)) < 0.01, `frame ${f}: ${track[f]} vs ${expected(f)}`);
      // Sample 32000 starts the silence: frame 200 straddles it (half level), 201 on are silent → uv.
      assert.ok(track.subarray(201).every((v) => v === 0));
    } finally {
      await est.dispose();
    }
  });
});

describe('streaming through F0Tracker gives the whole-clip frames', () => {
  for (const key of ['salience', 'hz', 'waveform'] as const) {
    test(`${key}: blocks of 100 and 20 ms`, async () => {
      const est = await RmvpeEstimator.load(files[key]!, { maxFrames: 400 });
      try {
        const x = key === 'waveform' ? ramp().x : twoTones();
        const whole = await wholeRun(est, x);
        for (const block of [100, 20]) {
          const streamed = await streamRun(est, x, block);
          // These nets look at one frame only, so with the margins every frame must match to float precision.
          for (let f = 0; f < whole.length; f++) {
            assert.ok(Math.abs(streamed[f]! - whole[f]!) <= 1e-3 * Math.max(1, whole[f]!), `block ${block} ms, frame ${f}: ${streamed[f]} vs ${whole[f]}`);
          }
        }
      } finally {
        await est.dispose();
      }
    });
  }

  test('contexts: 32 frames of margin (rounded down to the 32-frame grid) before, 4 after, plus the mel window', async () => {
    const mel = await RmvpeEstimator.load(files.salience!);
    const wave = await RmvpeEstimator.load(files.waveform!);
    try {
      assert.equal(mel.contextBefore, 160 * 63 + 512);
      assert.equal(mel.contextAfter, 160 * 4 + 512);
      assert.equal(wave.contextBefore, 160 * 63);
      assert.equal(wave.contextAfter, 160 * 4 + 1);
    } finally {
      await mel.dispose();
      await wave.dispose();
    }
  });
});
