// Per-voice presets (the settings last used with each voice), kept in one small JSON file beside the voice
// library. Written to a temporary file and renamed, so a crash mid-write never leaves half a file.
import { JsonWriter, readJson } from './json-file.js';
import { DEFAULT_SETTINGS, type EngineSettings, mergeSettings } from '../../protocol/settings.js';

/** How long a change waits for the next before the file is written: a slider drag is one write, not hundreds. */
export const PRESET_WRITE_DELAY_MS = 500;

export class PresetStore {
  private presets: Record<string, EngineSettings> = {};
  private readonly writer: JsonWriter;
  private timer: NodeJS.Timeout | null = null;
  private dirty = false;

  private constructor(
    readonly file: string,
    private readonly delayMs: number,
  ) {
    this.writer = new JsonWriter(file, 'presets');
  }

  static async open(file: string, o: { delayMs?: number } = {}): Promise<PresetStore> {
    const s = new PresetStore(file, o.delayMs ?? PRESET_WRITE_DELAY_MS);
    try {
      const raw = (await readJson(file)) as Record<string, Record<string, unknown>>;
      for (const [voice, settings] of Object.entries(raw)) {
        // A preset that no longer passes the checks (ranges changed, an unknown key) is dropped, not fatal.
        try {
          s.put(voice, mergeSettings(DEFAULT_SETTINGS, settings));
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
    const p = Object.hasOwn(this.presets, voice) ? this.presets[voice] : undefined;
    return p ? { ...p } : undefined;
  }

  /** Keeps the voice's settings; the file is written once the changes pause (or on flush). */
  set(voice: string, settings: EngineSettings): void {
    this.put(voice, settings);
    this.dirty = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.delayMs);
    this.timer.unref();
  }

  private put(voice: string, settings: EngineSettings): void {
    // defineProperty: a voice id is data, and "__proto__" must not reach the object's prototype.
    Object.defineProperty(this.presets, voice, { value: { ...settings }, enumerable: true, writable: true, configurable: true });
  }

  /** Writes pending changes now; resolves when the file holds them. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.dirty) return this.writer.flush();
    this.dirty = false;
    // The writer chains writes, so an older snapshot never lands after a newer one.
    return this.writer.write(this.presets);
  }
}
