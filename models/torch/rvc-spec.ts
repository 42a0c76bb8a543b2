// What an RVC synthesizer checkpoint must hold: its hyper-parameters (the positional `config` list of an
// RVC .pth, by name), the checks that make a config one RVC's code could run, and the state-dict shapes
// the config implies, named as RVC saves them (weight-normed layers as weight_g / weight_v; enc_q, the
// training-only posterior encoder, stripped).
import { UserError } from '../../protocol/errors.js';

/** RVC's positional config list, by name (infer/lib/infer_pack/models.py, SynthesizerTrnMs*NSFsid). */
export interface RvcNetConfig {
  spec_channels: number;
  segment_size: number;
  inter_channels: number;
  hidden_channels: number;
  filter_channels: number;
  n_heads: number;
  n_layers: number;
  kernel_size: number;
  p_dropout: number;
  resblock: string;
  resblock_kernel_sizes: number[];
  resblock_dilation_sizes: number[][];
  upsample_rates: number[];
  upsample_initial_channel: number;
  upsample_kernel_sizes: number[];
  spk_embed_dim: number;
  gin_channels: number;
  sr: number | string;
}

export type RvcVersion = 'v1' | 'v2';

export class RvcGraphError extends UserError {
  override name = 'RvcGraphError';
  constructor(message: string) {
    super(message, 'import');
  }
}

/** Fixed by RVC's code rather than by the config. */
export const RVC = {
  windowSize: 10, // relative attention window of the text encoder
  flowLayers: 3, // WN layers per coupling layer
  flowKernel: 5,
  flowCount: 4, // coupling layers (each followed by a Flip)
  pitchBins: 256,
  lreluSlope: 0.1,
  /** Left context the flow keeps before skip_head: its convolutions see 4 × 3 × 2 = 24 frames back. */
  flowContext: 24,
  noiseScale: 0.66666,
  sineAmp: 0.1,
  noiseStd: 0.003,
} as const;

const RATES: Record<string, number> = { '32k': 32000, '40k': 40000, '48k': 48000 };

export function sampleRateOf(c: RvcNetConfig): number {
  const sr = typeof c.sr === 'string' ? (RATES[c.sr] ?? Number(c.sr)) : c.sr;
  if (!(sr === 32000 || sr === 40000 || sr === 48000)) {
    throw new RvcGraphError(`config sr is ${JSON.stringify(c.sr)}: RVC voices render at 32000, 40000 or 48000 Hz`);
  }
  return sr;
}

export function featureSize(version: RvcVersion): number {
  return version === 'v2' ? 768 : 256;
}

export function normaliseVersion(v: unknown): RvcVersion {
  if (v === undefined || v === null || v === 'v1') return 'v1'; // RVC reads a missing version as v1
  if (v === 'v2') return 'v2';
  throw new RvcGraphError(`checkpoint version is ${JSON.stringify(v)}: "v1" or "v2" expected`);
}

const isInt = (v: unknown, min = 1): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;
const intList = (v: unknown, min = 1): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => isInt(x, min));

/** Throws RvcGraphError unless RVC's modules could be built from `c` and would give sr/100 samples per frame. */
export function checkConfig(c: RvcNetConfig): void {
  const bad = (field: string, why: string): never => {
    throw new RvcGraphError(`config ${field} is ${JSON.stringify((c as unknown as Record<string, unknown>)[field])}: ${why}`);
  };
  for (const f of ['inter_channels', 'hidden_channels', 'filter_channels', 'n_heads', 'n_layers', 'kernel_size', 'gin_channels'] as const) {
    if (!isInt(c[f])) bad(f, 'a positive integer expected');
  }
  if (c.inter_channels % 2) bad('inter_channels', 'the flow splits it in halves: an even number expected');
  if (c.hidden_channels % c.n_heads) bad('hidden_channels', `not divisible by n_heads (${c.n_heads})`);
  checkHifiganShape(c, bad);
  const sr = sampleRateOf(c);
  const upp = c.upsample_rates.reduce((a, b) => a * b, 1);
  if (upp * 100 !== sr) bad('upsample_rates', `their product ${upp} must be sr / 100 = ${sr / 100} (one 10 ms frame)`);
}

/**
 * The checks HiFi-GAN's upsampling stack needs (RVC's decoder and openvpi's NSF-HiFiGAN alike): resblock type
 * and its kernels and dilations, one kernel per rate that upsamples exactly, channels that halve evenly, and
 * even NSF noise-conv strides. `bad(field, why)` throws the caller's error.
 */
export function checkHifiganShape(c: HifiganShapeLike, bad: (field: string, why: string) => never): void {
  if (!isInt(c.upsample_initial_channel)) bad('upsample_initial_channel', 'a positive integer expected');
  if (c.resblock !== '1' && c.resblock !== '2') bad('resblock', '"1" or "2" expected');
  if (!intList(c.resblock_kernel_sizes) || c.resblock_kernel_sizes.some((k) => k % 2 === 0)) bad('resblock_kernel_sizes', 'odd kernel sizes expected');
  const need = c.resblock === '1' ? 3 : 2;
  if (!Array.isArray(c.resblock_dilation_sizes) || c.resblock_dilation_sizes.length !== c.resblock_kernel_sizes.length ||
    c.resblock_dilation_sizes.some((d) => !intList(d) || d.length < need)) {
    bad('resblock_dilation_sizes', `one list of ${need} dilations per resblock kernel size (${c.resblock_kernel_sizes.length}) expected`);
  }
  if (!intList(c.upsample_rates)) bad('upsample_rates', 'a list of positive integers expected');
  if (!intList(c.upsample_kernel_sizes) || c.upsample_kernel_sizes.length !== c.upsample_rates.length) {
    bad('upsample_kernel_sizes', `one kernel size per upsample rate (${c.upsample_rates.length}) expected`);
  }
  const n = c.upsample_rates.length;
  if (c.upsample_initial_channel % 2 ** n) bad('upsample_initial_channel', `halved ${n} times, it must stay whole`);
  c.upsample_rates.forEach((u, i) => {
    const k = c.upsample_kernel_sizes[i]!;
    // ConvTranspose1d(k, u, padding (k−u)//2) yields exactly u samples per input only when k − u is even.
    if (k < u || (k - u) % 2) bad('upsample_kernel_sizes', `kernel ${k} at rate ${u} does not upsample exactly ×${u} (k − u must be even and ≥ 0)`);
    const s = c.upsample_rates.slice(i + 1).reduce((a, b) => a * b, 1);
    // The NSF noise conv (kernel 2s, stride s, padding s//2) keeps the length only for even strides.
    if (s > 1 && s % 2) bad('upsample_rates', `the NSF source downsampling stride ${s} after stage ${i} is odd; RVC's noise_convs need it even`);
  });
}

type HifiganShapeLike = Pick<RvcNetConfig, 'resblock' | 'resblock_kernel_sizes' | 'resblock_dilation_sizes' | 'upsample_rates' | 'upsample_initial_channel' | 'upsample_kernel_sizes'>;

export interface ParamSpec {
  name: string;
  shape: number[];
  /** Saved as name_g [shape[0], 1, …] and name_v [shape] (torch.nn.utils.weight_norm, dim 0). */
  weightNorm: boolean;
}

export interface ArchitectureFacts {
  f0: boolean;
  version: RvcVersion;
  speakers: number;
  /** Harmonics above f0 in the NSF source (RVC: 0; read from m_source.l_linear). */
  harmonics: number;
}

/** Every parameter of the inference network (enc_p, flow, dec, emb_g) with the shape `c` implies. */
export function rvcParameters(c: RvcNetConfig, a: ArchitectureFacts): ParamSpec[] {
  const out: ParamSpec[] = [];
  const p = (name: string, shape: number[], weightNorm = false) => out.push({ name, shape, weightNorm });
  const conv = (name: string, o: number, i: number, k: number, opts: { bias?: boolean; wn?: boolean } = {}) => {
    p(`${name}.weight`, [o, i, k], opts.wn ?? false);
    if (opts.bias ?? true) p(`${name}.bias`, [o]);
  };
  const H = c.hidden_channels;
  const dk = H / c.n_heads;
  const w = RVC.windowSize;
  p('enc_p.emb_phone.weight', [H, featureSize(a.version)]);
  p('enc_p.emb_phone.bias', [H]);
  if (a.f0) p('enc_p.emb_pitch.weight', [RVC.pitchBins, H]);
  for (let l = 0; l < c.n_layers; l++) {
    const e = `enc_p.encoder`;
    for (const q of ['q', 'k', 'v', 'o']) conv(`${e}.attn_layers.${l}.conv_${q}`, H, H, 1);
    p(`${e}.attn_layers.${l}.emb_rel_k`, [1, 2 * w + 1, dk]);
    p(`${e}.attn_layers.${l}.emb_rel_v`, [1, 2 * w + 1, dk]);
    p(`${e}.norm_layers_1.${l}.gamma`, [H]);
    p(`${e}.norm_layers_1.${l}.beta`, [H]);
    conv(`${e}.ffn_layers.${l}.conv_1`, c.filter_channels, H, c.kernel_size);
    conv(`${e}.ffn_layers.${l}.conv_2`, H, c.filter_channels, c.kernel_size);
    p(`${e}.norm_layers_2.${l}.gamma`, [H]);
    p(`${e}.norm_layers_2.${l}.beta`, [H]);
  }
  conv('enc_p.proj', 2 * c.inter_channels, H, 1);

  const half = c.inter_channels / 2;
  for (let f = 0; f < RVC.flowCount; f++) {
    const b = `flow.flows.${2 * f}`;
    conv(`${b}.pre`, H, half, 1);
    conv(`${b}.enc.cond_layer`, 2 * H * RVC.flowLayers, c.gin_channels, 1, { wn: true });
    for (let i = 0; i < RVC.flowLayers; i++) {
      conv(`${b}.enc.in_layers.${i}`, 2 * H, H, RVC.flowKernel, { wn: true });
      conv(`${b}.enc.res_skip_layers.${i}`, i < RVC.flowLayers - 1 ? 2 * H : H, H, 1, { wn: true });
    }
    conv(`${b}.post`, half, H, 1);
  }

  const U = c.upsample_initial_channel;
  const rates = c.upsample_rates;
  if (a.f0) {
    p('dec.m_source.l_linear.weight', [1, a.harmonics + 1]);
    p('dec.m_source.l_linear.bias', [1]);
    rates.forEach((_, i) => {
      const s = rates.slice(i + 1).reduce((x, y) => x * y, 1);
      conv(`dec.noise_convs.${i}`, U >> (i + 1), 1, i + 1 < rates.length ? 2 * s : 1);
    });
  }
  conv('dec.conv_pre', U, c.inter_channels, 7);
  rates.forEach((_, i) => {
    // ConvTranspose1d weights are [in, out, k]; weight norm (dim 0) runs over the input channels.
    p(`dec.ups.${i}.weight`, [U >> i, U >> (i + 1), c.upsample_kernel_sizes[i]!], true);
    p(`dec.ups.${i}.bias`, [U >> (i + 1)]);
  });
  let r = 0;
  rates.forEach((_, i) => {
    const ch = U >> (i + 1);
    c.resblock_kernel_sizes.forEach((k) => {
      const b = `dec.resblocks.${r++}`;
      if (c.resblock === '1') {
        for (let j = 0; j < 3; j++) {
          conv(`${b}.convs1.${j}`, ch, ch, k, { wn: true });
          conv(`${b}.convs2.${j}`, ch, ch, k, { wn: true });
        }
      } else {
        for (let j = 0; j < 2; j++) conv(`${b}.convs.${j}`, ch, ch, k, { wn: true });
      }
    });
  });
  conv('dec.conv_post', 1, U >> rates.length, 7, { bias: false });
  conv('dec.cond', U, c.gin_channels, 1);
  p('emb_g.weight', [a.speakers, c.gin_channels]);
  return out;
}
