// Opens a voice folder: voice.json checked against the model itself (contract, feature size, and the rate
// the model really renders at), the content encoder checked against the voice, the index against both.
// Everything is loaded before anything is returned, so a failure leaves the running voice untouched.
import path from 'node:path';
import type { Limit } from '../archive/limit.js';
import { parseFaissIndex } from '../index/faiss-ivf.js';
import { type OnnxModelInfo, parseOnnxInfo } from '../onnx/model-info.js';
import { readRegularFile } from '../regular-file.js';
import { ContentEncoder } from '../rvc/content-encoder.js';
import { detectContract } from '../rvc/contracts.js';
import { RvcVoice } from '../rvc/rvc-voice.js';
import { Synthesizer } from '../rvc/synthesizer.js';
import { loadSession, type LoadedSession } from '../runtime.js';
import { DEFAULT_RUNTIME, type NetworkPlacement, type RuntimeOptions } from '../../protocol/runtime.js';
import { asRvcManifest, type RvcManifest } from '../families/rvc/manifest.js';
import { readManifest, VoiceFormatError } from './manifest.js';
import { VOICE_FILES } from './voice-limits.js';

export interface LoadVoiceOptions {
  /** Content encoder ONNX file (from the catalogue, or the user's --encoder). */
  encoder: string;
  /** Provider and threads for the encoder and the synthesizer (voice.json's provider applies under 'auto'). */
  runtime?: RuntimeOptions;
  /** voice.json as already read and checked (the host reads it to pick the family); default: read from `dir`. */
  manifest?: RvcManifest;
}

export interface LoadedVoice {
  manifest: RvcManifest;
  stage: RvcVoice;
  /** Where each network runs. */
  placement: NetworkPlacement[];
  /** Things the user should know (formant unsupported by this contract, accelerator fallback). */
  notes: string[];
  release(): Promise<void>;
}

/**
 * Reads one of a voice's files, only if it is a regular file within its budget. `inFolder`: the file was found
 * inside a voice folder (not named by the user), so a link is refused rather than followed.
 */
export async function readVoiceFile(file: string, what: string, limit: Limit, inFolder: boolean): Promise<Uint8Array> {
  return readRegularFile(file, {
    what,
    limit,
    noFollow: inFolder,
    fail: (m, problem) => new VoiceFormatError(problem === 'missing' && inFolder ? `${file}: the voice's ${what} is missing; import the voice again` : m),
  });
}

export async function readModelBytes(file: string, inFolder = false): Promise<Uint8Array> {
  return readVoiceFile(file, 'model file', VOICE_FILES.model, inFolder);
}

/** Speaker slots in the model (rows of its speaker embedding), when it has one. */
export function modelSpeakers(info: OnnxModelInfo): number | null {
  const emb = info.initializers['emb_g.weight'];
  return emb && emb.length === 2 ? emb[0]! : null;
}

/** voice.json may not name more speakers than the model has slots: the rest would index past its embedding. */
export function checkSpeakers(claimed: number, info: OnnxModelInfo, file: string): void {
  const slots = modelSpeakers(info);
  if (slots !== null && claimed > slots) {
    throw new VoiceFormatError(`${file}: voice.json says "speakers": ${claimed}, but the model has ${slots}; fix voice.json or import the voice again`);
  }
}

/** Opens the synthesizer of a voice and checks it against what voice.json (or the importer) claims. */
export async function openSynthesizer(
  file: string,
  bytes: Uint8Array,
  claim: { sampleRate: number; featureSize: number; f0: boolean } | null,
  runtime: RuntimeOptions = { provider: 'cpu', threads: DEFAULT_RUNTIME.threads },
) {
  const info = parseOnnxInfo(bytes, file);
  const contract = detectContract(info, file);
  const channels = claim?.featureSize ?? contract.channels ?? 256;
  if (contract.channels !== null && contract.channels !== channels) {
    throw new VoiceFormatError(`${file}: the model takes ${contract.channels}-d features, but voice.json says featureSize ${channels}; fix voice.json or import the voice again`);
  }
  if (claim && claim.f0 !== contract.f0) {
    throw new VoiceFormatError(`${file}: the model ${contract.f0 ? 'takes' : 'takes no'} pitch inputs, but voice.json says f0 ${claim.f0}; fix voice.json or import the voice again`);
  }
  const session: LoadedSession = await loadSession(bytes, { ...runtime, name: file });
  try {
    const probe = new Synthesizer(session, contract, claim?.sampleRate ?? 48000, channels);
    const measured = await probe.measureRate();
    if (claim && measured !== claim.sampleRate) {
      throw new VoiceFormatError(`${file}: voice.json says sampleRate ${claim.sampleRate} Hz, but the model renders ${measured} samples per second of frames; set "sampleRate": ${measured} in voice.json or import the voice again`);
    }
    return { info, contract, session, synth: new Synthesizer(session, contract, measured, channels), measuredRate: measured };
  } catch (e) {
    await session.release();
    throw e;
  }
}

/** The runtime a voice's networks get: an explicit choice is the user's; under 'auto' voice.json may name where it runs. */
export function voiceRuntime(asked: RuntimeOptions, voiceProvider: RuntimeOptions['provider'] | undefined): RuntimeOptions {
  return asked.provider === 'auto' && voiceProvider ? { ...asked, provider: voiceProvider } : asked;
}

/**
 * Where an encoder + synthesizer voice runs, and what its load has to say: the same missing accelerator is one
 * warning, not one per network, and a voice.json that placed the voice says so.
 */
export function encoderSynthPlacement(
  encoder: { provider: NetworkPlacement['provider']; placementNote: string | null; providerNote: string | null },
  session: LoadedSession,
  voice: { name: string; runtime: RuntimeOptions; asked: RuntimeOptions },
): { placement: NetworkPlacement[]; notes: string[] } {
  const placement: NetworkPlacement[] = [
    { network: 'content encoder', provider: encoder.provider, note: encoder.placementNote },
    { network: 'synthesizer', provider: session.provider, note: session.placementNote },
  ];
  const notes = [...new Set([encoder.providerNote, session.providerNote].filter((n): n is string => n !== null))];
  if (voice.runtime !== voice.asked) notes.push(`${voice.name}: voice.json runs this voice on ${voice.runtime.provider}`);
  return { placement, notes };
}

export async function loadVoice(dir: string, o: LoadVoiceOptions): Promise<LoadedVoice> {
  const manifest = o.manifest ?? asRvcManifest(await readManifest(dir), dir);
  const modelFile = path.join(dir, manifest.model);
  const bytes = await readModelBytes(modelFile, true);
  const asked = o.runtime ?? DEFAULT_RUNTIME;
  const runtime = voiceRuntime(asked, manifest.provider);
  const { synth, session, contract, info } = await openSynthesizer(modelFile, bytes, manifest, runtime);
  const opened: { release(): Promise<void> }[] = [session];
  try {
    checkSpeakers(manifest.speakers, info, modelFile);
    if (contract.id !== manifest.contract) {
      throw new VoiceFormatError(`${modelFile}: the model has the ${contract.id} contract, but voice.json says ${manifest.contract}; import the voice again`);
    }
    const encoder = await ContentEncoder.load(o.encoder, { channels: manifest.featureSize, layer: manifest.encoderLayer }, runtime);
    opened.push(encoder);
    let index = null;
    if (manifest.index) {
      const indexFile = path.join(dir, manifest.index);
      index = parseFaissIndex(await readVoiceFile(indexFile, 'index', VOICE_FILES.index, true), indexFile);
      if (index.d !== manifest.featureSize) {
        throw new VoiceFormatError(`${indexFile}: the index holds ${index.d}-d features, the voice uses ${manifest.featureSize}-d; it belongs to another voice`);
      }
    }
    const stage = new RvcVoice({ id: manifest.id, encoder, synth, index, speakers: manifest.speakers });
    const { placement, notes } = encoderSynthPlacement(encoder, session, { name: manifest.name, runtime, asked });
    return {
      manifest,
      stage,
      placement,
      notes,
      release: async () => {
        for (const r of opened) await r.release();
      },
    };
  } catch (e) {
    for (const r of opened) await r.release();
    throw e;
  }
}
