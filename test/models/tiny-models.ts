// Tiny ONNX models with exactly the input and output names, shapes and types of the contracts in
// circulation (FIELD-NOTES §2), and behaviour a test can predict:
//   content encoders: every channel of frame t is the RMS of its 400-sample window (HuBERT's framing);
//   synthesizers with f0: a sine at `pitchf` (or at the pitch the coarse `pitch` stands for), amplitude
//     emb_g[sid], silent where unvoiced;
//   synthesizers without f0: a 220 Hz sine shaped by feature channel 0 times emb_g[sid];
//   skip_head / return_length render only the asked frames; formant_length stretches them in time.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { GraphBuilder } from '../../models/onnx/graph-builder.js';

export type Contract = 'vcclient' | 'vcclient-skip' | 'webui';

export interface TinySynthOptions {
  contract: Contract;
  rate: 32000 | 40000 | 48000;
  f0: boolean;
  channels: 256 | 768;
  speakers?: number;
  /** VC Client metadata JSON; omit to write none (the convention then is 48 kHz, 256-d, f0). */
  metadata?: Record<string, unknown> | null;
  /** 'vector' is the 1-D output of VC Client files version 2.1+, 'batch' the older [1,1,L]. */
  outputShape?: 'vector' | 'batch';
  featType?: 'float32' | 'float16';
  /** Sing at the frequency the coarse `pitch` input stands for instead of `pitchf` (checks coarse pitch). */
  singCoarse?: boolean;
}

/** The VC Client metadata of a voice, as its exporter writes it. */
export function vcClientMetadata(rate: number, f0: boolean, channels: number): Record<string, unknown> {
  return {
    samplingRate: rate,
    f0,
    embChannels: channels,
    embedder: channels === 768 ? 'hubert_base' : 'hubert_base',
    embOutputLayer: channels === 768 ? 12 : 9,
    useFinalProj: channels === 256,
    version: '2.1',
  };
}

/** Amplitude the tiny synthesizers give speaker s. */
export function speakerGain(s: number): number {
  return 0.1 * (s + 1);
}

/** Frequency the coarse pitch value c stands for (the inverse of RVC's mel mapping, at the bin centre). */
export function coarseToHz(c: number): number {
  const melMin = 1127 * Math.log(1 + 50 / 700);
  const melMax = 1127 * Math.log(1 + 1100 / 700);
  const mel = melMin + ((c - 1) * (melMax - melMin)) / 254;
  return 700 * (Math.exp(mel / 1127) - 1);
}

export function buildTinySynth(o: TinySynthOptions): Uint8Array {
  const g = new GraphBuilder('tiny-synth');
  const hop = o.rate / 100;
  const speakers = o.speakers ?? 1;
  const featType = o.featType ?? 'float32';
  const webui = o.contract === 'webui';
  const skip = o.contract === 'vcclient-skip';

  const feats = g.input(webui ? 'phone' : 'feats', featType, [1, 'T', o.channels]);
  const pLen = g.input(webui ? 'phone_lengths' : 'p_len', 'int64', [1]);
  const pitch = o.f0 ? g.input('pitch', 'int64', [1, 'T']) : null;
  const pitchf = o.f0 ? g.input('pitchf', 'float32', [1, 'T']) : null;
  const sid = g.input(webui ? 'ds' : 'sid', 'int64', [1]);
  const rnd = webui ? g.input('rnd', 'float32', [1, 192, 'T']) : null;
  const skipHead = skip ? g.input('skip_head', 'int64', []) : null;
  const returnLength = skip ? g.input('return_length', 'int64', []) : null;
  const formantLength = skip ? g.input('formant_length', 'int64', []) : null;

  const feats32 = featType === 'float16' ? g.op('Cast', [feats], { to: 1 }) : feats;
  // Per-frame frequency [1, T] and per-frame amplitude [1, T].
  let freq: string;
  let amp: string;
  if (o.f0) {
    if (o.singCoarse) {
      // f = 700·(exp(mel/1127) − 1), mel = melMin + (pitch − 1)·step: the inverse of the coarse mapping.
      const melMin = 1127 * Math.log(1 + 50 / 700);
      const step = (1127 * Math.log(1 + 1100 / 700) - melMin) / 254;
      const c = g.op('Cast', [pitch!], { to: 1 });
      const mel = g.op('Add', [g.op('Mul', [g.op('Sub', [c, g.f32([1])]), g.f32([step])]), g.f32([melMin])]);
      const hz = g.op('Mul', [g.op('Sub', [g.op('Exp', [g.op('Div', [mel, g.f32([1127])])]), g.f32([1])]), g.f32([700])]);
      // Coarse 1 means unvoiced: silence there, as with pitchf = 0.
      const voicedC = g.op('Cast', [g.op('Greater', [pitch!, g.i64([1])])], { to: 1 });
      freq = g.op('Mul', [hz, voicedC]);
    } else {
      freq = pitchf!;
    }
    amp = g.op('Cast', [g.op('Greater', [freq, g.f32([0])])], { to: 1 });
  } else {
    const ch0 = g.op('Squeeze', [g.op('Slice', [feats32, g.i64([0]), g.i64([1]), g.i64([2])]), g.i64([2])]);
    freq = g.op('Add', [g.op('Mul', [ch0, g.f32([0])]), g.f32([220])]);
    amp = ch0;
  }
  // Consume every input so the graph depends on all of them, as a real one does.
  const featMean = g.op('ReduceMean', [feats32], { keepdims: 0, axes: [1, 2] });
  amp = g.op('Add', [amp, g.op('Mul', [featMean, g.f32([0])])]);
  if (rnd) amp = g.op('Add', [amp, g.op('Mul', [g.op('ReduceMean', [rnd], { keepdims: 0, axes: [1, 2] }), g.f32([0])])]);
  // Only the first p_len frames exist.
  const zero = g.i64([0]);
  const one = g.i64([1]);
  freq = g.op('Slice', [freq, zero, pLen, one]);
  amp = g.op('Slice', [amp, zero, pLen, one]);
  if (pitch && !o.singCoarse) {
    amp = g.op('Add', [amp, g.op('Mul', [g.op('Cast', [g.op('Slice', [pitch, zero, pLen, one])], { to: 1 }), g.f32([0])])]);
  }
  // skip_head / return_length: keep frames [skip_head, skip_head + return_length).
  if (skipHead && returnLength && formantLength) {
    const start = g.op('Unsqueeze', [skipHead, zero]);
    const end = g.op('Add', [start, g.op('Unsqueeze', [returnLength, zero])]);
    freq = g.op('Slice', [freq, start, end, one]);
    amp = g.op('Slice', [amp, start, end, one]);
    // formant_length: stretch the kept frames in time (nearest frame), as the decoder does with z.
    const sizes = g.op('Concat', [g.i64([1]), g.op('Unsqueeze', [formantLength, zero])], { axis: 0 });
    const stretch = (x: string) => g.op('Resize', [x, '', '', sizes], { mode: 'nearest', nearest_mode: 'floor', coordinate_transformation_mode: 'asymmetric' });
    freq = stretch(freq);
    amp = stretch(amp);
  }
  // Speaker gain from a table shaped like the real emb_g, so an id past the table fails as it would.
  const table = Float32Array.from({ length: speakers }, (_, s) => speakerGain(s));
  const embG = g.constant({ type: 'float32', dims: [speakers, 1], data: table }, 'emb_g.weight');
  const gain = g.op('Reshape', [g.op('Gather', [embG, sid], { axis: 0 }), g.i64([1, 1])]);
  amp = g.op('Mul', [amp, gain]);
  // Frames → samples: repeat each frame `hop` times.
  const upsample = (x: string) => {
    const col = g.op('Unsqueeze', [x, g.i64([2])]);
    const rep = g.op('Expand', [col, g.op('Concat', [g.op('Slice', [g.op('Shape', [col]), g.i64([0]), g.i64([2])]), g.i64([hop])], { axis: 0 })]);
    return g.op('Reshape', [rep, g.i64([1, -1])]);
  };
  const fS = upsample(freq);
  const aS = upsample(amp);
  const cycles = g.op('CumSum', [g.op('Div', [fS, g.f32([o.rate])]), g.i64([1])]);
  const frac = g.op('Sub', [cycles, g.op('Floor', [cycles])]);
  const wave = g.op('Mul', [g.op('Sin', [g.op('Mul', [frac, g.f32([2 * Math.PI])])]), aS]);
  if ((o.outputShape ?? (webui ? 'batch' : 'vector')) === 'vector') {
    g.op('Reshape', [wave, g.i64([-1])], {}, 'audio');
    g.output('audio', 'float32', ['L']);
  } else {
    g.op('Unsqueeze', [wave, g.i64([0])], {}, webui ? 'audio' : 'audio');
    g.output('audio', 'float32', [1, 1, 'L']);
  }
  const metadata = o.metadata === undefined ? vcClientMetadata(o.rate, o.f0, o.channels) : o.metadata;
  return g.toBytes({ opset: webui ? 13 : 17, metadata: metadata ? { metadata: JSON.stringify(metadata) } : {} });
}

export type EncoderStyle = 'vec' | 'units';

/** A content encoder whose every channel of frame t is the RMS of samples [320t, 320t + 400). */
export function buildTinyEncoder(style: EncoderStyle, channels: 256 | 768 = 768): Uint8Array {
  const g = new GraphBuilder('tiny-encoder');
  const x = style === 'vec'
    ? g.input('source', 'float32', [1, 1, 'N'])
    : g.op('Unsqueeze', [g.input('audio', 'float32', [1, 'N']), g.i64([1])]);
  const power = g.op('Mul', [x, x]);
  const w = g.f32(new Float32Array(400).fill(1 / 400), [1, 1, 400]);
  const meanPower = g.op('Conv', [power, w], { strides: [320], kernel_shape: [400] });
  const rms = g.op('Sqrt', [meanPower]); // [1, 1, T]
  const frames = g.op('Transpose', [rms], { perm: [0, 2, 1] }); // [1, T, 1]
  const one = (c: number) => g.f32(new Float32Array(c).fill(1), [1, 1, c]);
  if (style === 'vec') {
    g.op('Mul', [frames, one(channels)], {}, 'embed');
    g.output('embed', 'float32', [1, 'T', channels]);
  } else {
    g.op('Mul', [frames, one(256)], {}, 'units9');
    g.op('Mul', [frames, one(768)], {}, 'unit12');
    g.output('units9', 'float32', [1, 'T', 256]);
    g.output('unit12', 'float32', [1, 'T', 768]);
  }
  return g.toBytes({ opset: 17 });
}

export async function writeModel(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, bytes);
  return file;
}
