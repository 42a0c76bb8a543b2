// Shared helpers for tests: where things are, real clips, and f0 comparisons.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readAudioFile, toMono } from '../host/audio-file.js';
import { StreamResampler } from '../engine/resampler.js';
import { fromHalf } from '../models/runtime.js';

/** Repository root (tests run from dist/test/…). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED = path.resolve(ROOT, '..', 'shared');
export const CLI = path.join(ROOT, 'dist', 'cli', 'resona.js');

export function sharedPath(...parts: string[]): string {
  const p = path.join(SHARED, ...parts);
  if (!existsSync(p)) throw new Error(`${p} is missing: the tests read real speech and models from ../shared beside the repository`);
  return p;
}

export async function readClip(...parts: string[]): Promise<{ x: Float32Array; rate: number }> {
  const a = await readAudioFile(sharedPath('audio', ...parts));
  return { x: toMono(a.channels), rate: a.sampleRate };
}

export async function to16k(x: Float32Array, rate: number): Promise<Float32Array> {
  if (rate === 16000) return x;
  const r = await StreamResampler.create(rate, 16000, x.length);
  const y = Float32Array.from(r.process(x));
  r.destroy();
  return y;
}

/**
 * Median, over frames voiced in both tracks, of the pitch ratio b/a in cents. Pairing frames keeps the
 * measure about pitch alone: frames whose voicing the two signals disagree on do not bias it.
 */
export function pairedMedianCents(a: Float32Array, b: Float32Array): { cents: number; paired: number } {
  const c: number[] = [];
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i]! > 0 && b[i]! > 0) c.push(1200 * Math.log2(b[i]! / a[i]!));
  c.sort((p, q) => p - q);
  const m = c.length >> 1;
  const cents = c.length === 0 ? NaN : c.length % 2 ? c[m]! : (c[m - 1]! + c[m]!) / 2;
  return { cents, paired: c.length };
}

/** Chromium's software Vulkan driver, which onnxruntime-node's Dawn accepts (Debian's lavapipe it refuses). */
export const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Points this process's WebGPU at SwiftShader (correct, not fast) with a private XDG_RUNTIME_DIR inside `dir`.
 * Call before Dawn first starts in the process: the software adapter is then the only one it may find.
 */
export function useSwiftShader(dir: string): void {
  const runtimeDir = path.join(dir, 'xdg');
  mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
  process.env.VK_ICD_FILENAMES = SWIFTSHADER;
  process.env.XDG_RUNTIME_DIR = runtimeDir;
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resona-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function sine(freq: number, rate: number, seconds: number, amp = 0.5): Float32Array {
  const x = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < x.length; i++) x[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate);
  return x;
}

/** Delay, in samples, of the strongest click in y relative to the one in x. */
export function clickDelay(x: Float32Array, y: Float32Array): number {
  const peak = (a: Float32Array) => a.reduce((best, v, i) => (Math.abs(v) > Math.abs(a[best]!) ? i : best), 0);
  return peak(y) - peak(x);
}

/** Largest |y[i] - y[i-1]| and short-window energy deviation at block boundaries versus elsewhere. */
export function seamStats(y: Float32Array, boundaries: number[], from: number, to: number, win: number) {
  const isNear = new Uint8Array(y.length);
  for (const b of boundaries) for (let i = Math.max(0, b - win); i < Math.min(y.length, b + win); i++) isNear[i] = 1;
  let jumpAt = 0;
  let jumpElse = 0;
  for (let i = from + 1; i < to; i++) {
    const d = Math.abs(y[i]! - y[i - 1]!);
    if (isNear[i]) jumpAt = Math.max(jumpAt, d);
    else jumpElse = Math.max(jumpElse, d);
  }
  const energy = (s: number) => {
    let e = 0;
    for (let i = s; i < s + win; i++) e += y[i]! * y[i]!;
    return e / win;
  };
  let eMin = Infinity;
  let eMax = 0;
  for (let s = from; s + win < to; s += Math.max(1, win >> 2)) {
    const e = energy(s);
    eMin = Math.min(eMin, e);
    eMax = Math.max(eMax, e);
  }
  const eAt: number[] = boundaries.filter((b) => b - win >= from && b + win < to).map((b) => energy(b - (win >> 1)));
  return { jumpAt, jumpElse, eMin, eMax, eAt };
}

/** Feeds x to a streaming engine block by block, as the live path does: the output laid end to end (after one
 * block of lead-in) and where each block's output starts, for seamStats. */
export async function streamBlocks(
  engine: { blockSize: number; maxOutput: number; processBlock(input: Float32Array, out: Float32Array): Promise<number> },
  x: Float32Array,
): Promise<{ y: Float32Array; boundaries: number[] }> {
  const y = new Float32Array(x.length + engine.maxOutput * 2);
  const out = new Float32Array(engine.maxOutput);
  const boundaries: number[] = [];
  let len = engine.blockSize;
  for (let p = 0; p + engine.blockSize <= x.length; p += engine.blockSize) {
    const n = await engine.processBlock(x.subarray(p, p + engine.blockSize), out);
    boundaries.push(len);
    y.set(out.subarray(0, n), len);
    len += n;
  }
  return { y, boundaries };
}

/** RMS of a rendered output, after asserting every sample is finite (a NaN would otherwise pass as "not silent"). */
export function finiteRms(y: Float32Array, what = 'output'): number {
  let e = 0;
  let bad = 0;
  for (const v of y) {
    if (!Number.isFinite(v)) bad++;
    else e += v * v;
  }
  assert.equal(bad, 0, `${what}: ${bad} of ${y.length} samples are not finite`);
  return Math.sqrt(e / y.length);
}

/** Where one array lies in a reference fixture's .bin, as test/fixtures/torch/torch_refs.py's Blob records it. */
export interface BlobRef { offset: number; dtype: string; shape: number[] }

/** One array of a reference fixture's .bin (float16 widened to float32, as the graph builders read weights). */
export function readBlobArray(bin: Buffer, r: BlobRef): Float32Array | Int32Array {
  const n = r.shape.reduce((a, b) => a * b, 1);
  const bytes = () => bin.buffer.slice(bin.byteOffset + r.offset, bin.byteOffset + r.offset + 4 * n);
  if (r.dtype === 'float32') return new Float32Array(bytes());
  if (r.dtype === 'int32') return new Int32Array(bytes());
  if (r.dtype === 'float16') return Float32Array.from({ length: n }, (_, i) => fromHalf(bin.readUInt16LE(r.offset + 2 * i)));
  throw new Error(`fixture dtype ${r.dtype}: expected float32, int32 or float16 (re-run the reference script that wrote it)`);
}

/** A reference fixture as the scripts under test/fixtures/torch/ write one: <name>.json (its figures, with a
 * BlobRef per array) beside <name>.bin (the arrays). */
export function readBlobFixture<F>(dir: string, name: string): { fx: F; bin: Buffer } {
  return { fx: JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')) as F, bin: readFileSync(path.join(dir, `${name}.bin`)) };
}

/** max |a − b| / max(1, max |b|): an error relative to the reference's scale, never magnified below 1. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'lengths differ');
  let d = 0;
  let m = 1;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

/** A seeded uniform [0, 1) generator, so fixtures and benchmarks are reproducible. */
export { mulberry32 as rng } from '../models/random.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `resona <args>` as a user would (a child process), with extra environment; never throws on a non-zero exit. */
export function runResona(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Lines that come from the audio libraries, recognised independently of the product's own filter
 * (cli/library-noise.ts): what the terminal showed before that filter existed (ALSA, JACK, PortAudio, naudiodon,
 * N-API status reports, alsa-lib's xrun recovery).
 */
export const FOREIGN_LINE =
  /^(ALSA lib|Cannot connect to server|jack server|JackShm|Jack\w*::|PortAudio V|(Input|Output) audio options|(Input|Output) device name is|AudioIO:|Finishing (input|output)|Unexpected N-API|NAPI |(under|over)run occurred$)/;

/** Resona's own lines of stderr: warnings and errors start "resona:" (a native library's prints do not). */
export function resonaLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('resona:'));
}
