// Child side of cli/quiet-child.ts. In the child, file descriptors 1 and 2 are pipes the parent reads, because
// native audio libraries print to them directly; Resona's own output must bypass that filter. The parent hands
// the real stdout and stderr over as descriptors 3 and 4, and this module (imported before anything prints)
// points process.stdout, process.stderr and the console at them. A terminal stays a terminal (tty.WriteStream:
// isTTY, columns, cursor moves for the progress bar and the status line), so nothing else needs to know.
import { fstatSync, writeSync } from 'node:fs';
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import tty from 'node:tty';

export const OWN_OUTPUT_ENV = 'RESONA_OWN_OUTPUT_FDS';
export const OWN_STDOUT_FD = 3;
export const OWN_STDERR_FD = 4;

/** Synchronous writes, so nothing is lost when the process exits right after writing (as stdout does). */
function fdStream(fd: number): NodeJS.WriteStream {
  if (tty.isatty(fd)) return new tty.WriteStream(fd);
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      let off = 0;
      while (off < chunk.length) {
        try {
          off += writeSync(fd, chunk, off);
        } catch (e) {
          // A pipe shared with a Node parent is non-blocking: wait a moment for the reader instead of losing output.
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') return cb(e as Error);
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
        }
      }
      cb();
    },
  });
  return Object.assign(w, { fd, isTTY: false }) as unknown as NodeJS.WriteStream;
}

function usable(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

function bindOwnOutput(): void {
  if (process.env[OWN_OUTPUT_ENV] !== `${OWN_STDOUT_FD},${OWN_STDERR_FD}` || !usable(OWN_STDOUT_FD) || !usable(OWN_STDERR_FD)) return;
  // Only this process: children it starts (pactl, workers' own spawns) get ordinary stdio again.
  delete process.env[OWN_OUTPUT_ENV];
  const stdout = fdStream(OWN_STDOUT_FD);
  const stderr = fdStream(OWN_STDERR_FD);
  Object.defineProperty(process, 'stdout', { configurable: true, enumerable: true, get: () => stdout });
  Object.defineProperty(process, 'stderr', { configurable: true, enumerable: true, get: () => stderr });
  globalThis.console = new Console({ stdout, stderr });
  // The child runs in its own session (so a terminal's Ctrl-C reaches it once, through the parent): if the
  // parent is killed outright, stop as on SIGTERM rather than run on unseen.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
  }, 1000).unref();
}

bindOwnOutput();
