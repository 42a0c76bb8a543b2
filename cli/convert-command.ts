import { promises as fs } from 'node:fs';
import path from 'node:path';
import { convertFile } from '../host/convert.js';
import { DEFAULT_VOICE } from '../host/voices.js';
import { UserError } from '../protocol/errors.js';
import { mergeSettings, DEFAULT_SETTINGS, DIFFUSION_METHODS } from '../protocol/settings.js';
import { describePlacement, describeStages } from '../protocol/runtime.js';
import { ENGINE_OPTIONS, engineSettingsFrom, parse, RUNTIME_OPTIONS, RUNTIME_USAGE, runtimeFrom, UsageError } from './args.js';
import { ProgressBar } from './progress.js';

export const CONVERT_USAGE = `usage: resona convert <input> <output.wav> [options]
  --voice <id|path>   voice: a built-in or imported id, or an RVC .onnx / .zip / folder
                      (default ${DEFAULT_VOICE}; see 'resona voices')
  --encoder <file>    content encoder ONNX for neural voices (default: the catalogue's, see 'resona models')
  --f0 <method|file>  pitch estimator: yin (built-in), pyin (built-in, probabilistic voicing), swiftf0, crepe,
                      rmvpe, or an ONNX pitch network
  --index-ratio <r>   neural voices with an index: retrieval share, 0..1 (default ${DEFAULT_SETTINGS.indexRatio})
  --protect <p>       neural voices: keep unvoiced sounds from retrieval, 0..0.5 (default ${DEFAULT_SETTINGS.protect})
  --speaker <n>       speaker id of a multi-speaker voice (default 0)
  --cluster-ratio <r> so-vits-svc voices with a cluster/index file: retrieval share, 0..1 (default ${DEFAULT_SETTINGS.clusterInferRatio})
  --noise-scale <s>   so-vits-svc voices: the flow's noise, 0..2 (default: the voice's, ${DEFAULT_SETTINGS.noiseScale}; 0 = deterministic)
  --diffusion <0|1>   so-vits-svc voices with a diffusion model and vocoder: shallow diffusion off/on (default 1)
  --k-step <k>        shallow diffusion depth, 1..the model's k_step_max (default ${DEFAULT_SETTINGS.kStep})
  --speedup <s>       shallow diffusion speedup, 1..k-step (default ${DEFAULT_SETTINGS.speedup})
  --diffusion-method <m>  sampler: ${DIFFUSION_METHODS.join(', ')} (default ${DIFFUSION_METHODS[0]})
  --auto-f0 <0|1>     so-vits-svc voices trained with f0 prediction: 1 predicts f0 from the speech (default 0)
${RUNTIME_USAGE}
  --pitch <st>        pitch shift in semitones, -24..24 (default: the voice's)
  --formant <st>      formant shift in semitones, -12..12 (default: the voice's)
  --block <ms>        block size, 10..1500 (default ${DEFAULT_SETTINGS.blockMs})
  --extra <ms>        extra context, 0..5000 (default ${DEFAULT_SETTINGS.extraMs})
  --crossfade <ms>    SOLA crossfade, 5..150 (default ${DEFAULT_SETTINGS.crossfadeMs})
  --search <ms>       SOLA search window, 0..50 (default ${DEFAULT_SETTINGS.searchMs})
  --silence <dB>      silence gate threshold, -100..0 (default ${DEFAULT_SETTINGS.silenceDb})
  --loudness <0..1>   1 keeps the voice's loudness, 0 follows the input's (default ${DEFAULT_SETTINGS.loudnessMix})
  --keep-latency      keep the live delay in the output instead of compensating it
  --quiet             print nothing but errors
Reads WAV, FLAC, MP3 and Ogg Vorbis; writes 32-bit float mono WAV at the input's sample rate.`;

export async function convertCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, {
    voice: { type: 'string' },
    encoder: { type: 'string' },
    f0: { type: 'string' },
    ...RUNTIME_OPTIONS,
    ...ENGINE_OPTIONS,
    'keep-latency': { type: 'boolean' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(CONVERT_USAGE);
    return;
  }
  if (positionals.length !== 2) throw new UsageError('convert needs an input file and an output file');
  const [input, output] = positionals as [string, string];
  if (path.resolve(input) === path.resolve(output)) throw new UsageError('the output must not overwrite the input');
  if (path.extname(output).toLowerCase() !== '.wav') throw new UsageError(`the output is written as WAV: name it .wav (got "${output}")`);
  const raw = engineSettingsFrom(values);

  const runtime = runtimeFrom(values);
  // Check every setting before reading anything, so a typo costs nothing.
  mergeSettings(DEFAULT_SETTINGS, raw);
  const outDir = path.dirname(path.resolve(output));
  const st = await fs.stat(outDir).catch(() => null);
  if (!st?.isDirectory()) throw new UsageError(`the output folder ${outDir} does not exist`);

  const quiet = Boolean(values.quiet);
  const bar = quiet ? null : new ProgressBar(process.stderr);
  // Ctrl+C on a long file stops between blocks, so the partial output is removed before the process ends.
  const ac = new AbortController();
  const onSignal = () => ac.abort(new UserError('interrupted; no output written', 'usage'));
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  const result = await convertFile(input, output, {
    voice: (values.voice as string | undefined) ?? DEFAULT_VOICE,
    encoder: values.encoder as string | undefined,
    f0: values.f0 as string | undefined,
    runtime,
    settings: raw,
    keepLatency: Boolean(values['keep-latency']),
    onProgress: bar ? (done, total) => bar.update(done, total) : undefined,
    signal: ac.signal,
  }).finally(() => {
    bar?.done();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  });
  // Whole process: performance.now() counts from the process's start (performance.timeOrigin), so this
  // includes Node's start, module loading, voice loading and file I/O, not only the engine's blocks.
  const wallSec = performance.now() / 1000;
  for (const w of result.warnings) console.error(`resona: warning: ${w}`);
  if (quiet) return;
  const l = result.latency;
  const s = result.settings;
  console.log(`wrote ${output}: ${result.seconds.toFixed(2)} s at ${result.sampleRate} Hz`);
  console.log(`voice ${(values.voice as string | undefined) ?? DEFAULT_VOICE}, pitch ${s.pitch}, formant ${s.formant}, f0 ${result.f0Method}, block ${s.blockMs} ms`);
  console.log(`networks: ${result.placement.length ? describePlacement(result.placement) : 'none (a built-in voice)'}`);
  if (result.stages.length) console.log(`stages, mean per block: ${describeStages(result.stages)}`);
  console.log(
    `real-time factor ${result.rtf.toFixed(4)} (${(1 / Math.max(result.rtf, 1e-9)).toFixed(1)}x faster than real time); ` +
      `whole process ${(wallSec / result.seconds).toFixed(4)} (${wallSec.toFixed(2)} s from start, ${result.engineSeconds.toFixed(2)} s of it in the engine)`,
  );
  console.log(
    `algorithmic latency ${l.totalMs.toFixed(1)} ms = block ${l.blockMs.toFixed(1)} + crossfade ${l.crossfadeMs.toFixed(1)} + search ${l.searchMs.toFixed(1)} + resampling ${l.resampleMs.toFixed(2)} ms` +
      (values['keep-latency'] ? ' (kept in the output)' : ' (compensated in the output)'),
  );
}
