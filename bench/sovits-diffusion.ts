// A so-vits-svc 4.1 voice with shallow diffusion and the NSF-HiFiGAN vocoder, every network at real size with
// random weights (HuBERT-base layer 12, so-vits-svc 4.1 vec768 44.1 kHz synthesizer with vol, the 20 × 512
// WaveNet diffusion of the template diffusion.yaml, openvpi's 44.1 kHz NSF-HiFiGAN), run on each execution
// provider (--providers; default CPU, plus WebGPU where it runs; every network of the chain on that provider,
// after the node placement of each on a GPU provider) through the voice's own render (SovitsVoice +
// SovitsRefiner, as the engine calls it per block):
//   ms per block per stage (content encoder, synthesizer, diffusion = mel + condition + passes, vocoder) for
//   diffusion off and k_step/speedup 100/10, 50/10, 20/5 (dpm-solver++), at each block size of --blocks with
//   --extra s of left context and a 20 ms crossfade. Stage times are wall ms; the block is also given as the
//   process's CPU ms (user + system, all threads): on a shared machine the wall time says what the block met,
//   and with one intra-op thread (the default) the CPU time is what one idle core would take, so RTF and the
//   smallest real-time block per setting (smallest block of the grid with RTF < 1) are judged on CPU time; on a
//   GPU provider the process's CPU time counts only the host's share, so there they are judged on wall time.
//   npm run bench:sovits-diffusion -- [--providers cpu,webgpu] [--blocks 0.25,0.5,1] [--extra 0.5] [--threads 1] [--runs 3]
//     [--tiny: every network at a few channels, to prove the bench runs (e.g. on SwiftShader); figures mean nothing]
//
// Measured (2026-12-01, Node 20, onnxruntime-node 1.30, one intra-op thread, a 2-core VM at load 8–13 from
// other jobs, so wall times ran 2–4× the CPU times; CPU ms per block, median of 2, context 0.5 s, dpm-solver++):
//   block s   | off (VITS only) | 100/10 (10 passes) | 50/10 (5) | 20/5 (4)
//   0.25      |   665           | 1534               | 1232      | 1193
//   0.5       |   840           | 2190               | 1803      | 1624
//   1         |  1365           | 3610               | 2786      | 2543
//   1.5       |  1732           | 4550               | 3807      | 3560
//   2         |  2181           | 5698               | 4892      | 4811
// Stage shares (wall, 0.5 s block, 100/10): encoder 487, synthesizer 1568, diffusion 2138, vocoder 1030 ms.
// No setting is real time on one CPU core up to 2 s blocks (RTF off 1.09 at 2 s; 100/10 2.85; 50/10 2.45;
// 20/5 2.41): the so-vits synthesizer renders its whole window, and the diffusion + vocoder add 1.2–2.7× it.
// With 0.5 s of context the refined span (kept + 8 + 40 frames) already covers the whole window, so the crop
// saves only with longer context. GPU (WebGPU) figures: not measured yet (no device in that session);
// bench/device/sovits-diffusion.sh measures them on a lent GPU machine in one command.
import os from 'node:os';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadDiffusion } from '../models/diffusion/diffusion.js';
import { randomDiffusionModel, templateDiffusionConfig } from '../models/diffusion/random.js';
import { detectSovitsForm } from '../models/families/sovits/forms.js';
import { SovitsRefiner } from '../models/families/sovits/refiner.js';
import { SovitsSynth } from '../models/families/sovits/synthesizer.js';
import { SovitsVoice } from '../models/families/sovits/voice.js';
import { parseOnnxInfo } from '../models/onnx/model-info.js';
import { ContentEncoder } from '../models/rvc/content-encoder.js';
import { loadSession, type Provider } from '../models/runtime.js';
import { PROVIDER_LABELS } from '../protocol/runtime.js';
import { benchProviders, printPlacement, PROVIDERS_OPTION } from './providers.js';
import { HUBERT_BASE } from '../models/torch/hubert-config.js';
import { buildHubertEncoder } from '../models/torch/hubert-graph.js';
import { randomHubertWeights } from '../models/torch/hubert-random.js';
import { randomWeights } from '../models/torch/rvc-random.js';
import { buildConditionEncoder, buildDenoiser } from '../models/diffusion/graph.js';
import { buildSovitsSynthesizer } from '../models/torch/sovits-graph.js';
import { SOVITS, sovitsParameters, templateSovitsConfig } from '../models/torch/sovits-spec.js';
import { buildNsfHifigan, nsfHifiganParameters, OPENVPI_44K } from '../models/vocoder/nsf-hifigan.js';
import { Vocoder } from '../models/vocoder/vocoder.js';

const { values } = parseArgs({
  options: {
    blocks: { type: 'string', default: '0.25,0.5,1' },
    extra: { type: 'string', default: '0.5' },
    threads: { type: 'string', default: '1' },
    runs: { type: 'string', default: '3' },
    providers: PROVIDERS_OPTION,
    tiny: { type: 'boolean', default: false },
  },
});
const threads = Number(values.threads);
const runs = Number(values.runs);
const extra = Number(values.extra);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const secs = (t: number) => ((performance.now() - t) / 1000).toFixed(1);

const providers = await benchProviders(values.providers);
const tiny = values.tiny;
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'resona-bench-sd-'));
let t = performance.now();
// --tiny: the same architectures at a few channels (the so-vits ssl width stays 768: the synthesizer's input).
const hubert = tiny ? { ...HUBERT_BASE, convLayers: HUBERT_BASE.convLayers.map(([, k, st]) => [32, k, st] as const), ffnDim: 64, layers: 1, convPos: 16 } : HUBERT_BASE;
const hubertBytes = buildHubertEncoder(randomHubertWeights(hubert, 1), hubert, { layer: tiny ? 1 : 12, finalProj: false });
const sc = tiny ? { ...templateSovitsConfig(), inter_channels: 16, hidden_channels: 16, filter_channels: 32, n_layers: 1, upsample_initial_channel: 32, gin_channels: 16 } : templateSovitsConfig();
const arch = { window: SOVITS.window, harmonics: SOVITS.harmonics, uvEmbedding: true, vol: true, flowLayers: SOVITS.defaultFlowLayers, depthwise: false, sharedFlow: false };
const synthBytes = buildSovitsSynthesizer({ weights: randomWeights(sovitsParameters(sc, arch), 3), config: sc }, { architecture: arch });
const form = detectSovitsForm(parseOnnxInfo(synthBytes, 'sovits'), 'sovits');
const vocConfig = tiny ? { ...OPENVPI_44K, upsample_initial_channel: 32 } : OPENVPI_44K;
const vocFile = path.join(tmp, 'nsf-hifigan.onnx');
await fs.writeFile(vocFile, buildNsfHifigan(randomWeights(nsfHifiganParameters(vocConfig), 11), vocConfig));
const model = randomDiffusionModel(templateDiffusionConfig(tiny ? { layers: 2, channels: 16, hidden: 16 } : {}));
console.log(`${tiny ? 'TINY' : 'real-size'} HuBERT + so-vits 4.1 (${form.id}, vol) + diffusion ${model.config.layers}×${model.config.channels} + NSF-HiFiGAN, random weights, built in ${secs(t)} s`);
for (const p of providers) {
  await printPlacement(p, 'content encoder', hubertBytes);
  await printPlacement(p, 'synthesizer', synthBytes);
  await printPlacement(p, 'diffusion condition encoder', buildConditionEncoder(model));
  await printPlacement(p, 'diffusion denoiser', buildDenoiser(model));
  await printPlacement(p, 'vocoder', vocFile);
}
console.log(`${threads} thread${threads > 1 ? 's' : ''} per session, ${os.cpus().length} cores, load ${os.loadavg().map((v) => v.toFixed(1)).join(' ')}; context ${extra} s; ${runs} runs after 1 warm-up, medians`);

const SETTINGS = [
  { label: 'off', diffusion: 0, kStep: 100, speedup: 10 },
  { label: '100/10', diffusion: 1, kStep: 100, speedup: 10 },
  { label: '50/10', diffusion: 1, kStep: 50, speedup: 10 },
  { label: '20/5', diffusion: 1, kStep: 20, speedup: 5 },
];
const blocks = values.blocks!.split(',').map(Number);
const smallest = new Map<string, number>();
console.log('provider | setting | block s | window frames | refined / vocoded frames | encoder | synth | diffusion (passes) | vocoder | total wall ms | CPU ms | RTF (CPU; wall on a GPU)');
for (const provider of providers) {
  t = performance.now();
  const rt = { provider, threads };
  const encoder = await ContentEncoder.load(hubertBytes, { channels: 768, layer: tiny ? 1 : 12 }, rt);
  const synth = new SovitsSynth(await loadSession(synthBytes, { ...rt, name: 'synthesizer' }), form, 768, 1);
  const vocoder = await Vocoder.load(vocFile, rt);
  const diffusion = await loadDiffusion(model, rt);
  const placed = [synth.session, vocoder.session, diffusion.denoiser, diffusion.condition];
  const fell = placed.find((x) => x.provider !== provider);
  if (fell) throw new Error(`${PROVIDER_LABELS[provider]}: ${fell.name} fell back to ${fell.provider} (${fell.providerNote})`);
  const refiner = new SovitsRefiner(diffusion, vocoder);
  console.log(`  (${PROVIDER_LABELS[provider]}: loaded in ${secs(t)} s)`);
  const voice = new SovitsVoice({ id: 'bench', encoder, synth, rate: 44100, hop: 512, speakers: 1, retrieval: null, refiner });
  for (const s of SETTINGS) {
    for (const block of blocks) {
      const W = Math.round((block + extra) * 16000);
      const region = Math.round((block + 0.02) * 44100);
      voice.configure({ inputRate: 16000, outputRate: 44100, maxWindow: W, maxRender: region, pitch: 0, formant: 0, indexRatio: 0, protect: 0.5, speaker: 0, clusterInferRatio: 0, noiseScale: 0.4, diffusion: s.diffusion, kStep: s.kStep, speedup: s.speedup, diffusionMethod: 0, autoF0: 0 });
      const audio = Float32Array.from({ length: W }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 150 * i) / 16000) + 0.1 * Math.sin((2 * Math.PI * 450 * i) / 16000));
      const b = { audio, startIndex: 0, newSamples: Math.round(block * 16000), f0: { hzAt: () => 150, knownUntilSec: 1e9 } };
      const out = new Float32Array(region);
      const rows: number[][] = [];
      for (let r = 0; r <= runs; r++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await voice.render(b, out);
        const total = performance.now() - t0;
        const c = process.cpuUsage(c0);
        if (r > 0) rows.push([voice.times.encoder, voice.times.synth, voice.times.diffusion, voice.times.vocoder, total, (c.user + c.system) / 1000]);
      }
      const m = [0, 1, 2, 3, 4, 5].map((i) => median(rows.map((x) => x[i]!)));
      const rtf = (provider === 'cpu' ? m[5]! : m[4]!) / (block * 1000);
      const T = voice.framesFor(Math.floor(W / 320) * 320);
      const sp = refiner.spans(T, region);
      const key = `${PROVIDER_LABELS[provider]} ${s.label}`;
      if (rtf < 1 && !smallest.has(key)) smallest.set(key, block);
      console.log(`${PROVIDER_LABELS[provider as Provider].padEnd(8)} | ${s.label} | ${block} | ${T} | ${s.diffusion ? `${sp.refine} / ${sp.vocode}` : '-'} | ${m[0]!.toFixed(0)} | ${m[1]!.toFixed(0)} | ${m[2]!.toFixed(0)} (${voice.stages[2]!.calls}) | ${m[3]!.toFixed(0)} | ${m[4]!.toFixed(0)} | ${m[5]!.toFixed(0)} | ${rtf.toFixed(2)}`);
    }
  }
  await refiner.release();
  await encoder.release();
  await synth.session.release();
}
for (const p of providers) for (const s of SETTINGS) {
  const key = `${PROVIDER_LABELS[p]} ${s.label}`;
  console.log(`smallest real-time block, ${key}: ${smallest.has(key) ? `${smallest.get(key)} s` : `none up to ${blocks.at(-1)} s`}`);
}
await fs.rm(tmp, { recursive: true, force: true });
