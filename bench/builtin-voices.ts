// Per-block cost of the built-in voices through the real streaming engine, the number that decides whether
// live conversion keeps up: RTF = time to process a block / the block's duration (target ≤ 0.05 on one core).
//
//   npm run bench [-- --blocks 20,50 --voices natural,robot --seconds 10]
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { StreamingEngine, type StageTimes } from '../engine/engine.js';
import { builtinVoices, createBuiltinVoice } from '../engine/voices/builtin.js';
import { readAudioFile, toMono } from '../host/audio-file.js';

const TARGET_RTF = 0.05;
const STAGES: readonly (keyof StageTimes)[] = ['gate', 'resampleIn', 'f0', 'voice', 'sola', 'resampleOut'];

interface VoiceCase {
  label: string;
  id: string;
  pitch?: number;
}

// `natural` at its default would be a near no-op shift; +5 makes it do the same work as a real setting.
const VOICE_CASES: readonly VoiceCase[] = [
  { label: 'natural+5', id: 'natural', pitch: 5 },
  { label: 'deeper', id: 'deeper' },
  { label: 'higher', id: 'higher' },
  { label: 'robot', id: 'robot' },
];

const { values: args } = parseArgs({
  options: {
    blocks: { type: 'string', default: '20,50,100,250' },
    voices: { type: 'string', default: VOICE_CASES.map((v) => v.id).join(',') },
    seconds: { type: 'string', default: '30' },
  },
});
const blocksMs = args.blocks.split(',').map(Number);
const seconds = Number(args.seconds);
const wanted = new Set(args.voices.split(','));
const voiceCases = VOICE_CASES.filter((v) => wanted.has(v.id) || wanted.has(v.label));
if (blocksMs.some((b) => !(b > 0)) || !(seconds > 0) || voiceCases.length === 0) {
  console.error(`usage: builtin-voices [--blocks 20,50,100,250] [--voices ${VOICE_CASES.map((v) => v.id).join(',')}] [--seconds 30]`);
  process.exit(2);
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const clipDir = path.join(root, '..', 'shared', 'audio', 'ljspeech');

/** LJ Speech clips concatenated, or a synthetic voice when the shared folder is absent. */
async function loadSpeech(): Promise<{ audio: Float32Array; rate: number; source: string }> {
  const files = Array.from({ length: 10 }, (_, i) => path.join(clipDir, `LJ001-${String(i + 1).padStart(4, '0')}.wav`));
  if (!files.every((f) => existsSync(f))) {
    const rate = 22050;
    return { audio: syntheticVoice(rate, 20), rate, source: `synthetic voiced signal (${clipDir} not found)` };
  }
  const clips = await Promise.all(files.map(readAudioFile));
  const rate = clips[0]!.sampleRate;
  const audio = concat(clips.map((c) => toMono(c.channels)));
  return { audio, rate, source: `LJ Speech LJ001-0001..0010 (${(audio.length / rate).toFixed(1)} s at ${rate} Hz)` };
}

/** A pulse train gliding between 120 and 220 Hz plus a little noise: enough to keep f0 and PSOLA busy. */
function syntheticVoice(rate: number, sec: number): Float32Array {
  const out = new Float32Array(Math.round(rate * sec));
  let phase = 0;
  let seed = 1;
  for (let i = 0; i < out.length; i++) {
    const t = i / rate;
    phase = (phase + (170 + 50 * Math.sin((2 * Math.PI * t) / 3)) / rate) % 1;
    seed = (seed * 1664525 + 1013904223) >>> 0; // fixed-seed noise so runs are comparable
    out[i] = 0.3 * (1 - 2 * phase) ** 3 + 0.01 * (seed / 2 ** 31 - 1);
  }
  return out;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function loopTo(audio: Float32Array, length: number): Float32Array {
  const out = new Float32Array(length);
  for (let at = 0; at < length; at += audio.length) out.set(audio.subarray(0, length - at), at);
  return out;
}

function median(sorted: Float64Array): number {
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

interface Row {
  rate: number;
  voice: string;
  blockMs: number;
  medianMs: number;
  p95Ms: number;
  rtf: number;
  worstRtf: number;
  stages: number[];
  latencyMs: number;
}

async function measure(audio: Float32Array, rate: number, vc: VoiceCase, blockMs: number): Promise<Row> {
  const info = builtinVoices().find((v) => v.id === vc.id)!;
  const engine = await StreamingEngine.create({
    streamRate: rate,
    voice: createBuiltinVoice(vc.id),
    settings: { blockMs, pitch: vc.pitch ?? info.defaultPitch, formant: info.defaultFormant },
  });
  const block = engine.blockSize;
  const actualMs = (block / rate) * 1000; // blockMs is rounded to 10 ms frames by the engine
  const blocks = Math.floor(audio.length / block);
  const input = new Float32Array(block);
  const out = new Float32Array(engine.maxOutput);
  const total = new Float64Array(blocks);
  const stages = STAGES.map(() => new Float64Array(blocks));

  for (let pass = 0; pass < 2; pass++) {
    const timed = pass === 1; // pass 0 warms the JIT and fills the engine's history
    for (let b = 0; b < blocks; b++) {
      input.set(audio.subarray(b * block, (b + 1) * block));
      const t0 = performance.now();
      await engine.processBlock(input, out);
      const dt = performance.now() - t0;
      if (!timed) continue;
      total[b] = dt;
      for (let s = 0; s < STAGES.length; s++) stages[s]![b] = engine.times[STAGES[s]!];
    }
  }
  const latencyMs = engine.latency().totalMs;
  engine.destroy();

  total.sort();
  for (const s of stages) s.sort();
  const medianMs = median(total);
  return {
    rate,
    voice: vc.label,
    blockMs: actualMs,
    medianMs,
    p95Ms: total[Math.min(blocks - 1, Math.ceil(0.95 * blocks) - 1)]!,
    rtf: medianMs / actualMs,
    worstRtf: total[blocks - 1]! / actualMs,
    stages: stages.map(median),
    latencyMs,
  };
}

function printTable(rows: Row[]): void {
  const head = ['rate', 'voice', 'block ms', 'med ms', 'p95 ms', 'RTF', 'worst RTF', ...STAGES, 'latency ms'];
  const cells = rows.map((r) => [
    String(r.rate),
    r.voice,
    r.blockMs.toFixed(0),
    r.medianMs.toFixed(3),
    r.p95Ms.toFixed(3),
    r.rtf.toFixed(4),
    r.worstRtf.toFixed(4),
    ...r.stages.map((s) => s.toFixed(3)),
    r.latencyMs.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  // Voice names read best left-aligned, numbers right-aligned.
  const line = (c: string[]): string => c.map((s, i) => (i === 1 ? s.padEnd(widths[i]!) : s.padStart(widths[i]!))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

const speech = await loadSpeech();
// Timing does not depend on content, so the 48 kHz runs reuse the same samples played at 48 kHz.
const rates = [...new Set([speech.rate, 48000])];
console.log(`input: ${speech.source}; ${seconds} s per configuration, timed after one untimed warm-up pass`);
console.log(`48000 Hz runs feed the same ${speech.rate} Hz samples as a 48 kHz stream (timing only)`);
console.log('per-block times in ms, one core; stage columns are medians; RTF = median ms / block ms\n');

const rows: Row[] = [];
const count = rates.length * blocksMs.length * voiceCases.length;
for (const rate of rates) {
  const audio = loopTo(speech.audio, Math.round(seconds * rate));
  for (const blockMs of blocksMs) {
    for (const vc of voiceCases) {
      console.error(`[${rows.length + 1}/${count}] ${rate} Hz, ${vc.label}, ${blockMs} ms blocks`);
      rows.push(await measure(audio, rate, vc, blockMs));
    }
  }
}
printTable(rows);

const worst = rows.reduce((a, b) => (b.rtf > a.rtf ? b : a));
console.log(
  `\nworst median RTF ${worst.rtf.toFixed(4)} (${worst.rate} Hz, ${worst.voice}, ${worst.blockMs.toFixed(0)} ms blocks); ` +
    `target RTF <= ${TARGET_RTF}: ${worst.rtf <= TARGET_RTF ? 'met' : 'NOT met'}`,
);
