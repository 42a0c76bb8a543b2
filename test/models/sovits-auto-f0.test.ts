// use_automatic_f0_prediction through import and the engine: a G_*.pth with f0_decoder weights is imported
// with its F0 decoder (f0-decoder.onnx, voice.json's f0Decoder) and gets the "auto-predict f0" switch; one
// without has neither. In a running engine the switch is live: turning it on replaces the estimated f0 the
// synthesizer is fed by the F0 decoder's and changes the output; turning it off restores the estimated f0.
// (The decoder's numbers themselves are checked against PyTorch in torch/sovits-f0-decoder.test.ts.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { StreamingEngine } from '../../engine/engine.js';
import { resolveVoice } from '../../host/voices.js';
import { sovitsParams } from '../../models/families/sovits/params.js';
import type { SovitsManifest } from '../../models/families/sovits/manifest.js';
import type { SovitsSynth } from '../../models/families/sovits/synthesizer.js';
import { importVoice } from '../../models/voices/import-voice.js';
import { ROOT, sine, tempDir } from '../helpers.js';
import { buildTinyEncoder, writeModel } from './tiny-models.js';

const T_OUT = { timeout: 180_000 };
const FIX = path.join(ROOT, 'test', 'fixtures', 'torch', 'sovits');
const STREAM = 48000;
const tmp = tempDir();
const library = path.join(tmp.dir, 'voices');
after(() => tmp.cleanup());
let enc768: string;
before(async () => {
  enc768 = await writeModel(tmp.dir, 'vec-768.onnx', buildTinyEncoder('vec', 768));
});

const readManifest = async (id: string) => JSON.parse(await fs.readFile(path.join(library, id, 'voice.json'), 'utf8')) as SovitsManifest;

describe('so-vits-svc auto-predict f0', () => {
  test('a checkpoint with f0_decoder weights brings its F0 decoder and the switch; one without has neither', T_OUT, async () => {
    const trio = await importVoice(path.join(FIX, '4.1-vec768-vol-3spk.pth'), library, { config: path.join(FIX, '4.1-vec768-vol-3spk.config.json'), name: 'trio' });
    const m = await readManifest(trio.id);
    assert.equal(m.f0Decoder, 'f0-decoder.onnx');
    assert.ok(existsSync(path.join(library, trio.id, 'f0-decoder.onnx')));
    const sw = sovitsParams(m).find((p) => p.id === 'autoF0');
    assert.deepEqual(sw && [sw.label, sw.min, sw.max, sw.step, sw.default], ['Auto-predict f0 (speech)', 0, 1, 1, 0]);

    // The flag and the weights must agree: asked for without weights is refused; weights without the flag unused.
    const trioCfg = JSON.parse(await fs.readFile(path.join(FIX, '4.1-vec768-vol-3spk.config.json'), 'utf8'));
    const off = path.join(tmp.dir, 'no-auto.config.json');
    await fs.writeFile(off, JSON.stringify({ ...trioCfg, model: { ...trioCfg.model, use_automatic_f0_prediction: false } }));
    const plain = await readManifest((await importVoice(path.join(FIX, '4.1-vec768-vol-3spk.pth'), library, { config: off, name: 'trio-plain' })).id);
    assert.equal(plain.f0Decoder, undefined);
    const relCfg = JSON.parse(await fs.readFile(path.join(FIX, '4.1-vec256-release.config.json'), 'utf8'));
    const on = path.join(tmp.dir, 'auto-without-weights.config.json');
    await fs.writeFile(on, JSON.stringify({ ...relCfg, model: { ...relCfg.model, use_automatic_f0_prediction: true } }));
    await assert.rejects(importVoice(path.join(FIX, '4.1-vec256-release.pth'), library, { config: on }), /model\.use_automatic_f0_prediction is true, expected false: the weights have no f0_decoder/);

    const rel = await importVoice(path.join(FIX, '4.1-vec256-release.pth'), library, { config: path.join(FIX, '4.1-vec256-release.config.json'), name: 'release' });
    const r = await readManifest(rel.id);
    assert.equal(r.f0Decoder, undefined);
    assert.equal(sovitsParams(r).some((p) => p.id === 'autoF0'), false);
  });

  test('the switch is live: on, the synthesizer gets the predicted f0 and the output changes; off again, it is back', T_OUT, async () => {
    const voice = await resolveVoice({ voice: path.join(library, 'trio'), encoder: enc768 });
    try {
      const engine = await StreamingEngine.create({ streamRate: STREAM, voice: voice.stage, settings: { blockMs: 100, extraMs: 300, noiseScale: 0 } });
      const synth = (voice.stage as unknown as { parts: { synth: SovitsSynth } }).parts.synth;
      const x = sine(180, STREAM, 0.1);
      const out = new Float32Array(engine.maxOutput);
      // Warm the window with the same steady block so each setting renders the same input.
      for (let i = 0; i < 6; i++) await engine.processBlock(x, out);
      const renderWith = async (autoF0: number) => {
        engine.update({ autoF0 });
        const n = await engine.processBlock(x, out);
        return { audio: out.slice(0, n), f0: synth.f0.slice(0, 8) };
      };
      const off = await renderWith(0);
      const on = await renderWith(1);
      const offAgain = await renderWith(0);
      console.log(`f0 fed to the synthesizer: off ${Array.from(off.f0.slice(0, 3), (v) => v.toFixed(1))} Hz, on ${Array.from(on.f0.slice(0, 3), (v) => v.toFixed(1))} Hz`);
      // yin on a 180 Hz tone: the estimated f0 is near 180; the tiny random decoder predicts something else.
      assert.ok(off.f0.every((v) => Math.abs(v - 180) < 5), `estimated f0 ${off.f0}`);
      assert.ok(on.f0.some((v) => Math.abs(v - 180) > 5), `predicted f0 ${on.f0}`);
      assert.deepEqual(offAgain.f0, off.f0);
      const diff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
      assert.ok(diff(on.audio, off.audio) > 1e-3, 'the output follows the predicted f0');
      engine.destroy();
    } finally {
      await voice.release();
    }
  });
});
