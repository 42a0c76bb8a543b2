// The README's first section, run as a new user runs it: the commands are read from README.md itself (so the
// README cannot drift from what works), the live command runs exactly as written in a terminal (a pseudo-terminal
// from util-linux's `script`, so its keys work), and a separate recorder reading "Resona Virtual Microphone" must
// hear the converted voice: speech, shifted down as `deeper` promises, with no dry voice in it. Then `b` must
// bring the dry voice (which proves the leak measure can see it), and `q` must quit with the summary line.
// Only `<your headphones>` is substituted (a null sink of the test chain); the default microphone is a null
// sink's monitor playing real speech. CI has just run the set-up command, so it is checked, not rerun (no apt).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import FFT from 'fft.js';
import { yinTrack } from '../../engine/f0/yin.js';
import { FOREIGN_LINE, ROOT, runResona, tempDir, to16k } from '../helpers.js';
import { alignedCents, envelopeLag, speech } from './live-analysis.js';
import { ALT_SINK, MIC_SINK, PulseEnv, RATE } from './pulse-env.js';

/** `deeper`'s preset pitch (engine/voices/builtin.ts): the promise the README's command makes by naming it. */
const DEEPER_CENTS = -500;
const HEADPHONES = ALT_SINK;

let env: PulseEnv;
let home = '';
let cleanup = () => {};

/** The first section's commands: the first sh block under "## Set up in two commands", one command a line. */
export function firstSectionCommands(readme: string): string[] {
  const start = readme.indexOf('\n## Set up in two commands');
  assert.ok(start >= 0, 'README.md has no "## Set up in two commands" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'the first section has no ```sh block');
  return block[1]!.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
}

/** What a command does, without its trailing comment (only for comparing; the command runs with it). */
const bare = (line: string) => line.replace(/\s+#.*$/, '').trim();

interface Terminal {
  proc: ChildProcess;
  /** Everything the terminal showed so far, with the status line's redraws. */
  transcript: () => string;
  type: (keys: string) => void;
  exited: Promise<number | null>;
}

/** Runs a command line in a pseudo-terminal, as typed at a shell prompt in the repository. */
function inTerminal(line: string): Terminal {
  // -e: script exits with the command's status; -f: the transcript is flushed as it is written; /dev/null: no file.
  const proc = spawn('script', ['-qfec', line, '/dev/null'], {
    cwd: ROOT,
    env: { ...process.env, SHELL: '/bin/bash', RESONA_HOME: home, UV_THREADPOOL_SIZE: '16' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  process.once('exit', () => proc.kill('SIGKILL'));
  const exited = new Promise<number | null>((r) => proc.on('close', (code) => r(code)));
  return { proc, transcript: () => out, type: (k) => proc.stdin!.write(k), exited };
}

/**
 * The lines a person sees on the terminal: each line replayed as a terminal draws it (carriage return and
 * "cursor to column 1" go back to the start, "erase line" clears from the cursor on), other escapes dropped.
 */
export function screenLines(transcript: string): string[] {
  const shown: string[] = [];
  for (const raw of transcript.split('\n')) {
    let cells: string[] = [];
    let at = 0;
    for (const tok of raw.match(/\x1b\[[0-9;?]*[A-Za-z]|\r|[^\x1b\r]/gu) ?? []) {
      if (tok === '\r' || tok === '\x1b[1G') at = 0;
      else if (tok === '\x1b[K' || tok === '\x1b[0K') cells = cells.slice(0, at);
      else if (!tok.startsWith('\x1b')) cells[at++] = tok;
    }
    const line = cells.join('').trimEnd();
    if (line) shown.push(line);
  }
  return shown;
}

async function until(what: string, ok: () => boolean, ms: number, show: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms / 1000} s; the terminal showed:\n${show()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The PulseAudio source a person would pick by the name shown in Discord or OBS. */
async function sourceNamed(description: string): Promise<string> {
  const list = await env.pactl('list', 'sources');
  for (const block of list.split(/\n(?=Source #)/)) {
    const name = /^\s*Name: (\S+)/m.exec(block)?.[1];
    if (name && new RegExp(`^\\s*Description: ${description}$`, 'm').test(block)) return name;
  }
  throw new Error(`no source described as "${description}" in:\n${list}`);
}

/**
 * The largest normalised cross-correlation of y with x over lags 0..maxLagSec (at 16 kHz, through one FFT): the
 * input's own waveform in the output (a dry leak) gives a sharp peak; a pitch-shifted voice has no fixed lag at
 * which its waveform matches the input's.
 */
async function waveformMatch(x: Float32Array, y: Float32Array, maxLagSec: number, minLagSec = 0): Promise<{ r: number; lagMs: number }> {
  const a = await to16k(x, RATE);
  const b = await to16k(y, RATE);
  let n = 1;
  while (n < a.length + b.length) n <<= 1;
  const f = new FFT(n);
  const spectrum = (s: Float32Array) => {
    const padded = new Array<number>(n).fill(0);
    for (let i = 0; i < s.length; i++) padded[i] = s[i]!;
    const out = f.createComplexArray() as number[];
    f.realTransform(out, padded);
    f.completeSpectrum(out);
    return out;
  };
  const A = spectrum(a);
  const B = spectrum(b);
  const prod = f.createComplexArray() as number[];
  for (let k = 0; k < n; k++) {
    const [ar, ai, br, bi] = [A[2 * k]!, A[2 * k + 1]!, B[2 * k]!, B[2 * k + 1]!];
    // conj(A)·B: its inverse is Σ a[t]·b[t + lag].
    prod[2 * k] = ar * br + ai * bi;
    prod[2 * k + 1] = ar * bi - ai * br;
  }
  const corr = f.createComplexArray() as number[];
  f.inverseTransform(corr, prod);
  const energy = (s: Float32Array) => s.reduce((acc, v) => acc + v * v, 0);
  const norm = Math.sqrt(energy(a) * energy(b));
  let best = { r: 0, lagMs: 0 };
  for (let lag = Math.round(minLagSec * 16000); lag <= maxLagSec * 16000; lag++) {
    // A negative lag (y ahead of x) wraps around to the end of the circular correlation.
    const r = Math.abs(corr[2 * ((lag + n) % n)]!) / norm;
    if (r > best.r) best = { r, lagMs: lag / 16 };
  }
  return best;
}

/** Share of the frames voiced in both (after alignment) whose pitch is within a semitone of the input's. */
function unshiftedShare(x: Float32Array, y: Float32Array): number {
  const lag = envelopeLag(x, y, RATE, 1);
  const fx = yinTrack(x, RATE);
  const fy = yinTrack(y, RATE).subarray(lag);
  let both = 0;
  let same = 0;
  for (let i = 0; i < Math.min(fx.length, fy.length); i++) {
    if (fx[i]! > 0 && fy[i]! > 0) {
      both++;
      if (Math.abs(1200 * Math.log2(fy[i]! / fx[i]!)) < 100) same++;
    }
  }
  return both ? same / both : NaN;
}

/** Median f0 (Hz) over a recording's voiced frames. */
function medianF0(x: Float32Array): number {
  const v = Array.from(yinTrack(x, RATE)).filter((f) => f > 0).sort((p, q) => p - q);
  return v.length ? v[v.length >> 1]! : NaN;
}

const rmsDb = (x: Float32Array) => 10 * Math.log10(x.reduce((s, v) => s + v * v, 0) / Math.max(1, x.length) + 1e-12);

before(async () => {
  env = await PulseEnv.start();
  ({ dir: home, cleanup } = tempDir());
  // The new user's microphone is the system default: here, the test microphone's monitor.
  await env.pactl('set-default-source', `${MIC_SINK}.monitor`);
});
after(async () => {
  await env?.stop();
  cleanup();
});

test('the README starts with two commands: the set-up script, then live mode into the virtual microphone', () => {
  const cmds = firstSectionCommands(readFileSync(path.join(ROOT, 'README.md'), 'utf8'));
  assert.equal(cmds.length, 2, cmds.join('\n'));
  assert.equal(bare(cmds[0]!), 'bash scripts/setup.sh');
  assert.match(bare(cmds[1]!), /^npx resona live .*--virtual-mic/);
  assert.ok(cmds[1]!.includes('<your headphones>'), 'the live command names the headphones as a placeholder');
});

test('what the set-up script promises is there: the build, and the resona command through npx', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(path.join(ROOT, 'scripts', 'setup.sh')));
  // npm ci runs the build (package.json's prepare): the CLI, executable, and the app's page.
  const cli = path.join(ROOT, 'dist', 'cli', 'resona.js');
  accessSync(cli, constants.X_OK);
  assert.ok(existsSync(path.join(ROOT, 'dist', 'renderer', 'index.html')), 'the UI is built (dist/renderer/index.html)');
  // System tools it installs that live mode and this chain use.
  for (const tool of ['pactl', 'pacat', 'parec', 'sox']) {
    const r = await new Promise<number | null>((res) => spawn('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).on('close', res));
    assert.equal(r, 0, `${tool} is not installed: scripts/setup.sh installs it`);
  }
  const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;
  const npx = await new Promise<{ code: number | null; out: string }>((res) => {
    // --no-install: a resona that npx cannot find here must fail, not be fetched from the registry.
    const p = spawn('npx', ['--no-install', 'resona', '--version'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('close', (code) => (clearTimeout(t), res({ code, out })));
  });
  assert.equal(npx.code, 0, npx.out);
  assert.equal(npx.out.trim(), version);
  // The names the README tells a user to pass come from `resona devices`.
  const devices = await runResona(['devices'], { RESONA_HOME: home }, 60_000);
  assert.equal(devices.code, 0, devices.stderr);
  assert.match(devices.stdout, new RegExp(`pulse:${HEADPHONES}\\s`));
});

test('the live command as written: the virtual microphone carries the deeper voice, b gives the dry voice, q quits with a summary', { timeout: 240_000 }, async (t) => {
  const line = firstSectionCommands(readFileSync(path.join(ROOT, 'README.md'), 'utf8'))[1]!.replace('<your headphones>', HEADPHONES);
  const term = inTerminal(line);
  try {
    await until('the "live:" line', () => /live: .*→ Resona Virtual Microphone/.test(term.transcript()), 90_000, term.transcript);
    assert.match(term.transcript(), new RegExp(`voice deeper → Resona Virtual Microphone .*\\(monitor .*\\(pulse:${HEADPHONES}\\)\\)`));
    // The default microphone is named as a person knows it, not by ALSA's plugin name.
    assert.doesNotMatch(term.transcript(), /^live: (default|pulse|sysdefault) →/m);
    const vmic = await sourceNamed('Resona Virtual Microphone');

    const take = async (seconds: number) => {
      const x = await speech(seconds, RATE);
      const mic = env.record(vmic);
      const phones = env.record(`${HEADPHONES}.monitor`);
      await Promise.all([mic.ready, phones.ready]);
      await new Promise((r) => setTimeout(r, 300));
      await env.play(x).done;
      await new Promise((r) => setTimeout(r, 1000)); // the tail: latency plus device buffers
      return { x, y: await mic.stop(), monitor: await phones.stop() };
    };

    // A new user speaks a moment after the start, not in its first block.
    await new Promise((r) => setTimeout(r, 2000));
    const statusNow = () => term.transcript().split('\r').filter((l) => /underruns +\d+/.test(l)).at(-1)?.replace(/\x1b\[K/g, '').trim() ?? '';
    // A take is judged only when it was aligned: a lag at the edge of the 1 s search, or few voiced frames paired,
    // means the output stalled or the recorder missed its start (seen on a 2-core machine at load 10), so the take
    // is measured again, at most twice, as live-voice does. Each retake is printed with the status line.
    const judged = async (seconds: number, usable: (x: Float32Array, y: Float32Array) => boolean) => {
      let r = await take(seconds);
      for (let retake = 1; retake <= 2 && !usable(r.x, r.y); retake++) {
        console.log(`readme-first-section: take not aligned (${statusNow()}); measuring again`);
        r = await take(seconds);
      }
      return r;
    };
    const aligned = (min: number) => (x: Float32Array, y: Float32Array) => {
      const a = alignedCents(x, y, RATE, 1);
      return a.lagMs < 990 && a.paired >= min;
    };
    const voice = await judged(12, aligned(300));
    const f0 = alignedCents(voice.x, voice.y, RATE, 1);
    // The headphones (the monitor, on its own device clock and queue, so not sample-aligned with the virtual
    // microphone) are judged by their median pitch against the input's, which needs no alignment.
    const heardCents = 1200 * Math.log2(medianF0(voice.monitor) / medianF0(voice.x));
    const leak = (await waveformMatch(voice.x, voice.y, 1)).r;
    const same = unshiftedShare(voice.x, voice.y);
    const statusConverted = statusNow();

    term.type('b');
    await until('BYPASS on the status line', () => term.transcript().includes('BYPASS'), 5_000, term.transcript);
    const dry = await judged(6, aligned(150));
    const dryF0 = alignedCents(dry.x, dry.y, RATE, 1);
    const dryLeak = (await waveformMatch(dry.x, dry.y, 1)).r;

    const msg =
      `converted: ${rmsDb(voice.y).toFixed(1)} dB rms (input ${rmsDb(voice.x).toFixed(1)} dB), f0 ${f0.cents.toFixed(1)} cents over ${f0.paired} frames (lag ${f0.lagMs} ms), ` +
      `headphones median f0 ${heardCents.toFixed(1)} cents; waveform match ${leak.toFixed(3)}, unshifted frames ${(100 * same).toFixed(1)} %; ` +
      `bypass: f0 ${dryF0.cents.toFixed(1)} cents over ${dryF0.paired}, waveform match ${dryLeak.toFixed(3)}; status "${statusConverted}"`;
    t.diagnostic(msg);
    console.log(`readme-first-section: ${msg}`);

    assert.ok(voice.y.length > 12 * RATE, `recorded only ${(voice.y.length / RATE).toFixed(1)} s`);
    // Speech energy: the voice comes out about as loud as it went in, not a trickle.
    assert.ok(rmsDb(voice.y) > rmsDb(voice.x) - 12, msg);
    assert.ok(f0.paired >= 300, `too few voiced frames to judge: ${msg}`);
    assert.ok(Math.abs(f0.cents - DEEPER_CENTS) <= 30, msg);
    // Medians of two unaligned tracks, and the monitor stalls and is reopened on a loaded machine (-379 cents seen
    // at load 12): the check is that the headphones hear the converted voice, nearer -500 cents than the dry 0.
    assert.ok(heardCents < DEEPER_CENTS / 2 && heardCents > DEEPER_CENTS * 1.5, `the headphones: ${msg}`);
    // No dry voice: the bypassed take shows what a leak looks like in both measures.
    assert.ok(dryF0.paired >= 150 && Math.abs(dryF0.cents) <= 30, `bypass is the dry voice: ${msg}`);
    // The dry take matched 0.25-0.99 (lower when the output glitched under load), converted takes 0.02-0.08.
    assert.ok(dryLeak > 0.15, `the dry voice matches the input's waveform: ${msg}`);
    assert.ok(leak < dryLeak / 3, msg);
    assert.ok(same < 0.1, msg);

    term.type('q');
    const code = await Promise.race([term.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))]);
    assert.notEqual(code, 'hung', `q did not end it within 30 s:\n${term.transcript()}`);
    assert.equal(code, 0, term.transcript());
    // The last thing on the terminal is the summary line, on a line of its own (the status line cleared), and
    // nothing on it came from the audio libraries.
    const screen = screenLines(term.transcript());
    assert.match(screen.at(-1)!, /^stopped after \d+\.\d s: latency \d+ ms, \d+ blocks, \d+ underruns .*, 0 input frames dropped, 0 inference restarts$/, screen.slice(-5).join('\n'));
    // A library's line lands after the status line (which has no newline), so pieces between redraws are checked.
    const pieces = term.transcript().split(/\r|\n|\x1b\[0?K/).map((p) => p.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').trim());
    const foreign = pieces.filter((l) => FOREIGN_LINE.test(l));
    assert.deepEqual(foreign, [], 'library lines on the terminal');
    const modules = await env.pactl('list', 'short', 'modules');
    assert.doesNotMatch(modules, /resona_vmic/, 'the virtual microphone was left behind');
  } finally {
    if (term.proc.exitCode === null) term.proc.kill('SIGKILL');
  }
});
