// A so-vits-svc 4.0/4.1 checkpoint (SynthesizerTrn.infer, SOVITS-NOTES §2) as ONNX bytes in the official export
// form (§3a/b) that models/families/sovits already runs:
//   c f32 [1, T_src, ssl] (content frames, time-major), mel2ph i64 [1, T] (1-based: frame t takes
//   pad(c, one zero row in front)[mel2ph[t]], so the caller's floor(i·T_src/T) mapping decides which content
//   each hop frame sees), f0 f32 [1, T] (Hz, unvoiced frames interpolated), uv f32 [1, T] (the voicing flag),
//   noise f32 [1, inter, T] (N(0,1)·noise_scale, drawn by the caller), sid i64 [1], and with vol_embedding
//   vol f32 [1, T]  →  audio [1, 1, T·hop].
// The network: x = pre(c) + emb_uv(uv) [+ emb_vol(vol)]; enc_p adds f0_emb(coarse f0) and runs the window-4
// relative-attention encoder; z_p = m + noise·e^logs; the flow runs backwards with g = emb_g(sid); the NSF-
// HiFiGAN decoder (8-harmonic source) draws z. The pieces are RVC's (./rvc-encoder.ts, ./rvc-flow.ts,
// ./rvc-generator.ts) with the so-vits-svc layout passed in.
import { GraphBuilder } from '../onnx/graph-builder.js';
import { asVector, constant, conv1d, dimOf, embedding, linear, sliceAxis } from '../onnx/layers.js';
import { encoderStats, relativeEncoder } from './rvc-encoder.js';
import { reverseFlow } from './rvc-flow.js';
import { decoder, decoderLeftReach } from './rvc-generator.js';
import { CheckedWeights, type TensorLike, type WeightSource } from './rvc-weights.js';
import { ignoredSovitsKey, SOVITS, SOVITS_DECODER_CONTEXT_KEY, type SovitsArchitecture, SovitsGraphError, type SovitsNetConfig, sovitsParameters, wnPrefix } from './sovits-spec.js';

export { SovitsGraphError } from './sovits-spec.js';

export interface SovitsCheckpointLike {
  weights: ReadonlyMap<string, TensorLike>;
  config: SovitsNetConfig;
}

export interface SovitsBuildOptions {
  /** The NSF source's noise and random initial phases left out: for reference tests (the flow's noise is an input either way). */
  deterministic?: boolean;
  /** Parts of the architecture to take as given instead of reading them from the checkpoint (tests alter one part). */
  architecture?: Partial<SovitsArchitecture>;
  /**
   * sid as per-frame speaker weights f32 [T, n_speakers] (g = weights · emb_g per frame), as so-vits-svc 4.1's
   * exporter writes voices with vol and several speakers; default: exactly then. Otherwise sid is an id i64 [1].
   */
  speakerMix?: boolean;
  /**
   * Resona's kept-region form: two more inputs, skip_head and return_length (int64 scalars, RVC's meaning), and
   * the network renders only frames [skip_head, skip_head + return_length) (see keptRegion below). Default:
   * the official export form, which renders every frame.
   */
  keep?: boolean;
  /** With keep: frames the flow runs on before skip_head, instead of its receptive radius (tests narrow it). */
  flowMargin?: number;
}

const END = 2 ** 62; // "to the end" for Slice

/**
 * Frames left of skip_head the flow runs on in the kept form: its receptive radius. Each of the 4 couplings'
 * WN stacks n_flow_layer k5, dilation-1 convolutions (2 frames either side each; pre, post and the flips are
 * per frame), so a frame's z depends on z_p within 4 · n_flow_layer · 2 frames: 32 for so-vits-svc's default
 * of 4 layers (RVC's 3-layer WN gives its 24). With that margin the flow's output over the kept frames is the
 * full window's exactly; the encoder's attention still sees every frame.
 */
export function sovitsFlowMargin(flowLayers: number): number {
  return SOVITS.flowCouplings * flowLayers * ((SOVITS.flowKernel - 1) >> 1);
}

/** The architecture a checkpoint's weights show. */
export function sovitsArchitecture(w: ReadonlyMap<string, TensorLike>): SovitsArchitecture {
  const sharedFlow = [...w.keys()].some((k) => k.startsWith('flow.wn.'));
  const base = sharedFlow ? 'flow.wn' : 'flow.flows.0.enc';
  let flowLayers = 0;
  while ([`${base}.in_layers.${flowLayers}.weight_v`, `${base}.in_layers.${flowLayers}.depth_conv.weight_v`, `${base}.in_layers.${flowLayers}.weight`].some((k) => w.has(k))) flowLayers++;
  const lin = w.get('dec.m_source.l_linear.weight');
  const rel = w.get('enc_p.enc_.attn_layers.0.emb_rel_k');
  return {
    window: rel?.shape.length === 3 ? (rel.shape[1]! - 1) / 2 : SOVITS.window,
    harmonics: lin?.shape.length === 2 ? lin.shape[1]! - 1 : SOVITS.harmonics,
    uvEmbedding: true,
    vol: w.has('emb_vol.weight'),
    flowLayers: flowLayers || SOVITS.defaultFlowLayers,
    depthwise: w.has(`${base}.in_layers.0.depth_conv.weight_v`) || w.has(`${base}.in_layers.0.depth_conv.weight`),
    sharedFlow,
  };
}

/**
 * With flow_share_parameter each coupling's enc is flow.wn itself, and torch.save writes it under every name on
 * one storage. The builder reads flow.wn; an alias that holds other values means the file was edited or
 * damaged, and which of the two the network should use cannot be known.
 */
function checkSharedFlow(w: ReadonlyMap<string, TensorLike>): void {
  for (const [k, t] of w) {
    const m = /^flow\.flows\.\d+\.enc\.(.+)$/.exec(k);
    if (!m) continue;
    const own = w.get(`flow.wn.${m[1]}`);
    const same = own && own.shape.length === t.shape.length && own.shape.every((d, i) => d === t.shape[i]) && own.data.length === t.data.length &&
      Array.prototype.every.call(own.data, (v: number | bigint, i: number) => v === t.data[i]);
    if (!same) throw new SovitsGraphError(`the checkpoint shares one WN across the flow (flow.wn), but ${k} differs from flow.wn.${m[1]}; the file is damaged or was edited`);
  }
}

/** f0_to_coarse (so-vits-svc 4.1 utils): mel scale, bins 1…255 over 50…1100 Hz, rounded half to even. */
function coarseF0(g: GraphBuilder, f0: string): string {
  const lo = 1127 * Math.log(1 + 50 / 700);
  const hi = 1127 * Math.log(1 + 1100 / 700);
  const a = 254 / (hi - lo);
  const mel = g.op('Mul', [g.op('Log', [g.op('Add', [g.op('Div', [f0, g.f32([700])]), g.f32([1])])]), g.f32([1127])]);
  const scaled = g.op('Sub', [g.op('Mul', [mel, g.f32([a])]), g.f32([lo * a - 1])]);
  const m = g.op('Where', [g.op('Greater', [mel, g.f32([0])]), scaled, mel]);
  return g.op('Cast', [g.op('Clip', [g.op('Round', [m]), g.f32([1], []), g.f32([255], [])])], { to: 7 });
}

/**
 * x = pre(c on the hop grid) + emb_uv(uv) [+ emb_vol(vol)], [1, T, H]: what enc_p and the F0 decoder
 * (./sovits-f0-decoder.ts) both start from. Content: one zero row in front, then row mel2ph[t] for frame t.
 */
export function sovitsPrenet(g: GraphBuilder, w: WeightSource, arch: Pick<SovitsArchitecture, 'uvEmbedding'>, i: { content: string; mel2ph: string; uv: string; vol: string | null }): string {
  const padded = g.op('Pad', [i.content, g.i64([0, 1, 0, 0, 0, 0])]);
  const frames = g.op('Gather', [padded, g.op('Squeeze', [i.mel2ph, g.i64([0])])], { axis: 1 }); // [1, T, ssl]
  const pre = conv1d(g, g.op('Transpose', [frames], { perm: [0, 2, 1] }), w.get('pre.weight'), w.get('pre.bias'), { padding: SOVITS.preKernel >> 1 });
  let x = g.op('Transpose', [pre], { perm: [0, 2, 1] }); // [1, T, H]
  if (arch.uvEmbedding) x = g.op('Add', [x, embedding(g, w.get('emb_uv.weight'), g.op('Cast', [i.uv], { to: 7 }))]);
  if (i.vol) x = g.op('Add', [x, linear(g, g.op('Unsqueeze', [i.vol, g.i64([2])]), w.get('emb_vol.weight'), w.get('emb_vol.bias'))]);
  return x;
}

export function buildSovitsSynthesizer(ckpt: SovitsCheckpointLike, opts: SovitsBuildOptions = {}): Uint8Array {
  const c = ckpt.config;
  const arch = { ...sovitsArchitecture(ckpt.weights), ...opts.architecture };
  if (c.hidden_channels % c.n_heads) throw new SovitsGraphError(`config model.hidden_channels is ${c.hidden_channels}: not divisible by n_heads (${c.n_heads})`);
  if (c.inter_channels % 2) throw new SovitsGraphError(`config model.inter_channels is ${c.inter_channels}: the flow splits it in halves, an even number expected`);
  if (arch.sharedFlow) checkSharedFlow(ckpt.weights);
  const w = new CheckedWeights(ckpt.weights, sovitsParameters(c, arch), {
    error: (m) => new SovitsGraphError(m),
    ignored: ignoredSovitsKey(arch),
    family: 'so-vits-svc',
  });
  const H = c.hidden_channels;

  const g = new GraphBuilder('sovits-synthesizer');
  const content = g.input('c', 'float32', [1, 'T_src', c.ssl_dim]);
  const f0 = g.input('f0', 'float32', [1, 'T']);
  const mel2ph = g.input('mel2ph', 'int64', [1, 'T']);
  const uv = g.input('uv', 'float32', [1, 'T']);
  const noise = g.input('noise', 'float32', [1, c.inter_channels, 'T']);
  const mix = opts.speakerMix ?? (arch.vol && c.n_speakers > 1);
  if (mix && !arch.vol) throw new SovitsGraphError('speaker mix weights come with the 4.1 form, which takes vol; this voice has no vol_embedding');
  const sid = mix ? g.input('sid', 'float32', ['T', c.n_speakers]) : g.input('sid', 'int64', [1]);
  const vol = arch.vol ? g.input('vol', 'float32', [1, 'T']) : null;
  const keep = opts.keep ? { head: asVector(g, g.input('skip_head', 'int64', [])), length: asVector(g, g.input('return_length', 'int64', [])) } : null;

  let x = sovitsPrenet(g, w, arch, { content, mel2ph, uv, vol });
  x = g.op('Add', [x, embedding(g, w.get('enc_p.f0_emb.weight'), coarseF0(g, f0))]);

  // Every frame is valid (c_lengths = T): the masks are ones, kept as tensors for the shared encoder.
  const T1 = dimOf(g, f0, 1);
  const ones = g.op('ConstantOfShape', [T1], { value: { tensor: { type: 'float32', dims: [1], data: new Float32Array([1]) } } });
  const masks = {
    tc: g.op('Reshape', [ones, g.i64([1, -1, 1])]),
    ct: g.op('Reshape', [ones, g.i64([1, 1, -1])]),
    valid: g.op('Cast', [ones], { to: 9 }),
  };
  const spec = { prefix: 'enc_p.enc_', window: arch.window, hidden: H, heads: c.n_heads, filter: c.filter_channels, kernel: c.kernel_size, layers: c.n_layers };
  let hidden = relativeEncoder(g, w, spec, x, masks);
  // g: [1, gin, 1] for an id; [1, gin, T] for mix weights (every layer that reads g is a 1×1 conv, so both broadcast).
  let spk = mix
    ? g.op('Unsqueeze', [g.op('Transpose', [g.op('MatMul', [sid, constant(g, w.get('emb_g.weight'), 'emb_g.weight')])], { perm: [1, 0] }), g.i64([0])])
    : g.op('Unsqueeze', [embedding(g, w.get('emb_g.weight'), sid, 'emb_g.weight'), g.i64([2])]);
  const perFrame = (t: string, from: string, to: string) => (mix ? sliceAxis(g, t, from, to, 2) : t);
  let flowMask = masks.ct;
  let eps = noise;
  let flowSpk = spk;
  let kept: { from: string; to: string; flowHead: string } | null = null;
  if (keep) {
    // The kept form (RVC's skip_head scheme): the encoder has seen every frame; the flow runs from its margin
    // before skip_head to the end, the decoder draws only [skip_head, skip_head + return_length).
    const margin = opts.flowMargin ?? sovitsFlowMargin(arch.flowLayers);
    const flowHead = g.op('Max', [g.op('Sub', [keep.head, g.i64([margin])]), g.i64([0])]);
    const end = g.i64([END]);
    hidden = sliceAxis(g, hidden, flowHead, end, 1);
    flowMask = sliceAxis(g, masks.ct, flowHead, end, 2);
    eps = sliceAxis(g, noise, flowHead, end, 2);
    flowSpk = perFrame(spk, flowHead, end);
    kept = { from: keep.head, to: g.op('Add', [keep.head, keep.length]), flowHead };
  }
  const [m, logs] = encoderStats(g, w, c, hidden, flowMask);
  const zp = g.op('Add', [m, g.op('Mul', [eps, g.op('Exp', [logs])])]);
  let z = reverseFlow(g, w, c, zp, flowMask, flowSpk, { layers: arch.flowLayers, wnPrefix: (f) => wnPrefix(arch, f), depthwise: arch.depthwise });
  if (keep && kept) {
    const decHead = g.op('Sub', [kept.from, kept.flowHead]);
    z = sliceAxis(g, z, decHead, g.op('Add', [decHead, keep.length]), 2);
    spk = perFrame(spk, kept.from, kept.to);
  }
  const audio = decoder(g, w, c, { z, f0, spk, frames: null, ...(kept ? { f0Span: { from: kept.from, to: kept.to } } : {}) }, opts.deterministic ? null : 'draw', c.sampling_rate);
  g.op('Identity', [audio], {}, 'audio');
  g.output('audio', 'float32', [1, 1, 'L']);
  // The kept form says how much decoder context its caller must render before the frames it keeps.
  const metadata = opts.keep ? { [SOVITS_DECODER_CONTEXT_KEY]: String(decoderLeftReach(c)) } : undefined;
  return g.toBytes({ opset: 17, producer: 'resona sovits-graph', ...(metadata ? { metadata } : {}) });
}
