// What a so-vits-svc 4.0/4.1 SynthesizerTrn (svc-develop-team/so-vits-svc models.py) is made of: the config
// fields the inference network reads, the parts that set it apart from RVC's (SOVITS-NOTES §2: window-4
// attention, uv and vol pre-net, n_flow_layer-deep WN, depthwise / shared flow, 8-harmonic NSF source, conv_pre
// and conv_post weight-normed, conv_post with a bias), and the state-dict shapes those imply, by upstream's
// names. The decoder and encoder parameter layouts are RVC's, listed by ./rvc-spec.ts.
import { UserError } from '../../protocol/errors.js';
import { type ParamSpec, rvcParameters, type RvcNetConfig } from './rvc-spec.js';

export class SovitsGraphError extends UserError {
  override name = 'SovitsGraphError';
  constructor(message: string) {
    super(message, 'import');
  }
}

/** The VITS shapes so-vits-svc's config.json names as RVC's config does (one declaration: RvcNetConfig's). */
type SharedVitsShapes = Pick<
  RvcNetConfig,
  | 'inter_channels' | 'hidden_channels' | 'filter_channels' | 'n_heads' | 'n_layers' | 'kernel_size'
  | 'resblock_kernel_sizes' | 'resblock_dilation_sizes' | 'upsample_rates' | 'upsample_initial_channel'
  | 'upsample_kernel_sizes' | 'gin_channels'
>;

/** config.json's "model" fields the inference network reads (plus data.sampling_rate / hop_length). */
export interface SovitsNetConfig extends SharedVitsShapes {
  resblock: '1' | '2';
  ssl_dim: number;
  n_speakers: number;
  sampling_rate: number;
}

/**
 * The parts of the network that vary, read from the config and the weights. The builder takes them as data so
 * that a test can build the network with one part altered and show the reference then fails.
 */
export interface SovitsArchitecture {
  /** Relative attention window of enc_p (so-vits-svc: 4). */
  window: number;
  /** Harmonics above f0 in the NSF source (so-vits-svc: 8, so l_linear is [1, 9]). */
  harmonics: number;
  /** x += emb_uv(uv): the voicing flag as its own embedding. */
  uvEmbedding: boolean;
  /** x += emb_vol(vol) (4.1 vol_embedding). */
  vol: boolean;
  /** WN layers per coupling (n_flow_layer, 4 by default). */
  flowLayers: number;
  /** use_depthwise_conv: the flow WN's in_layers are depth_conv + point_conv. */
  depthwise: boolean;
  /** flow_share_parameter: one WN (flow.wn) serves all four couplings. */
  sharedFlow: boolean;
}

export const SOVITS = {
  window: 4,
  harmonics: 8,
  flowCouplings: 4,
  flowKernel: 5,
  preKernel: 5,
  pitchBins: 256,
  defaultFlowLayers: 4,
} as const;

/** metadata_props key of Resona's kept-region form: decoder frames to render left of the kept region. */
export const SOVITS_DECODER_CONTEXT_KEY = 'resona.decoderContext';

/** RVC's decoder / encoder listing reads these fields; so-vits-svc's config names them the same. */
function asRvcShapes(c: SovitsNetConfig): RvcNetConfig {
  const { ssl_dim: _ssl, n_speakers, sampling_rate, ...shared } = c;
  return { ...shared, spec_channels: 0, segment_size: 0, p_dropout: 0, spk_embed_dim: n_speakers, sr: sampling_rate };
}

/** Where coupling f's WN lives. */
export function wnPrefix(a: SovitsArchitecture, f: number): string {
  return a.sharedFlow ? 'flow.wn' : `flow.flows.${2 * f}.enc`;
}

/**
 * Every inference parameter with its shape. The decoder's list is RVC's with three differences (conv_pre and
 * conv_post weight-normed, conv_post biased, l_linear 9 wide); the attention layers move from enc_p.encoder to
 * enc_p.enc_ with 2·4+1 relative embeddings; the text front (emb_phone / emb_pitch) gives way to pre, emb_uv,
 * emb_vol and enc_p.f0_emb.
 */
export function sovitsParameters(c: SovitsNetConfig, a: SovitsArchitecture): ParamSpec[] {
  const rvc = rvcParameters(asRvcShapes(c), { f0: true, version: 'v2', speakers: c.n_speakers, harmonics: a.harmonics });
  const out: ParamSpec[] = [];
  const p = (name: string, shape: number[], weightNorm = false) => out.push({ name, shape, weightNorm });
  const H = c.hidden_channels;
  const dk = H / c.n_heads;
  for (const s of rvc) {
    if (s.name.startsWith('enc_p.emb_') || s.name.startsWith('flow.')) continue;
    if (s.name.startsWith('enc_p.encoder.')) {
      const name = s.name.replace('enc_p.encoder.', 'enc_p.enc_.');
      out.push({ ...s, name, shape: /emb_rel_[kv]$/.test(name) ? [1, 2 * a.window + 1, dk] : s.shape });
      continue;
    }
    if (s.name === 'dec.conv_pre.weight') {
      out.push({ ...s, weightNorm: true });
      continue;
    }
    if (s.name === 'dec.conv_post.weight') {
      out.push({ ...s, weightNorm: true });
      p('dec.conv_post.bias', [1]);
      continue;
    }
    out.push(s);
  }
  p('pre.weight', [H, c.ssl_dim, SOVITS.preKernel]);
  p('pre.bias', [H]);
  if (a.uvEmbedding) p('emb_uv.weight', [2, H]);
  if (a.vol) {
    p('emb_vol.weight', [H, 1]);
    p('emb_vol.bias', [H]);
  }
  p('enc_p.f0_emb.weight', [SOVITS.pitchBins, H]);

  const half = c.inter_channels / 2;
  const L = a.flowLayers;
  const wn = (b: string) => {
    p(`${b}.cond_layer.weight`, [2 * H * L, c.gin_channels, 1], true);
    p(`${b}.cond_layer.bias`, [2 * H * L]);
    for (let i = 0; i < L; i++) {
      const inl = `${b}.in_layers.${i}`;
      if (a.depthwise) {
        p(`${inl}.depth_conv.weight`, [H, 1, SOVITS.flowKernel], true);
        p(`${inl}.depth_conv.bias`, [H]);
        p(`${inl}.point_conv.weight`, [2 * H, H, 1], true);
        p(`${inl}.point_conv.bias`, [2 * H]);
      } else {
        p(`${inl}.weight`, [2 * H, H, SOVITS.flowKernel], true);
        p(`${inl}.bias`, [2 * H]);
      }
      const rs = i < L - 1 ? 2 * H : H;
      p(`${b}.res_skip_layers.${i}.weight`, [rs, H, 1], true);
      p(`${b}.res_skip_layers.${i}.bias`, [rs]);
    }
  };
  if (a.sharedFlow) wn('flow.wn');
  for (let f = 0; f < SOVITS.flowCouplings; f++) {
    const b = `flow.flows.${2 * f}`;
    p(`${b}.pre.weight`, [H, half, 1]);
    p(`${b}.pre.bias`, [H]);
    if (!a.sharedFlow) wn(`${b}.enc`);
    p(`${b}.post.weight`, [half, H, 1]);
    p(`${b}.post.bias`, [half]);
  }
  return out;
}

/**
 * State-dict keys a so-vits-svc G_*.pth may hold that inference never reads: the posterior encoder (enc_q,
 * training only; compress_model.py drops it), the automatic f0 predictor (f0_decoder; used only when asked to
 * predict f0, which Resona does not do yet), and, with flow_share_parameter, each coupling's alias of the
 * shared WN (flow.flows.N.enc.*, the same storage as flow.wn.*).
 */
export function ignoredSovitsKey(a: SovitsArchitecture): (key: string) => boolean {
  return (k) => k.startsWith('enc_q.') || k.startsWith('f0_decoder.') || (a.sharedFlow && /^flow\.flows\.\d+\.enc\./.test(k));
}

/** so-vits-svc 4.1's configs_template config.json model section (vec768l12, 44.1 kHz, hop 512). */
export function templateSovitsConfig(o: { ssl?: number; speakers?: number } = {}): SovitsNetConfig {
  return {
    inter_channels: 192, hidden_channels: 192, filter_channels: 768, n_heads: 2, n_layers: 6, kernel_size: 3, resblock: '1',
    resblock_kernel_sizes: [3, 7, 11], resblock_dilation_sizes: [[1, 3, 5], [1, 3, 5], [1, 3, 5]], upsample_rates: [8, 8, 2, 2, 2],
    upsample_initial_channel: 512, upsample_kernel_sizes: [16, 16, 4, 4, 4], gin_channels: 768, ssl_dim: o.ssl ?? 768,
    n_speakers: o.speakers ?? 1, sampling_rate: 44100,
  };
}
