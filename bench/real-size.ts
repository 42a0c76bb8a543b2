// The real-size neural pipeline per block: HuBERT-base (layer 12, random weights of the real architecture)
// + an RVC v2 synthesizer (40k and 48k pretrained configs, random weights) built by Resona's own ONNX
// builders, streamed through the engine exactly as live, with the built-in f0.
//   node dist/bench/real-size.js [--blocks 50,100,250] [--contexts 500,1000] [--threads 1,2] [--rates 40000,48000] [--seconds 6]
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { StreamingEngine } from '../engine/engine.js';
import { StreamResampler } from '../engine/resampler.js';
import { resolveVoice } from '../host/voices.js';
import type { RvcVoice } from '../models/rvc/rvc-voice.js';
import { HUBERT_BASE } from '../models/torch/hubert-config.js';
import { buildHubertEncoder } from '../models/torch/hubert-graph.js';
import { randomHubertWeights } from '../models/torch/hubert-random.js';
import { buildRvcSynthesizer } from '../models/torch/rvc-graph.js';
import { pretrainedRvcConfig, randomRvcWeights } from '../models/torch/rvc-random.js';
import { importVoice } from '../models/voices/import-voice.js';
import { readClip } from '../test/helpers.js';

const { values } = parseArgs({
  options: {
    blocks: { type: 'string', default: '50,100,250' },
    contexts: { type: 'string', default: '500,1000' },
    threads: { type: 'string', default: '1,2' },
    rates: { type: 'string', default: '40000,48000' },
    seconds: { type: 'string', default: '6' },
  },
});
const list = (s: string) => s.split(',').map(Number);
const STREAM = 48000;

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const p95 = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]!;
};

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'resona-real-'));
const lib = path.join(tmp, 'lib');
let t = performance.now();
const encoder = path.join(tmp, 'hubert-base-l12.onnx');
await fs.writeFile(encoder, buildHubertEncoder(randomHubertWeights(HUBERT_BASE, 1), HUBERT_BASE, { layer: 12, finalProj: false }));
console.log(`HuBERT-base layer 12: ${((await fs.stat(encoder)).size / 2 ** 20).toFixed(0)} MiB, built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
const voices = new Map<number, string>();
for (const rate of list(values.rates!)) {
  t = performance.now();
  const config = pretrainedRvcConfig(rate as 40000 | 48000, 'v2');
  const file = path.join(tmp, `v2-${rate}.onnx`);
  await fs.writeFile(file, buildRvcSynthesizer({ weights: randomRvcWeights(config, true, 'v2', 7), config, f0: true, version: 'v2' }));
  const m = await importVoice(file, lib);
  voices.set(rate, path.join(lib, m.id));
  console.log(`RVC v2 ${rate / 1000}k: ${((await fs.stat(file)).size / 2 ** 20).toFixed(0)} MiB, built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

const clip = await readClip('ljspeech', 'LJ001-0001.wav');
const rs = await StreamResampler.create(clip.rate, STREAM, clip.x.length);
const speech = Float32Array.from(rs.process(clip.x));
const x = new Float32Array(Math.round(Number(values.seconds) * STREAM));
for (let i = 0; i < x.length; i++) x[i] = speech[i % speech.length]!;

console.log(`\nstream ${STREAM} Hz, ${values.seconds} s of LJ Speech per row, f0 yin; medians in ms per block; RTF = median / block`);
console.log('voice    threads block context   encoder   synth    total     p95   worst    RTF  worst RTF');
for (const rate of voices.keys()) {
  for (const threads of list(values.threads!)) {
    for (const extraMs of list(values.contexts!)) {
      for (const blockMs of list(values.blocks!)) {
        const voice = await resolveVoice({ voice: voices.get(rate)!, encoder, threads });
        const engine = await StreamingEngine.create({ streamRate: STREAM, voice: voice.stage, f0: voice.f0, settings: { blockMs, extraMs, indexRatio: 0 } });
        const stage = voice.stage as RvcVoice;
        const out = new Float32Array(engine.maxOutput);
        const total: number[] = [];
        const enc: number[] = [];
        const syn: number[] = [];
        for (let p = 0, i = 0; p + engine.blockSize <= x.length; p += engine.blockSize, i++) {
          const t0 = performance.now();
          await engine.processBlock(x.subarray(p, p + engine.blockSize), out);
          if (i < 3) continue; // warm-up: first runs allocate and optimise
          total.push(performance.now() - t0);
          enc.push(stage.times.encoder);
          syn.push(stage.times.synth);
        }
        engine.destroy();
        await voice.release();
        const worst = Math.max(...total);
        console.log(
          `v2 ${rate / 1000}k ${String(threads).padStart(7)} ${String(blockMs).padStart(5)} ${String(extraMs).padStart(7)} ${median(enc).toFixed(1).padStart(9)} ${median(syn).toFixed(1).padStart(7)} ` +
            `${median(total).toFixed(1).padStart(8)} ${p95(total).toFixed(1).padStart(7)} ${worst.toFixed(1).padStart(7)} ${(median(total) / blockMs).toFixed(2).padStart(6)} ${(worst / blockMs).toFixed(2).padStart(10)}`,
        );
      }
    }
  }
}
await fs.rm(tmp, { recursive: true, force: true });
