// so-vits-svc training checkpoints (G_*.pth) with their config.json, as svc-develop-team/so-vits-svc writes
// them (SOVITS-NOTES §1): torch.save({model: state_dict, iteration, optimizer: AdamW.state_dict(),
// learning_rate}); compress_model.py release files drop enc_q, may be fp16, and carry an empty optimizer. Only
// `model` is used. The pickle goes through the safe reader (./checkpoint.ts), so a file that calls anything
// outside the allowlist (os.system, …) is refused by name before a value is built.
//
// config.json decides what network the weights are, and every field the network reads is checked against the
// weights here, so a config of another voice is refused naming the field, its value and what was expected:
//   model.ssl_dim       = pre.weight's input channels, and the encoder's feature size
//   model.n_speakers    = emb_g.weight's rows; spk ids below it
//   model.speech_encoder  vec768l12 | vec256l9 (absent: 4.0 / 4.0-Vec768 configs, by ssl_dim) | hubertsoft (built
//                         from its own checkpoint, models/families/sovits/pth.ts); others refused
//   so-vits-svc-fork model.type_ istft / ms-istft / mb-istft (no NSF, torch.istft): refused
//   vocoder_name nsf-snake-hifigan, use_transformer_flow: other decoders / flows, refused for now
import { readCheckpointFile, stateDict, type TorchTensor } from './checkpoint.js';
import { describe, shortKey } from './pickle.js';
import { SovitsGraphError, type SovitsNetConfig } from './sovits-spec.js';

/**
 * Encoders Resona runs for so-vits-svc voices: the ContentVec forms RVC's v1 / v2 use (SOVITS-NOTES §1), shared
 * by every voice, and HuBERT-Soft (256-d soft units after the last layer), which the voice brings as its own
 * network built from the user's hubert-soft-*.pt (`own: true`).
 */
export const SOVITS_ENCODERS = {
  vec768l12: { featureSize: 768, layer: 12, own: false },
  vec256l9: { featureSize: 256, layer: 9, own: false },
  hubertsoft: { featureSize: 256, layer: 12, own: true },
} as const;
export type SovitsEncoderName = keyof typeof SOVITS_ENCODERS;
const SUPPORTED = Object.keys(SOVITS_ENCODERS).join(', ');
/** Encoders so-vits-svc 4.1 trains with that Resona cannot run yet. */
const KNOWN_UNSUPPORTED = ['whisper-ppg', 'whisper-ppg-large', 'cnhubertlarge', 'dphubert', 'wavlmbase+'];

export const CONFIG_JSON_MAX_BYTES = 256 * 1024;

export interface SovitsCheckpoint {
  weights: Map<string, TorchTensor>;
  config: SovitsNetConfig;
  encoder: SovitsEncoderName;
  hop: number;
  /** Speaker names by id (config spk; ids it does not name are called "speaker N"). */
  speakers: string[];
  /** "4.0" when the config has none of 4.1's keys. */
  version: '4.0' | '4.1';
  iteration: number | null;
  /** The dtype of the first tensor, as upstream's loader takes it. */
  dtype: string;
  /** model.use_automatic_f0_prediction (checked against the f0_decoder weights): the voice can predict f0. */
  autoF0: boolean;
}

const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const isIntList = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.length <= 16 && v.every(isPositiveInt);
const show = (v: unknown) => (v === undefined ? 'missing' : JSON.stringify(v)?.slice(0, 80) ?? String(v));
const shape = (t: TorchTensor | undefined) => (t ? `[${t.shape.join(', ')}]` : 'missing');

type Obj = Record<string, unknown>;

/** config.json as so-vits-svc reads it (utils.get_hparams_from_file): the model and data sections checked. */
export function parseSovitsConfigJson(bytes: Uint8Array, where: string): { model: Obj; data: Obj; spk: Obj } {
  const bad = (why: string) => new SovitsGraphError(`${where}: ${why}`);
  if (bytes.length > CONFIG_JSON_MAX_BYTES) throw bad(`is ${bytes.length} bytes, over ${CONFIG_JSON_MAX_BYTES}; a so-vits-svc config.json is a few kB`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw bad(`is not UTF-8 JSON (${(e as Error).message})`);
  }
  const obj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
  if (!obj(raw)) throw bad('is not a JSON object; expected so-vits-svc\'s config.json with "model", "data" and "spk"');
  if (!obj(raw.model)) throw bad(`"model" is ${show(raw.model)}; expected the synthesizer settings (so-vits-svc's config.json)`);
  if (raw.data !== undefined && !obj(raw.data)) throw bad(`"data" is ${show(raw.data)}; expected an object`);
  if (raw.spk !== undefined && !obj(raw.spk)) throw bad(`"spk" is ${show(raw.spk)}; expected {name: id}`);
  return { model: raw.model, data: (raw.data as Obj) ?? {}, spk: (raw.spk as Obj) ?? {} };
}

/** Checks the unpickled checkpoint and config against each other; `name` and `configName` go into messages. */
export function parseSovitsCheckpoint(root: unknown, name: string, configBytes: Uint8Array, configName: string): SovitsCheckpoint {
  const fail = (why: string): never => {
    throw new SovitsGraphError(`${name}: ${why}`);
  };
  const field = (f: string, v: unknown, expected: string): never => {
    throw new SovitsGraphError(`${configName}: ${f} is ${show(v)}, expected ${expected}`);
  };
  if (!(root instanceof Map)) return fail(`not a so-vits-svc checkpoint: it holds ${describe(root)}, not a dict with "model"`);
  if (!root.has('model')) {
    if (root.has('weight')) fail('an RVC voice file (it has "weight" and no "model"); import it without --config');
    return fail(`not a so-vits-svc G_*.pth: it has no "model" entry (it has: ${[...root.keys()].slice(0, 12).map(shortKey).join(', ') || 'nothing'})`);
  }
  let weights: Map<string, TorchTensor>;
  try {
    weights = stateDict(root, 'model');
  } catch (e) {
    return fail((e as Error).message);
  }
  // DataParallel checkpoints prefix every key with "module." (compress_model.py strips it the same way).
  if (weights.size && [...weights.keys()].every((k) => k.startsWith('module.'))) weights = new Map([...weights].map(([k, v]) => [k.slice(7), v]));
  const it = root.get('iteration');
  const iteration = typeof it === 'number' ? it : typeof it === 'bigint' ? Number(it) : null;
  for (const [k, t] of weights) if (!['float16', 'bfloat16', 'float32', 'float64'].includes(t.dtype)) fail(`its weight ${k} holds ${t.dtype} values, expected floating point`);

  const { model: m, data, spk } = parseSovitsConfigJson(configBytes, configName);
  // so-vits-svc-fork's iSTFT decoders have no NSF source and need torch.istft, which ONNX lacks.
  if (m.type_ !== undefined && m.type_ !== 'hifi-gan') {
    field('model.type_', m.type_, '"hifi-gan": so-vits-svc-fork\'s iSTFT decoders (istft, ms-istft, mb-istft) are not supported; they have no NSF source and need an inverse STFT ONNX does not provide');
  }
  if (m.vocoder_name !== undefined && m.vocoder_name !== 'nsf-hifigan') field('model.vocoder_name', m.vocoder_name, '"nsf-hifigan" (nsf-snake-hifigan is not supported yet)');
  if (m.use_transformer_flow === true) field('model.use_transformer_flow', true, 'false: the VITS2 transformer flow is not supported yet');
  for (const f of ['inter_channels', 'hidden_channels', 'filter_channels', 'n_heads', 'n_layers', 'kernel_size', 'upsample_initial_channel', 'gin_channels', 'ssl_dim', 'n_speakers']) {
    if (!isPositiveInt(m[f])) field(`model.${f}`, m[f], 'a positive integer');
  }
  if (m.resblock !== '1' && m.resblock !== '2') field('model.resblock', m.resblock, '"1" or "2"');
  for (const f of ['resblock_kernel_sizes', 'upsample_rates', 'upsample_kernel_sizes']) if (!isIntList(m[f])) field(`model.${f}`, m[f], 'a list of positive integers');
  const dil = m.resblock_dilation_sizes;
  if (!Array.isArray(dil) || dil.length !== (m.resblock_kernel_sizes as number[]).length || !dil.every(isIntList)) {
    field('model.resblock_dilation_sizes', dil, `one list of dilations per resblock kernel size (${(m.resblock_kernel_sizes as number[]).length})`);
  }
  const rates = m.upsample_rates as number[];
  if ((m.upsample_kernel_sizes as number[]).length !== rates.length) field('model.upsample_kernel_sizes', m.upsample_kernel_sizes, `one kernel per upsample rate (${rates.length})`);
  const hop = rates.reduce((a, b) => a * b, 1);
  const hopLength = data.hop_length ?? 512;
  if (hopLength !== hop) field('data.hop_length', hopLength, `${hop}, the product of model.upsample_rates`);
  const sr = data.sampling_rate ?? 44100;
  if (!isPositiveInt(sr) || sr < 8000 || sr > 192000) field('data.sampling_rate', sr, 'a rate in Hz from 8000 to 192000 (so-vits-svc trains at 44100)');
  const nf = m.n_flow_layer;
  if (nf !== undefined && !isPositiveInt(nf)) field('model.n_flow_layer', nf, 'a positive integer');

  // The encoder: speech_encoder, then the fork's contentvec_final_proj, then the feature size.
  const ssl = m.ssl_dim as number;
  const pre = weights.get('pre.weight');
  if (!pre || pre.shape.length !== 3) return fail(`its weight pre.weight is ${shape(pre)}, expected [hidden, ssl_dim, 5]: not a so-vits-svc SynthesizerTrn`);
  if (pre.shape[1] !== ssl) field('model.ssl_dim', ssl, `${pre.shape[1]}: the weights' pre.weight ${shape(pre)} takes ${pre.shape[1]}-d features`);
  let encoder: SovitsEncoderName;
  const se = m.speech_encoder;
  if (se === undefined) {
    const proj = data.contentvec_final_proj;
    if (ssl === 256 && proj !== false) encoder = 'vec256l9';
    else if (ssl === 768) encoder = 'vec768l12';
    else return field('model.ssl_dim', ssl, `256 or 768 for a config without speech_encoder (supported encoders: ${SUPPORTED})`);
  } else if (typeof se === 'string' && Object.hasOwn(SOVITS_ENCODERS, se)) {
    encoder = se as SovitsEncoderName;
  } else if (typeof se === 'string' && KNOWN_UNSUPPORTED.includes(se)) {
    return field('model.speech_encoder', se, `one of ${SUPPORTED}; ${se} is not supported yet`);
  } else {
    return field('model.speech_encoder', se, `one of ${SUPPORTED} (so-vits-svc also knows ${KNOWN_UNSUPPORTED.join(', ')}, which Resona does not run yet)`);
  }
  const want = SOVITS_ENCODERS[encoder].featureSize;
  if (ssl !== want) field('model.ssl_dim', ssl, `${want}, the feature size of ${encoder}`);

  const emb = weights.get('emb_g.weight');
  if (!emb || emb.shape.length !== 2 || emb.shape[1] !== m.gin_channels) {
    if (emb?.shape.length === 2) field('model.gin_channels', m.gin_channels, `${emb.shape[1]}: the weights' emb_g.weight is ${shape(emb)}`);
    return fail(`its weight emb_g.weight is ${shape(emb)}, expected [n_speakers, ${m.gin_channels}]`);
  }
  if (emb.shape[0] !== m.n_speakers) field('model.n_speakers', m.n_speakers, `${emb.shape[0]}: the weights' speaker table emb_g.weight is ${shape(emb)}`);
  const n = m.n_speakers as number;
  const names: string[] = Array.from({ length: n }, (_, i) => `speaker ${i}`);
  for (const [k, v] of Object.entries(spk)) {
    if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) >= n) field(`spk.${k}`, v, `a speaker id from 0 to ${n - 1} (model.n_speakers is ${n})`);
    names[v as number] = k.slice(0, 200);
  }
  const version = ['speech_encoder', 'vol_embedding', 'n_flow_layer', 'use_depthwise_conv', 'flow_share_parameter', 'vocoder_name'].some((k) => k in m) ? '4.1' : '4.0';
  if ((m.vol_embedding === true) !== weights.has('emb_vol.weight')) {
    field('model.vol_embedding', m.vol_embedding, `${weights.has('emb_vol.weight')}: the weights ${weights.has('emb_vol.weight') ? 'have' : 'have no'} emb_vol`);
  }
  // Upstream predicts f0 only when the config asks for the decoder; asked for without its weights, its loader
  // would keep random ones, so that pair is refused. Weights without the flag are never used (as upstream).
  const autoF0 = m.use_automatic_f0_prediction === true;
  if (autoF0 && !weights.has('f0_decoder.proj.weight')) field('model.use_automatic_f0_prediction', true, 'false: the weights have no f0_decoder');
  const config: SovitsNetConfig = {
    inter_channels: m.inter_channels as number, hidden_channels: m.hidden_channels as number, filter_channels: m.filter_channels as number,
    n_heads: m.n_heads as number, n_layers: m.n_layers as number, kernel_size: m.kernel_size as number, resblock: m.resblock as '1' | '2',
    resblock_kernel_sizes: m.resblock_kernel_sizes as number[], resblock_dilation_sizes: dil as number[][], upsample_rates: rates,
    upsample_initial_channel: m.upsample_initial_channel as number, upsample_kernel_sizes: m.upsample_kernel_sizes as number[],
    gin_channels: m.gin_channels as number, ssl_dim: ssl, n_speakers: n, sampling_rate: sr as number,
  };
  const first = weights.values().next().value as TorchTensor | undefined;
  return { weights, config, encoder, hop, speakers: names, version, iteration, dtype: first?.dtype ?? 'float32', autoF0 };
}

/** Reads G_*.pth through the safe unpickler (a refused global throws CheckpointError naming it) and checks it. */
export async function readSovitsCheckpoint(file: string, configBytes: Uint8Array, configName: string): Promise<SovitsCheckpoint> {
  return parseSovitsCheckpoint(await readCheckpointFile(file), file, configBytes, configName);
}
