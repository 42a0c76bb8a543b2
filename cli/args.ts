// Argument helpers shared by the subcommands: one-line errors, numbers that accept "+5".
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DIFFUSION_METHODS, type EngineSettings } from '../protocol/settings.js';
import { UserError } from '../protocol/errors.js';
import { isProviderChoice, PROVIDER_CHOICES, THREAD_RANGE, type RuntimeOptions } from '../protocol/runtime.js';

export class UsageError extends UserError {
  override name = 'UsageError';
  constructor(message: string) {
    super(message, 'usage');
  }
}

/** `--pitch -5` reads as an option followed by another option to parseArgs; join negative numbers. */
function joinNegativeValues(argv: string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    const name = a.startsWith('--') ? a.slice(2) : '';
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d|^-\.\d/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

export function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args: joinNegativeValues(argv, options), options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]!);
  }
}

/** Parses a numeric option; undefined when absent. */
export function numberOption(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(v)) throw new UsageError(`--${name} needs a number, got "${raw}"`);
  return v;
}

/** The engine-setting flags every voice command takes (convert, live), all parsed as numbers. */
export const ENGINE_OPTIONS = {
  pitch: { type: 'string' },
  formant: { type: 'string' },
  block: { type: 'string' },
  extra: { type: 'string' },
  crossfade: { type: 'string' },
  search: { type: 'string' },
  silence: { type: 'string' },
  loudness: { type: 'string' },
  'index-ratio': { type: 'string' },
  protect: { type: 'string' },
  speaker: { type: 'string' },
  'cluster-ratio': { type: 'string' },
  'noise-scale': { type: 'string' },
  diffusion: { type: 'string' },
  'k-step': { type: 'string' },
  speedup: { type: 'string' },
  'diffusion-method': { type: 'string' },
  'auto-f0': { type: 'string' },
} as const;

const ENGINE_KEYS: Record<keyof typeof ENGINE_OPTIONS, keyof EngineSettings> = {
  pitch: 'pitch',
  formant: 'formant',
  block: 'blockMs',
  extra: 'extraMs',
  crossfade: 'crossfadeMs',
  search: 'searchMs',
  silence: 'silenceDb',
  loudness: 'loudnessMix',
  'index-ratio': 'indexRatio',
  protect: 'protect',
  speaker: 'speaker',
  'cluster-ratio': 'clusterInferRatio',
  'noise-scale': 'noiseScale',
  diffusion: 'diffusion',
  'k-step': 'kStep',
  speedup: 'speedup',
  'diffusion-method': 'diffusionMethod',
  'auto-f0': 'autoF0',
};

/** The engine settings given on the command line (absent flags stay undefined, so defaults apply). */
export function engineSettingsFrom(values: Record<string, unknown>): Partial<EngineSettings> {
  const out: Partial<EngineSettings> = {};
  for (const [flag, key] of Object.entries(ENGINE_KEYS)) {
    const raw = values[flag] as string | undefined;
    // The sampler is a choice: its name (or its index) on the command line.
    if (flag === 'diffusion-method' && raw !== undefined) {
      const named = (DIFFUSION_METHODS as readonly string[]).indexOf(raw.trim());
      if (named < 0 && !/^\d+$/.test(raw.trim())) throw new UsageError(`--diffusion-method must be one of ${DIFFUSION_METHODS.join(', ')} (got "${raw}")`);
      out[key] = named >= 0 ? named : Number(raw);
      continue;
    }
    out[key] = numberOption(flag, raw);
  }
  return out;
}

/** Where the networks run: the flags of every command that loads a voice (convert, live, serve). */
export const RUNTIME_OPTIONS = {
  provider: { type: 'string' },
  threads: { type: 'string' },
} as const;

export const RUNTIME_USAGE = `  --provider <p>      where neural networks run: auto (the best GPU path here, else CPU), cpu, webgpu,
                      cuda, dml, coreml (default auto; an unavailable one falls back to CPU, saying why)
  --threads <n>       inference threads per network, ${THREAD_RANGE.min}..${THREAD_RANGE.max} (default 2)`;

export function runtimeFrom(values: { provider?: unknown; threads?: unknown }): Partial<RuntimeOptions> {
  const out: Partial<RuntimeOptions> = {};
  if (values.provider !== undefined) {
    if (!isProviderChoice(values.provider)) throw new UsageError(`--provider must be one of ${PROVIDER_CHOICES.join(', ')} (got "${String(values.provider)}")`);
    out.provider = values.provider;
  }
  const threads = numberOption('threads', values.threads as string | undefined);
  if (threads !== undefined) {
    if (!Number.isInteger(threads) || threads < THREAD_RANGE.min || threads > THREAD_RANGE.max) {
      throw new UsageError(`--threads must be a whole number from ${THREAD_RANGE.min} to ${THREAD_RANGE.max} (got ${threads})`);
    }
    out.threads = threads;
  }
  return out;
}
/**
 * Taken by the commands that open audio devices; acted on by the parent process (cli/quiet-child.ts), which
 * sees the same arguments: shows the audio libraries' own messages instead of only logging them.
 */
export const VERBOSE_OPTION = { verbose: { type: 'boolean' } } as const;
export const VERBOSE_USAGE = '  --verbose              also show what the audio libraries print (always kept in a log file)';
