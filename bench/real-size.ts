// The real-size neural pipeline per block: HuBERT-base (layer 12, random weights of the real architecture)
// + an RVC v2 synthesizer (40k and 48k pretrained configs, random weights) and a so-vits-svc 4.1 synthesizer
// (the upstream 4.1 template: vec768l12, hidden 192, filter 768, 6 layers, upsample [8,8,2,2,2] from 512
// channels, vol embedding, 1 speaker; random weights) built by Resona's own ONNX builders and imported as
// voices, streamed through the engine exactly as live, with the built-in f0, on each execution provider.
// so-vits-svc runs twice: the official export form (renders the whole window) and Resona's kept-region form.
// Prints per-stage medians per block, RTF, the smallest block that stays real time per provider, and a table
// of RVC v2 beside so-vits-svc 4.1 per block (one column pair per provider that has an adapter here).
//   npm run bench:providers -- [--providers cpu,webgpu] [--blocks 100,250,500] [--contexts 300] [--threads 2]
//     [--rates 48000] [--voices rvc,sovits] [--seconds 6]
// WebGPU without a GPU: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (correct, not fast).
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { StreamingEngine } from '../engine/engine.js';
import { StreamResampler } from '../engine/resampler.js';
import { resolveVoice } from '../host/voices.js';
import { PROVIDER_LABELS } from '../protocol/runtime.js';
import { benchProviders, PROVIDERS_OPTION } from './providers.js';
import { HUBERT_BASE } from '../models/torch/hubert-config.js';
import { buildHubertEncoder } from '../models/torch/hubert-graph.js';
import { randomHubertWeights } from '../models/torch/hubert-random.js';
import { buildRvcSynthesizer } from '../models/torch/rvc-graph.js';
import { pretrainedRvcConfig, randomRvcWeights, randomWeights } from '../models/torch/rvc-random.js';
import { buildSovitsSynthesizer } from '../models/torch/sovits-graph.js';
import { SOVITS, sovitsParameters, templateSovitsConfig } from '../models/torch/sovits-spec.js';
import { importVoice } from '../models/voices/import-voice.js';
import { readClip } from '../test/helpers.js';

const { values } = parseArgs({
  options: {
    providers: PROVIDERS_OPTION,
    blocks: { type: 'string', default: '100,250,500' },
    contexts: { type: 'string', default: '300' },
    voices: { type: 'string', default: 'rvc,sovits' },
    threads: { type: 'string', default: '2' },
    rates: { type: 'string', default: '48000' },
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
// Each voice by its label ("v2 48k", "so-vits 4.1"): the imported voice's folder.
const voices = new Map<string, string>();
const families = values.voices!.split(',');
for (const f of families) if (f !== 'rvc' && f !== 'sovits') throw new Error(`--voices: ${f} is not one of rvc, sovits`);
if (families.includes('rvc')) for (const rate of list(values.rates!)) {
  t = performance.now();
  const config = pretrainedRvcConfig(rate as 40000 | 48000, 'v2');
  const file = path.join(tmp, `v2-${rate}.onnx`);
  await fs.writeFile(file, buildRvcSynthesizer({ weights: randomRvcWeights(config, true, 'v2', 7), config, f0: true, version: 'v2' }));
  const m = await importVoice(file, lib);
  voices.set(`v2 ${rate / 1000}k`, path.join(lib, m.id));
  console.log(`RVC v2 ${rate / 1000}k: ${((await fs.stat(file)).size / 2 ** 20).toFixed(0)} MiB, built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
if (families.includes('sovits')) {
  t = performance.now();
  // so-vits-svc 4.1's config template (44.1 kHz, hop 512) with vol_embedding and one speaker: the 4.1 export form.
  const config = templateSovitsConfig({ ssl: 768, speakers: 1 });
  const arch = { window: SOVITS.window, harmonics: SOVITS.harmonics, uvEmbedding: true, vol: true, flowLayers: SOVITS.defaultFlowLayers, depthwise: false, sharedFlow: false };
  const weights = randomWeights(sovitsParameters(config, arch), 7);
  // The export form (every frame of the window drawn) and Resona's kept-region form (what a G_*.pth import
  // writes: the flow from its margin, the decoder over the kept frames and its context), same weights.
  for (const [label, keep] of [['so-vits 4.1', false], ['so-vits 4.1 kept', true]] as const) {
    const file = path.join(tmp, `sovits-4.1${keep ? '-kept' : ''}.onnx`);
    await fs.writeFile(file, buildSovitsSynthesizer({ weights, config }, { keep }));
    const m = await importVoice(file, lib);
    voices.set(label, path.join(lib, m.id));
    console.log(`so-vits-svc 4.1 (vec768l12, vol, 44.1k${keep ? ', kept-region form' : ''}): ${((await fs.stat(file)).size / 2 ** 20).toFixed(0)} MiB, built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
  }
}

const clip = await readClip('ljspeech', 'LJ001-0001.wav');
const rs = await StreamResampler.create(clip.rate, STREAM, clip.x.length);
const speech = Float32Array.from(rs.process(clip.x));
const x = new Float32Array(Math.round(Number(values.seconds) * STREAM));
for (let i = 0; i < x.length; i++) x[i] = speech[i % speech.length]!;

const providers = await benchProviders(values.providers);

console.log(`\nstream ${STREAM} Hz, ${values.seconds} s of LJ Speech per row, f0 yin; medians in ms per block; RTF = median / block`);
console.log('provider voice            threads block context   encoder   synth    total     p95   worst    RTF  worst RTF');
// Smallest block per provider and context whose p95 stays inside the block (what live mode could run).
const smallest = new Map<string, number>();
// Median ms per block by provider, voice, threads, context and block: the side-by-side table at the end.
const medians = new Map<string, number>();
const cell = (provider: string, label: string, threads: number, extraMs: number, blockMs: number) => `${provider}|${label}|${threads}|${extraMs}|${blockMs}`;
// Voices innermost: the rows compared side by side run back to back, so load from other processes on a
// shared machine falls on both alike.
for (const provider of providers) for (const threads of list(values.threads!)) {
  for (const extraMs of list(values.contexts!)) {
    for (const blockMs of list(values.blocks!)) {
      for (const label of voices.keys()) {
        const voice = await resolveVoice({ voice: voices.get(label)!, encoder, runtime: { threads, provider } });
        const engine = await StreamingEngine.create({ streamRate: STREAM, voice: voice.stage, f0: voice.f0, settings: { blockMs, extraMs, indexRatio: 0 } });
        // Both voices report their networks as [content encoder, synthesizer].
        const stages = voice.stage.stages!;
        const out = new Float32Array(engine.maxOutput);
        const total: number[] = [];
        const enc: number[] = [];
        const syn: number[] = [];
        for (let p = 0, i = 0; p + engine.blockSize <= x.length; p += engine.blockSize, i++) {
          const t0 = performance.now();
          await engine.processBlock(x.subarray(p, p + engine.blockSize), out);
          if (i < 3) continue; // warm-up: first runs allocate and optimise
          total.push(performance.now() - t0);
          enc.push(stages[0]!.ms);
          syn.push(stages[1]!.ms);
        }
        engine.destroy();
        await voice.release();
        const worst = Math.max(...total);
        const key = `${PROVIDER_LABELS[provider]} ${label}, ${threads} threads, context ${extraMs} ms`;
        medians.set(cell(provider, label, threads, extraMs, blockMs), median(total));
        if (p95(total) < blockMs && !(smallest.get(key)! <= blockMs)) smallest.set(key, blockMs);
        else if (!smallest.has(key)) smallest.set(key, Infinity);
        console.log(
          `${provider.padEnd(8)} ${label.padEnd(16)} ${String(threads).padStart(7)} ${String(blockMs).padStart(5)} ${String(extraMs).padStart(7)} ${median(enc).toFixed(1).padStart(9)} ${median(syn).toFixed(1).padStart(7)} ` +
            `${median(total).toFixed(1).padStart(8)} ${p95(total).toFixed(1).padStart(7)} ${worst.toFixed(1).padStart(7)} ${(median(total) / blockMs).toFixed(2).padStart(6)} ${(worst / blockMs).toFixed(2).padStart(10)}`,
        );
      }
    }
  }
}
console.log('\nsmallest real-time block (p95 < block):');
for (const [key, ms] of smallest) console.log(`  ${key}: ${Number.isFinite(ms) ? `${ms} ms` : 'none of those tried'}`);

// RVC v2 beside so-vits-svc 4.1 at the same blocks: one ms / RTF column per provider and voice.
const labels = [...voices.keys()];
for (const threads of list(values.threads!)) for (const extraMs of list(values.contexts!)) {
  console.log(`\nper block, ${threads} thread${threads > 1 ? 's' : ''}, context ${extraMs} ms: median ms (RTF)`);
  const cols = providers.flatMap((p) => labels.map((l) => ({ p, l, head: `${PROVIDER_LABELS[p]} ${l}` })));
  console.log(['block ms', ...cols.map((c) => c.head)].map((h) => h.padStart(Math.max(16, h.length))).join(' | '));
  for (const blockMs of list(values.blocks!)) {
    const row = cols.map((c) => {
      const ms = medians.get(cell(c.p, c.l, threads, extraMs, blockMs))!;
      return `${ms.toFixed(1)} (${(ms / blockMs).toFixed(2)})`.padStart(Math.max(16, c.head.length));
    });
    console.log([String(blockMs).padStart(16), ...row].join(' | '));
  }
}
await fs.rm(tmp, { recursive: true, force: true });
