// Turns what users have (a bare .onnx, a folder, a zip as voice sites share them) into a voice folder in
// the library with a voice.json derived from the model itself. The model is opened and rendered once
// before anything is copied, so a file that would not run is refused at the door.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { VOICE_MANIFEST_VERSION, type VoiceManifest } from '../../protocol/voice-manifest.js';
import { readFaissIndex } from '../index/faiss-ivf.js';
import { parseOnnxInfo } from '../onnx/model-info.js';
import { readRvcCheckpoint } from '../torch/rvc-checkpoint.js';
import { buildRvcSynthesizer } from '../torch/rvc-graph.js';
import { ContractError, readExportMetadata } from '../rvc/contracts.js';
import { checkManifest, MANIFEST_FILE, VoiceFormatError } from './manifest.js';
import { openSynthesizer, readModelBytes } from './load-voice.js';

export interface ImportOptions {
  /** A FAISS .index to go with a bare .onnx. */
  index?: string;
  name?: string;
  threads?: number;
}

const PREVIEW_EXT = ['.png', '.jpg', '.jpeg', '.webp'];

export function slug(name: string): string {
  const s = name.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48);
  return s || 'voice';
}

/** Whether a file or folder is there. */
export async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(() => true, () => false);
}

/** Imports a voice into `library` (one folder per voice) and returns its manifest. */
export async function importVoice(src: string, library: string, o: ImportOptions = {}): Promise<VoiceManifest> {
  const st = await fs.stat(src).catch(() => null);
  if (!st) throw new VoiceFormatError(`${src}: no such file or folder`);
  if (st.isDirectory()) return importFolder(src, library, o);
  const ext = path.extname(src).toLowerCase();
  if (ext === '.zip') return importZip(src, library, o);
  if (ext === '.onnx') return importOnnx(src, library, o, null);
  if (ext === '.pth' || ext === '.pt') return importOnnx(src, library, o, null, undefined, await onnxFromCheckpoint(src));
  throw new VoiceFormatError(`${src}: not a voice file; import an RVC .pth or .onnx model, a folder holding one, or a .zip of such a folder`);
}

async function importZip(src: string, library: string, o: ImportOptions): Promise<VoiceManifest> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(await fs.readFile(src));
  } catch (e) {
    throw new VoiceFormatError(`${src}: not a readable zip (${(e as Error).message}); download it again`);
  }
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'resona-import-'));
  try {
    for (const [name, data] of Object.entries(entries)) {
      if (name.endsWith('/')) continue;
      // Flatten: voice zips nest their files in a folder of any name; names stay plain, never paths.
      const base = path.basename(name);
      if (!base || base.startsWith('.') || name.includes('__MACOSX')) continue;
      await fs.writeFile(path.join(tmp, base), data);
    }
    return await importFolder(tmp, library, { ...o, name: o.name ?? path.basename(src, path.extname(src)) });
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

async function importFolder(dir: string, library: string, o: ImportOptions): Promise<VoiceManifest> {
  const files = await fs.readdir(dir);
  if (files.includes(MANIFEST_FILE)) {
    const m = checkManifest(JSON.parse(await fs.readFile(path.join(dir, MANIFEST_FILE), 'utf8')), path.join(dir, MANIFEST_FILE));
    return importOnnx(path.join(dir, m.model), library, { ...o, index: o.index ?? (m.index ? path.join(dir, m.index) : undefined), name: o.name ?? m.name }, m, dir);
  }
  // An ONNX export wins over the checkpoint it came from; a folder with only the .pth is converted.
  const onnxFiles = files.filter((f) => f.toLowerCase().endsWith('.onnx'));
  const models = onnxFiles.length ? onnxFiles : files.filter((f) => /\.pth$/i.test(f));
  if (models.length === 0) throw new VoiceFormatError(`${dir}: holds no .onnx or .pth model (found: ${files.join(', ') || 'nothing'})`);
  if (models.length > 1) throw new VoiceFormatError(`${dir}: holds several model files (${models.join(', ')}); import the voice's model file itself`);
  const indexes = files.filter((f) => f.toLowerCase().endsWith('.index'));
  // RVC writes trained_*.index (centroids only) and added_*.index (the features): only the latter retrieves.
  const index = indexes.find((f) => f.startsWith('added')) ?? indexes[0];
  const model = path.join(dir, models[0]!);
  const bytes = /\.pth$/i.test(model) ? await onnxFromCheckpoint(model) : undefined;
  return importOnnx(model, library, { ...o, index: o.index ?? (index ? path.join(dir, index) : undefined), name: o.name ?? path.basename(dir) }, null, dir, bytes);
}

/** An RVC .pth read with the safe checkpoint reader and rebuilt as an ONNX model of the skip_head contract. */
async function onnxFromCheckpoint(file: string): Promise<Uint8Array> {
  return buildRvcSynthesizer(await readRvcCheckpoint(file));
}

async function importOnnx(file: string, library: string, o: ImportOptions, given: VoiceManifest | null, folder?: string, converted?: Uint8Array): Promise<VoiceManifest> {
  const bytes = converted ?? (await readModelBytes(file));
  const claim = given ?? claimFromMetadata(file, bytes);
  const { info, contract, session, measuredRate } = await openSynthesizer(file, bytes, claim, o.threads);
  await session.release();
  const featureSize = (claim?.featureSize ?? contract.channels ?? 256) as 256 | 768;
  const emb = info.initializers['emb_g.weight'];
  const speakers = given?.speakers ?? (emb && emb.length === 2 ? emb[0]! : 1);
  if (o.index) {
    const index = await readFaissIndex(o.index);
    if (index.d !== featureSize) throw new VoiceFormatError(`${o.index}: the index holds ${index.d}-d features, the voice uses ${featureSize}-d; it belongs to another voice`);
  }
  const name = o.name ?? given?.name ?? path.basename(file, path.extname(file));
  let id = slug(name);
  for (let i = 2; await exists(path.join(library, id)); i++) id = `${slug(name)}-${i}`;
  const preview = folder ? (await fs.readdir(folder)).find((f) => PREVIEW_EXT.includes(path.extname(f).toLowerCase())) ?? null : null;
  const manifest: VoiceManifest = {
    format: VOICE_MANIFEST_VERSION,
    id,
    name,
    family: 'rvc',
    contract: contract.id,
    version: featureSize === 768 ? 'v2' : 'v1',
    model: 'model.onnx',
    index: o.index ? 'features.index' : null,
    preview: preview ? `preview${path.extname(preview).toLowerCase()}` : null,
    sampleRate: measuredRate as VoiceManifest['sampleRate'],
    featureSize,
    encoderLayer: featureSize === 768 ? 12 : 9,
    f0: contract.f0,
    speakers,
    defaultPitch: given?.defaultPitch ?? 0,
    source: path.resolve(file),
    description: given?.description ?? `${contract.f0 ? '' : 'no-f0 '}RVC ${featureSize === 768 ? 'v2' : 'v1'} voice, ${measuredRate / 1000} kHz`,
  };
  // Copy into a temporary folder and rename, so the library never holds half a voice.
  await fs.mkdir(library, { recursive: true });
  const staging = await fs.mkdtemp(path.join(library, '.import-'));
  try {
    await fs.writeFile(path.join(staging, manifest.model), bytes);
    if (o.index) await fs.copyFile(o.index, path.join(staging, manifest.index!));
    if (preview && folder) await fs.copyFile(path.join(folder, preview), path.join(staging, manifest.preview!));
    await fs.writeFile(path.join(staging, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    await fs.rename(staging, path.join(library, id));
  } catch (e) {
    await fs.rm(staging, { recursive: true, force: true });
    throw e;
  }
  return manifest;
}

/** What the exporter's metadata says; null claims leave the rate to be measured. */
function claimFromMetadata(file: string, bytes: Uint8Array) {
  const meta = readExportMetadata(parseOnnxInfo(bytes, file), file);
  if (!meta) return null;
  const rate = meta.samplingRate;
  if (rate !== undefined && ![32000, 40000, 48000].includes(rate)) {
    throw new ContractError(`${file}: its metadata gives samplingRate ${rate}; RVC voices run at 32000, 40000 or 48000 Hz`);
  }
  return {
    sampleRate: rate ?? 48000,
    featureSize: meta.embChannels ?? 256,
    f0: meta.f0 ?? true,
  };
}
