// A small JSON file the host keeps beside the voice library (favourites, named presets): read once, written
// whole to a temporary file and renamed, so a crash mid-write never leaves half a file, and writes chained so
// an older snapshot never lands after a newer one.
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** The file's parsed content, or undefined when it is missing or unreadable (the caller starts empty). */
export async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export class JsonWriter {
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    /** What the file holds, for the message when it cannot be written. */
    private readonly what: string,
  ) {}

  /** Writes `value` (serialised now, so later changes do not leak in); resolves when the file holds it. */
  write(value: unknown): Promise<void> {
    const text = JSON.stringify(value, null, 2);
    this.writing = this.writing.then(async () => {
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      await fs.writeFile(tmp, text);
      await fs.rename(tmp, this.file);
    }).catch((e: unknown) => {
      // The change stays in effect for this run; only its memory across restarts is lost, so say so.
      console.error(`resona: could not save ${this.what} to ${this.file} (${(e as Error).message}); the change applies but will not be remembered`);
    });
    return this.writing;
  }

  flush(): Promise<void> {
    return this.writing;
  }
}

/** An own-property map safe for ids from clients: "__proto__" stays a key, never a prototype. */
export function putOwn<T>(o: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}
