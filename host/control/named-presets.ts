// Settings saved under a name, per voice, in named-presets.json beside presets.json. presets.json keeps each
// voice's "last used" settings, written as the user moves a slider; these are the ones the user chose to
// keep, written at once when saved or deleted.
import type { NamedPreset } from '../../protocol/control.js';
import { DEFAULT_SETTINGS, type EngineSettings, mergeSettings } from '../../protocol/settings.js';
import { RequestError } from './errors.js';
import { JsonWriter, putOwn, readJson } from './json-file.js';

/** Enough for any real use; a bound so a script cannot grow the file (and every state push) without end. */
export const MAX_PRESETS_PER_VOICE = 50;
export const MAX_PRESET_NAME = 40;

/** A preset name as the user typed it, trimmed; a RequestError (on the 'presetName' field) when unusable. */
export function checkPresetName(name: string): string {
  const n = name.trim();
  if (n.length === 0) throw new RequestError('give the preset a name', 'presetName');
  if (n.length > MAX_PRESET_NAME) throw new RequestError(`a preset name may have at most ${MAX_PRESET_NAME} characters`, 'presetName');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(n)) throw new RequestError('a preset name cannot hold control characters', 'presetName');
  return n;
}

export class NamedPresetStore {
  private byVoice: Record<string, NamedPreset[]> = {};
  private readonly writer: JsonWriter;

  private constructor(file: string) {
    this.writer = new JsonWriter(file, 'named presets');
  }

  static async open(file: string): Promise<NamedPresetStore> {
    const s = new NamedPresetStore(file);
    const raw = await readJson(file);
    if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
      for (const [voice, list] of Object.entries(raw)) {
        if (!Array.isArray(list)) continue;
        const kept: NamedPreset[] = [];
        for (const p of list as { name?: unknown; settings?: unknown }[]) {
          // A preset that no longer passes the checks (ranges changed, an unknown key) is dropped, not fatal.
          try {
            if (typeof p?.name !== 'string') continue;
            kept.push({ name: checkPresetName(p.name), settings: mergeSettings(DEFAULT_SETTINGS, p.settings as Partial<EngineSettings>) });
          } catch {
            /* dropped */
          }
        }
        if (kept.length) putOwn(s.byVoice, voice, kept);
      }
    }
    return s;
  }

  /** Every voice's presets (copies), for the host state. */
  all(): Record<string, NamedPreset[]> {
    return structuredClone(this.byVoice);
  }

  get(voice: string, name: string): NamedPreset | undefined {
    const list = Object.hasOwn(this.byVoice, voice) ? this.byVoice[voice]! : [];
    const p = list.find((x) => x.name === name.trim());
    return p ? structuredClone(p) : undefined;
  }

  /** Saves (or overwrites, by name) a preset of the voice. */
  async save(voice: string, name: string, settings: EngineSettings): Promise<void> {
    const n = checkPresetName(name);
    const list = Object.hasOwn(this.byVoice, voice) ? [...this.byVoice[voice]!] : [];
    const i = list.findIndex((x) => x.name === n);
    if (i >= 0) list[i] = { name: n, settings: { ...settings } };
    else {
      if (list.length >= MAX_PRESETS_PER_VOICE) throw new RequestError(`a voice keeps at most ${MAX_PRESETS_PER_VOICE} named presets: delete one first`, 'presetName');
      list.push({ name: n, settings: { ...settings } });
    }
    putOwn(this.byVoice, voice, list);
    await this.writer.write(this.byVoice);
  }

  async delete(voice: string, name: string): Promise<void> {
    if (!this.get(voice, name)) throw new RequestError(`this voice has no preset "${name.trim()}"`, 'presetName');
    putOwn(this.byVoice, voice, this.byVoice[voice]!.filter((x) => x.name !== name.trim()));
    await this.writer.write(this.byVoice);
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }
}
