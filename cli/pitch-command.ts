import { pitchTrack } from '../host/pitch-track.js';
import { numberOption, parse, UsageError } from './args.js';

export const PITCH_USAGE = `usage: resona pitch <input> [options]
  --f0 <method|file>  pitch estimator: yin (built-in, default), pyin (built-in, probabilistic voicing), swiftf0, crepe,
                      rmvpe, or an ONNX pitch network
  --model <file>      the network file for --f0 swiftf0/crepe/rmvpe (default: the models folder's, see 'resona models')
  --threads <n>       inference threads, 1..16 (default 1)
Prints the f0 track as CSV on stdout, one row per 10 ms frame: time (s), hz (0 when unvoiced), voiced (1/0),
confidence (0..1, the estimator's own: YIN's periodicity, a network's confidence). Reads WAV, FLAC, MP3, Ogg.`;

export async function pitchCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    f0: { type: 'string' },
    model: { type: 'string' },
    threads: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(PITCH_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('pitch needs one input file');
  const threads = numberOption('threads', values.threads as string | undefined);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > 16)) throw new UsageError(`--threads must be a whole number from 1 to 16 (got ${threads})`);
  const model = values.model as string | undefined;
  // A lone --model names the network; its inputs and outputs say which method it is.
  const f0 = (values.f0 as string | undefined) ?? model;
  if (model !== undefined && (f0 === 'yin' || f0 === 'pyin')) throw new UsageError(`--model is for network f0 methods; ${f0} needs no file`);
  const track = await pitchTrack(positionals[0]!, { f0, model, threads });
  for (const w of track.warnings) console.error(`resona: warning: ${w}`);
  // One write: a long file is tens of thousands of rows.
  const rows = ['time,hz,voiced,confidence'];
  for (let f = 0; f < track.hz.length; f++) {
    const hz = track.hz[f]!;
    rows.push(`${(f * track.hopSec).toFixed(2)},${hz.toFixed(2)},${hz > 0 ? 1 : 0},${track.confidence[f]!.toFixed(3)}`);
  }
  process.stdout.write(`${rows.join('\n')}\n`);
  return 0;
}
