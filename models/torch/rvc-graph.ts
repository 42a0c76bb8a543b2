// An RVC voice checkpoint (SynthesizerTrnMs256NSFsid / SynthesizerTrnMs768NSFsid and their _nono variants)
// as ONNX bytes in Resona's canonical contract, 'vcclient-skip' (FIELD-NOTES §2). The graph follows RVC's
// infer(phone, phone_lengths, pitch, nsff0, sid, skip_head, return_length, return_length2):
//   the text encoder attends over all T frames, then drops flow_head = max(skip_head − 24, 0) frames;
//   z_p = (m_p + exp(logs_p) · N(0, 1) · 0.66666) · mask; the flow runs backwards over those frames;
//   z keeps [skip_head − flow_head, + return_length), f0 keeps [skip_head, + return_length);
//   the decoder linearly stretches z, and the NSF source waveform made from that f0 (not f0 itself), to
//   formant_length frames (see rvc-generator.ts) and draws them.
// Output `audio` is 1-D, formant_length × sr/100 samples.
import { GraphBuilder } from '../onnx/graph-builder.js';
import { asVector, dimOf, embedding, sliceAxis } from '../onnx/layers.js';
import { textEncoder, encoderStats } from './rvc-encoder.js';
import { reverseFlow } from './rvc-flow.js';
import { decoder } from './rvc-generator.js';
import { checkConfig, featureSize, normaliseVersion, RVC, RvcGraphError, type RvcNetConfig, sampleRateOf } from './rvc-spec.js';
import { RvcWeights, type TensorLike } from './rvc-weights.js';

export { RvcGraphError } from './rvc-spec.js';

/** What the builder needs of a checkpoint (readRvcCheckpoint's result has these fields). */
export interface RvcCheckpointLike {
  weights: ReadonlyMap<string, TensorLike>;
  config: RvcNetConfig;
  f0: number | boolean;
  version?: string | null;
}

export interface RvcBuildOptions {
  /** Every random draw (flow noise, NSF noise and initial phases) replaced by zeros: for reference tests. */
  deterministic?: boolean;
  /**
   * Where the noise comes from (default 'inputs'): 'inputs' declares `rnd` [1, inter_channels, T] (the flow's)
   * and, for f0 voices, `rnd_nsf` [1, ≥ return_length · sr/100, 1] (the NSF source's), N(0, 1) values the caller
   * draws; 'graph' draws them with RandomNormalLike, as the VC Client's export does. Inputs keep the graph free
   * of CPU-only nodes on a GPU provider: onnxruntime's WebGPU provider runs RandomNormalLike on the CPU, which
   * costs a copy of its input back from the GPU on every block, in the middle of the graph.
   */
  noise?: 'inputs' | 'graph';
}

const END = 2 ** 62; // "to the end" for Slice

/** The VC Client's metadata JSON for this voice (what Resona's import reads). */
export function rvcExportMetadata(sampleRate: number, f0: boolean, channels: number): Record<string, unknown> {
  return {
    samplingRate: sampleRate,
    f0,
    embChannels: channels,
    embedder: 'hubert_base',
    embOutputLayer: channels === 768 ? 12 : 9,
    useFinalProj: channels === 256,
    version: '2.1',
  };
}

function architecture(ckpt: RvcCheckpointLike) {
  const version = normaliseVersion(ckpt.version);
  const f0 = ckpt.f0 === true || ckpt.f0 === 1;
  if (!f0 && ckpt.f0 !== false && ckpt.f0 !== 0) throw new RvcGraphError(`checkpoint f0 is ${JSON.stringify(ckpt.f0)}: 0 or 1 expected`);
  const w = ckpt.weights;
  const pitchTable = w.get('enc_p.emb_pitch.weight');
  if (f0 !== Boolean(pitchTable)) {
    throw new RvcGraphError(f0 ? 'the checkpoint says f0 = 1 but has no pitch embedding (enc_p.emb_pitch.weight): it is a no-f0 voice'
      : 'the checkpoint says f0 = 0 but has a pitch embedding (enc_p.emb_pitch.weight): it is an f0 voice');
  }
  const phone = w.get('enc_p.emb_phone.weight');
  const inDim = phone?.shape[1];
  if (inDim !== undefined && (inDim === 256 || inDim === 768) && inDim !== featureSize(version)) {
    throw new RvcGraphError(`the checkpoint says version ${version} (${featureSize(version)}-d features) but enc_p.emb_phone.weight takes ${inDim}-d features (version ${inDim === 768 ? 'v2' : 'v1'})`);
  }
  // RVC takes the speaker count from the table, not from config spk_embed_dim.
  const speakers = w.get('emb_g.weight')?.shape[0] ?? ckpt.config.spk_embed_dim;
  const harmonics = f0 ? (w.get('dec.m_source.l_linear.weight')?.shape[1] ?? 1) - 1 : 0;
  return { version, f0, speakers, harmonics };
}

export function buildRvcSynthesizer(ckpt: RvcCheckpointLike, opts: RvcBuildOptions = {}): Uint8Array {
  const c = ckpt.config;
  checkConfig(c);
  const facts = architecture(ckpt);
  const w = new RvcWeights(ckpt.weights, c, facts);
  const det = opts.deterministic ?? false;
  const fed = !det && (opts.noise ?? 'inputs') === 'inputs';
  const C = featureSize(facts.version);
  const sr = sampleRateOf(c);

  const g = new GraphBuilder('rvc-synthesizer');
  const feats = g.input('feats', 'float32', [1, 'T', C]);
  const pLen = g.input('p_len', 'int64', [1]);
  const pitch = facts.f0 ? g.input('pitch', 'int64', [1, 'T']) : null;
  const pitchf = facts.f0 ? g.input('pitchf', 'float32', [1, 'T']) : null;
  const sid = g.input('sid', 'int64', [1]);
  const skipHead = g.input('skip_head', 'int64', []);
  const returnLength = g.input('return_length', 'int64', []);
  const formantLength = g.input('formant_length', 'int64', []);
  const rnd = fed ? g.input('rnd', 'float32', [1, c.inter_channels, 'T']) : null;
  const nsfNoise = det ? null : fed ? (dim: number) => g.input('rnd_nsf', 'float32', [1, 'S', dim]) : ('draw' as const);

  // sequence_mask(p_len, T)
  const T = g.op('Squeeze', [dimOf(g, feats, 1), g.i64([0])]);
  const valid = g.op('Less', [g.op('Range', [g.i64([0], []), T, g.i64([1], [])]), pLen]);
  const maskF = g.op('Cast', [valid], { to: 1 });
  const masks = { tc: g.op('Reshape', [maskF, g.i64([1, -1, 1])]), ct: g.op('Reshape', [maskF, g.i64([1, 1, -1])]), valid };

  const hidden = textEncoder(g, w, c, feats, pitch, masks);
  const head = asVector(g, skipHead);
  const length = asVector(g, returnLength);
  const flowHead = g.op('Max', [g.op('Sub', [head, g.i64([RVC.flowContext])]), g.i64([0])]);
  const decHead = g.op('Sub', [head, flowHead]);
  const end = g.i64([END]);
  const flowMask = sliceAxis(g, masks.ct, flowHead, end, 2);
  const [m, logs] = encoderStats(g, w, c, sliceAxis(g, hidden, flowHead, end, 1), flowMask);
  let zp = m;
  if (!det) {
    // The flow's noise over the frames it runs on: the fed input from flow_head on, or drawn.
    const n01 = rnd ? sliceAxis(g, rnd, flowHead, end, 2) : g.op('RandomNormalLike', [m], { dtype: 1 });
    const noise = g.op('Mul', [g.op('Mul', [g.op('Exp', [logs]), n01]), g.f32([RVC.noiseScale])]);
    zp = g.op('Add', [m, noise]);
  }
  zp = g.op('Mul', [zp, flowMask]);
  const spk = g.op('Unsqueeze', [embedding(g, w.get('emb_g.weight'), sid, 'emb_g.weight'), g.i64([2])]); // [1, gin, 1]
  const z = reverseFlow(g, w, c, zp, flowMask, spk);
  const decEnd = g.op('Add', [decHead, length]);
  const decMask = sliceAxis(g, flowMask, decHead, decEnd, 2);
  const zKept = g.op('Mul', [sliceAxis(g, z, decHead, decEnd, 2), decMask]);
  const f0 = pitchf ? sliceAxis(g, pitchf, head, g.op('Add', [head, length]), 1) : null;
  const frames = asVector(g, formantLength);
  const audio = decoder(g, w, c, { z: zKept, f0, spk, frames }, facts.f0 ? nsfNoise : null);
  g.op('Reshape', [audio, g.i64([-1])], {}, 'audio');
  g.output('audio', 'float32', ['L']);
  const metadata = rvcExportMetadata(sr, facts.f0, C);
  return g.toBytes({ opset: 17, producer: 'resona rvc-graph', metadata: { metadata: JSON.stringify(metadata) } });
}
