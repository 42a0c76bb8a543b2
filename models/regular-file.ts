// Files are what they claim: a model, an index, a voice.json, a preview or an audio file is read only when it
// is a regular file. A FIFO would block the read forever, /dev/zero or /dev/urandom would feed it without
// end, and a socket or a folder would fail with a message about something else.
//
// The check is made on the opened handle (open, then fstat), not on the name before opening, so nothing can
// swap the file in between; O_NONBLOCK keeps the open itself from waiting on a FIFO that has no writer.
// Inside a voice folder, links are refused (`noFollow`): a voice is imported by copying its files, so a link
// has nothing to offer there except reaching outside the folder (a preview.png linked to /etc/passwd would be
// copied into the library and served by the UI). A path the user names on the command line is followed.
import { constants, promises as fs, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { byteSize, type Limit, overLimit } from './archive/limit.js';

/** Why a file was refused, for callers that word some cases their own way (a voice's missing model). */
export type FileProblem = 'missing' | 'link' | 'not-regular' | 'denied' | 'unreadable';

export interface RegularFileOptions {
  /** What the file is meant to be, for messages: "audio file", "voice model". */
  what: string;
  /** Builds the error to throw (each caller has its own UserError subclass). */
  fail: (message: string, problem: FileProblem) => Error;
  /** Refuse a symbolic link instead of following it (files inside a voice folder). */
  noFollow?: boolean;
  /** Largest size accepted; a larger file is a LimitError. */
  limit?: Limit;
}

export interface OpenedFile {
  handle: FileHandle;
  size: number;
}

/** What a non-regular file is, in words. */
export function describeKind(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const NONBLOCK = constants.O_NONBLOCK ?? 0;

/** Opens a regular file for reading; anything else (or a link, with noFollow) is refused with a one-line error. */
export async function openRegularFile(file: string, o: RegularFileOptions): Promise<OpenedFile> {
  const notRegular = (kind: string) => o.fail(`${file}: is ${kind}, not a regular file; give the ${o.what} itself`, 'not-regular');
  const link = () => o.fail(`${file}: is a symbolic link; a voice folder must hold its files themselves, not links to files elsewhere`, 'link');
  if (o.noFollow) {
    // O_NOFOLLOW does the job where it exists; lstat covers the platforms without it.
    const l = await fs.lstat(file).catch(() => null);
    if (l?.isSymbolicLink()) throw link();
  }
  let handle: FileHandle;
  try {
    handle = await fs.open(file, constants.O_RDONLY | NONBLOCK | (o.noFollow ? NOFOLLOW : 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw o.fail(`${file}: no such file`, 'missing');
    if (code === 'ELOOP' && o.noFollow) throw link();
    if (code === 'EISDIR') throw notRegular('a folder');
    if (code === 'ENXIO' || code === 'EOPNOTSUPP') {
      const st = await fs.stat(file).catch(() => null);
      throw notRegular(st ? describeKind(st) : 'not a regular file');
    }
    if (code === 'EACCES' || code === 'EPERM') throw o.fail(`${file}: permission denied; check the file's permissions`, 'denied');
    throw o.fail(`${file}: cannot be opened (${code ?? (e as Error).message})`, 'unreadable');
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw notRegular(describeKind(st));
    if (o.limit && st.size > o.limit.max) throw overLimit(`${file}:`, `${byteSize(st.size)} is`, o.limit, byteSize);
    return { handle, size: st.size };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** Reads bytes [offset, offset + length) of an opened file; a file that shrank meanwhile is an error. */
export async function readRange(f: OpenedFile, offset: number, length: number, file: string, fail: RegularFileOptions['fail']): Promise<Uint8Array> {
  const buf = Buffer.allocUnsafe(length);
  await readRangeInto(f, buf, offset, length, file, fail);
  return buf;
}

/** readRange into the start of a caller-owned buffer, for readers that stream a file through one buffer. */
export async function readRangeInto(f: OpenedFile, buf: Uint8Array, offset: number, length: number, file: string, fail: RegularFileOptions['fail']): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await f.handle.read(buf, done, length - done, offset + done);
    if (bytesRead === 0) throw fail(`${file}: the file got shorter while it was being read; try again`, 'unreadable');
    done += bytesRead;
  }
}

/**
 * The whole of a regular file. Exactly the size fstat gave is read, so a file that keeps growing (a log, a
 * /proc entry) cannot take the read past the budget.
 */
export async function readRegularFile(file: string, o: RegularFileOptions): Promise<Uint8Array> {
  const f = await openRegularFile(file, o);
  try {
    return await readRange(f, 0, f.size, file, o.fail);
  } finally {
    await f.handle.close();
  }
}

/** Checks that a path is a regular file, for readers that open it themselves by name (onnxruntime). */
export async function checkRegularFile(file: string, o: RegularFileOptions): Promise<void> {
  await (await openRegularFile(file, o)).handle.close();
}
