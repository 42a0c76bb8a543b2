// The voices the user can choose (built-in and imported, plus the library folders that failed their checks),
// each voice's own settings (its preset, else its defaults), and importing a file into the library from a
// path or from uploaded bytes.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ControlCommands } from '../../protocol/control.js';
import { DEFAULT_SETTINGS, type EngineSettings } from '../../protocol/settings.js';
import { fitToVoice, voiceDefaults } from '../../protocol/voice-params.js';
import { NOT_A_VOICE_FILE, VOICE_FILE, type VoiceInfo } from '../../protocol/voices.js';
import { importToLibrary, listVoices } from '../voices.js';
import { RequestError } from './errors.js';
import { checkVoiceSource } from './import-source.js';
import type { PresetStore } from './presets.js';

export class VoiceLibrary {
  voices: VoiceInfo[] = [];
  broken: string[] = [];

  constructor(private readonly presets: PresetStore) {}

  async refresh(): Promise<void> {
    const { voices, broken } = await listVoices();
    this.voices = voices;
    this.broken = broken;
  }

  has(voice: string): boolean {
    return this.voices.some((v) => v.id === voice);
  }

  find(voice: string): VoiceInfo | undefined {
    return this.voices.find((v) => v.id === voice);
  }

  /**
   * The voice's preset if one was saved, else the engine's defaults with each of the voice's parameters at its
   * own default. A saved value outside the voice's range now (fewer speakers after a re-import) takes the default.
   */
  settingsFor(voice: string): EngineSettings {
    const v = this.find(voice);
    const saved = this.presets.get(voice);
    if (!v) return saved ?? { ...DEFAULT_SETTINGS };
    return saved ? fitToVoice(saved, v.params) : voiceDefaults({ ...DEFAULT_SETTINGS }, v.params);
  }

  /** Imports a voice file (a path on the host, or bytes from a browser) and refreshes the list. */
  async import(a: ControlCommands['importVoice']['args']): Promise<VoiceInfo> {
    const name = path.basename(a.name);
    if (!VOICE_FILE.test(name)) {
      throw new RequestError(`"${name}" ${NOT_A_VOICE_FILE}`, 'file');
    }
    let src: string;
    let tmp: string | null = null;
    if (a.path !== undefined) {
      src = await checkVoiceSource(a.path);
    } else if (a.dataBase64 !== undefined) {
      tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'resona-upload-'));
      src = path.join(tmp, name);
      await fs.writeFile(src, Buffer.from(a.dataBase64, 'base64'));
    } else {
      throw new RequestError('importVoice needs the file (dataBase64) or its path', 'file');
    }
    try {
      const voice = await importToLibrary(src);
      await this.refresh();
      return voice;
    } catch (e) {
      // The upload's temporary path means nothing to the user: name their file instead.
      if (tmp && e instanceof Error) e.message = e.message.split(src).join(name);
      throw e;
    } finally {
      if (tmp) await fs.rm(tmp, { recursive: true, force: true });
    }
  }
}
