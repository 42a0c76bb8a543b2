// The NSF-HiFiGAN vocoder stage at real size: openvpi's 44.1 kHz configuration (upsample_initial_channel 512,
// kernels [16, 16, 4, 4, 4], resblock kernels [3, 7, 11], dilations [1, 3, 5] × 3) with random weights, built by
// Resona's graph builder; ms per block on CPU for the mel front end (TypeScript) and the vocoder (onnxruntime),
// rendering the block's frames alone and with left context frames (what a streaming caller re-renders to hide
// seams). Medians over --runs after warm-up; RTF = ms / block ms.
//   npm run bench:vocoder -- [--blocks 0.1,0.2,0.5] [--context 0,8] [--threads 2] [--runs 20]
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadSession } from '../models/runtime.js';
import { randomWeights } from '../models/torch/rvc-random.js';
import { VOCODER_MEL, VOCODER_MEL_PAD, VocoderMel } from '../models/vocoder/mel.js';
import { buildNsfHifigan, nsfHifiganParameters, OPENVPI_44K } from '../models/vocoder/nsf-hifigan.js';

const { values } = parseArgs({
  options: {
    blocks: { type: 'string', default: '0.1,0.2,0.5' },
    context: { type: 'string', default: '0,8' },
    threads: { type: 'string', default: '2' },
    runs: { type: 'string', default: '20' },
  },
});
const list = (s: string) => s.split(',').map(Number);
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const threads = Number(values.threads);
const runs = Number(values.runs);

let t = performance.now();
const bytes = buildNsfHifigan(randomWeights(nsfHifiganParameters(OPENVPI_44K), 11), OPENVPI_44K);
console.log(`NSF-HiFiGAN 44.1 kHz (openvpi config), random weights: ${(bytes.length / 2 ** 20).toFixed(1)} MiB ONNX, built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
t = performance.now();
const session = await loadSession(bytes, { provider: 'cpu', threads, name: 'nsf-hifigan' });
console.log(`session on CPU, ${threads} thread${threads > 1 ? 's' : ''}, loaded in ${((performance.now() - t) / 1000).toFixed(1)} s; ${runs} runs per row after 3 warm-ups`);

const hop = VOCODER_MEL.hop;
const front = new VocoderMel();
console.log('block s | frames (+context) | mel ms | vocoder ms | total ms | RTF');
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
    const feeds = { mel: new ort.Tensor('float32', mel, [1, 128, T]), f0: new ort.Tensor('float32', f0, [1, T]) };
    const melMs: number[] = [];
    const vocMs: number[] = [];
    for (let r = 0; r < runs + 3; r++) {
      const t0 = performance.now();
      front.frames(x, 0, T, mel, T, -VOCODER_MEL_PAD);
      const t1 = performance.now();
      await session.run(feeds);
      const t2 = performance.now();
      if (r >= 3) {
        melMs.push(t1 - t0);
        vocMs.push(t2 - t1);
      }
    }
    const m = median(melMs);
    const v = median(vocMs);
    console.log(`${blockSec.toFixed(2)}    | ${String(block).padStart(3)} (+${context})${' '.repeat(9 - String(context).length)}| ${m.toFixed(1).padStart(6)} | ${v.toFixed(1).padStart(10)} | ${(m + v).toFixed(1).padStart(8)} | ${((m + v) / (blockSec * 1000)).toFixed(2)}`);
  }
}
await session.release();
