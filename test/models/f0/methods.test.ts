// The f0 method factory: ids, .onnx paths recognised from their inputs and outputs, and the errors a user
// sees for a missing, wrong or unknown file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { F0_METHODS, createF0Estimator } from '../../../models/f0/methods.js';
import { RmvpeEstimator } from '../../../models/f0/rmvpe.js';
import { GraphBuilder } from '../../../models/onnx/graph-builder.js';
import { sharedPath, tempDir } from '../../helpers.js';
import { CREPE_FILE, SWIFTF0_FILE, melHzNet, melSalienceNet, waveformNet, writeModel } from './helpers.js';

let dir: { dir: string; cleanup: () => void };
before(() => {
  dir = tempDir();
});
after(() => dir.cleanup());

test('the list: yin and pyin need no file, the networks do', () => {
  assert.deepEqual(F0_METHODS.map((m) => [m.id, m.needsFile]), [['yin', false], ['pyin', false], ['swiftf0', true], ['crepe', true], ['rmvpe', true]]);
  for (const m of F0_METHODS) assert.ok(m.description.length > 10);
});

test('ids give their estimators; contexts are the ones each network needs', async () => {
  const yin = await createF0Estimator('yin');
  assert.equal(yin.id, 'yin');
  // pyin is YIN with its probabilistic voicing, decided one frame (160 samples) later.
  const pyin = await createF0Estimator('pyin');
  assert.equal(pyin.id, 'pyin');
  assert.deepEqual([pyin.contextBefore, pyin.contextAfter], [yin.contextBefore, yin.contextAfter + 160]);
  const swift = await createF0Estimator('swiftf0', { modelPath: sharedPath(...SWIFTF0_FILE) });
  const crepe = await createF0Estimator('crepe', { modelPath: sharedPath(...CREPE_FILE) });
  try {
    assert.equal(swift.id, 'swiftf0');
    assert.equal(crepe.id, 'crepe');
    assert.deepEqual([crepe.contextBefore, crepe.contextAfter], [512, 512]);
    // SwiftF0: 12 network frames of 256 samples on the left plus up to 208 samples of grid phase; on the
    // right 8 frames of look-ahead plus the last window's 640 samples and the phase.
    assert.deepEqual([swift.contextBefore, swift.contextAfter], [3264, 2976]);
  } finally {
    await swift.dispose?.();
    await crepe.dispose?.();
  }
});

test('an .onnx path is recognised from its inputs and outputs: SwiftF0, CREPE and each RMVPE form', async () => {
  const cases: [string, string, string?][] = [
    [sharedPath(...SWIFTF0_FILE), 'swiftf0'],
    [sharedPath(...CREPE_FILE), 'crepe'],
    [writeModel(dir.dir, 'a.onnx', melSalienceNet()), 'rmvpe', 'mel-salience'],
    [writeModel(dir.dir, 'b.onnx', melHzNet()), 'rmvpe', 'mel-hz'],
    [writeModel(dir.dir, 'c.onnx', waveformNet()), 'rmvpe', 'waveform'],
  ];
  for (const [file, id, form] of cases) {
    const est = await createF0Estimator(file);
    try {
      assert.equal(est.id, id, file);
      if (form) assert.equal((est as RmvpeEstimator).form, form);
    } finally {
      await est.dispose?.();
    }
  }
  const viaId = await createF0Estimator('rmvpe', { modelPath: path.join(dir.dir, 'b.onnx') });
  assert.equal((viaId as RmvpeEstimator).form, 'mel-hz');
  await viaId.dispose?.();
});

test('errors say what is wrong and what to do', async () => {
  await assert.rejects(createF0Estimator('harvest'), /unknown f0 method "harvest": use one of yin, pyin, swiftf0, crepe, rmvpe, or the path of an \.onnx/);
  await assert.rejects(createF0Estimator('crepe'), /f0 method "crepe" needs its network file \(crepe_tiny\.onnx\): pass its path as modelPath/);
  const missing = path.join(dir.dir, 'nowhere', 'rmvpe.onnx');
  await assert.rejects(createF0Estimator('rmvpe', { modelPath: missing }), (e: Error) => {
    assert.ok(e.message.includes(missing), e.message);
    assert.match(e.message, /not found.*model catalogue/);
    return true;
  });
  await assert.rejects(createF0Estimator(missing), /f0 network file not found/);
  await assert.rejects(createF0Estimator('crepe', { modelPath: sharedPath(...SWIFTF0_FILE) }), /is a swiftf0 network, not crepe: choose f0 method "swiftf0"/);

  const g = new GraphBuilder('unknown');
  const x = g.input('pcm', 'float32', [2, 'N']);
  const y = g.input('sr', 'int64', [1]);
  g.op('Identity', [x], {}, 'out');
  g.op('Identity', [y], {}, 'out2');
  g.output('out', 'float32', [2, 'N']);
  g.output('out2', 'int64', [1]);
  const unknown = writeModel(dir.dir, 'unknown.onnx', g.toBytes());
  await assert.rejects(createF0Estimator(unknown), (e: Error) => {
    assert.match(e.message, /unknown\.onnx: not a known f0 network; inputs found: pcm float32 \[2, N\]; sr int64 \[1\]/);
    assert.match(e.message, /Known networks: SwiftF0 .*CREPE .*RMVPE waveform: .*RMVPE mel-hz: .*RMVPE mel-salience: /);
    return true;
  });
  // Asked for rmvpe, the RMVPE-specific reason is given.
  await assert.rejects(createF0Estimator('rmvpe', { modelPath: unknown }), /expected one waveform or mel input, found 2.*Known RMVPE forms/);
});
