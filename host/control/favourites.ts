// The voices the user starred, kept in favourites.json beside presets.json. The library lists them first;
// which voices exist is the library's business, so a star on a voice that was removed is kept (harmless, and
// it comes back if the voice is imported again).
import { JsonWriter, readJson } from './json-file.js';

export class FavouriteStore {
  private ids: string[] = [];
  private readonly writer: JsonWriter;

  private constructor(file: string) {
    this.writer = new JsonWriter(file, 'favourite voices');
  }

  static async open(file: string): Promise<FavouriteStore> {
    const s = new FavouriteStore(file);
    const raw = await readJson(file);
    // Anything but a list of strings is dropped, not fatal: favourites are a convenience.
    if (Array.isArray(raw)) s.ids = [...new Set(raw.filter((x): x is string => typeof x === 'string' && x.length > 0))];
    return s;
  }

  list(): string[] {
    return [...this.ids];
  }

  /** Stars or unstars a voice; resolves once the file holds the change. */
  async set(voice: string, on: boolean): Promise<void> {
    const has = this.ids.includes(voice);
    if (on === has) return;
    this.ids = on ? [...this.ids, voice] : this.ids.filter((x) => x !== voice);
    await this.writer.write(this.ids);
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }
}
