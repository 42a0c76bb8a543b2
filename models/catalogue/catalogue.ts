// The model catalogue: the shared networks that voices need but Resona does not ship (content encoders, RMVPE),
// where each comes from, how to recognise a good copy, and the contract facts a loader needs to call it.
// Sizes and SHA-256 sums are the published ones; where none is published the entry says null rather than
// guess, and the downloader then refuses it unless the caller accepts an unverified file.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync, type Stats } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../protocol/errors.js';

export type ModelKind = 'content-encoder' | 'f0';
/** 'torch' files are PyTorch checkpoints: onnxruntime cannot load them until they are imported to ONNX. */
export type ModelFormat = 'onnx' | 'torch';

/** One feature stream an encoder can give. RVC v1 voices want layer 9 through final_proj (256), v2 layer 12 (768). */
export interface EncoderFeature {
  layer: 9 | 12;
  dims: 256 | 768;
  /** Output name, for graphs that give several streams at once ('units'). */
  output?: string;
}

/**
 * How a content encoder is called.
 * - 'vec': first input float32 [1, 1, N] (16 kHz mono), first output float32 [1, T, C]. One feature stream.
 * - 'units': input `audio` float32 [1, N], named outputs, one per layer (w-okada's VC Client export).
 * - 'fairseq': a fairseq HuBERT checkpoint; layers 1–12 of 768, final_proj to 256. Needs import to ONNX.
 * All are HuBERT-base shaped: a conv front end with a 400-sample receptive field and a 320-sample stride, so
 * T = floor((N − 400) / 320) + 1, one frame per 20 ms.
 */
export interface EncoderContract {
  style: 'vec' | 'units' | 'fairseq';
  sampleRate: 16000;
  hop: 320;
  receptiveField: 400;
  input?: string;
  features: readonly EncoderFeature[];
}

/**
 * RMVPE as RVC exports it: log-mel in, pitch salience out.
 * Input float32 [1, melBins, T]: |STFT| (Hann window, centred with reflect padding) through an HTK-scale,
 * Slaney-normalised mel bank, then ln(max(x, logClamp)); T padded (reflect) to a multiple of `framesMultiple`.
 * Output float32 [1, T, bins]: bin k is centsAtBin0 + centsPerBin·k cents, f0 = 10 · 2^(cents / 1200) Hz;
 * RVC decodes a local average over the 9 bins around the peak and calls a frame unvoiced below `threshold`.
 */
export interface MelSalienceContract {
  form: 'mel-salience';
  sampleRate: 16000;
  hop: 160;
  nFft: 1024;
  winLength: 1024;
  melBins: 128;
  fmin: 30;
  fmax: 8000;
  melScale: 'htk';
  melNorm: 'slaney';
  logClamp: 1e-5;
  framesMultiple: 32;
  bins: 360;
  centsAtBin0: number;
  centsPerBin: 20;
  threshold: number;
}

interface EntryBase {
  id: string;
  description: string;
  /** Name of the file in the models folder. */
  file: string;
  url: string;
  /** Bytes; null where no size is published. */
  size: number | null;
  /** Lowercase hex; null where no hash is published (downloads then need allowUnverified). */
  sha256: string | null;
  format: ModelFormat;
}

export interface EncoderEntry extends EntryBase {
  kind: 'content-encoder';
  encoder: EncoderContract;
}

export interface F0Entry extends EntryBase {
  kind: 'f0';
  f0: MelSalienceContract;
}

export type CatalogueEntry = EncoderEntry | F0Entry;

const RVC_HF = 'https://huggingface.co/lj1995/VoiceConversionWebUI/resolve/main';
const MOESS_HF = 'https://huggingface.co/NaruseMioShirakana/MoeSS-SUBModel/resolve/main';
const HUBERT_SHAPE = { sampleRate: 16000, hop: 320, receptiveField: 400 } as const;
const RMVPE_CONTRACT: MelSalienceContract = {
  form: 'mel-salience',
  sampleRate: 16000,
  hop: 160,
  nFft: 1024,
  winLength: 1024,
  melBins: 128,
  fmin: 30,
  fmax: 8000,
  melScale: 'htk',
  melNorm: 'slaney',
  logClamp: 1e-5,
  framesMultiple: 32,
  bins: 360,
  centsAtBin0: 1997.3794084376191,
  centsPerBin: 20,
  threshold: 0.03,
};

export const CATALOGUE: readonly CatalogueEntry[] = [
  {
    id: 'contentvec-768-l12',
    kind: 'content-encoder',
    description: 'ContentVec, layer 12, 768 dims, ONNX (RVC v2 voices)',
    file: 'vec-768-layer-12.onnx',
    url: `${MOESS_HF}/vec-768-layer-12.onnx`,
    size: null,
    sha256: null,
    format: 'onnx',
    encoder: { style: 'vec', ...HUBERT_SHAPE, features: [{ layer: 12, dims: 768 }] },
  },
  {
    id: 'contentvec-256-l9',
    kind: 'content-encoder',
    description: 'ContentVec, layer 9 through final_proj, 256 dims, ONNX (RVC v1 voices)',
    file: 'vec-256-layer-9.onnx',
    url: `${MOESS_HF}/vec-256-layer-9.onnx`,
    size: null,
    sha256: null,
    format: 'onnx',
    encoder: { style: 'vec', ...HUBERT_SHAPE, features: [{ layer: 9, dims: 256 }] },
  },
  {
    id: 'contentvec-units',
    kind: 'content-encoder',
    description: "ContentVec with both RVC layers in one graph, ONNX (VC Client's export)",
    file: 'contentvec-f.onnx',
    url: 'https://huggingface.co/wok000/weights_gpl/resolve/main/content-vec/contentvec-f.onnx',
    size: null,
    sha256: null,
    format: 'onnx',
    encoder: {
      style: 'units',
      ...HUBERT_SHAPE,
      input: 'audio',
      features: [
        { layer: 9, dims: 256, output: 'units9' },
        { layer: 12, dims: 768, output: 'unit12' },
      ],
    },
  },
  {
    id: 'hubert-base',
    kind: 'content-encoder',
    description: 'HuBERT base as RVC ships it, fairseq checkpoint (needs import to ONNX)',
    file: 'hubert_base.pt',
    url: `${RVC_HF}/hubert_base.pt`,
    size: 189_507_909,
    sha256: 'f54b40fd2802423a5643779c4861af1e9ee9c1564dc9d32f54f20b5ffba7db96',
    format: 'torch',
    encoder: {
      style: 'fairseq',
      ...HUBERT_SHAPE,
      features: [
        { layer: 9, dims: 256 },
        { layer: 12, dims: 768 },
      ],
    },
  },
  {
    id: 'rmvpe',
    kind: 'f0',
    description: 'RMVPE pitch network, ONNX (RVC WebUI export)',
    file: 'rmvpe.onnx',
    url: `${RVC_HF}/rmvpe.onnx`,
    size: 361_688_443,
    sha256: '5370e71ac80af8b4b7c793d27efd51fd8bf962de3a7ede0766dac0befa3660fd',
    format: 'onnx',
    f0: RMVPE_CONTRACT,
  },
  {
    id: 'rmvpe-pt',
    kind: 'f0',
    description: 'RMVPE pitch network, PyTorch checkpoint (needs import to ONNX)',
    file: 'rmvpe.pt',
    url: `${RVC_HF}/rmvpe.pt`,
    size: 181_184_272,
    sha256: '6d62215f4306e3ca278246188607209f09af3dc77ed4232efdd069798c4ec193',
    format: 'torch',
    f0: RMVPE_CONTRACT,
  },
];

export class UnknownModelError extends UserError {
  override name = 'UnknownModelError';
  constructor(id: string, catalogue: readonly CatalogueEntry[]) {
    super(`unknown model "${id}": choose one of ${catalogue.map((e) => e.id).join(', ')}`, 'model');
  }
}

export function catalogueEntry(id: string, catalogue: readonly CatalogueEntry[] = CATALOGUE): CatalogueEntry {
  const e = catalogue.find((c) => c.id === id);
  if (!e) throw new UnknownModelError(id, catalogue);
  return e;
}

/**
 * Where models live: $RESONA_HOME/models, else the platform's per-user data folder + /models. Parameters exist
 * so tests can ask about other platforms.
 */
export function modelsDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = os.homedir()): string {
  const p = platform === 'win32' ? path.win32 : path.posix;
  if (env.RESONA_HOME) return p.join(p.resolve(env.RESONA_HOME), 'models');
  if (platform === 'win32') return p.join(env.APPDATA || p.join(home, 'AppData', 'Roaming'), 'Resona', 'models');
  if (platform === 'darwin') return p.join(home, 'Library', 'Application Support', 'Resona', 'models');
  // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
  const xdg = env.XDG_DATA_HOME && p.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : p.join(home, '.local', 'share');
  return p.join(xdg, 'resona', 'models');
}

// ── verification marker ────────────────────────────────────────────────────────────────────────────────
// Hashing 360 MB takes seconds, too slow for every start. After a file's hash has been checked once we record
// its size and mtime beside it; while both still match, the file is the one that was checked.

export const MARKER_SUFFIX = '.sha256-ok';

interface Marker {
  sha256: string;
  size: number;
  mtimeMs: number;
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function writeMarker(file: string, sha256: string): Promise<void> {
  const st = statSync(file);
  const m: Marker = { sha256, size: st.size, mtimeMs: st.mtimeMs };
  await writeFile(file + MARKER_SUFFIX, JSON.stringify(m) + '\n');
}

function markerValid(file: string, st: Stats, sha256: string): boolean {
  try {
    const m = JSON.parse(readFileSync(file + MARKER_SUFFIX, 'utf8')) as Partial<Marker>;
    return m.sha256 === sha256 && m.size === st.size && m.mtimeMs === st.mtimeMs;
  } catch {
    return false;
  }
}

// ── finding models ─────────────────────────────────────────────────────────────────────────────────────

/**
 * - verified: present, right size, hash checked (marker valid)
 * - unverified: present and the right size (or no size is published), hash not checked or not published
 * - wrong-size: a file is there but its size is not the catalogue's
 * - missing: no file (there may be a .part from an interrupted download)
 */
export type ModelState = 'verified' | 'unverified' | 'wrong-size' | 'missing';

export interface ModelStatus {
  state: ModelState;
  path: string;
  /** Bytes on disk (0 when missing). */
  size: number;
  /** Bytes already in `<file>.part`, 0 when there is none. */
  partial: number;
}

function statOrNull(file: string): Stats | null {
  try {
    const st = statSync(file);
    return st.isFile() ? st : null;
  } catch {
    return null;
  }
}

/** Cheap status (stat and marker only, no hashing), for listings. */
export function modelStatus(entry: CatalogueEntry, dir = modelsDir()): ModelStatus {
  const file = path.join(dir, entry.file);
  const partial = statOrNull(file + '.part')?.size ?? 0;
  const st = statOrNull(file);
  if (!st) return { state: 'missing', path: file, size: 0, partial };
  const sizeOk = entry.size === null ? st.size > 0 : st.size === entry.size;
  if (!sizeOk) return { state: 'wrong-size', path: file, size: st.size, partial };
  const verified = entry.sha256 !== null && markerValid(file, st, entry.sha256);
  return { state: verified ? 'verified' : 'unverified', path: file, size: st.size, partial };
}

export interface FindOptions {
  /** Also check the SHA-256 (from the marker when it is fresh, else by hashing, which then writes the marker). */
  verify?: boolean;
  dir?: string;
  catalogue?: readonly CatalogueEntry[];
}

interface Inspection {
  entry: CatalogueEntry;
  status: ModelStatus;
  /** Why the file is not usable, or null when it is. */
  problem: string | null;
}

async function inspect(id: string, o: FindOptions): Promise<Inspection> {
  const entry = catalogueEntry(id, o.catalogue);
  const status = modelStatus(entry, o.dir ?? modelsDir());
  if (status.state === 'missing') return { entry, status, problem: `${status.path} was not found` };
  if (status.state === 'wrong-size') {
    return { entry, status, problem: `${status.path} has ${fmtBytes(status.size)}, expected ${fmtBytes(entry.size!)} (an incomplete or different file)` };
  }
  if (o.verify && status.state === 'unverified' && entry.sha256 !== null) {
    const got = await sha256File(status.path);
    if (got !== entry.sha256) return { entry, status, problem: `${status.path} has SHA-256 ${got}, expected ${entry.sha256} (a corrupt or different file)` };
    await writeMarker(status.path, got);
    status.state = 'verified';
  }
  return { entry, status, problem: null };
}

/**
 * The local path of a model when it is present and complete, else null. The size is always checked; the hash
 * only with `verify` (entries without a published hash cannot be verified and pass on size alone).
 */
export async function findModel(id: string, o: FindOptions = {}): Promise<string | null> {
  const r = await inspect(id, o);
  return r.problem === null ? r.status.path : null;
}

export class ModelMissingError extends UserError {
  override name = 'ModelMissingError';
  constructor(
    readonly entry: CatalogueEntry,
    readonly dir: string,
    problem: string,
  ) {
    const unverified = entry.sha256 === null;
    const facts = unverified ? 'size and SHA-256 not published' : `${fmtBytes(entry.size!)}, SHA-256 ${entry.sha256}`;
    const cmd = `resona models download ${entry.id}${unverified ? ' --allow-unverified' : ''}`;
    super(
      `model "${entry.id}" (${entry.description}) is missing: ${problem}. ` +
        `Run '${cmd}', or download ${entry.url} (${facts}) yourself and put it in ${dir} as ${entry.file}`,
      'model',
    );
  }
}

/** Like findModel, but a missing or bad file is an error that tells the user how to get it. */
export async function requireModel(id: string, o: FindOptions = {}): Promise<string> {
  const r = await inspect(id, o);
  if (r.problem !== null) throw new ModelMissingError(r.entry, o.dir ?? modelsDir(), r.problem);
  return r.status.path;
}

export function fmtBytes(n: number): string {
  return `${n.toLocaleString('en-US')} bytes`;
}
