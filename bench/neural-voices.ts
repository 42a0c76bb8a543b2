// Per-stage cost of the neural voice path: each synthesizer contract (with and without skip_head) and each
// f0 method, blocks streamed through the engine exactly as live. The synthesizers are the tests' tiny
// contract models, so the synth column is the pipeline's own overhead (feeds, tensors, copies, formant);
// real-size networks come from checkpoint import. The f0 networks and the index are real-size.
//   node dist/bench/neural-voices.js [--seconds 10] [--blocks 100,250] [--f0 yin,swiftf0,crepe]
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { StreamingEngine } from '../engine/engine.js';
import { resolveVoice } from '../host/voices.js';
import { buildIvfFlat } from '../models/index/feature-index.js';
import { writeIvfFlatIndex } from '../models/index/faiss-ivf.js';
import { RvcVoice } from '../models/rvc/rvc-voice.js';
import { importVoice } from '../models/voices/import-voice.js';
import { readClip, sharedPath } from '../test/helpers.js';
import { buildTinyEncoder, buildTinySynth, type Contract } from '../test/models/tiny-models.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    blocks: { type: 'string', default: '100,250' },
    f0: { type: 'string', default: 'yin,swiftf0,crepe' },
    extra: { type: 'string', default: '500' },
  },
});
const seconds = Number(values.seconds);
const blocks = values.blocks!.split(',').map(Number);
const extraMs = Number(values.extra);

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}
function p95(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]!;
}

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'resona-bench-'));
const lib = path.join(tmp, 'lib');
const encoder = path.join(tmp, 'enc.onnx');
await fs.writeFile(encoder, buildTinyEncoder('vec', 768));
const STREAM = 48000;
const clip = await readClip('ljspeech', 'LJ001-0001.wav');
const { StreamResampler } = await import('../engine/resampler.js');
const rs = await StreamResampler.create(clip.rate, STREAM, clip.x.length);
const one = Float32Array.from(rs.process(clip.x));
const x = new Float32Array(Math.round(seconds * STREAM));
for (let i = 0; i < x.length; i++) x[i] = one[i % one.length]!;

// A real-size index: 20k vectors of 768 in 2·√n lists, as RVC's train step sizes it.
const d = 768;
const n = 20000;
const nlist = Math.round(2 * Math.sqrt(n));
const vectors = Float32Array.from({ length: n * d }, () => Math.random() * 0.2);
const centroids = Float32Array.from({ length: nlist * d }, () => Math.random() * 0.2);
const indexFile = path.join(tmp, 'added.index');
await fs.writeFile(indexFile, writeIvfFlatIndex(buildIvfFlat({ d, vectors, centroids })));

async function voiceFolder(contract: Contract, withIndex: boolean): Promise<string> {
  const file = path.join(tmp, `${contract}.onnx`);
  await fs.writeFile(file, buildTinySynth({ contract, rate: 40000, f0: true, channels: 768 }));
  const m = await importVoice(file, lib, { index: withIndex ? indexFile : undefined, name: `${contract}${withIndex ? '-index' : ''}` });
  return path.join(lib, m.id);
}

async function run(label: string, voiceDir: string, f0: string, blockMs: number, indexRatio: number, f0Label = f0) {
  const voice = await resolveVoice({ voice: voiceDir, encoder, f0, runtime: { threads: 2 } });
  const engine = await StreamingEngine.create({ streamRate: STREAM, voice: voice.stage, f0: voice.f0, settings: { blockMs, extraMs, indexRatio } });
  const out = new Float32Array(engine.maxOutput);
  const rows: Record<string, number[]> = { total: [], f0: [], encoder: [], index: [], synth: [], sola: [] };
  const stage = voice.stage as RvcVoice;
  for (let p = 0, i = 0; p + engine.blockSize <= x.length; p += engine.blockSize, i++) {
    const t0 = performance.now();
    await engine.processBlock(x.subarray(p, p + engine.blockSize), out);
    const total = performance.now() - t0;
    if (i < 3) continue; // warm-up
    rows.total!.push(total);
    rows.f0!.push(engine.times.f0);
    rows.encoder!.push(stage.times.encoder);
    rows.index!.push(stage.times.index);
    rows.synth!.push(stage.times.synth);
    rows.sola!.push(engine.times.sola);
  }
  engine.destroy();
  await voice.release();
  const m = (k: string) => median(rows[k]!).toFixed(2).padStart(7);
  console.log(
    `${label.padEnd(26)} ${String(blockMs).padStart(5)} ${f0Label.padEnd(8)} ${m('f0')} ${m('encoder')} ${m('index')} ${m('synth')} ${m('sola')} ${m('total')} ${p95(rows.total!).toFixed(2).padStart(7)} ${(median(rows.total!) / blockMs).toFixed(3).padStart(6)}`,
  );
}

console.log(`stream ${STREAM} Hz, context ${extraMs} ms, ${seconds} s of LJ Speech; medians in ms per block; RTF = median / block`);
console.log(`${'voice'.padEnd(26)} block f0         f0 encoder   index   synth    sola   total     p95    RTF`);
const plain: Record<string, string> = {};
for (const c of ['vcclient-skip', 'vcclient', 'webui'] as Contract[]) plain[c] = await voiceFolder(c, false);
const indexed = await voiceFolder('vcclient-skip', true);
for (const blockMs of blocks) {
  for (const c of Object.keys(plain)) await run(`${c}${c === 'vcclient-skip' ? ' (skip_head)' : ' (whole window)'}`, plain[c]!, 'yin', blockMs, 0);
  await run('vcclient-skip + index 20k', indexed, 'yin', blockMs, 0.75);
  for (const f0 of values.f0!.split(',').filter((m) => m !== 'yin')) {
    const file = f0 === 'swiftf0' ? sharedPath('models', 'f0', 'swiftf0.onnx') : f0 === 'crepe' ? sharedPath('models', 'f0', 'crepe_tiny.onnx') : f0;
    await run('vcclient-skip (skip_head)', plain['vcclient-skip']!, file, blockMs, 0, f0).catch((e: Error) => console.log(`${f0}: ${e.message}`));
  }
}
await fs.rm(tmp, { recursive: true, force: true });
