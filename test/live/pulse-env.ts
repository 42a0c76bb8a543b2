// A private PulseAudio server for the live tests and benchmarks: null sinks are real devices that
// PortAudio reaches through ALSA's pulse plugin, on a machine with no sound card. Each test process starts
// its own (own runtime folder and socket) and stops it at the end; nothing is left running from set-up.
import { spawn, type ChildProcess, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const MIC_SINK = 'resona_test_mic';
export const ALT_SINK = 'resona_test_alt';
export const FALLBACK_SINK = 'resona_test_fallback';
export const RATE = 48000;

export class PulseEnv {
  private readonly kids = new Set<ChildProcess>();
  private constructor(
    readonly dir: string,
    private readonly daemon: ChildProcess,
    readonly server: string,
  ) {}

  static async start(): Promise<PulseEnv> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'resona-pulse-'));
    const socket = path.join(dir, 'native');
    const sink = (name: string, desc: string) =>
      `load-module module-null-sink sink_name=${name} rate=${RATE} channels=1 sink_properties='device.description="${desc}"'`;
    writeFileSync(
      path.join(dir, 'default.pa'),
      [
        `load-module module-native-protocol-unix auth-anonymous=1 socket=${socket}`,
        sink(MIC_SINK, 'Test microphone'),
        sink(FALLBACK_SINK, 'Fallback'),
        sink(ALT_SINK, 'Alternative output'),
        // Streams whose sink vanishes are moved to the default: make that a harmless one.
        `set-default-sink ${FALLBACK_SINK}`,
        `set-default-source ${FALLBACK_SINK}.monitor`,
        '',
      ].join('\n'),
    );
    const env: NodeJS.ProcessEnv = { ...process.env, XDG_RUNTIME_DIR: dir, HOME: dir, PULSE_RUNTIME_PATH: path.join(dir, 'pulse') };
    delete env.PULSE_SERVER;
    // -n: no system default.pa; runs as root without --system (allowed, with a warning), never idles out.
    const daemon = spawn(
      'pulseaudio',
      ['-n', '-F', path.join(dir, 'default.pa'), '--exit-idle-time=-1', '--disallow-exit', '--daemonize=no', '--use-pid-file=no', '--log-target=stderr', '--log-level=error'],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    // A test process that dies early must not leave its server behind.
    process.once('exit', () => daemon.kill('SIGKILL'));
    let log = '';
    daemon.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const server = `unix:${socket}`;
    // Everything in this process (workers, pactl, PortAudio's pulse plugin) talks to this server.
    process.env.PULSE_SERVER = server;
    const deadline = Date.now() + 15000;
    for (;;) {
      try {
        await run('pactl', ['info'], { timeout: 2000 });
        break;
      } catch {
        if (daemon.exitCode !== null || Date.now() > deadline) {
          rmSync(dir, { recursive: true, force: true });
          throw new Error(`PulseAudio did not start: ${log.trim() || `exit ${daemon.exitCode}`}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return new PulseEnv(dir, daemon, server);
  }

  async pactl(...args: string[]): Promise<string> {
    return (await run('pactl', args, { timeout: 5000 })).stdout;
  }

  /** Plays mono float samples into a sink (the test "microphone" by default); resolves when done. */
  play(x: Float32Array, sink = MIC_SINK, rate = RATE): { done: Promise<void>; stop: () => void } {
    const p = spawn('pacat', ['--playback', `--device=${sink}`, '--format=float32le', `--rate=${rate}`, '--channels=1', '--raw', '--latency-msec=50'], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    this.kids.add(p);
    const done = new Promise<void>((resolve) => p.on('exit', () => resolve()));
    p.stdin!.on('error', () => undefined);
    p.stdin!.end(Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    return { done, stop: () => p.kill() };
  }

  /**
   * Records a source (mono float) until stop() is called. `ready` resolves when the first samples arrive: parec can
   * take longer to connect than a short pre-roll on a loaded machine, and a recording that starts late has lost
   * the start of what it should hear.
   */
  record(source: string, rate = RATE): { ready: Promise<void>; arrivals: { frames: number; atMs: number }[]; stop: () => Promise<Float32Array> } {
    const p = spawn('parec', [`--device=${source}`, '--format=float32le', `--rate=${rate}`, '--channels=1', '--raw', '--latency-msec=20'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    this.kids.add(p);
    const chunks: Buffer[] = [];
    // When each chunk arrived (performance.now()) and how many frames had arrived by then: the recording's clock
    // in the test's, for timing an action (a key-up) against what the recording heard.
    const arrivals: { frames: number; atMs: number }[] = [];
    let bytes = 0;
    p.stdout!.on('data', (d: Buffer) => {
      chunks.push(d);
      bytes += d.length;
      arrivals.push({ frames: bytes >> 2, atMs: performance.now() });
    });
    // parec takes from a few ms to 1–2 s (a suspended source resuming, a loaded machine) to deliver its first
    // bytes; a take that starts playing before then loses its head and aligns at the wrong lag. Bounded so a
    // recorder that never delivers fails the take's own checks instead of hanging it.
    const ready = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5000);
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      p.stdout!.once('data', done);
      p.once('exit', done);
    });
    return {
      ready,
      arrivals,
      stop: async () => {
        const exited = new Promise((r) => p.on('exit', r));
        p.kill('SIGINT');
        await exited;
        this.kids.delete(p);
        const b = Buffer.concat(chunks);
        const n = b.length >> 2;
        const out = new Float32Array(n);
        for (let i = 0; i < n; i++) out[i] = b.readFloatLE(i * 4);
        return out;
      },
    };
  }

  /**
   * One take: records `source` from the moment it delivers, plays `x` into the test microphone after 300 ms of
   * pre-roll, waits `tailMs` (latency plus device buffers) and returns the recording.
   */
  async playAndRecord(source: string, x: Float32Array, tailMs: number): Promise<Float32Array> {
    const rec = this.record(source);
    await rec.ready;
    await new Promise((r) => setTimeout(r, 300));
    await this.play(x).done;
    await new Promise((r) => setTimeout(r, tailMs));
    return rec.stop();
  }

  async stop(): Promise<void> {
    for (const k of this.kids) k.kill();
    const exited = new Promise((r) => (this.daemon.exitCode !== null ? r(null) : this.daemon.on('exit', r)));
    this.daemon.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (this.daemon.exitCode === null) this.daemon.kill('SIGKILL');
    delete process.env.PULSE_SERVER;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
