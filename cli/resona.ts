#!/usr/bin/env node
// The `resona` command. Every subcommand prints a one-line error and exits non-zero on bad input.
// First, before anything can print: in the child that cli/quiet-child.ts starts, point our output past its filter.
import './own-output.js';
// Each subcommand's module is imported when it runs, not up front: the server, the live path and
// onnxruntime-node take a good part of a second to load, which a short `convert` would otherwise pay for
// commands it never runs.
import { UserError } from '../protocol/errors.js';
import { UsageError } from './args.js';
import { runInQuietChild } from './quiet-child.js';
import { packageVersion } from './version.js';

const USAGE = `usage: resona <command> [options]
commands:
  convert <in> <out.wav>   convert a file through the streaming engine ('resona convert --help')
  live                     change your voice live into a device or the virtual microphone ('resona live --help')
  devices                  list audio devices, PulseAudio sinks/sources and virtual cables
  voices                   list the voices (built-in and imported)
  import <file|folder|zip> add an RVC voice to the library ('resona import --help')
  models [list|path|download <id>]   the shared networks neural voices need
  pitch <file>             print a file's f0 track as CSV ('resona pitch --help')
  vocoder <file>           check an NSF-HiFiGAN vocoder you downloaded and say how a voice names it
  serve                    the app's UI and control API over HTTP/WebSocket ('resona serve --help')
  --version, -v            print Resona's version
devices, live and serve keep the audio libraries' own messages out of the terminal, in a log file;
--verbose shows them and says where the file is.
`;


async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'convert':
      await (await import('./convert-command.js')).convertCommand(rest);
      return 0;
    case 'live':
      return (await runInQuietChild('live', rest)) ?? (await (await import('./live-command.js')).liveCommand(rest));
    case 'devices':
      return (await runInQuietChild('devices', rest)) ?? (await (await import('./devices-command.js')).devicesCommand(rest));
    case 'voices': {
      const { voices, broken } = await (await import('../host/voices.js')).listVoices();
      for (const v of voices) console.log(`${v.id.padEnd(12)} ${v.description} (pitch ${v.defaultPitch}${v.kind === 'builtin' ? `, formant ${v.defaultFormant}` : ''})`);
      for (const b of broken) console.error(`resona: warning: ${b}`);
      return 0;
    }
    case 'import':
      return (await import('./import-command.js')).importCommand(rest);
    case 'models':
      return (await import('./models-command.js')).modelsCommand(rest);
    case 'pitch':
      return (await import('./pitch-command.js')).pitchCommand(rest);
    case 'vocoder':
      return (await import('./vocoder-command.js')).vocoderCommand(rest);
    case 'serve':
      return (await runInQuietChild('serve', rest)) ?? (await (await import('./serve-command.js')).serveCommand(rest));
    case '--version':
    case '-v':
    case 'version':
      console.log(packageVersion());
      return 0;
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
  async (e: unknown) => {
    // A UserError's message is written for the user (what was wrong and what to do); anything else is a bug,
    // reported with its stack so it can be fixed.
    if (e instanceof UserError) console.error(`resona: error: ${e.message}`);
    else console.error(`resona: internal error (please report it): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    if (e instanceof UsageError && /convert/.test(e.message)) console.error((await import('./convert-command.js')).CONVERT_USAGE.split('\n')[0]);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  },
);
