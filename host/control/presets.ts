// Per-voice presets (the settings last used with each voice), kept in one small JSON file beside the voice
// library. Written to a temporary file and renamed, so a crash mid-write never leaves half a file.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DEFAULT_SETTINGS, type EngineSettings, mergeSettings } from '../../protocol/settings.js';

export class PresetStore {
  private presets: Record<string, EngineSettings> = {};
  private writing: Promise<void> = Promise.resolve();

  private constructor(readonly file: string) {}

  static async open(file: string): Promise<PresetStore> {
    const s = new PresetStore(file);
    try {
      const raw = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, Record<string, unknown>>;
      for (const [voice, settings] of Object.entries(raw)) {
        // A preset that no longer passes the checks (ranges changed) is dropped, not fatal.
        try {
          s.presets[voice] = mergeSettings(DEFAULT_SETTINGS, settings);
        } catch {
          /* dropped */
        }
      }
    } catch {
      /* no file yet, or unreadable: start empty */
    }
    return s;
  }

  get(voice: string): EngineSettings | undefined {
    const p = this.presets[voice];
    return p ? { ...p } : undefined;
  }

  set(voice: string, settings: EngineSettings): Promise<void> {
    this.presets[voice] = { ...settings };
    const text = JSON.stringify(this.presets, null, 2);
    // Writes are chained so an older snapshot never lands after a newer one.
    this.writing = this.writing.then(async () => {
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      await fs.writeFile(tmp, text);
      await fs.rename(tmp, this.file);
    });
    return this.writing;
  }
}
