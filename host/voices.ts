// Voice resolution for the host: built-in DSP voices by id, neural voices from the library by id, or a
// voice file or folder given by path (opened from a temporary import, so the library is not touched).
// Nothing here knows one family from another: voice.json names the family, and the family (from
// models/families/registry.ts) describes the voice, lists its knobs and loads it.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { F0Estimator } from '../engine/f0/estimator.js';
import { builtinVoices, createBuiltinVoice, findBuiltinVoice } from '../engine/voices/builtin.js';
import type { VoiceStage } from '../engine/voices/voice-stage.js';
import { modelsDir } from '../models/catalogue/catalogue.js';
import type { VoiceFamily } from '../models/families/family.js';
import { findFamily } from '../models/families/registry.js';
import { exists, importVoice, type ImportOptions } from '../models/voices/import-voice.js';
import { MANIFEST_FILE, readManifest } from '../models/voices/manifest.js';
import type { VoiceManifest } from '../protocol/voice-manifest.js';
import { VOICE_FILE, type VoiceInfo } from '../protocol/voices.js';
import { createF0 } from './f0.js';
import { UserError } from '../protocol/errors.js';
import { DEFAULT_RUNTIME, type NetworkPlacement, type RuntimeOptions } from '../protocol/runtime.js';

export const DEFAULT_VOICE = 'deeper';

/** The voice library: one folder per imported voice, beside the models folder. */
export function voicesDir(): string {
  return path.join(path.dirname(modelsDir()), 'voices');
}

/**
 * The preview image's path, only while it is a regular file in the voice folder: the server sends it to any
 * page that asks, so a link planted in the library (to /etc/passwd, say) or a FIFO must never be it.
 */
async function previewOf(m: VoiceManifest, dir: string): Promise<string | null> {
  if (!m.preview) return null;
  const file = path.join(dir, m.preview);
  const st = await fs.lstat(file).catch(() => null);
  return st?.isFile() ? file : null;
}

/** The family of a checked manifest (checkManifest only passes a family the registry has). */
function familyOf(m: VoiceManifest): VoiceFamily {
  const f = findFamily(m.family);
  if (!f) throw new Error(`voice ${m.id}: family "${m.family}" is not registered`);
  return f;
}

async function voiceInfo(m: VoiceManifest, dir: string): Promise<VoiceInfo> {
  const family = familyOf(m);
  return {
    id: m.id,
    name: m.name,
    kind: family.id,
    familyLabel: family.label,
    description: m.description,
    defaultPitch: m.defaultPitch,
    defaultFormant: 0,
    sampleRate: m.sampleRate,
    speakers: m.speakers,
    f0: m.f0,
    ...family.info(m),
    path: dir,
    preview: await previewOf(m, dir),
    params: family.params(m),
    notes: family.notes(m),
  };
}

/** Built-in voices, then the library's. A library folder that fails its checks is listed in `broken`. */
export async function listVoices(): Promise<{ voices: VoiceInfo[]; broken: string[] }> {
  const voices = builtinVoices();
  const broken: string[] = [];
  const dir = voicesDir();
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    try {
      voices.push(await voiceInfo(await readManifest(path.join(dir, e.name)), path.join(dir, e.name)));
    } catch (err) {
      broken.push((err as Error).message);
    }
  }
  return { voices, broken };
}

export class VoiceNotFoundError extends UserError {
  override name = 'VoiceNotFoundError';
  constructor(id: string, known: string[]) {
    super(`unknown voice "${id}": choose one of ${known.join(', ')}, or give a voice file (.onnx, .zip) or folder`, 'voice', 'voice');
  }
}

export interface VoiceRequest {
  /** Built-in id, library id, or a path to a .onnx / .zip / voice folder. */
  voice: string;
  /** Content encoder ONNX file; default: the catalogue's, from the models folder. */
  encoder?: string;
  /** f0 method name or an ONNX pitch network; default: the built-in estimator. */
  f0?: string;
  /** Provider and threads for every network of the voice (default: the best accelerator, 2 threads). */
  runtime?: Partial<RuntimeOptions>;
}

export interface ResolvedVoice {
  info: VoiceInfo;
  stage: VoiceStage;
  /** The pitch estimator to give the engine; undefined = the engine's built-in one. */
  f0?: F0Estimator;
  /** Where each network runs (empty for a built-in voice with the built-in pitch estimator). */
  placement: NetworkPlacement[];
  notes: string[];
  /** Frees the voice's sessions (after the engine using it is gone). */
  release(): Promise<void>;
}

const none = async () => {};

/** A voice given by path rather than id: it has a separator or a voice file's extension. */
export function looksLikePath(spec: string): boolean {
  return /[\\/]/.test(spec) || VOICE_FILE.test(spec);
}

/** The f0 network's placement, when the voice has one. */
function f0Placement(f0: F0Estimator | undefined): NetworkPlacement[] {
  return f0?.placement ? [{ network: `f0 (${f0.id})`, provider: f0.placement.provider, note: f0.placement.note }] : [];
}

/** The f0 network's fallback warning, when an explicit provider could not be used. */
function f0Warnings(f0: F0Estimator | undefined): string[] {
  return f0?.placement?.warning ? [f0.placement.warning] : [];
}

export async function resolveVoice(req: string | VoiceRequest): Promise<ResolvedVoice> {
  const r = typeof req === 'string' ? { voice: req } : req;
  const runtime: RuntimeOptions = { ...DEFAULT_RUNTIME, ...stripUndefined(r.runtime ?? {}) };
  const builtin = findBuiltinVoice(r.voice);
  if (builtin && !looksLikePath(r.voice)) {
    const f0 = await createF0(r.f0, runtime);
    const placement = f0Placement(f0);
    return { info: builtin, stage: createBuiltinVoice(r.voice), f0, placement, notes: f0Warnings(f0), release: none };
  }
  let dir = path.join(voicesDir(), r.voice);
  let temp: string | null = null;
  if (looksLikePath(r.voice)) {
    const st = await fs.stat(r.voice).catch(() => null);
    if (!st) throw new VoiceNotFoundError(r.voice, (await listVoices()).voices.map((v) => v.id));
    const hasManifest = st.isDirectory() && (await exists(path.join(r.voice, MANIFEST_FILE)));
    if (hasManifest) dir = r.voice;
    else temp = await fs.mkdtemp(path.join(os.tmpdir(), 'resona-voice-'));
  } else if (!/^[a-z0-9][a-z0-9-]*$/.test(r.voice) || !(await exists(path.join(dir, MANIFEST_FILE)))) {
    // An id is a library folder's name; anything else (a "..", a separator) is not looked up at all.
    throw new VoiceNotFoundError(r.voice, (await listVoices()).voices.map((v) => v.id));
  }
  // The temporary library of a voice given by path goes on every path out, a failed import included.
  try {
    if (temp) {
      const m = await importVoice(r.voice, temp, { threads: runtime.threads } satisfies ImportOptions);
      dir = path.join(temp, m.id);
    }
    const manifest = await readManifest(dir);
    const family = familyOf(manifest);
    const f0 = manifest.f0 ? await createF0(r.f0, runtime) : undefined;
    let loaded;
    try {
      loaded = await family.load(dir, manifest, { runtime, ...(r.encoder ? { encoder: r.encoder } : {}) });
    } catch (e) {
      await f0?.dispose?.();
      throw e;
    }
    return {
      info: await voiceInfo(manifest, dir),
      stage: loaded.stage,
      f0,
      placement: [...loaded.placement, ...f0Placement(f0)],
      notes: [...new Set([...loaded.notes, ...f0Warnings(f0)])],
      release: loaded.release,
    };
  } finally {
    if (temp) await fs.rm(temp, { recursive: true, force: true });
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Imports a voice into the library. */
export async function importToLibrary(src: string, o: ImportOptions = {}): Promise<VoiceInfo> {
  const m = await importVoice(src, voicesDir(), o);
  return await voiceInfo(m, path.join(voicesDir(), m.id));
}
