#!/usr/bin/env node
// The `resona` command. Every subcommand prints a one-line error and exits non-zero on bad input.
import { AudioFileError } from '../host/audio-file.js';
import { listVoices, VoiceNotFoundError } from '../host/voices.js';
import { SettingError } from '../protocol/settings.js';
import { UsageError } from './args.js';
import { CONVERT_USAGE, convertCommand } from './convert-command.js';

const USAGE = `usage: resona <command> [options]
commands:
  convert <in> <out.wav>   convert a file through the streaming engine ('resona convert --help')
  voices                   list the voices
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'convert':
      await convertCommand(rest);
      return 0;
    case 'voices': {
      const { voices, broken } = await listVoices();
      for (const v of voices) console.log(`${v.id.padEnd(12)} ${v.description} (pitch ${v.defaultPitch}${v.kind === 'builtin' ? `, formant ${v.defaultFormant}` : ''})`);
      for (const b of broken) console.error(`resona: warning: ${b}`);
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${cmd}"; try 'resona help'`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const known = e instanceof UsageError || e instanceof SettingError || e instanceof AudioFileError || e instanceof VoiceNotFoundError || e instanceof RangeError;
    const msg = e instanceof Error ? e.message : String(e);
    console.error(`resona: error: ${known ? msg : `unexpected failure: ${msg}`}`);
    if (e instanceof UsageError && /convert/.test(msg)) console.error(CONVERT_USAGE.split('\n')[0]);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  },
);
