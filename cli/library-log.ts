// The file that keeps what the audio libraries printed during the last run of a command, so the terminal
// stays readable and the messages are still there when something goes wrong. One file per command, rewritten
// on each run and capped, so a server left running for days cannot fill the disk.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MAX_BYTES = 8 << 20;

/**
 * Where logs live: $RESONA_HOME/logs, else the platform's per-user state/log folder. Parameters exist so tests
 * can ask about other platforms.
 */
export function logsDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = os.homedir()): string {
  const p = platform === 'win32' ? path.win32 : path.posix;
  if (env.RESONA_HOME) return p.join(p.resolve(env.RESONA_HOME), 'logs');
  if (platform === 'win32') return p.join(env.LOCALAPPDATA || p.join(home, 'AppData', 'Local'), 'Resona', 'logs');
  if (platform === 'darwin') return p.join(home, 'Library', 'Logs', 'Resona');
  // XDG: logs are state ("actions history, logs"); a relative XDG_STATE_HOME is invalid and ignored.
  const xdg = env.XDG_STATE_HOME && p.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : p.join(home, '.local', 'state');
  return p.join(xdg, 'resona', 'logs');
}

export class LibraryLog {
  private fd: number | null;
  private written = 0;
  /** Lines that went only to the log (not shown). */
  hidden = 0;

  private constructor(
    readonly path: string,
    fd: number | null,
  ) {
    this.fd = fd;
  }

  /** Opens `<logs>/<command>.log`; when that folder cannot be written, the system's temporary folder. */
  static open(command: string, env: NodeJS.ProcessEnv = process.env): LibraryLog {
    for (const dir of [logsDir(env), os.tmpdir()]) {
      const file = path.join(dir, `${command}.log`);
      try {
        mkdirSync(dir, { recursive: true });
        const log = new LibraryLog(file, openSync(file, 'w'));
        log.line(`# resona ${command}, ${new Date().toISOString()}: messages the audio libraries printed`);
        return log;
      } catch {
        // try the next folder
      }
    }
    return new LibraryLog('(no log: neither the logs folder nor the temporary folder can be written)', null);
  }

  line(text: string): void {
    if (this.fd === null) return;
    const b = Buffer.from(text + '\n');
    if (this.written + b.length > MAX_BYTES) {
      writeSync(this.fd, `# log full at ${MAX_BYTES >> 20} MB; later messages were dropped\n`);
      this.close();
      return;
    }
    this.written += b.length;
    writeSync(this.fd, b);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
