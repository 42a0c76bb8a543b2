// `resona vocoder <file>`: checks the NSF-HiFiGAN vocoder the user downloaded (Resona never bundles one: the
// weights in circulation are CC BY-NC-SA), renders it once, and says how a so-vits voice names it.
import path from 'node:path';
import { checkUserVocoder } from '../host/vocoder.js';
import { parse, UsageError } from './args.js';

export const VOCODER_USAGE = `usage: resona vocoder <file>
  <file>  openvpi's NSF-HiFiGAN checkpoint (the file "model", with its config.json beside it) or an exported
          NSF-HiFiGAN .onnx (inputs mel or c, and f0)
Loads the vocoder, renders half a second of a test tone through it, and prints the voice.json line that
gives a so-vits voice this vocoder.`;

export async function vocoderCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(VOCODER_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('vocoder needs one file: the NSF-HiFiGAN checkpoint or .onnx');
  const file = path.resolve(positionals[0]!);
  const c = await checkUserVocoder(file);
  console.log(`${file}: NSF-HiFiGAN ${c.source === 'checkpoint' ? 'checkpoint (built into an ONNX graph)' : `ONNX (mel input "${c.contract.mel}", ${c.contract.layout})`}, ${c.contract.bands} mels`);
  console.log(`rendered ${c.frames} frames → ${c.samples} samples in ${c.ms.toFixed(1)} ms on ${c.provider.toUpperCase()}, peak ${c.peak.toFixed(3)}`);
  console.log(`to use it, add to the voice's voice.json: "vocoder": ${JSON.stringify(file)}`);
  return 0;
}
