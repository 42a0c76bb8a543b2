// What a voice import will read before calling a file damaged or malicious: one table, each figure sized from
// the largest real file of its kind with a wide margin.
//
// The real files (as voice sites and RVC's own tools publish them):
//   RVC v2 48 kHz voice, fp32 ONNX export        ≈ 110 MB; the same as an extracted .pth (fp16) ≈ 57 MB
//   added_IVF*_Flat_nprobe_1_*_v2.index           up to ≈ 600 MB (200k × 768 float32 features)
//   a voice zip from a voice site                 model + one or two indexes + a cover image and a readme:
//                                                 under 20 entries (40 with macOS's __MACOSX copies), < 1 GB
//   cover images                                  tens to hundreds of KB
//   voice.json as Resona writes it                under 1 KB
import type { Limit } from '../archive/limit.js';
import type { ZipBudget } from '../archive/zip.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

export const VOICE_FILES = {
  model: { max: 2 * GiB - 1, sizedFrom: 'an RVC v2 48 kHz voice is about 110 MB as ONNX, and ONNX files stop at 2 GiB' },
  index: { max: 2 * GiB - 1, sizedFrom: 'the largest RVC indexes hold about 600 MB of features' },
  preview: { max: 16 * MiB, sizedFrom: 'voice cover images are a few hundred KB' },
  manifest: { max: 64 * 1024, sizedFrom: 'voice.json as Resona writes it is under 1 KB' },
  zip: { max: 2 * GiB - 1, sizedFrom: 'voice zips from voice sites are under 1 GB' },
  vocoder: { max: 2 * GiB - 1, sizedFrom: "openvpi's 44.1 kHz NSF-HiFiGAN is about 55 MB as ONNX, and ONNX files stop at 2 GiB" },
} as const satisfies Record<string, Limit>;

export const VOICE_ZIP: ZipBudget = {
  entries: { max: 1000, sizedFrom: 'voice zips hold under 20 entries, 40 with macOS copies' },
  totalBytes: { max: 4 * GiB, sizedFrom: 'voice zips from voice sites unpack to under 1 GB' },
  // Weights and features deflate less than 2:1; readme text perhaps 5:1.
  ratio: { max: 100, sizedFrom: 'model weights and index features deflate less than 2:1' },
};
