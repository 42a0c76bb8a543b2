// A voice's preview image is named by the voice's manifest, which came with a downloaded voice: it is served
// only when it is a regular file inside that voice's folder. A symlink, a FIFO or a device, or a name that
// leads out of the folder (../, a linked subfolder) is not served, whatever it points to.
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * What a preview may be: still images. Not HTML or SVG, which would run script on the server's own origin
 * when opened directly.
 */
export const PREVIEW_TYPES: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
};

/** Previews are small images; anything larger is not one. */
export const MAX_PREVIEW_BYTES = 8 * 1024 * 1024;

/** The preview's bytes and type, or null when `file` is not an image that is a regular file inside `voiceDir`. */
export async function readPreview(voiceDir: string, file: string): Promise<{ body: Buffer; type: string } | null> {
  const type = PREVIEW_TYPES[path.extname(file).toLowerCase()];
  if (!type) return null;
  try {
    const dir = await fs.realpath(voiceDir);
    const parent = await fs.realpath(path.dirname(path.resolve(voiceDir, file)));
    if (parent !== dir && !parent.startsWith(dir + path.sep)) return null;
    const real = path.join(parent, path.basename(file));
    const st = await fs.lstat(real);
    if (!st.isFile() || st.size > MAX_PREVIEW_BYTES) return null;
    // O_NOFOLLOW and O_NONBLOCK: if the file is swapped for a link or a FIFO after the lstat, the open fails
    // (or does not hang) instead of serving it; fstat then confirms it is the file that was checked.
    const fh = await fs.open(real, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
    try {
      const opened = await fh.stat();
      if (!opened.isFile() || opened.ino !== st.ino || opened.dev !== st.dev || opened.size > MAX_PREVIEW_BYTES) return null;
      return { body: await fh.readFile(), type };
    } finally {
      await fh.close();
    }
  } catch {
    return null;
  }
}
