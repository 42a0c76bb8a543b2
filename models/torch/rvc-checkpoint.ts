// RVC voice files (.pth) as RVC WebUI writes them (infer/lib/train/process_ckpt.py: save_small_model,
// extract_small_model, merge): an OrderedDict with
//   weight   the synthesizer's state dict without enc_q (fp16)
//   config   18 positional arguments of SynthesizerTrnMs{256,768}NSFsid[_nono] (infer/lib/infer_pack/models.py),
//            in CONFIG_FIELDS order; the last is the sample rate, an int (or "40k" in some files, which the
//            models map through sr2sr)
//   sr "32k"|"40k"|"48k", f0 0|1, version "v1"|"v2", info, and lately name, timestamp, author, hash, id.
// RVC's loader (infer/modules/vc/modules.py) defaults a missing f0 to 1 and a missing version to "v1" (files
// from before v2 existed), and takes the speaker count from emb_g.weight's rows rather than spk_embed_dim;
// this reader does the same, so it accepts exactly the voices RVC plays, and checks the rest against the
// weights so a mismatched file fails here rather than as a shape error deep in a graph.
import type { RvcNetConfig } from './rvc-spec.js';
import { RVC_CONFIG_LIST } from './budgets.js';
import { CheckpointError, readCheckpointFile, stateDict, type TorchTensor } from './checkpoint.js';
import { describe, shortKey } from './pickle.js';

export const CONFIG_FIELDS = [
  'spec_channels', 'segment_size', 'inter_channels', 'hidden_channels', 'filter_channels', 'n_heads', 'n_layers',
  'kernel_size', 'p_dropout', 'resblock', 'resblock_kernel_sizes', 'resblock_dilation_sizes', 'upsample_rates',
  'upsample_initial_channel', 'upsample_kernel_sizes', 'spk_embed_dim', 'gin_channels', 'sr',
] as const;

export type RvcSampleRate = 32000 | 40000 | 48000;

/** RVC's positional config list by name, as the checkpoint reader has checked it (the builder's type, narrowed). */
export interface RvcConfig extends RvcNetConfig {
  resblock: '1' | '2';
  /** Speakers: emb_g.weight's rows, as RVC's loader sets it (the stored value may differ in merged voices). */
  spk_embed_dim: number;
  sr: RvcSampleRate;
}

export interface RvcCheckpoint {
  weights: Map<string, TorchTensor>;
  config: RvcConfig;
  f0: boolean;
  version: 'v1' | 'v2';
  sampleRate: RvcSampleRate;
  info: string;
}

const RATES: Readonly<Record<string, RvcSampleRate>> = { '32k': 32000, '40k': 40000, '48k': 48000 };
const FEATURES = { v1: 256, v2: 768 } as const;
const FLOAT_DTYPES = new Set(['float16', 'bfloat16', 'float32', 'float64']);

/** A value as a message shows it: short lists spelled out two levels deep, anything larger described. */
function show(v: unknown, depth = 0): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'None';
  if (typeof v === 'string') return shortKey(v);
  if (typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return depth < 2 && v.length <= 8 ? `[${v.map((x) => show(x, depth + 1)).join(', ')}]` : describe(v);
  if (typeof v === 'object') return v instanceof Map ? 'a dict' : 'an object';
  return String(v);
}

const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const isIntList = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.length <= RVC_CONFIG_LIST && v.every(isPositiveInt);

function parseConfig(raw: unknown, fail: (why: string) => never): RvcConfig {
  if (!Array.isArray(raw)) return fail(`its config is ${show(raw)}, expected RVC's list of ${CONFIG_FIELDS.length} synthesizer settings`);
  if (raw.length !== CONFIG_FIELDS.length) {
    return fail(`its config has ${raw.length} entries, expected RVC's ${CONFIG_FIELDS.length} (${CONFIG_FIELDS.join(', ')}); the file was not written by RVC WebUI or is damaged`);
  }
  const c = Object.fromEntries(CONFIG_FIELDS.map((f, i) => [f, raw[i]])) as Record<(typeof CONFIG_FIELDS)[number], unknown>;
  const field = (f: (typeof CONFIG_FIELDS)[number], expected: string): never => fail(`config field ${f} (entry ${CONFIG_FIELDS.indexOf(f)}) is ${show(c[f])}, expected ${expected}`);
  for (const f of ['spec_channels', 'segment_size', 'inter_channels', 'hidden_channels', 'filter_channels', 'n_heads', 'n_layers', 'kernel_size', 'upsample_initial_channel', 'spk_embed_dim', 'gin_channels'] as const) {
    if (!isPositiveInt(c[f])) field(f, 'a positive integer');
  }
  const p = c.p_dropout;
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) field('p_dropout', 'a number in 0…1');
  // RVC compares resblock with the string "1"; any other value, the integer 1 included, builds ResBlock2.
  if (c.resblock !== '1' && c.resblock !== '2') field('resblock', '"1" or "2"');
  for (const f of ['resblock_kernel_sizes', 'upsample_rates', 'upsample_kernel_sizes'] as const) {
    if (!isIntList(c[f])) field(f, `a list of 1…${RVC_CONFIG_LIST} positive integers`);
  }
  const dil = c.resblock_dilation_sizes;
  if (!Array.isArray(dil) || dil.length > RVC_CONFIG_LIST || !dil.every(isIntList)) field('resblock_dilation_sizes', `a list of lists of 1…${RVC_CONFIG_LIST} positive integers`);
  const kernels = c.resblock_kernel_sizes as number[];
  if ((dil as number[][]).length !== kernels.length) field('resblock_dilation_sizes', `one list per resblock kernel size (${kernels.length})`);
  const rates = c.upsample_rates as number[];
  if ((c.upsample_kernel_sizes as number[]).length !== rates.length) field('upsample_kernel_sizes', `one kernel per upsample rate (${rates.length})`);
  const sr = typeof c.sr === 'string' ? RATES[c.sr] : ([32000, 40000, 48000] as unknown[]).includes(c.sr) ? (c.sr as RvcSampleRate) : undefined;
  if (!sr) return field('sr', '32000, 40000 or 48000');
  // The synthesizer renders sr/100 samples per 10 ms frame, all of them from the upsampling chain.
  const hop = rates.reduce((a, b) => a * b, 1);
  if (hop !== sr / 100) field('upsample_rates', `rates whose product is ${sr / 100} samples per frame at ${sr} Hz (these give ${hop})`);
  return { ...(c as unknown as RvcConfig), sr };
}

function tensorShape(t: TorchTensor | undefined): string {
  return t ? `[${t.shape.join(', ')}]` : 'missing';
}

/** Checks an unpickled RVC voice and names its parts; `name` is used in messages. */
export function parseRvcCheckpoint(root: unknown, name: string): RvcCheckpoint {
  const fail = (why: string): never => {
    throw new CheckpointError(`${name}: ${why}`);
  };
  if (!(root instanceof Map)) return fail('not an RVC voice: the checkpoint is not a dict');
  if (!root.has('weight')) {
    if (root.has('model')) {
      return fail("a training checkpoint (G_xxx.pth / D_xxx.pth: weights and optimizer state, without the voice's settings); export the final voice with RVC's ckpt tab (extract a small model) and import the .pth it writes (a so-vits-svc G_*.pth imports with --config config.json)");
    }
    return fail(`not an RVC voice: it has no "weight" entry (it has: ${[...root.keys()].slice(0, 12).map((k) => show(k)).join(', ') || 'nothing'})`);
  }
  const config = parseConfig(root.get('config'), fail);
  const f0raw: unknown = root.has('f0') ? root.get('f0') : 1;
  if (f0raw !== 0 && f0raw !== 1 && f0raw !== true && f0raw !== false) fail(`its f0 is ${show(f0raw)}, expected 0 or 1`);
  const f0 = f0raw === 1 || f0raw === true;
  const version: unknown = root.has('version') ? root.get('version') : 'v1';
  if (version !== 'v1' && version !== 'v2') return fail(`its version is ${show(version)}, expected "v1" or "v2"`);
  if (root.has('sr')) {
    const sr: unknown = root.get('sr');
    if (typeof sr !== 'string' || !RATES[sr]) fail(`its sr is ${show(sr)}, expected "32k", "40k" or "48k"`);
    if (RATES[sr as string] !== config.sr) fail(`its sr is ${show(sr)} but its config renders at ${config.sr} Hz; the file is damaged`);
  }
  const info: unknown = root.get('info') ?? '';
  if (typeof info !== 'string') fail(`its info is ${show(info)}, expected a string`);

  let weights: Map<string, TorchTensor>;
  try {
    weights = stateDict(root, 'weight');
  } catch (e) {
    return fail((e as Error).message);
  }
  const wrong = (key: string, expected: string): never => fail(`its weight ${key} is ${tensorShape(weights.get(key))}, expected ${expected}`);
  const h = config.hidden_channels;
  const phone = weights.get('enc_p.emb_phone.weight');
  const inputs = FEATURES[version];
  if (!phone || phone.shape.length !== 2 || phone.shape[0] !== h || phone.shape[1] !== inputs) {
    const other: 'v1' | 'v2' | null = phone?.shape[1] === FEATURES.v1 ? 'v1' : phone?.shape[1] === FEATURES.v2 ? 'v2' : null;
    const hint = other && other !== version ? ` (it takes ${FEATURES[other]}-d features: a ${other} voice labelled ${version})` : '';
    wrong('enc_p.emb_phone.weight', `[${h}, ${inputs}] for a ${version} voice with hidden_channels ${h}${hint}`);
  }
  const pitch = weights.get('enc_p.emb_pitch.weight');
  if (f0 && (!pitch || pitch.shape.length !== 2 || pitch.shape[0] !== 256 || pitch.shape[1] !== h)) wrong('enc_p.emb_pitch.weight', `[256, ${h}], the pitch embedding an f0 voice needs`);
  if (!f0 && pitch) fail('its f0 is 0 but its weights hold a pitch embedding (enc_p.emb_pitch.weight); the file is damaged');
  const emb = weights.get('emb_g.weight');
  if (!emb || emb.shape.length !== 2 || emb.shape[0]! < 1 || emb.shape[1] !== config.gin_channels) {
    wrong('emb_g.weight', `[speakers, ${config.gin_channels}] (gin_channels ${config.gin_channels})`);
  }
  const ups = new Set([...weights.keys()].map((k) => /^dec\.ups\.(\d+)\./.exec(k)?.[1]).filter((x) => x !== undefined));
  if (ups.size !== config.upsample_rates.length) {
    fail(`its weights have ${ups.size} upsampling layers (dec.ups.*), expected ${config.upsample_rates.length}, one per config upsample rate`);
  }
  for (const [k, t] of weights) if (!FLOAT_DTYPES.has(t.dtype)) fail(`its weight ${k} holds ${t.dtype} values, expected floating point`);
  return {
    weights,
    config: { ...config, spk_embed_dim: emb!.shape[0]! },
    f0,
    version,
    sampleRate: config.sr,
    info: info as string,
  };
}

export async function readRvcCheckpoint(file: string): Promise<RvcCheckpoint> {
  return parseRvcCheckpoint(await readCheckpointFile(file), file);
}
