// Argument helpers shared by the subcommands: one-line errors, numbers that accept "+5".
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
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
