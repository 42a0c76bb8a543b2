// Opens a voice folder: voice.json checked against the model itself (contract, feature size, and the rate
// the model really renders at), the content encoder checked against the voice, the index against both.
// Everything is loaded before anything is returned, so a failure leaves the running voice untouched.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { VoiceManifest } from '../../protocol/voice-manifest.js';
import { readFaissIndex } from '../index/faiss-ivf.js';
import { parseOnnxInfo } from '../onnx/model-info.js';
import { ContentEncoder } from '../rvc/content-encoder.js';
import { detectContract } from '../rvc/contracts.js';
import { RvcVoice } from '../rvc/rvc-voice.js';
import { Synthesizer } from '../rvc/synthesizer.js';
import { loadSession, type LoadedSession } from '../runtime.js';
import { readManifest, VoiceFormatError } from './manifest.js';

export interface LoadVoiceOptions {
  /** Content encoder ONNX file (from the catalogue, or the user's --encoder). */
  encoder: string;
  threads?: number;
}

export interface LoadedVoice {
  manifest: VoiceManifest;
  stage: RvcVoice;
  /** Things the user should know (formant unsupported by this contract, accelerator fallback). */
  notes: string[];
  release(): Promise<void>;
}

export async function readModelBytes(file: string): Promise<Uint8Array> {
  try {
    return await fs.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new VoiceFormatError(code === 'ENOENT' ? `${file}: the voice's model file is missing; import the voice again` : `${file}: cannot read (${(e as Error).message})`);
  }
}

/** Opens the synthesizer of a voice and checks it against what voice.json (or the importer) claims. */
export async function openSynthesizer(file: string, bytes: Uint8Array, claim: { sampleRate: number; featureSize: number; f0: boolean } | null, threads = 2) {
  const info = parseOnnxInfo(bytes, file);
  const contract = detectContract(info, file);
  const channels = claim?.featureSize ?? contract.channels ?? 256;
  if (contract.channels !== null && contract.channels !== channels) {
    throw new VoiceFormatError(`${file}: the model takes ${contract.channels}-d features, but voice.json says featureSize ${channels}; fix voice.json or import the voice again`);
  }
  if (claim && claim.f0 !== contract.f0) {
    throw new VoiceFormatError(`${file}: the model ${contract.f0 ? 'takes' : 'takes no'} pitch inputs, but voice.json says f0 ${claim.f0}; fix voice.json or import the voice again`);
  }
  const session: LoadedSession = await loadSession(bytes, { threads, name: file });
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

export async function loadVoice(dir: string, o: LoadVoiceOptions): Promise<LoadedVoice> {
  const manifest = await readManifest(dir);
  const modelFile = path.join(dir, manifest.model);
  const bytes = await readModelBytes(modelFile);
  const { synth, session, contract } = await openSynthesizer(modelFile, bytes, manifest, o.threads);
  const opened: { release(): Promise<void> }[] = [session];
  try {
    if (contract.id !== manifest.contract) {
      throw new VoiceFormatError(`${modelFile}: the model has the ${contract.id} contract, but voice.json says ${manifest.contract}; import the voice again`);
    }
    const encoder = await ContentEncoder.load(o.encoder, { channels: manifest.featureSize, layer: manifest.encoderLayer }, { threads: o.threads });
    opened.push(encoder);
    let index = null;
    if (manifest.index) {
      index = await readFaissIndex(path.join(dir, manifest.index));
      if (index.d !== manifest.featureSize) {
        throw new VoiceFormatError(`${path.join(dir, manifest.index)}: the index holds ${index.d}-d features, the voice uses ${manifest.featureSize}-d; it belongs to another voice`);
      }
    }
    const stage = new RvcVoice({ id: manifest.id, encoder, synth, index, speakers: manifest.speakers });
    const notes: string[] = [];
    if (session.providerNote) notes.push(session.providerNote);
    return {
      manifest,
      stage,
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
