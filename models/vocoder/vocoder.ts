// The vocoder stage: one ONNX session that turns the natural-log mel of ./mel.ts and f0 into audio, whichever
// file the user pointed to:
//   - an openvpi NSF-HiFiGAN checkpoint (the `generator` state dict, read by the safe checkpoint reader, with
//     the config.json beside it), built into Resona's graph by ./nsf-hifigan.ts;
//   - an exported ONNX vocoder, recognised by its inputs: a mel named `mel` or `c` (MoeVS form), [1, bands, T]
//     or [1, T, bands], and `f0` [1, T]; its first output is the audio ([1, 1, L], [1, L] or [L]).
// The weights in circulation are CC BY-NC-SA: Resona never bundles or downloads them.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readCheckpointFile, stateDict } from '../torch/checkpoint.js';
import { type OnnxModelInfo, parseOnnxInfo } from '../onnx/model-info.js';
import { readRegularFile } from '../regular-file.js';
import { loadSession, type LoadedSession, ReusableTensor, type RuntimeOptions } from '../runtime.js';
import { buildNsfHifigan, type NsfHifiganConfig, parseVocoderConfig, VocoderError, type VocoderBuildOptions, VOCODER_NOISE } from './nsf-hifigan.js';
import { fillNormal } from '../families/sovits/frames.js';
import { mulberry32 } from '../random.js';
import { VOCODER_MEL } from './mel.js';
import { VOICE_FILES } from '../voices/voice-limits.js';

export { VocoderError } from './nsf-hifigan.js';

/** How an ONNX vocoder takes its inputs. */
export interface VocoderContract {
  mel: string;
  /** 'bands-first': [1, bands, T] (Resona's, MoeVS); 'frames-first': [1, T, bands] (DiffSinger's export). */
  layout: 'bands-first' | 'frames-first';
  bands: number;
  f0: string;
  output: string;
  /** Resona's graph (../vocoder/nsf-hifigan.ts): the source's N(0, 1) noise [1, ≥ T·hop, channels], fed per run; null: drawn in the graph or none. */
  noise: string | null;
  noiseChannels: number;
  /** Resona's graph: the harmonics' U[0, 1) initial phases [1, 1, noiseChannels], fed per run; null when it has none. */
  phase: string | null;
}

const fmt = (d: readonly (number | string)[]) => `[${d.join(', ')}]`;

/** The contract of an ONNX vocoder from its declared inputs, or a VocoderError saying what it lacks. */
export function detectVocoderContract(info: Pick<OnnxModelInfo, 'inputs' | 'outputs'>, name: string): VocoderContract {
  const names = info.inputs.map((i) => i.name).join(', ') || 'none';
  const mel = info.inputs.find((i) => i.name === 'mel' || i.name === 'c');
  const f0 = info.inputs.find((i) => i.name === 'f0');
  const noise = info.inputs.find((i) => i.name === VOCODER_NOISE.noise);
  const phase = info.inputs.find((i) => i.name === VOCODER_NOISE.phase);
  if (!mel || !f0 || info.inputs.length !== 2 + (noise ? 1 : 0) + (phase ? 1 : 0) || (phase && !noise)) {
    throw new VocoderError(`${name}: not a vocoder Resona can run: it takes ${names}; an NSF-HiFiGAN vocoder takes a mel ("mel" or "c") and "f0" (and in Resona's own graph its source noise "${VOCODER_NOISE.noise}" and phases "${VOCODER_NOISE.phase}")`);
  }
  if (mel.type !== 'float32' || f0.type !== 'float32') throw new VocoderError(`${name}: its mel and f0 inputs must be float32 (they are ${mel.type} and ${f0.type})`);
  if (mel.dims.length !== 3 || f0.dims.length !== 2) throw new VocoderError(`${name}: mel ${fmt(mel.dims)} and f0 ${fmt(f0.dims)}: [1, bands, T] (or [1, T, bands]) and [1, T] expected`);
  const fixed = (d: number | string) => typeof d === 'number' && d > 0;
  // The band count is the fixed axis; the frame axis is symbolic (or 0, "any").
  const layout = fixed(mel.dims[1]!) && !fixed(mel.dims[2]!) ? 'bands-first' : fixed(mel.dims[2]!) && !fixed(mel.dims[1]!) ? 'frames-first' : null;
  if (!layout) throw new VocoderError(`${name}: cannot tell the band axis of its mel input ${fmt(mel.dims)}: one axis must be the band count, the other open`);
  const bands = Number(layout === 'bands-first' ? mel.dims[1] : mel.dims[2]);
  if (bands !== VOCODER_MEL.bands) throw new VocoderError(`${name}: takes ${bands} mel bands; Resona's vocoder mel has ${VOCODER_MEL.bands} (openvpi's 44.1 kHz NSF-HiFiGAN)`);
  const output = info.outputs[0]?.name;
  if (!output) throw new VocoderError(`${name}: declares no output`);
  const channels = noise?.dims[2];
  if (noise && (noise.type !== 'float32' || noise.dims.length !== 3 || typeof channels !== 'number' || channels < 1)) {
    throw new VocoderError(`${name}: its noise input "${noise.name}" ${noise.type} ${fmt(noise.dims)}: float32 [1, samples, channels] with a fixed channel count expected`);
  }
  if (phase && (phase.type !== 'float32' || fmt(phase.dims) !== fmt([1, 1, channels!]))) {
    throw new VocoderError(`${name}: its phase input "${phase.name}" ${phase.type} ${fmt(phase.dims)}: float32 [1, 1, ${channels}] expected`);
  }
  return { mel: mel.name, layout, bands, f0: f0.name, output, noise: noise?.name ?? null, noiseChannels: noise ? (channels as number) : 0, phase: phase?.name ?? null };
}

/** An openvpi checkpoint's generator and config.json (the one beside it unless given). */
export async function readVocoderCheckpoint(file: string, configFile = path.join(path.dirname(file), 'config.json')): Promise<{ weights: ReturnType<typeof stateDict>; config: NsfHifiganConfig }> {
  // The checkpoint first: a file that is not one is told so, rather than asked for a config.json.
  const weights = stateDict(await readCheckpointFile(file), 'generator');
  let text: string;
  try {
    text = await readFile(configFile, 'utf8');
  } catch {
    throw new VocoderError(`${file}: the vocoder's config.json was not found at ${configFile}; put the config.json that came with the checkpoint beside it`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new VocoderError(`${configFile}: not valid JSON (${(e as Error).message})`);
  }
  const config = parseVocoderConfig(json, configFile);
  return { weights, config };
}

const ONNX_MAGIC_HINT = /\.onnx$/i;

/** ONNX bytes for the file the user pointed to: an .onnx as it is, a checkpoint built into Resona's graph. */
export async function vocoderBytes(file: string, o: VocoderBuildOptions = {}): Promise<Uint8Array> {
  if (ONNX_MAGIC_HINT.test(file)) return readRegularFile(file, { what: 'vocoder ONNX file', limit: VOICE_FILES.vocoder, fail: (m) => new VocoderError(m) });
  const { weights, config } = await readVocoderCheckpoint(file);
  // The mel front end is fixed (./mel.ts): a vocoder trained on another rate, hop or band count would get a mel it never saw.
  const m = VOCODER_MEL;
  if (config.sampling_rate !== m.rate || config.hop_size !== m.hop || config.num_mels !== m.bands) {
    throw new VocoderError(`${file}: a ${config.sampling_rate} Hz, hop ${config.hop_size}, ${config.num_mels}-band vocoder; Resona's vocoder stage runs openvpi's ${m.rate} Hz, hop ${m.hop}, ${m.bands}-band NSF-HiFiGAN`);
  }
  return buildNsfHifigan(weights, config, o);
}

/** A running vocoder: mel frames and f0 in, T · hop samples out; buffers sized once by configure(). */
export class Vocoder {
  private melT!: ReusableTensor<Float32Array>;
  private f0T!: ReusableTensor<Float32Array>;
  private noiseT!: ReusableTensor<Float32Array>;
  private phaseT!: ReusableTensor<Float32Array>;
  private capacity = 0;
  // Seeded, a fresh draw every run as upstream's torch.randn / torch.rand: renders are reproducible.
  private noiseState = 0x5eed;
  private readonly uniform = mulberry32(0x9a5e);

  private constructor(readonly session: LoadedSession, readonly contract: VocoderContract, readonly hop: number) {}

  static async load(file: string, runtime: RuntimeOptions, o: VocoderBuildOptions = {}): Promise<Vocoder> {
    const bytes = await vocoderBytes(file, o);
    const contract = detectVocoderContract(parseOnnxInfo(bytes, file), file);
    const session = await loadSession(bytes, { ...runtime, name: file });
    return new Vocoder(session, contract, VOCODER_MEL.hop);
  }

  configure(maxFrames: number): void {
    if (maxFrames <= this.capacity) return;
    this.capacity = maxFrames;
    this.melT = new ReusableTensor('float32', this.contract.bands * maxFrames);
    this.f0T = new ReusableTensor('float32', maxFrames);
    const C = this.contract.noiseChannels;
    if (this.contract.noise) this.noiseT = new ReusableTensor('float32', maxFrames * this.hop * C);
    if (this.contract.phase) this.phaseT = new ReusableTensor('float32', C);
  }

  /** mel is [bands, frames] band-major (the contract of ./mel.ts); f0 in Hz per frame. Returns frames · hop samples. */
  async run(mel: Float32Array, f0: Float32Array, frames: number): Promise<Float32Array> {
    this.configure(frames);
    const B = this.contract.bands;
    const m = this.melT.data;
    if (this.contract.layout === 'bands-first') m.set(mel.subarray(0, B * frames));
    else for (let b = 0; b < B; b++) for (let t = 0; t < frames; t++) m[t * B + b] = mel[b * frames + t]!;
    this.f0T.data.set(f0.subarray(0, frames));
    const dims = this.contract.layout === 'bands-first' ? [1, B, frames] : [1, frames, B];
    const feeds = { [this.contract.mel]: this.melT.view(dims), [this.contract.f0]: this.f0T.view([1, frames]) };
    const { noise, phase, noiseChannels: C } = this.contract;
    if (noise) {
      this.noiseState = fillNormal(this.noiseT.data, frames * this.hop * C, 1, this.noiseState);
      feeds[noise] = this.noiseT.view([1, frames * this.hop, C]);
    }
    if (phase) {
      for (let i = 0; i < C; i++) this.phaseT.data[i] = this.uniform();
      feeds[phase] = this.phaseT.view([1, 1, C]);
    }
    const out = await this.session.run(feeds);
    const audio = out[this.contract.output]!.data as Float32Array;
    if (audio.length !== frames * this.hop) throw new VocoderError(`${this.session.name}: rendered ${audio.length} samples for ${frames} frames; ${frames * this.hop} expected (hop ${this.hop})`);
    return audio;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** What `resona vocoder <file>` reports: the file loaded and rendered once on half a second of a harmonic tone. */
export interface VocoderCheck {
  source: 'checkpoint' | 'onnx';
  contract: VocoderContract;
  provider: string;
  frames: number;
  samples: number;
  ms: number;
  peak: number;
}

export async function checkVocoder(file: string, runtime: RuntimeOptions): Promise<VocoderCheck> {
  const { vocoderMelSpectrogram } = await import('./mel.js');
  const v = await Vocoder.load(file, runtime);
  try {
    const x = new Float32Array(Math.round(VOCODER_MEL.rate / 2));
    for (let i = 0; i < x.length; i++) for (let h = 1; h <= 6; h++) x[i]! += (0.3 / h) * Math.sin((2 * Math.PI * 150 * h * i) / VOCODER_MEL.rate);
    const { mel, frames } = vocoderMelSpectrogram(x);
    const t = performance.now();
    const audio = await v.run(mel, new Float32Array(frames).fill(150), frames);
    const ms = performance.now() - t;
    let peak = 0;
    for (const s of audio) peak = Math.max(peak, Math.abs(s));
    if (!Number.isFinite(peak)) throw new VocoderError(`${file}: renders NaN or infinite samples; the file is damaged`);
    return { source: ONNX_MAGIC_HINT.test(file) ? 'onnx' : 'checkpoint', contract: v.contract, provider: v.session.provider, frames, samples: audio.length, ms, peak };
  } finally {
    await v.release();
  }
}
