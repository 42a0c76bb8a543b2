// `resona convert` as a user runs it, timed from outside: is the whole process as fast as the engine inside
// it, and does a long file stay within bounded memory? Each case runs `node dist/cli/resona.js convert` as a
// child process and reports
//   - whole-process time: spawn to exit, as the user waits for it;
//   - engine time: the engine's block calls, as convert prints it;
//   - their ratio, and the rest (start-up, file I/O, voice and engine set-up);
//   - start-up: the whole-process time of a 1 s file less its engine time, i.e. what every run pays once;
//   - peak RSS: the child's ru_maxrss at exit (bench/rss-probe.ts, loaded with --import).
// Inputs are made with sox from the shared LibriSpeech clips: 30 s of 44.1 kHz 24-bit speech, the same
// repeated to one hour, and its first second. They live in a temporary folder removed at the end.
//
//   npm run bench:convert [-- --voice higher --runs 5 --no-hour]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'resona.js');
const PROBE = path.join(ROOT, 'dist', 'bench', 'rss-probe.js');
const SPEECH = path.resolve(ROOT, '..', 'shared', 'audio', 'librispeech');

/** The target for the 30 s file: whole-process time ≤ 1.3 × engine time + 0.3 s. */
const TARGET = { ratio: 1.3, plusSec: 0.3 };
/** A whole 1-hour 44.1 kHz file as float32 (635 MB), the least a whole-file conversion would hold. */
const WHOLE_HOUR_MIB = (3600 * 44100 * 4) / 2 ** 20;

const { values: args } = parseArgs({
  options: {
    voice: { type: 'string', default: 'deeper' },
    runs: { type: 'string', default: '3' },
    'no-hour': { type: 'boolean', default: false },
  },
});

interface Run {
  wallSec: number;
  engineSec: number;
  peakRssMib: number;
}

function sox(...a: string[]): void {
  const r = spawnSync('sox', a, { encoding: 'utf8' });
  if (r.error) throw new Error('sox is needed to make the inputs: install it (Debian: apt-get install sox libsox-fmt-all)');
  if (r.status !== 0) throw new Error(`sox ${a.join(' ')}: ${r.stderr}`);
}

/** One `resona convert` in a child process, timed from spawn to exit. */
function convert(input: string, output: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', PROBE, CLI, 'convert', input, output, '--voice', args.voice!], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallSec = (performance.now() - t0) / 1000;
      const engine = /([\d.]+) s of it in the engine/.exec(stdout);
      const rss = /resona-bench peak-rss-kb (\d+)/.exec(stderr);
      if (code !== 0 || !engine || !rss) return reject(new Error(`convert ${input} failed (exit ${code}):\n${stdout}${stderr}`));
      resolve({ wallSec, engineSec: Number(engine[1]), peakRssMib: Number(rss[1]) / 1024 });
    });
  });
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
const fmt = (r: Run) =>
  `whole ${r.wallSec.toFixed(2)} s, engine ${r.engineSec.toFixed(2)} s, ratio ${(r.wallSec / r.engineSec).toFixed(2)}, ` +
  `rest ${(r.wallSec - r.engineSec).toFixed(2)} s, peak RSS ${r.peakRssMib.toFixed(0)} MiB`;

async function main(): Promise<void> {
  if (!existsSync(CLI) || !existsSync(PROBE)) throw new Error('build first: npm run build');
  if (!existsSync(SPEECH)) throw new Error(`${SPEECH} is missing: the benchmark reads real speech from ../shared beside the repository`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resona-bench-'));
  // Ctrl+C must not leave an hour of audio (about 1 GB in and out) in the temporary folder.
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    const clips = readdirSync(SPEECH).filter((f) => f.endsWith('.wav')).sort().map((f) => path.join(SPEECH, f));
    const in30 = path.join(dir, 'speech-30s.wav');
    sox(...clips, '-r', '44100', '-b', '24', in30, 'trim', '0', '30');
    const in1 = path.join(dir, 'speech-1s.wav');
    sox(in30, in1, 'trim', '0', '1');
    const out = path.join(dir, 'out.wav');
    console.log(`resona convert --voice ${args.voice}, 44.1 kHz 24-bit mono speech, ${os.cpus().length} CPUs, Node ${process.version}`);

    const startups: number[] = [];
    const runs: Run[] = [];
    const n = Math.max(1, Number(args.runs));
    for (let i = 0; i < n; i++) {
      const s = await convert(in1, out);
      startups.push(s.wallSec - s.engineSec);
      const r = await convert(in30, out);
      runs.push(r);
      console.log(`30 s file, run ${i + 1}: ${fmt(r)}`);
    }
    const m: Run = { wallSec: median(runs.map((r) => r.wallSec)), engineSec: median(runs.map((r) => r.engineSec)), peakRssMib: median(runs.map((r) => r.peakRssMib)) };
    const limit = TARGET.ratio * m.engineSec + TARGET.plusSec;
    console.log(`30 s file, median of ${n}: ${fmt(m)}`);
    console.log(`start-up (1 s file, whole less engine), median of ${n}: ${median(startups).toFixed(2)} s`);
    console.log(`target whole ≤ ${TARGET.ratio} × engine + ${TARGET.plusSec} s = ${limit.toFixed(2)} s: ${m.wallSec <= limit ? 'met' : 'MISSED'} (${m.wallSec.toFixed(2)} s)`);

    if (!args['no-hour']) {
      const in60 = path.join(dir, 'speech-1h.wav');
      sox(in30, in60, 'repeat', '119');
      rmSync(out, { force: true });
      const h = await convert(in60, out);
      console.log(`1-hour file: ${fmt(h)}; RTF whole ${(h.wallSec / 3600).toFixed(4)}, engine ${(h.engineSec / 3600).toFixed(4)}`);
      console.log(`1-hour file peak RSS ${h.peakRssMib.toFixed(0)} MiB (a whole 1-hour float32 file alone is ${WHOLE_HOUR_MIB.toFixed(0)} MiB)`);
    }
  } finally {
    cleanup();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
