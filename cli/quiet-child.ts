// The commands that open audio devices (devices, live, serve) run in a child process, for two reasons:
// - Native audio libraries (ALSA's and JACK's probing, PortAudio, naudiodon) print straight to file
//   descriptors 1 and 2, which no JavaScript can intercept in-process. The child's 1 and 2 are pipes read
//   here: lines recognised as library noise (cli/library-noise.ts) go to a log file only, anything else is
//   shown as well, and --verbose shows everything. Resona's own output reaches the real terminal directly
//   through descriptors 3 and 4 (cli/own-output.ts), so the status line and progress bar still see a TTY.
// - naudiodon blocks one libuv thread-pool thread per open stream, and the pool (4 threads unless
//   UV_THREADPOOL_SIZE says otherwise) is sized before any of our code runs. Input, output, monitor and two
//   latency probes would take all four and starve everything else, so the child gets a larger pool.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { isLibraryNoise } from './library-noise.js';
import { LibraryLog } from './library-log.js';
import { OWN_OUTPUT_ENV, OWN_STDERR_FD, OWN_STDOUT_FD } from './own-output.js';

export const LIVE_THREADPOOL_SIZE = 16;
const CHILD_ENV = 'RESONA_AUDIO_CHILD';
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Null in the child (run the command here); otherwise runs it in a child and resolves to its exit code. */
export async function runInQuietChild(command: string, argv: string[]): Promise<number | null> {
  if (process.env[CHILD_ENV]) return null;
  if (process.platform === 'win32') return rerunPlain();
  const verbose = argv.includes('--verbose');
  const log = LibraryLog.open(command);
  if (verbose) process.stderr.write(`resona: audio library messages are shown, and kept in ${log.path}\n`);
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    // 0: the terminal (keys for live); 1, 2: filtered here; 3, 4: our own stdout and stderr, shared as they are.
    stdio: ['inherit', 'pipe', 'pipe', 1, 2],
    env: {
      ...process.env,
      [CHILD_ENV]: '1',
      [OWN_OUTPUT_ENV]: `${OWN_STDOUT_FD},${OWN_STDERR_FD}`,
      UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE || String(LIVE_THREADPOOL_SIZE),
      // Without a JACK server, PortAudio's JACK probe would otherwise try to start one on every listing.
      JACK_NO_START_SERVER: '1',
    },
    // Its own session: a terminal's Ctrl-C then reaches the child once, forwarded from here, instead of
    // twice (once from the terminal and once from us); it still reads keys from the inherited terminal.
    detached: true,
  });
  const pipes: Promise<void>[] = [];
  for (const [from, to] of [
    [child.stdout!, process.stdout],
    [child.stderr!, process.stderr],
  ] as const) {
    pipes.push(filterLines(from, (line) => {
      log.line(line);
      if (verbose || !isLibraryNoise(line)) to.write(line + '\n');
      else log.hidden++;
    }));
  }
  const forward = (signal: NodeJS.Signals) => () => {
    child.kill(signal);
  };
  const handlers = FORWARDED_SIGNALS.map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  await Promise.all(pipes);
  for (const [s, h] of handlers) process.off(s, h);
  log.close();
  const status = code ?? 128 + (signal ? constants.signals[signal] : 1);
  // A failed run's library messages may explain it: say where they are (not a "resona:" line, which is the error).
  if (status !== 0 && !verbose && log.hidden > 0) process.stderr.write(`(audio library messages from this run: ${log.path})\n`);
  return status;
}

/** Calls `onLine` for every complete line, and for a last unterminated one when the stream ends. */
function filterLines(stream: Readable, onLine: (line: string) => void): Promise<void> {
  const dec = new StringDecoder('utf8');
  let rest = '';
  stream.on('data', (d: Buffer) => {
    const lines = (rest + dec.write(d)).split('\n');
    rest = lines.pop()!;
    for (const l of lines) onLine(l.replace(/\r$/, ''));
  });
  return new Promise((resolve) =>
    stream.on('close', () => {
      rest += dec.end();
      if (rest) onLine(rest);
      resolve();
    }),
  );
}

/** Windows: no descriptor juggling (the libraries above print little there); only the thread pool. */
async function rerunPlain(): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [CHILD_ENV]: '1', UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE || String(LIVE_THREADPOOL_SIZE) },
  });
  // Ctrl-C reaches the child through the console; the parent only waits for it.
  const ignore = () => {};
  const term = () => child.kill('SIGTERM');
  process.on('SIGINT', ignore);
  process.on('SIGTERM', term);
  return new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', term);
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 1));
    }),
  );
}
