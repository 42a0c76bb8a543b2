// What Resona will read from a PyTorch checkpoint before calling it damaged or malicious: one table, each figure
// sized from the largest real file of its kind with a wide margin, so no genuine voice or encoder comes near it
// while a forged one is stopped in seconds and well under a gigabyte.
//
// The real files (sizes as published; tensor counts from the architectures in ./rvc-spec.ts and
// ./hubert-random.ts, which build exactly the tensors those files hold):
//   RVC v2 48k voice .pth (extracted small model)   ≈ 57 MB, 457 fp16 tensors, so ~460 zip entries
//   RVC pretrained_v2/f0G40k.pth                    73,106,273 B (generator with enc_q)
//   RVC training G_*.pth / D_*.pth with AdamW state  up to ≈ 900 MB; ~530 tensors, each with exp_avg,
//                                                    exp_avg_sq and (PyTorch ≥ 1.12) a step tensor: ~2,200 entries
//   hubert_base.pt (fairseq HuBERT base, fp16)       189,507,909 B, 213 tensors
//   ContentVec checkpoint_best_legacy_500.pt (fp32)  ≈ 360 MB, ~215 tensors
// No real checkpoint can be downloaded here, so the pickle figures are counted from what those files hold
// rather than measured: a training G_*.pth's state dict (~530 tensors, ~1,100 values with keys), AdamW's
// state ({index: {step, exp_avg, exp_avg_sq}}, ~8 values per parameter, ~4,300) and param_groups (~550);
// hubert_base.pt's 213 tensors, fairseq's cfg (a few hundred fields) and its label dictionary (504 symbols
// with counts and an index, ~2,000). So about 6,000–10,000 values, nested at most 5 deep
// (root → optimizer → state → index → exp_avg).
import type { Limit } from '../archive/limit.js';
import type { ZipBudget } from '../archive/zip.js';

export const CHECKPOINT_ZIP: ZipBudget = {
  entries: { max: 20_000, sizedFrom: 'the most in a real checkpoint, an RVC training G_*.pth with optimizer state, is about 2,200' },
  totalBytes: { max: 2 * 2 ** 30, sizedFrom: 'the largest real checkpoint, an RVC training D_*.pth with optimizer state, is about 900 MB' },
  // torch.save stores records uncompressed (ratio 1); a checkpoint re-zipped by hand deflates weights < 2:1.
  ratio: { max: 100, sizedFrom: 'torch.save stores tensors uncompressed, and real weights deflate less than 2:1' },
};

export const PICKLE = {
  /**
   * Values in data.pkl's object tree with every shared reference expanded, as any walker over it would see
   * them: a memo GET costs a few bytes but can stand for a whole subtree, so a 700-byte file can describe 2^40.
   */
  expandedValues: { max: 4_000_000, sizedFrom: 'real checkpoints hold about 10,000' } satisfies Limit,
  depth: { max: 100, sizedFrom: 'real checkpoints nest about 6 deep' } satisfies Limit,
  /** Work units (operand sizes of calls and BUILDs) per byte of data.pkl, plus a fixed allowance. */
  workPerByte: 4,
  workBase: 1_000_000,
} as const;

export const TENSORS = {
  /** The largest tensor built: 2^28 elements (1 GiB as float32); the largest real one, HuBERT's positional
   * convolution [768, 48, 128], has 4.7 M. */
  maxElements: 2 ** 28,
  /** Tensors are views that may overlap (tied weights) or broadcast (stride 0): what they may materialise,
   * as a multiple of the stored bytes plus a fixed allowance. Real files materialise ≤ 2× (fp16 → fp32). */
  outputPerStoredByte: 8,
  outputBase: 64 * 2 ** 20,
  maxDims: 64,
} as const;

/** Bounds on fairseq's conv_feature_layers, which is Python source in the config (never evaluated). */
export const CONV_SPEC = {
  /** Characters; HuBERT base's is "[(512,10,5)] + [(512,3,2)] * 4 + [(512,2,2)] * 2" (50). */
  length: 1024,
  /** Layers in all; every HuBERT, ContentVec and wav2vec 2.0 has 7. */
  layers: 32,
  /** One list's repeat count (HuBERT base: 4). */
  repeat: 32,
  /** Channels (all real ones: 512). */
  dim: 4096,
  /** Kernel and stride (real: at most 10 and 5). */
  kernel: 1024,
  stride: 1024,
} as const;

/** HuBERT/ContentVec sizes the encoder builder accepts, each far above HuBERT X-Large, the largest real one. */
export const HUBERT_SIZES = {
  embedDim: { max: 8192, sizedFrom: 'HuBERT X-Large has 1280' },
  ffnDim: { max: 32768, sizedFrom: 'HuBERT X-Large has 5120' },
  heads: { max: 128, sizedFrom: 'HuBERT X-Large has 16' },
  layers: { max: 128, sizedFrom: 'HuBERT X-Large has 48' },
  convPos: { max: 1024, sizedFrom: 'every real one has 128' },
  convPosGroups: { max: 1024, sizedFrom: 'every real one has 16' },
  finalDim: { max: 8192, sizedFrom: 'HuBERT X-Large has 1024' },
} as const satisfies Record<string, Limit>;

/** RVC's config lists (upsample_rates, kernel sizes, dilations): real voices have 3 to 5 entries. */
export const RVC_CONFIG_LIST = 32;
