// The NSF-HiFiGAN vocoder stage at real size: openvpi's 44.1 kHz configuration (upsample_initial_channel 512,
// kernels [16, 16, 4, 4, 4], resblock kernels [3, 7, 11], dilations [1, 3, 5] × 3) with random weights, built by
// Resona's graph builder; ms per block on each execution provider for the mel front end (TypeScript) and the
// vocoder stage (models/vocoder/vocoder.ts: drawing the source's noise, which the graph takes as an input, and
// the onnxruntime run), rendering the block's frames alone and with left context frames (what a streaming
// caller re-renders to hide seams). Medians over --runs after warm-up; RTF = ms / block ms. On a GPU provider
// it first prints where onnxruntime placed the graph's nodes (all on the provider, or the ops left on the CPU).
//   npm run bench:vocoder -- [--providers cpu,webgpu] [--blocks 0.1,0.2,0.5] [--context 0,8] [--threads 2] [--runs 20]
//     [--tiny: upsample_initial_channel 32 instead of 512, to prove the bench runs (e.g. on SwiftShader); figures mean nothing]
// Default providers: CPU, plus WebGPU where it runs. WebGPU without a GPU: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json.
import { parseArgs } from 'node:util';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomWeights } from '../models/torch/rvc-random.js';
import { VOCODER_MEL, VOCODER_MEL_PAD, VocoderMel } from '../models/vocoder/mel.js';
import { buildNsfHifigan, nsfHifiganParameters, OPENVPI_44K } from '../models/vocoder/nsf-hifigan.js';
import { Vocoder } from '../models/vocoder/vocoder.js';
import { PROVIDER_LABELS } from '../protocol/runtime.js';
import { benchProviders, printPlacement, PROVIDERS_OPTION } from './providers.js';

const { values } = parseArgs({
  options: {
    blocks: { type: 'string', default: '0.1,0.2,0.5' },
    context: { type: 'string', default: '0,8' },
    threads: { type: 'string', default: '2' },
    runs: { type: 'string', default: '20' },
    providers: PROVIDERS_OPTION,
    tiny: { type: 'boolean', default: false },
  },
});
const list = (s: string) => s.split(',').map(Number);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const threads = Number(values.threads);
const runs = Number(values.runs);

const providers = await benchProviders(values.providers);
const config = values.tiny ? { ...OPENVPI_44K, upsample_initial_channel: 32 } : OPENVPI_44K;
let t = performance.now();
const bytes = buildNsfHifigan(randomWeights(nsfHifiganParameters(config), 11), config);
console.log(`NSF-HiFiGAN 44.1 kHz (openvpi config${values.tiny ? ', TINY: upsample_initial_channel 32' : ''}), random weights: ${(bytes.length / 2 ** 20).toFixed(1)} MiB ONNX, built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'resona-bench-voc-'));
const file = path.join(tmp, 'nsf-hifigan.onnx');
await fs.writeFile(file, bytes);
for (const p of providers) await printPlacement(p, 'vocoder', file);

const hop = VOCODER_MEL.hop;
const front = new VocoderMel();
console.log(`${runs} runs per row after 3 warm-ups; ${threads} intra-op thread${threads > 1 ? 's' : ''}`);
console.log('provider | block s | frames (+context) | mel ms | vocoder ms | total ms | RTF');
for (const provider of providers) {
  t = performance.now();
  const vocoder = await Vocoder.load(file, { provider, threads });
  if (vocoder.session.provider !== provider) throw new Error(`${PROVIDER_LABELS[provider]}: the vocoder fell back to ${vocoder.session.provider} (${vocoder.session.providerNote})`);
  const loadS = ((performance.now() - t) / 1000).toFixed(1);
  for (const blockSec of list(values.blocks!)) {
    for (const context of list(values.context!)) {
      const block = Math.ceil((blockSec * VOCODER_MEL.rate) / hop);
      const T = block + context;
      // Speech-like input: harmonics on a gliding f0, enough samples for every window of the T frames.
      const n = T * hop + 2 * VOCODER_MEL_PAD;
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * 150 * i) / VOCODER_MEL.rate) + 0.1 * Math.sin((2 * Math.PI * 450 * i) / VOCODER_MEL.rate);
      const mel = new Float32Array(128 * T);
      const f0 = new Float32Array(T).fill(150);
      const melMs: number[] = [];
      const vocMs: number[] = [];
      for (let r = 0; r < runs + 3; r++) {
        const t0 = performance.now();
        front.frames(x, 0, T, mel, T, -VOCODER_MEL_PAD);
        const t1 = performance.now();
        await vocoder.run(mel, f0, T);
        const t2 = performance.now();
        if (r >= 3) {
          melMs.push(t1 - t0);
          vocMs.push(t2 - t1);
        }
      }
      const m = median(melMs);
      const v = median(vocMs);
      console.log(`${PROVIDER_LABELS[provider].padEnd(8)} | ${blockSec.toFixed(2)}    | ${String(block).padStart(3)} (+${context})${' '.repeat(9 - String(context).length)}| ${m.toFixed(1).padStart(6)} | ${v.toFixed(1).padStart(10)} | ${(m + v).toFixed(1).padStart(8)} | ${((m + v) / (blockSec * 1000)).toFixed(2)}`);
    }
  }
  console.log(`  (${PROVIDER_LABELS[provider]} session loaded in ${loadS} s)`);
  await vocoder.release();
}
await fs.rm(tmp, { recursive: true, force: true });
