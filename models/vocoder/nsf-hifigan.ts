// openvpi's NSF-HiFiGAN vocoder (the 44.1 kHz, hop 512, 128-mel release so-vits-svc 4.1, DDSP-SVC and
// Diffusion-SVC use) from its checkpoint, as ONNX bytes in Resona's vocoder contract:
//   mel [1, num_mels, T] float32 (the natural-log mel of ./mel.ts), f0 [1, T] float32 Hz (0 = unvoiced)
//   → audio [1, 1, T · hop] float32.
// The checkpoint is a torch.save({"generator": state_dict}) (file `model`, `model.ckpt` or `*.pt`) with a
// config.json beside it (HiFi-GAN's fields: upsample_rates, upsample_kernel_sizes, upsample_initial_channel,
// resblock, resblock_kernel_sizes, resblock_dilation_sizes, num_mels, sampling_rate, hop_size).
//
// The network is RVC's NSF decoder without its speaker condition and formant stretch, so the graph is built by
// the same code (../torch/rvc-generator.ts): conv_pre (weight-normed, num_mels → upsample_initial_channel, k7)
// on the mel, the upsampling stack fed by the harmonic source (SineGen with harmonic_num 8, sine_amp 0.1,
// noise_std 0.003, voiced above voiced_threshold Hz), conv_post (weight-normed, with bias), tanh.
import { GraphBuilder } from '../onnx/graph-builder.js';
import { conv1d } from '../onnx/layers.js';
import { type GeneratorWeights, type HifiganShape, type NsfNoise, nsfSource, upsampleStack } from '../torch/rvc-generator.js';
import { checkHifiganShape, type ParamSpec } from '../torch/rvc-spec.js';
import { CheckedWeights, type TensorLike } from '../torch/rvc-weights.js';
import { UserError } from '../../protocol/errors.js';

export class VocoderError extends UserError {
  override name = 'VocoderError';
  constructor(message: string) {
    super(message, 'model');
  }
}

/** The fields of an openvpi config.json the generator needs. */
export interface NsfHifiganConfig extends HifiganShape {
  num_mels: number;
  sampling_rate: number;
  hop_size: number;
  /** SineGen's constants; absent in openvpi's config.json, where the code fixes them (these defaults). */
  harmonic_num?: number;
  sine_amp?: number;
  noise_std?: number;
  voiced_threshold?: number;
}

/** openvpi's 44.1 kHz NSF-HiFiGAN (the vocoder of so-vits-svc 4.1's shallow diffusion): its config.json's network fields. */
export const OPENVPI_44K: NsfHifiganConfig = {
  resblock: '1',
  upsample_rates: [8, 8, 2, 2, 2],
  upsample_kernel_sizes: [16, 16, 4, 4, 4],
  upsample_initial_channel: 512,
  resblock_kernel_sizes: [3, 7, 11],
  resblock_dilation_sizes: [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
  num_mels: 128,
  sampling_rate: 44100,
  hop_size: 512,
};

/** Fixed by openvpi's code rather than by config.json. */
export const NSF_HIFIGAN = { harmonicNum: 8, sineAmp: 0.1, noiseStd: 0.003, voicedThreshold: 0 } as const;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/** config.json as parsed JSON → a checked config, or a VocoderError naming the field and what was expected. */
export function parseVocoderConfig(json: unknown, where: string): NsfHifiganConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new VocoderError(`${where}: a JSON object with the vocoder's hyper-parameters expected`);
  const c = json as NsfHifiganConfig;
  const bad = (field: string, why: string): never => {
    throw new VocoderError(`${where}: ${field} is ${JSON.stringify((c as unknown as Record<string, unknown>)[field])}: ${why}`);
  };
  for (const f of ['num_mels', 'sampling_rate', 'hop_size'] as const) if (!isInt(c[f])) bad(f, 'a positive integer expected');
  checkHifiganShape(c, bad);
  const upp = c.upsample_rates.reduce((a, b) => a * b, 1);
  if (upp !== c.hop_size) bad('upsample_rates', `their product ${upp} must equal hop_size ${c.hop_size} (one mel frame)`);
  if (c.harmonic_num !== undefined && !(Number.isInteger(c.harmonic_num) && c.harmonic_num >= 0)) bad('harmonic_num', 'a whole number ≥ 0 expected');
  for (const f of ['sine_amp', 'noise_std', 'voiced_threshold'] as const) {
    if (c[f] !== undefined && !(typeof c[f] === 'number' && Number.isFinite(c[f]) && c[f]! >= 0)) bad(f, 'a number ≥ 0 expected');
  }
  return c;
}

/** Every parameter of the generator with the shape the config implies, named as openvpi saves them. */
export function nsfHifiganParameters(c: NsfHifiganConfig): ParamSpec[] {
  const out: ParamSpec[] = [];
  const p = (name: string, shape: number[], weightNorm = false) => out.push({ name, shape, weightNorm });
  const conv = (name: string, o: number, i: number, k: number, wn = false) => {
    p(`${name}.weight`, [o, i, k], wn);
    p(`${name}.bias`, [o]);
  };
  const U = c.upsample_initial_channel;
  const rates = c.upsample_rates;
  p('m_source.l_linear.weight', [1, (c.harmonic_num ?? NSF_HIFIGAN.harmonicNum) + 1]);
  p('m_source.l_linear.bias', [1]);
  rates.forEach((_, i) => {
    const s = rates.slice(i + 1).reduce((x, y) => x * y, 1);
    conv(`noise_convs.${i}`, U >> (i + 1), 1, i + 1 < rates.length ? 2 * s : 1);
  });
  conv('conv_pre', U, c.num_mels, 7, true);
  rates.forEach((_, i) => {
    // ConvTranspose1d weights are [in, out, k]; weight norm (dim 0) runs over the input channels.
    p(`ups.${i}.weight`, [U >> i, U >> (i + 1), c.upsample_kernel_sizes[i]!], true);
    p(`ups.${i}.bias`, [U >> (i + 1)]);
  });
  let r = 0;
  rates.forEach((_, i) => {
    const ch = U >> (i + 1);
    c.resblock_kernel_sizes.forEach((k) => {
      const b = `resblocks.${r++}`;
      if (c.resblock === '1') for (let j = 0; j < 3; j++) conv(`${b}.convs1.${j}`, ch, ch, k, true), conv(`${b}.convs2.${j}`, ch, ch, k, true);
      else for (let j = 0; j < 2; j++) conv(`${b}.convs.${j}`, ch, ch, k, true);
    });
  });
  conv('conv_post', 1, U >> rates.length, 7, true);
  return out;
}

export interface VocoderBuildOptions {
  /** No noise and no random initial phases: for reference tests. */
  deterministic?: boolean;
  /**
   * Where the source's randomness comes from (default 'inputs'): 'inputs' declares VOCODER_NOISE.noise
   * [1, ≥ T·hop, harmonics + 1] N(0, 1) and VOCODER_NOISE.phase [1, 1, harmonics + 1] U[0, 1) values that the
   * caller draws (../vocoder/vocoder.ts, seeded); 'graph' draws them with RandomNormalLike and RandomUniformLike
   * as upstream's export does. onnxruntime's WebGPU provider has no kernel for either and runs them on the CPU
   * in the middle of the graph, with a copy back to the GPU on every block (measured with ../node-placement.ts).
   */
  noise?: 'inputs' | 'graph';
}

/** The names of the fed noise inputs of Resona's vocoder graph. */
export const VOCODER_NOISE = { noise: 'rnd_nsf', phase: 'rnd_phase' } as const;

/** The generator state dict + its config as ONNX bytes (mel, f0 → audio). */
export function buildNsfHifigan(weights: ReadonlyMap<string, TensorLike>, config: NsfHifiganConfig, opts: VocoderBuildOptions = {}): Uint8Array {
  const c = parseVocoderConfig(config, 'vocoder config');
  const checked = new CheckedWeights(weights, nsfHifiganParameters(c), { family: 'NSF-HiFiGAN', error: (m) => new VocoderError(`vocoder checkpoint: ${m}`), ignored: () => false });
  const w: GeneratorWeights = (name) => checked.get(name);
  const g = new GraphBuilder('nsf-hifigan');
  const mel = g.input('mel', 'float32', [1, c.num_mels, 'T']);
  const f0 = g.input('f0', 'float32', [1, 'T']);
  const fed = !opts.deterministic && (opts.noise ?? 'inputs') === 'inputs';
  const noise: NsfNoise = opts.deterministic ? null : fed ? (dim) => g.input(VOCODER_NOISE.noise, 'float32', [1, 'S', dim]) : 'draw';
  const source = nsfSource(g, w, f0, {
    sampleRate: c.sampling_rate,
    sineAmp: c.sine_amp ?? NSF_HIFIGAN.sineAmp,
    noiseStd: c.noise_std ?? NSF_HIFIGAN.noiseStd,
    voicedThreshold: c.voiced_threshold ?? NSF_HIFIGAN.voicedThreshold,
    ...(fed ? { initialPhase: (dim: number) => g.input(VOCODER_NOISE.phase, 'float32', [1, 1, dim]) } : {}),
  }, c.hop_size, noise);
  const x = conv1d(g, mel, w('conv_pre.weight'), w('conv_pre.bias'), { padding: 3 });
  const audio = upsampleStack(g, w, c, x, source, w('conv_post.bias'));
  g.op('Identity', [audio], {}, 'audio');
  g.output('audio', 'float32', [1, 1, 'L']);
  const metadata = { vocoder: 'nsf-hifigan', sampling_rate: c.sampling_rate, hop_size: c.hop_size, num_mels: c.num_mels };
  return g.toBytes({ opset: 17, producer: 'resona nsf-hifigan', metadata: { resona_vocoder: JSON.stringify(metadata) } });
}
