// Opens a so-vits-svc voice (load) or a model being imported (probe): the form is read from the graph's
// inputs, checked against voice.json or the exporter's .json, and the model is rendered once to measure its
// hop before anything is returned, so a file that would not run is refused at the door.
import path from 'node:path';
import { DEFAULT_RUNTIME, type RuntimeOptions } from '../../../protocol/runtime.js';
import { VOICE_MANIFEST_VERSION } from '../../../protocol/voice-manifest.js';
import { DIFFUSION_STAGE, VOCODER_STAGE } from '../../../protocol/stage-preview.js';
import { type OnnxModelInfo, parseOnnxInfo } from '../../onnx/model-info.js';
import { ContentEncoder } from '../../rvc/content-encoder.js';
import { loadSession } from '../../runtime.js';
import { MAX_SPEAKERS, VoiceFormatError } from '../../voices/manifest-fields.js';
import { encoderSynthPlacement, modelSpeakers, readModelBytes, voiceRuntime } from '../../voices/load-voice.js';
import type { FamilyImportSource, FamilyLoadOptions, LoadedFamilyVoice } from '../family.js';
import { encoderFor } from '../rvc/encoder.js';
import { parseSovitsConfig, type SovitsConfig } from './config.js';
import { detectSovitsForm, formVersion, type SovitsForm, SovitsFormError } from './forms.js';
import { DEFAULT_NOISE_SCALE, type SovitsDiffusionExported, type SovitsManifest, type SovitsRetrieval } from './manifest.js';
import { retrievalForSpeakers } from './retrieval-files.js';
import { F0_DECODER_FILE, SovitsF0Predictor } from './f0-predictor.js';
import { SovitsSynth } from './synthesizer.js';
import { SovitsVoice } from './voice.js';
import { readFaissIndex } from '../../index/faiss-ivf.js';
import { type DiffusionSessions, type DiffusionShape, loadDiffusion, loadExportedDiffusion } from '../../diffusion/diffusion.js';
import { type DiffusionConfig, parseDiffusionConfig, readDiffusionConfig } from '../../diffusion/config.js';
import { EXPORTED_PARTS, exportedDiffusionFrom, readExportedDiffusion } from '../../diffusion/exported.js';
import { diffusionModelFrom, readDiffusionModel } from '../../diffusion/model.js';
import { readCheckpoint } from '../../torch/checkpoint.js';
import { Vocoder } from '../../vocoder/vocoder.js';
import { checkDiffusionFits, checkVocoderFits, SovitsRefiner } from './refiner.js';
import type { FeatureIndex } from '../../index/feature-index.js';

/** Every so-vits-svc 4.x config trains at 44.1 kHz with a 512 hop (86.13 frames a second). */
export const SOVITS_RATE = 44100;
export const SOVITS_HOP = 512;
/** Where a voice that brings its own content encoder (hubertsoft) keeps it. */
export const CONTENT_ENCODER_FILE = 'content-encoder.onnx';

/** Speakers the model has: the mix input's width, else its speaker table's rows; null when neither says. */
function graphSpeakers(form: SovitsForm, info: OnnxModelInfo): number | null {
  return form.mixSpeakers ?? modelSpeakers(info);
}

/** Opens the synthesizer and measures its hop; the session is the caller's to release. */
async function openSynth(file: string, bytes: Uint8Array, form: SovitsForm, channels: number, speakers: number, runtime: RuntimeOptions) {
  const session = await loadSession(bytes, { ...runtime, name: file });
  try {
    const synth = new SovitsSynth(session, form, channels, form.speakerInput === 'mix' ? speakers : 1);
    const hop = await synth.measureHop();
    if (!Number.isInteger(hop) || hop < 64 || hop > 4096) throw new SovitsFormError(`${file}: renders ${hop} samples per frame; so-vits-svc models render 512`);
    return { session, synth, hop };
  } catch (e) {
    await session.release();
    throw e;
  }
}

export async function importSovits(src: FamilyImportSource): Promise<SovitsManifest> {
  const file = src.modelPath;
  const form = detectSovitsForm(src.info, file);
  const config: SovitsConfig | null = src.companion ? parseSovitsConfig(src.companion.bytes, src.companion.path) : null;
  let featureSize: 256 | 768;
  let encoderLayer: 9 | 12;
  if (config) {
    ({ featureSize, encoderLayer } = config);
    if (form.channels !== null && form.channels !== featureSize) {
      throw new SovitsFormError(`${file}: the model takes ${form.channels}-d features, but ${src.companion!.path} says ${featureSize}-d; they belong to different voices`);
    }
  } else {
    if (form.channels !== 256 && form.channels !== 768) {
      throw new SovitsFormError(`${file}: the model's features are ${form.channels ?? 'of open size'}, and no .json beside it names the encoder; put the exporter's ${path.basename(file, '.onnx')}.json beside it`);
    }
    featureSize = form.channels;
    encoderLayer = featureSize === 768 ? 12 : 9;
  }
  const slots = graphSpeakers(form, src.info);
  const named = config?.speakers.length ? config.speakers.length : null;
  if (named !== null && slots !== null && named > slots) throw new SovitsFormError(`${file}: ${src.companion!.path} names ${named} speakers, the model has ${slots}`);
  const speakers = named ?? slots ?? 1;
  if (speakers < 1 || speakers > MAX_SPEAKERS) throw new SovitsFormError(`${file}: claims ${speakers} speakers; so-vits-svc models have 1 to ${MAX_SPEAKERS}`);
  const { session, hop } = await openSynth(file, src.model, form, featureSize, speakers, { provider: 'cpu', threads: src.threads });
  await session.release();
  // The rate: the exporter's .json says it; without it every so-vits-svc 4.x model is 44.1 kHz at hop 512,
  // and a model that renders another hop is refused rather than played at a guessed speed.
  if (config && config.hop !== hop) throw new SovitsFormError(`${file}: renders ${hop} samples per frame, but ${src.companion!.path} says Hop ${config.hop}`);
  if (!config && hop !== SOVITS_HOP) {
    throw new SovitsFormError(`${file}: renders ${hop} samples per frame, not so-vits-svc's 512, so its rate cannot be assumed to be 44100 Hz; put the exporter's ${path.basename(file, '.onnx')}.json (with Rate and Hop) beside it`);
  }
  const rate = config?.rate ?? SOVITS_RATE;
  const name = src.userName ?? config?.name ?? src.fallbackName;
  let retrieval: SovitsRetrieval | null = null;
  if (src.retrieval) {
    // Checked against the model (speakers, feature size) before anything is written; one file per speaker.
    const names = config && config.speakers.length === speakers ? config.speakers : null;
    const perSpeaker = retrievalForSpeakers(src.retrieval, { count: speakers, names, featureSize });
    const files = perSpeaker.map((bytes, i) => {
      const f = `${src.retrieval!.kind}-${i}.index`;
      src.addFile(f, bytes);
      return f;
    });
    retrieval = { kind: src.retrieval.kind, files };
  }
  let diffusion: SovitsManifest['diffusion'] = null;
  if (src.diffusion) {
    const d = src.diffusion;
    let yaml: DiffusionConfig | undefined;
    if (d.config) {
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(d.config.bytes);
      } catch {
        throw new SovitsFormError(`${d.config.path} is not UTF-8 text; a diffusion.yaml is`);
      }
      yaml = parseDiffusionConfig(text, d.config.path);
    }
    if ('exported' in d) {
      const where = d.exported.denoise?.path ?? d.exported.encoder?.path ?? 'the exported diffusion set';
      const set = exportedDiffusionFrom(d.exported, yaml ? { config: yaml } : {});
      checkDiffusionFits(set, { featureSize, speakers, sampleRate: rate, hop }, where);
      if (src.vocoder) await checkVocoderFile(set, src.vocoder, rate, src.threads);
      // Opened once: _after and _pred are checked against the normalisation and schedule Resona runs them with.
      await (await loadExportedDiffusion(set, { provider: 'cpu', threads: src.threads })).release();
      const exported: Record<string, string> = {};
      for (const part of EXPORTED_PARTS) {
        const f = d.exported[part];
        if (!f) continue;
        exported[part] = `diffusion_${part}.onnx`;
        src.addFile(exported[part], f.bytes);
      }
      if (d.config) src.addFile('diffusion.yaml', d.config.bytes);
      diffusion = { exported: exported as SovitsDiffusionExported['exported'], config: d.config ? 'diffusion.yaml' : null };
    } else {
      const model = diffusionModelFrom(readCheckpoint(d.model.bytes, d.model.path), yaml!, d.model.path);
      checkDiffusionFits(model, { featureSize, speakers, sampleRate: rate, hop }, d.model.path);
      if (src.vocoder) await checkVocoderFile(model, src.vocoder, rate, src.threads);
      src.addFile('diffusion.pt', d.model.bytes);
      src.addFile('diffusion.yaml', d.config.bytes);
      diffusion = { model: 'diffusion.pt', config: 'diffusion.yaml' };
    }
  }
  // A G_*.pth trained with use_automatic_f0_prediction comes with its F0 decoder, opened once to be sure it runs here.
  if (src.f0Decoder) {
    const s = await loadSession(src.f0Decoder, { provider: 'cpu', threads: src.threads, name: `${file} (F0 decoder)` });
    try {
      new SovitsF0Predictor(s, `${file} (F0 decoder)`, form.vol);
    } finally {
      await s.release();
    }
    src.addFile(F0_DECODER_FILE, src.f0Decoder);
  }
  // A hubertsoft voice's own encoder, opened once: it must give the voice's feature size (ContentEncoder checks).
  if (src.contentEncoder) {
    const e = await ContentEncoder.load(src.contentEncoder, { channels: featureSize, layer: encoderLayer }, { provider: 'cpu', threads: src.threads, name: `${file} (content encoder)` });
    await e.release();
    src.addFile(CONTENT_ENCODER_FILE, src.contentEncoder);
  }
  return {
    format: VOICE_MANIFEST_VERSION,
    id: '',
    name,
    family: 'sovits',
    contract: form.id,
    model: 'model.onnx',
    preview: null,
    sampleRate: rate,
    hop,
    featureSize,
    encoderLayer,
    vol: form.vol,
    speakerMix: form.speakerInput === 'mix',
    noiseScale: DEFAULT_NOISE_SCALE,
    f0: true,
    speakers,
    defaultPitch: 0,
    source: '',
    description: `so-vits-svc ${formVersion(form.id)} voice, ${rate / 1000} kHz, ${featureSize}-d layer-${encoderLayer} features${retrieval ? `, with ${retrieval.kind === 'cluster' ? 'cluster centres' : 'feature index'}` : ''}${src.contentEncoder ? ', with its own HuBERT-Soft encoder' : ''}`,
    ...(retrieval ? { retrieval } : {}),
    ...(diffusion ? { diffusion } : {}),
    ...(src.vocoder ? { vocoder: src.vocoder } : {}),
    ...(src.f0Decoder ? { f0Decoder: F0_DECODER_FILE } : {}),
    ...(src.contentEncoder ? { contentEncoder: CONTENT_ENCODER_FILE } : {}),
  };
}

/** Opens the user's vocoder once to check it renders the diffusion model's mel (import time). */
async function checkVocoderFile(model: DiffusionShape, file: string, rate: number, threads: number): Promise<void> {
  const v = await Vocoder.load(file, { provider: 'cpu', threads });
  try {
    checkVocoderFits(model, v, rate, file);
  } finally {
    await v.release();
  }
}

/** The diffusion model and vocoder after the synthesizer, when voice.json names both; null otherwise. */
async function loadRefiner(dir: string, m: SovitsManifest, runtime: RuntimeOptions): Promise<SovitsRefiner | null> {
  if (!m.diffusion || !m.vocoder) return null;
  const at = (f: string) => (path.isAbsolute(f) ? f : path.join(dir, f));
  const d = m.diffusion;
  let model: DiffusionShape;
  let where: string;
  let open: () => Promise<DiffusionSessions>;
  if ('exported' in d) {
    const files = Object.fromEntries(Object.entries(d.exported).map(([part, f]) => [part, at(f)]));
    const set = await readExportedDiffusion(files, d.config ? { config: await readDiffusionConfig(at(d.config)) } : {});
    [model, where] = [set, files['denoise']!];
    open = () => loadExportedDiffusion(set, runtime);
  } else {
    const pt = await readDiffusionModel(at(d.model), at(d.config));
    [model, where] = [pt, at(d.model)];
    open = () => loadDiffusion(pt, runtime);
  }
  checkDiffusionFits(model, m, where);
  const vocoder = await Vocoder.load(m.vocoder, runtime);
  try {
    checkVocoderFits(model, vocoder, m.sampleRate, m.vocoder);
    return new SovitsRefiner(await open(), vocoder);
  } catch (e) {
    await vocoder.release();
    throw e;
  }
}

/** Each speaker's retrieval index, checked against the voice's features. */
async function loadRetrieval(dir: string, m: SovitsManifest): Promise<FeatureIndex[]> {
  const out: FeatureIndex[] = [];
  for (const name of m.retrieval!.files) {
    const file = path.join(dir, name);
    const index = await readFaissIndex(file);
    if (index.d !== m.featureSize) throw new VoiceFormatError(`${file}: holds ${index.d}-d features, but the voice takes ${m.featureSize}-d; import the voice again`);
    out.push(index);
  }
  return out;
}

export async function loadSovits(dir: string, m: SovitsManifest, o: FamilyLoadOptions): Promise<LoadedFamilyVoice> {
  const file = path.join(dir, m.model);
  const bytes = await readModelBytes(file, true);
  const asked = o.runtime ?? DEFAULT_RUNTIME;
  const runtime = voiceRuntime(asked, m.provider);
  const info = parseOnnxInfo(bytes, file);
  const form = detectSovitsForm(info, file);
  const again = (why: string) => new VoiceFormatError(`${file}: ${why}; import the voice again`);
  if (form.id !== m.contract) throw again(`the model has the ${form.id} form, but voice.json says ${m.contract}`);
  if (form.channels !== null && form.channels !== m.featureSize) throw again(`the model takes ${form.channels}-d features, but voice.json says featureSize ${m.featureSize}`);
  if (form.vol !== m.vol) throw again(`the model ${form.vol ? 'takes' : 'takes no'} loudness (vol), but voice.json says vol ${m.vol}`);
  if ((form.speakerInput === 'mix') !== m.speakerMix) throw again(`the model's sid is ${form.speakerInput === 'mix' ? 'mix weights' : 'an id'}, but voice.json says speakerMix ${m.speakerMix}`);
  const slots = graphSpeakers(form, info);
  if (slots !== null && m.speakers > slots) throw again(`voice.json says "speakers": ${m.speakers}, but the model has ${slots}`);
  const { session, synth, hop } = await openSynth(file, bytes, form, m.featureSize, m.speakers, runtime);
  const opened: { release(): Promise<void> }[] = [session];
  try {
    if (hop !== m.hop) throw again(`the model renders ${hop} samples per frame, but voice.json says hop ${m.hop}`);
    // A voice with its own encoder (hubertsoft) runs it, whatever the shared one is: it was trained on its units.
    const own = m.contentEncoder ? path.join(dir, m.contentEncoder) : null;
    const source = own ? await readModelBytes(own, true) : (o.encoder ?? (await encoderFor(m)));
    const encoder = await ContentEncoder.load(source, { channels: m.featureSize, layer: m.encoderLayer }, own ? { ...runtime, name: own } : runtime);
    opened.push(encoder);
    const retrieval = m.retrieval ? { kind: m.retrieval.kind, indexes: await loadRetrieval(dir, m) } : null;
    const refiner = await loadRefiner(dir, m, runtime);
    if (refiner) opened.push(refiner);
    let f0Predictor: SovitsF0Predictor | null = null;
    if (m.f0Decoder) {
      const f = path.join(dir, m.f0Decoder);
      const s = await loadSession(await readModelBytes(f, true), { ...runtime, name: f });
      opened.push(s);
      f0Predictor = new SovitsF0Predictor(s, f, m.vol);
    }
    const stage = new SovitsVoice({ id: m.id, encoder, synth, rate: m.sampleRate, hop, speakers: m.speakers, retrieval, f0Predictor, refiner });
    const { placement, notes } = encoderSynthPlacement(encoder, session, { name: m.name, runtime, asked });
    if (refiner) {
      // The diffusion stage runs two sessions (condition encoder once, denoiser per pass): the denoiser's placement is the stage's.
      const d = refiner.diffusion.denoiser;
      const v = refiner.vocoder.session;
      placement.push({ network: DIFFUSION_STAGE, provider: d.provider, note: d.placementNote }, { network: VOCODER_STAGE, provider: v.provider, note: v.placementNote });
      for (const n of [d.providerNote, v.providerNote]) if (n && !notes.includes(n)) notes.push(n);
    }
    return {
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
