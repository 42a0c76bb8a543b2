// Per-block cost of each f0 method streamed through the real F0Tracker: the tracker hands each block's new
// 10 ms frames to the estimator with that estimator's own context, which is what live conversion pays.
// RTF = median ms per block / block ms. The f0 look-ahead (contextAfter) is printed too: it is latency the
// engine must hide or hold over.
//
//   node dist/bench/f0-methods.js [--blocks 20,50,100,250] [--methods yin,swiftf0,crepe,rmvpe] [--seconds 10] [--threads 1]
//                                 [--rmvpe-before 32]   (RMVPE's left margin in frames: its main cost)
//
// RMVPE's real network (181 MB) is not in ../shared, so `rmvpe` times a stand-in with RMVPE's exact
// architecture (E2E(4, 1, (2, 2)) from RVC's rmvpe.py: the 5-level U-Net, 4 blocks per level, the BiGRU and
// the 360-bin head; batch norms folded away, as an export's optimiser does) and random weights, written as
// the RVC WebUI form (mel in, salience out). Its timings are real; its pitches are noise.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { F0Estimator } from '../engine/f0/estimator.js';
import { F0Tracker } from '../engine/f0/tracker.js';
import { StreamResampler } from '../engine/resampler.js';
import { readAudioFile, toMono } from '../host/audio-file.js';
import { createF0Estimator } from '../models/f0/methods.js';
import { RmvpeEstimator } from '../models/f0/rmvpe.js';
import { GraphBuilder } from '../models/onnx/graph-builder.js';

const { values: args } = parseArgs({
  options: {
    blocks: { type: 'string', default: '20,50,100,250' },
    methods: { type: 'string', default: 'yin,swiftf0,crepe,rmvpe' },
    seconds: { type: 'string', default: '10' },
    threads: { type: 'string', default: '1' },
    'rmvpe-before': { type: 'string' },
  },
});
const blocksMs = args.blocks.split(',').map(Number);
const methods = args.methods.split(',');
const seconds = Number(args.seconds);
const threads = Number(args.threads);
if (blocksMs.some((b) => !(b >= 10)) || !(seconds > 0) || !(threads >= 1)) {
  console.error('usage: f0-methods [--blocks 20,50,100,250] [--methods yin,swiftf0,crepe,rmvpe] [--seconds 10] [--threads 1]');
  process.exit(2);
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const shared = path.join(root, '..', 'shared');

async function loadSpeech(): Promise<Float32Array> {
  const files = Array.from({ length: 10 }, (_, i) => path.join(shared, 'audio', 'ljspeech', `LJ001-${String(i + 1).padStart(4, '0')}.wav`));
  const missing = files.find((f) => !existsSync(f));
  if (missing) throw new Error(`${missing} is missing: the benchmark streams real speech from ../shared/audio`);
  const parts: Float32Array[] = [];
  let total = 0;
  for (const f of files) {
    const a = await readAudioFile(f);
    const r = await StreamResampler.create(a.sampleRate, 16000, a.channels[0]!.length);
    const x = Float32Array.from(r.process(toMono(a.channels)));
    r.destroy();
    parts.push(x);
    total += x.length;
    if (total >= seconds * 16000) break;
  }
  const out = new Float32Array(Math.round(seconds * 16000));
  let at = 0;
  while (at < out.length) for (const p of parts) {
    out.set(p.subarray(0, Math.min(p.length, out.length - at)), at);
    at += Math.min(p.length, out.length - at);
    if (at >= out.length) break;
  }
  return out;
}

/** RMVPE's architecture with random weights (~90 M parameters, a 361 MB file like the real rmvpe.onnx). */
function rmvpeStandIn(): Uint8Array {
  let seed = 12345;
  const random = (n: number, scale: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      a[i] = ((seed >>> 0) / 2 ** 32 - 0.5) * 2 * scale;
    }
    return a;
  };
  const g = new GraphBuilder('rmvpe-standin');
  // Small weights keep the residual sums finite through 80 convolutions (denormals or infinities would
  // distort the timing); the values mean nothing.
  const conv = (x: string, cin: number, cout: number, k: number, relu = true): string => {
    const w = g.f32(random(cout * cin * k * k, 0.5 / Math.sqrt(cin * k * k)), [cout, cin, k, k]);
    const y = g.op('Conv', [x, w, g.f32(random(cout, 0.01), [cout])], { kernel_shape: [k, k], pads: k === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0] });
    return relu ? g.op('Relu', [y]) : y;
  };
  const block = (x: string, cin: number, cout: number): string => {
    const h = conv(conv(x, cin, cout, 3), cout, cout, 3);
    return g.op('Add', [h, cin === cout ? x : conv(x, cin, cout, 1, false)]);
  };
  const stack = (x: string, cin: number, cout: number): string => {
    let y = block(x, cin, cout);
    for (let i = 1; i < 4; i++) y = block(y, cout, cout);
    return y;
  };
  const mel = g.input('input', 'float32', [1, 128, 'T']);
  let x = g.op('Unsqueeze', [g.op('Transpose', [mel], { perm: [0, 2, 1] }), g.i64([1])]); // [1, 1, T, 128]
  const skips: string[] = [];
  let c = 1;
  for (const cout of [16, 32, 64, 128, 256]) {
    const y = stack(x, c, cout);
    skips.push(y);
    x = g.op('AveragePool', [y], { kernel_shape: [2, 2], strides: [2, 2] });
    c = cout;
  }
  x = stack(x, 256, 512);
  for (let i = 1; i < 4; i++) x = stack(x, 512, 512);
  c = 512;
  for (let i = 0; i < 5; i++) {
    const cout = c / 2;
    const w = g.f32(random(c * cout * 9, 0.5 / Math.sqrt(c * 9)), [c, cout, 3, 3]);
    const up = g.op('Relu', [g.op('ConvTranspose', [x, w], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] })]);
    x = stack(g.op('Concat', [up, skips[4 - i]!], { axis: 1 }), 2 * cout, cout);
    c = cout;
  }
  x = conv(x, 16, 3, 3, false); // [1, 3, T, 128]
  const seq = g.op('Reshape', [g.op('Transpose', [x], { perm: [2, 0, 1, 3] }), g.i64([0, 1, 384])]); // [T, 1, 384]
  const gru = g.nodeMulti('GRU', [seq, g.f32(random(2 * 768 * 384, 0.05), [2, 768, 384]), g.f32(random(2 * 768 * 256, 0.06), [2, 768, 256]), g.f32(random(2 * 1536, 0.01), [2, 1536])], 1, {
    hidden_size: 256,
    direction: 'bidirectional',
  })[0]!; // [T, 2, 1, 256]
  const feats = g.op('Reshape', [g.op('Transpose', [gru], { perm: [2, 0, 1, 3] }), g.i64([1, -1, 512])]);
  const logits = g.op('Add', [g.op('MatMul', [feats, g.f32(random(512 * 360, 0.04), [512, 360])]), g.f32(random(360, 0.01), [360])]);
  g.op('Sigmoid', [logits], {}, 'output');
  g.output('output', 'float32', [1, 'T', 360]);
  return g.toBytes();
}

interface Row {
  method: string;
  blockMs: number;
  medianMs: number;
  p95Ms: number;
  rtf: number;
  lookaheadMs: number;
}

async function measure(method: string, est: F0Estimator, audio: Float32Array, blockMs: number): Promise<Row> {
  const block = 16 * blockMs;
  const tracker = new F0Tracker(3, block, est);
  const blocks = Math.floor(audio.length / block);
  const times: number[] = [];
  // The first second warms the JIT and onnxruntime's allocations and is not counted.
  const warm = Math.ceil(1000 / blockMs);
  for (let b = 0; b < blocks; b++) {
    const t0 = performance.now();
    await tracker.push(audio.subarray(b * block, (b + 1) * block));
    if (b >= warm) times.push(performance.now() - t0);
  }
  times.sort((p, q) => p - q);
  const medianMs = times[times.length >> 1]!;
  return { method, blockMs, medianMs, p95Ms: times[Math.min(times.length - 1, Math.ceil(0.95 * times.length) - 1)]!, rtf: medianMs / blockMs, lookaheadMs: est.contextAfter / 16 };
}

const audio = await loadSpeech();
console.log(`input: LJ Speech at 16 kHz, ${seconds} s per configuration (first second untimed); onnxruntime ${threads} thread(s), spinning off`);
const rows: Row[] = [];
let tmp: string | undefined;
try {
  for (const method of methods) {
    let modelPath: string | undefined;
    if (method === 'swiftf0' || method === 'crepe') {
      modelPath = path.join(shared, 'models', 'f0', method === 'swiftf0' ? 'swiftf0.onnx' : 'crepe_tiny.onnx');
      if (!existsSync(modelPath)) {
        console.log(`skipping ${method}: ${modelPath} not found`);
        continue;
      }
    } else if (method === 'rmvpe') {
      tmp = mkdtempSync(path.join(os.tmpdir(), 'resona-bench-'));
      modelPath = path.join(tmp, 'rmvpe-standin.onnx');
      const t0 = performance.now();
      const bytes = rmvpeStandIn();
      writeFileSync(modelPath, bytes);
      console.log(`rmvpe: random-weight stand-in of the real architecture, ${(bytes.length / 1e6).toFixed(0)} MB, built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    for (const blockMs of blocksMs) {
      const maxFrames = Math.ceil(blockMs / 10) + 4;
      const est =
        method === 'rmvpe' && args['rmvpe-before'] !== undefined
          ? await RmvpeEstimator.load(modelPath!, { threads, maxFrames, marginBefore: Number(args['rmvpe-before']) })
          : await createF0Estimator(method, { modelPath, threads, maxFrames });
      console.error(`${method}, ${blockMs} ms blocks`);
      rows.push(await measure(method, est, audio, blockMs));
      await est.dispose?.();
    }
  }
} finally {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}

const head = ['method', 'block ms', 'median ms', 'p95 ms', 'RTF', 'f0 look-ahead ms'];
const cells = rows.map((r) => [r.method, String(r.blockMs), r.medianMs.toFixed(2), r.p95Ms.toFixed(2), r.rtf.toFixed(3), r.lookaheadMs.toFixed(1)]);
const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
const line = (c: string[]): string => c.map((s, i) => (i === 0 ? s.padEnd(widths[i]!) : s.padStart(widths[i]!))).join('  ');
console.log(line(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const c of cells) console.log(line(c));
