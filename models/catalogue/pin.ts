// Pinning a file whose SHA-256 nobody publishes: when the user accepts such a download, Resona records the hash
// of what arrived (with its size and mtime) beside it. That cannot prove the file is the intended one, but it
// shows the user what to compare against another source, and it makes a later change to the file visible.
import { readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';

export const PIN_SUFFIX = '.sha256-pin';

interface Pin {
  sha256: string;
  size: number;
  mtimeMs: number;
}

export async function writePin(file: string, sha256: string): Promise<void> {
  const st = statSync(file);
  const p: Pin = { sha256, size: st.size, mtimeMs: st.mtimeMs };
  await writeFile(file + PIN_SUFFIX, JSON.stringify(p) + '\n');
}

/** The pinned hash, and whether the file is still the one that was hashed; null without a readable pin. */
export function readPin(file: string): { sha256: string; unchanged: boolean } | null {
  try {
    const p = JSON.parse(readFileSync(file + PIN_SUFFIX, 'utf8')) as Partial<Pin>;
    if (typeof p.sha256 !== 'string') return null;
    const st = statSync(file);
    return { sha256: p.sha256, unchanged: p.size === st.size && p.mtimeMs === st.mtimeMs };
  } catch {
    return null;
  }
}
