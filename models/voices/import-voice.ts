// Turns what users have (a bare .onnx or .pth, a folder, a zip as voice sites share them) into a voice folder
// in the library with a voice.json derived from the model itself. The model is opened and rendered once
// before anything is copied, so a file that would not run is refused at the door.
//
// A folder and a zip are read the same way, as a flat list of names from which the import picks the few files
// it needs (voice.json, the model, an index, a preview) and reads only those: each must be a regular file
// (no link, FIFO or device in a folder) within its budget, and a zip goes through the one safe zip reader.
// What is written to the library is built from those bytes under fixed names, never copied by path.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../protocol/errors.js';
import { VOICE_MANIFEST_VERSION, type VoiceManifest } from '../../protocol/voice-manifest.js';
import type { FamilyImporter, ImportedDiffusion } from '../families/family.js';
import { PART_FILE, readExportedFiles } from '../diffusion/exported.js';
import { familyIds, findFamily } from '../families/registry.js';
import { asRvcManifest, RVC_RATES, type RvcManifest } from '../families/rvc/manifest.js';
import { byteSize, type Limit, overLimit } from '../archive/limit.js';
import { openZip } from '../archive/zip.js';
import { parseFaissIndex } from '../index/faiss-ivf.js';
import { parseOnnxInfo } from '../onnx/model-info.js';
import { describeKind, readRegularFile } from '../regular-file.js';
import { readCheckpoint } from '../torch/checkpoint.js';
import { parseRvcCheckpoint } from '../torch/rvc-checkpoint.js';
import { buildRvcSynthesizer } from '../torch/rvc-graph.js';
import { HUBERT_SOFT_FILE, isSovitsConfig, sovitsFromCheckpoint } from '../families/sovits/pth.js';
import { ContractError, readExportMetadata } from '../rvc/contracts.js';
import { isPlainFileName, manifestText, MANIFEST_FILE, MAX_SPEAKERS, parseManifest, PREVIEW_EXT, VoiceFormatError } from './manifest.js';
import { checkSpeakers, modelSpeakers, openSynthesizer, readModelBytes, readVoiceFile } from './load-voice.js';
import { VOICE_FILES, VOICE_ZIP } from './voice-limits.js';

export interface ImportOptions {
  /** A FAISS .index to go with a bare .onnx (so-vits-svc: its feature_and_index.pkl). */
  index?: string;
  /** so-vits-svc's config.json for a G_*.pth (with it, a .pth is read as so-vits-svc's, not RVC's). */
  config?: string;
  /** so-vits-svc: a kmeans_10000.pt of cluster centres. */
  cluster?: string;
  /** so-vits-svc 4.1 shallow diffusion: its model_*.pt, and the diffusion.yaml (default: the one beside it). */
  diffusion?: string;
  diffusionConfig?: string;
  /** The user's NSF-HiFiGAN (checkpoint or .onnx), written to voice.json as an absolute path. */
  vocoder?: string;
  /** so-vits-svc: the HuBERT-Soft checkpoint (hubert-soft-*.pt) a config with speech_encoder "hubertsoft" needs. */
  encoder?: string;
  name?: string;
  threads?: number;
}

/** The name so-vits-svc gives the config its G_*.pth was trained with. */
const SOVITS_CONFIG = 'config.json';

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
  if (st.isDirectory()) return importFrom(await folderSource(src), library, o, path.basename(path.resolve(src)));
  if (!st.isFile()) throw new VoiceFormatError(`${src}: is ${describeKind(st)}, not a voice file or folder; import an RVC .pth or .onnx model, a folder holding one, or a .zip of such a folder`);
  const ext = path.extname(src).toLowerCase();
  if (ext === '.zip') return importFrom(await zipSource(src), library, o, path.basename(src, path.extname(src)));
  if (o.config && ext !== '.pth' && ext !== '.pt') throw new VoiceFormatError(`${o.config}: --config goes with a so-vits-svc G_*.pth checkpoint, and ${src} is not one`);
  if (o.encoder && !o.config) throw new VoiceFormatError(`${o.encoder}: --encoder goes with a so-vits-svc G_*.pth and its --config (speech_encoder "hubertsoft"); ${src} is imported without one`);
  if (o.config) {
    const config = await readVoiceFile(o.config, 'so-vits-svc config.json', VOICE_FILES.manifest, false);
    const built = sovitsFromCheckpoint(await readModelBytes(src), src, config, o.config, await userEncoder(o));
    return install({ modelPath: src, model: built.model, given: null, name: o.name ?? path.basename(src, ext), index: await userIndex(o), companion: built.companion, f0Decoder: built.f0Decoder, contentEncoder: built.contentEncoder }, library, o);
  }
  if (ext === '.onnx' || ext === '.pth' || ext === '.pt') {
    const bytes = await readModelBytes(src);
    // An exporter's companion {name}.json beside the model (so-vits-svc writes one), read only if it is there.
    const json = path.join(path.dirname(src), `${path.basename(src, path.extname(src))}.json`);
    const companion = ext === '.onnx' && (await exists(json)) ? { path: json, bytes: await readVoiceFile(json, 'model config', VOICE_FILES.manifest, false) } : undefined;
    return install(
      { modelPath: src, model: ext === '.onnx' ? bytes : onnxFromCheckpoint(bytes, src), given: null, name: o.name ?? path.basename(src, ext), index: await userIndex(o), companion, userName: o.name },
      library,
      o,
    );
  }
  throw new VoiceFormatError(`${src}: not a voice file; import an RVC .pth or .onnx model, a folder holding one, or a .zip of such a folder`);
}

/** A folder or a zip as import sees it: file names (no folders), and a way to read one of them. */
interface VoiceSource {
  /** The folder or zip, for messages. */
  where: string;
  names: string[];
  /** Where a name is, for messages and the manifest's `source`. */
  pathOf(name: string): string;
  read(name: string, what: string, limit: Limit): Promise<Uint8Array>;
}

async function folderSource(dir: string): Promise<VoiceSource> {
  return {
    where: dir,
    // Names that could not be joined to the folder safely are never candidates.
    names: (await fs.readdir(dir)).filter(isPlainFileName),
    pathOf: (name) => path.join(dir, name),
    read: (name, what, limit) => readVoiceFile(path.join(dir, name), what, limit, true),
  };
}

/** Zip entry names are paths of the zipping machine; these are the ones no honest zip holds. */
function checkEntryName(zip: string, name: string): void {
  const parts = name.split(/[/\\]/);
  const refuse = (why: string) => new VoiceFormatError(`${zip}: entry ${JSON.stringify(name.length > 80 ? `${name.slice(0, 77)}...` : name)} ${why}; the zip is damaged or malicious`);
  if (name.startsWith('/') || name.startsWith('\\') || /^[a-zA-Z]:/.test(name)) throw refuse('is an absolute path');
  if (parts.includes('..')) throw refuse('climbs out of the zip with ".."');
  if (name.includes('\0')) throw refuse('holds a NUL character');
  if (parts.some((p) => Buffer.byteLength(p) > 255)) throw refuse('has a name over 255 bytes, which no file system takes');
}

async function zipSource(file: string): Promise<VoiceSource> {
  const bytes = await readRegularFile(file, { what: 'voice zip', limit: VOICE_FILES.zip, fail: (m) => new VoiceFormatError(m) });
  const zip = openZip(bytes, VOICE_ZIP, { name: file, error: (m) => new VoiceFormatError(m) });
  // Voice zips nest their files in a folder of any name: flatten to base names, leaving out macOS's
  // resource forks and hidden files. Two entries with one base name count as two (and make a pick ambiguous).
  const entries = new Map<string, string[]>();
  for (const name of zip.names) {
    checkEntryName(file, name);
    const base = name.split(/[/\\]/).pop()!;
    if (!base || base.startsWith('.') || name.split(/[/\\]/).includes('__MACOSX')) continue;
    entries.set(base, [...(entries.get(base) ?? []), name]);
  }
  const names = [...entries].flatMap(([base, full]) => full.map(() => base));
  return {
    where: file,
    names,
    pathOf: (name) => `${file}:${entries.get(name)?.[0] ?? name}`,
    read: async (name, what, limit) => {
      const full = entries.get(name);
      if (!full) throw new VoiceFormatError(`${file}: holds no ${name} (the voice's ${what})`);
      if (full.length > 1) throw new VoiceFormatError(`${file}: holds several files named ${name} (${full.join(', ')}); zip one voice at a time`);
      const size = zip.entry(full[0]!)!.size;
      if (size > limit.max) throw overLimit(`${file}: ${full[0]}`, `${byteSize(size)} is`, limit, byteSize);
      return zip.read(full[0]!);
    },
  };
}

/** The files an import needs, picked from a folder's or zip's names by the same rules. */
function pick(src: VoiceSource, sovits: boolean): { model: string; index?: string; preview?: string } {
  const files = src.names;
  // An ONNX export wins over the checkpoint it came from; a folder with only the .pth is converted. Beside a
  // so-vits-svc config.json the discriminator (D_*.pth) is no voice.
  const onnxFiles = files.filter((f) => f.toLowerCase().endsWith('.onnx'));
  const models = onnxFiles.length ? onnxFiles : files.filter((f) => /\.pth$/i.test(f) && !(sovits && /^D_/.test(f)));
  const shownFiles = files.length > 12 ? `${files.slice(0, 12).join(', ')}, …` : files.join(', ');
  if (models.length === 0) throw new VoiceFormatError(`${src.where}: holds no .onnx or .pth model (found: ${shownFiles || 'nothing'})`);
  if (models.length > 1) throw new VoiceFormatError(`${src.where}: holds several model files (${models.join(', ')}); import the voice's model file itself`);
  const indexes = files.filter((f) => f.toLowerCase().endsWith('.index'));
  // RVC writes trained_*.index (centroids only) and added_*.index (the features): only the latter retrieves.
  const index = indexes.find((f) => f.startsWith('added')) ?? indexes[0];
  return { model: models[0]!, index, preview: findPreview(files) };
}

function findPreview(files: string[]): string | undefined {
  return files.find((f) => PREVIEW_EXT.includes(path.extname(f).toLowerCase()));
}

/** The encoder checkpoint the user named (--encoder): their own path, read within a model's budget. */
async function userEncoder(o: ImportOptions): Promise<{ where: string; bytes: Uint8Array } | undefined> {
  return o.encoder ? { where: o.encoder, bytes: await readVoiceFile(o.encoder, 'HuBERT-Soft checkpoint', VOICE_FILES.model, false) } : undefined;
}

/** The .index the user named beside a model (the CLI's --index): their own path, so a link is followed. */
async function userIndex(o: ImportOptions): Promise<VoiceParts['index']> {
  return o.index ? { path: o.index, bytes: await readVoiceFile(o.index, 'index', VOICE_FILES.index, false) } : undefined;
}

async function importFrom(src: VoiceSource, library: string, o: ImportOptions, fallbackName: string): Promise<VoiceManifest> {
  let given: RvcManifest | null = null;
  let files: { model: string; index?: string; preview?: string };
  if (src.names.includes(MANIFEST_FILE)) {
    const where = src.pathOf(MANIFEST_FILE);
    // The importer turns RVC models into voices; a folder of another family is refused by name, not misread.
    given = asRvcManifest(parseManifest(manifestText(await src.read(MANIFEST_FILE, MANIFEST_FILE, VOICE_FILES.manifest), where), where), where);
    files = { model: given.model, index: given.index ?? undefined, preview: given.preview ?? findPreview(src.names) };
  } else {
    files = pick(src, src.names.includes(SOVITS_CONFIG) || !!o.config);
  }
  const modelBytes = await src.read(files.model, 'model file', VOICE_FILES.model);
  if (!given && /\.(pth|pt)$/i.test(files.model)) {
    // so-vits-svc keeps G_*.pth beside config.json; --config names one kept elsewhere.
    const config = o.config
      ? { where: o.config, bytes: await readVoiceFile(o.config, 'so-vits-svc config.json', VOICE_FILES.manifest, false) }
      : src.names.includes(SOVITS_CONFIG) ? { where: src.pathOf(SOVITS_CONFIG), bytes: await src.read(SOVITS_CONFIG, 'so-vits-svc config.json', VOICE_FILES.manifest) } : null;
    if (config && (o.config || isSovitsConfig(config.bytes))) {
      // A hubertsoft voice's encoder: --encoder, else the one hubert-soft*.pt kept beside the checkpoint.
      const softs = src.names.filter((f) => HUBERT_SOFT_FILE.test(f));
      if (!o.encoder && softs.length > 1) throw new VoiceFormatError(`${src.where}: holds several HuBERT-Soft checkpoints (${softs.join(', ')}); name the voice's with --encoder`);
      const encoder = o.encoder ? await userEncoder(o) : softs[0] ? { where: src.pathOf(softs[0]), bytes: await src.read(softs[0], 'HuBERT-Soft checkpoint', VOICE_FILES.model) } : undefined;
      const built = sovitsFromCheckpoint(modelBytes, src.pathOf(files.model), config.bytes, config.where, encoder);
      const index = o.index ? await userIndex(o) : undefined;
      const preview = files.preview ? await previewImage(src, files.preview) : undefined;
      const retrieval = await retrievalIn(src, o, !!index);
      const diffusion = await diffusionIn(src, o);
      return install({ modelPath: src.pathOf(files.model), model: built.model, given, name: o.name ?? fallbackName, index, preview, companion: built.companion, userName: o.name, retrieval, diffusion, f0Decoder: built.f0Decoder, contentEncoder: built.contentEncoder }, library, o);
    }
  }
  if (o.encoder) throw new VoiceFormatError(`${o.encoder}: --encoder goes with a so-vits-svc G_*.pth and its config.json (speech_encoder "hubertsoft"); ${src.where} holds no such pair`);
  const model = /\.(pth|pt)$/i.test(files.model) ? onnxFromCheckpoint(modelBytes, src.pathOf(files.model)) : modelBytes;
  const index = o.index ? await userIndex(o) : files.index ? { path: src.pathOf(files.index), bytes: await src.read(files.index, 'index', VOICE_FILES.index) } : undefined;
  const preview = files.preview ? await previewImage(src, files.preview) : undefined;
  // The exporter's companion JSON: {model}.json, else the one .json that is not voice.json.
  const jsons = src.names.filter((f) => f.toLowerCase().endsWith('.json') && f !== MANIFEST_FILE);
  const own = `${files.model.replace(/\.[^.]*$/, '')}.json`;
  const cfg = given ? undefined : jsons.includes(own) ? own : jsons.length === 1 ? jsons[0] : undefined;
  const companion = cfg ? { path: src.pathOf(cfg), bytes: await src.read(cfg, 'model config', VOICE_FILES.manifest) } : undefined;
  const retrieval = await retrievalIn(src, o, !!index);
  const diffusion = given ? undefined : await diffusionIn(src, o);
  return install({ modelPath: src.pathOf(files.model), model, given, name: o.name ?? given?.name ?? fallbackName, index, preview, companion, userName: o.name, retrieval, diffusion }, library, o);
}

type DiffusionFiles = NonNullable<VoiceParts['diffusion']>;

/**
 * The diffusion model the user named: a model_*.pt (with --diffusion-config or the diffusion.yaml beside it),
 * or an exported ONNX set by one of its files or the folder holding it (with the yaml when given or beside it).
 */
async function userDiffusion(o: ImportOptions): Promise<DiffusionFiles | undefined> {
  if (!o.diffusion) {
    if (o.diffusionConfig) throw new VoiceFormatError(`${o.diffusionConfig}: --diffusion-config goes with --diffusion <model_*.pt or exported set>`);
    return undefined;
  }
  const st = await fs.stat(o.diffusion).catch(() => null);
  const set = st?.isDirectory() ? await exportedSetIn(o.diffusion) : /\.onnx$/i.test(o.diffusion) ? o.diffusion : null;
  const beside = path.join(set && st?.isDirectory() ? o.diffusion : path.dirname(o.diffusion), 'diffusion.yaml');
  const config = o.diffusionConfig ?? beside;
  const readConfig = async () => ({ path: config, bytes: await readVoiceFile(config, 'diffusion.yaml', VOICE_FILES.manifest, false) });
  if (set) {
    // The yaml is optional for a set (its graphs give the sizes), but one named with --diffusion-config must be there.
    return { exported: await readExportedFiles(set), config: o.diffusionConfig || (await exists(config)) ? await readConfig() : null };
  }
  if (!(await exists(config))) throw new VoiceFormatError(`${o.diffusion}: no diffusion.yaml beside it; name it with --diffusion-config`);
  return {
    model: { path: o.diffusion, bytes: await readVoiceFile(o.diffusion, 'diffusion model', VOICE_FILES.model, false) },
    config: await readConfig(),
  };
}

/** The one exported set in a folder ({name}_encoder.onnx …), as a file of it. */
async function exportedSetIn(dir: string): Promise<string> {
  const names = (await fs.readdir(dir)).filter(isPlainFileName);
  const prefixes = [...new Set(names.map((f) => PART_FILE.exec(f)?.[1]).filter((p) => p !== undefined))];
  if (prefixes.length !== 1) {
    throw new VoiceFormatError(`${dir}: ${prefixes.length ? `holds several exported diffusion sets (${prefixes.join(', ')}); name one of its files` : 'holds no exported diffusion set ({name}_encoder.onnx, _denoise.onnx, _pred.onnx, _after.onnx)'} with --diffusion`);
  }
  return path.join(dir, prefixes[0]!);
}

/**
 * so-vits-svc's diffusion files as its training keeps them: model_*.pt + diffusion.yaml beside the voice, or
 * in a diffusion/ folder of a voice folder (logs/44k/diffusion); the newest model_*.pt (highest step) when
 * several are there. None when the user named one.
 */
async function diffusionIn(src: VoiceSource, o: ImportOptions): Promise<DiffusionFiles | undefined> {
  if (o.diffusion || o.diffusionConfig) return userDiffusion(o);
  const sub = path.join(src.where, 'diffusion');
  // lstat: a diffusion/ that is a link is not followed out of the voice folder (as no file of it is).
  const st = await fs.lstat(sub).catch(() => null);
  for (const s of st?.isDirectory() ? [src, await folderSource(sub)] : [src]) {
    const steps = (f: string) => Number(/^model_(\d+)\.pt$/i.exec(f)?.[1] ?? -1);
    const models = s.names.filter((f) => steps(f) >= 0).sort((a, b) => steps(b) - steps(a));
    if (!models.length || !s.names.includes('diffusion.yaml')) continue;
    return {
      model: { path: s.pathOf(models[0]!), bytes: await s.read(models[0]!, 'diffusion model', VOICE_FILES.model) },
      config: { path: s.pathOf('diffusion.yaml'), bytes: await s.read('diffusion.yaml', 'diffusion.yaml', VOICE_FILES.manifest) },
    };
  }
  return undefined;
}

/**
 * The preview as the image it really is: the UI shows it and the server sends it with an image type, so a file
 * that is no PNG, JPEG or WebP is refused, and one that is (a PNG named .jpg, as voice sites often have) keeps
 * the extension of what it is.
 */
async function previewImage(src: VoiceSource, name: string): Promise<VoiceParts['preview']> {
  const bytes = await src.read(name, 'preview image', VOICE_FILES.preview);
  const starts = (sig: number[], at = 0) => sig.every((b, i) => bytes[at + i] === b);
  const ext = starts([0x89, 0x50, 0x4e, 0x47]) ? '.png' : starts([0xff, 0xd8, 0xff]) ? '.jpg' : starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8) ? '.webp' : null;
  if (!ext) throw new VoiceFormatError(`${src.pathOf(name)}: is named as an image but is not a PNG, JPEG or WebP; remove it or replace it with the image`);
  return { ext, bytes };
}

/** so-vits-svc's retrieval files under the names its training writes (kmeans_*.pt, else feature_and_index*.pkl),
 * for a family importer that takes them; none when the user named one or an index came with the voice. */
async function retrievalIn(src: VoiceSource, o: ImportOptions, hasIndex: boolean) {
  if (o.cluster || o.index || hasIndex) return undefined;
  const kmeans = src.names.find((f) => /^kmeans.*\.pt$/i.test(f));
  const found = kmeans ?? src.names.find((f) => /^feature_and_index.*\.pkl$/i.test(f));
  if (!found) return undefined;
  return { kind: kmeans ? ('cluster' as const) : ('index' as const), path: src.pathOf(found), bytes: await src.read(found, 'retrieval file', VOICE_FILES.index) };
}

/** An RVC .pth read with the safe checkpoint reader and rebuilt as an ONNX model of the skip_head contract. */
function onnxFromCheckpoint(bytes: Uint8Array, where: string): Uint8Array {
  return buildRvcSynthesizer(parseRvcCheckpoint(readCheckpoint(bytes, where), where));
}

interface VoiceParts {
  /** Where the model came from (messages, the manifest's `source`). */
  modelPath: string;
  /** ONNX bytes (converted already when a .pth was given). */
  model: Uint8Array;
  given: RvcManifest | null;
  name: string;
  index?: { path: string; bytes: Uint8Array };
  preview?: { ext: string; bytes: Uint8Array };
  /** An exporter's JSON found beside the model (a family importer may read it). */
  companion?: { path: string; bytes: Uint8Array };
  /** The name the user gave, when they gave one. */
  userName?: string;
  /** A so-vits-svc kmeans_*.pt or feature_and_index.pkl found in a folder or zip. */
  retrieval?: { kind: 'cluster' | 'index'; path: string; bytes: Uint8Array };
  /** so-vits-svc shallow diffusion found beside the voice or named by the user. */
  diffusion?: ImportedDiffusion;
  /** so-vits-svc: the F0 decoder built from the checkpoint, for the family importer to keep. */
  f0Decoder?: Uint8Array | null;
  /** so-vits-svc: the voice's own content encoder (hubertsoft) built from its checkpoint. */
  contentEncoder?: Uint8Array | null;
  /** Files a family importer added (fixed names of its own). */
  extraFiles?: { name: string; bytes: Uint8Array }[];
}

/** The family whose importer claims this model (by its inputs), if one does; RVC's importer takes the rest. */
function claimingImporter(info: ReturnType<typeof parseOnnxInfo>): FamilyImporter | undefined {
  for (const id of familyIds()) {
    const imp = findFamily(id)?.importer;
    if (imp?.claims(info)) return imp;
  }
  return undefined;
}

async function install(p: VoiceParts, library: string, o: ImportOptions): Promise<VoiceManifest> {
  if (!p.given) {
    const info = parseOnnxInfo(p.model, p.modelPath);
    const importer = claimingImporter(info);
    if (importer) {
      if (p.index && o.cluster) throw new VoiceFormatError(`${o.cluster}: give a cluster file or an index, not both (so-vits-svc blends one of them)`);
      const cluster = o.cluster ? { kind: 'cluster' as const, path: o.cluster, bytes: await readVoiceFile(o.cluster, 'cluster file', VOICE_FILES.index, false) } : null;
      const extra: { name: string; bytes: Uint8Array }[] = [];
      const m = await importer.manifest({
        modelPath: p.modelPath, model: p.model, info, companion: p.companion ?? null, userName: p.userName, fallbackName: p.name, threads: o.threads ?? 2,
        retrieval: cluster ?? (p.index ? { kind: 'index', ...p.index } : (p.retrieval ?? null)),
        diffusion: p.diffusion ?? (await userDiffusion(o)) ?? null,
        ...(o.vocoder ? { vocoder: path.resolve(o.vocoder) } : {}),
        f0Decoder: p.f0Decoder ?? null,
        contentEncoder: p.contentEncoder ?? null,
        addFile: (name, bytes) => extra.push({ name, bytes }),
      });
      p.extraFiles = extra;
      // The family wrote what it keeps of the index (as its own files); the raw one is not the voice's.
      p.index = undefined;
      m.preview = p.preview ? `preview${p.preview.ext}` : null;
      m.source = path.resolve(p.modelPath).slice(0, 4096);
      return writeVoice(m, p, library);
    }
  }
  return installRvc(p, library, o);
}

async function installRvc(p: VoiceParts, library: string, o: ImportOptions): Promise<RvcManifest> {
  const { given, index } = p;
  if (o.cluster) throw new VoiceFormatError(`${o.cluster}: cluster files are so-vits-svc's; RVC voices retrieve from a FAISS .index (--index)`);
  if (o.diffusion || o.vocoder) throw new VoiceFormatError(`${o.diffusion ?? o.vocoder}: shallow diffusion and the vocoder stage are so-vits-svc's; ${p.modelPath} is an RVC voice`);
  const claim = given ?? claimFromMetadata(p.modelPath, p.model);
  const { info, contract, session, measuredRate } = await openSynthesizer(p.modelPath, p.model, claim, { provider: 'cpu', threads: o.threads ?? 2 });
  await session.release();
  const featureSize = (claim?.featureSize ?? contract.channels ?? 256) as 256 | 768;
  const slots = modelSpeakers(info);
  if (slots !== null && (slots < 1 || slots > MAX_SPEAKERS)) throw new VoiceFormatError(`${p.modelPath}: its speaker table claims ${slots} speakers; RVC models have 1 to ${MAX_SPEAKERS}`);
  if (given) checkSpeakers(given.speakers, info, p.modelPath);
  const speakers = given?.speakers ?? slots ?? 1;
  if (index) {
    const d = parseFaissIndex(index.bytes, index.path).d;
    if (d !== featureSize) throw new VoiceFormatError(`${index.path}: the index holds ${d}-d features, the voice uses ${featureSize}-d; it belongs to another voice`);
  }
  const name = p.name;
  const manifest: RvcManifest = {
    format: VOICE_MANIFEST_VERSION,
    id: '',
    name,
    family: 'rvc',
    contract: contract.id,
    version: featureSize === 768 ? 'v2' : 'v1',
    model: 'model.onnx',
    index: index ? 'features.index' : null,
    preview: p.preview ? `preview${p.preview.ext}` : null,
    sampleRate: measuredRate as RvcManifest['sampleRate'],
    featureSize,
    encoderLayer: featureSize === 768 ? 12 : 9,
    f0: contract.f0,
    speakers,
    defaultPitch: given?.defaultPitch ?? 0,
    source: path.resolve(p.modelPath).slice(0, 4096),
    description: given?.description ?? `${contract.f0 ? '' : 'no-f0 '}RVC ${featureSize === 768 ? 'v2' : 'v1'} voice, ${measuredRate / 1000} kHz`,
  };
  return writeVoice(manifest, p, library);
}

/** Writes a voice folder (model, index, preview, voice.json) into the library; fills in the manifest's id. */
async function writeVoice<M extends VoiceManifest & { index?: string | null }>(manifest: M, p: VoiceParts, library: string): Promise<M> {
  const { index } = p;
  // Written into a staging folder inside the library and renamed, so the library never holds half a voice;
  // every name written is fixed here or a slug, so nothing lands outside the library.
  const fail = (e: unknown) =>
    e instanceof UserError ? e : new VoiceFormatError(`${library}: cannot write the voice into the library (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  await fs.mkdir(library, { recursive: true }).catch((e) => {
    throw fail(e);
  });
  const staging = await fs.mkdtemp(path.join(library, '.import-')).catch((e) => {
    throw fail(e);
  });
  try {
    await fs.writeFile(path.join(staging, manifest.model), p.model);
    if (index) await fs.writeFile(path.join(staging, manifest.index!), index.bytes);
    if (p.preview) await fs.writeFile(path.join(staging, manifest.preview!), p.preview.bytes);
    for (const f of p.extraFiles ?? []) await fs.writeFile(path.join(staging, f.name), f.bytes);
    // lstat, not stat: a dangling link under the id is taken, not overwritten.
    for (let i = 1; ; i++) {
      manifest.id = i === 1 ? slug(manifest.name) : `${slug(manifest.name)}-${i}`;
      if (!(await fs.lstat(path.join(library, manifest.id)).then(() => true, () => false))) break;
    }
    await fs.writeFile(path.join(staging, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
    await fs.rename(staging, path.join(library, manifest.id));
  } catch (e) {
    await fs.rm(staging, { recursive: true, force: true });
    throw fail(e);
  }
  return manifest;
}

/** What the exporter's metadata says; null claims leave the rate to be measured. */
function claimFromMetadata(file: string, bytes: Uint8Array) {
  const meta = readExportMetadata(parseOnnxInfo(bytes, file), file);
  if (!meta) return null;
  const rate = meta.samplingRate;
  if (rate !== undefined && !(RVC_RATES as readonly number[]).includes(rate)) {
    throw new ContractError(`${file}: its metadata gives samplingRate ${rate}; RVC voices run at 32000, 40000 or 48000 Hz`);
  }
  return {
    sampleRate: rate ?? 48000,
    featureSize: meta.embChannels ?? 256,
    f0: meta.f0 ?? true,
  };
}
