// `resona import`: adds a voice to the library, checked (contract, rate, index) before anything is copied.
import { importToLibrary, voicesDir } from '../host/voices.js';
import { parse, UsageError } from './args.js';

export const IMPORT_USAGE = `usage: resona import <voice.onnx | voice.pth | folder | voice.zip> [--index <file.index>] [--name <name>]
       resona import <sovits.onnx | G_*.pth --config config.json | folder | voice.zip> [--cluster kmeans_10000.pt | --index feature_and_index.pkl] [--encoder hubert-soft-0d54a1f4.pt]
Adds an RVC voice (any of the ONNX contracts in circulation, or a .pth) or a so-vits-svc voice (4.0/4.1 export,
or G_*.pth with --config config.json) to the library in ${voicesDir()}.
so-vits-svc hubertsoft voices (speech_encoder "hubertsoft"): --encoder takes the HuBERT-Soft checkpoint (bshall/hubert
releases), built into the voice as its own encoder; a folder may hold it as hubert-soft*.pt instead.
so-vits-svc retrieval: --cluster takes the kmeans centres (picked by the model's speaker names), --index the
feature indexes (picked by speaker id); the cluster-ratio knob then blends them in.
so-vits-svc 4.1 shallow diffusion: --diffusion model_*.pt [--diffusion-config diffusion.yaml] (default: the
diffusion.yaml beside it; a folder holding model_*.pt + diffusion.yaml, or a diffusion/ folder, is picked up),
or --diffusion <one file of an exported set {name}_encoder/_denoise/_pred/_after.onnx, or its folder> (the yaml
optional: without it, 44.1 kHz, hop 512, k_step_max 1000),
with --vocoder <your NSF-HiFiGAN checkpoint or .onnx> (never bundled: its weights are CC BY-NC-SA; see
'resona vocoder'). The diffusion model must match the voice (features, speakers) and the vocoder (rate, hop, mels).`;

export async function importCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    index: { type: 'string' },
    config: { type: 'string' },
    cluster: { type: 'string' },
    diffusion: { type: 'string' },
    'diffusion-config': { type: 'string' },
    vocoder: { type: 'string' },
    encoder: { type: 'string' },
    name: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(IMPORT_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('import needs one voice file or folder');
  const info = await importToLibrary(positionals[0]!, { index: values.index as string | undefined, config: values.config as string | undefined, cluster: values.cluster as string | undefined, encoder: values.encoder as string | undefined, name: values.name as string | undefined,
    diffusion: values.diffusion as string | undefined, diffusionConfig: values['diffusion-config'] as string | undefined, vocoder: values.vocoder as string | undefined });
  console.log(`imported "${info.name}" as ${info.id}: ${info.description}${info.hasIndex ? ', with index' : ''}${(info.speakers ?? 1) > 1 ? `, ${info.speakers} speakers` : ''}`);
  console.log(`use it with: resona convert in.wav out.wav --voice ${info.id}`);
  return 0;
}
