// `resona serve`: the app's UI and control API over HTTP and WebSocket, for a headless engine or a browser.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ControlApi } from '../host/control/control-api.js';
import { ResonaServer } from '../host/server/server.js';
import { numberOption, parse, RUNTIME_OPTIONS, RUNTIME_USAGE, runtimeFrom, UsageError, VERBOSE_OPTION, VERBOSE_USAGE } from './args.js';

export const SERVE_USAGE = `usage: resona serve [options]
  --host <addr>     address to bind (default 127.0.0.1); any other needs --token
  --port <n>        port (default 7870; 0 picks a free one)
  --token <secret>  required for a non-local bind (at least 16 characters); default: $RESONA_TOKEN
  --rate <Hz>       stream rate of live sessions (default 48000); --buffer <frames> device buffer (default 256)
${RUNTIME_USAGE}
${VERBOSE_USAGE}
Open the printed address in a browser. Voices, presets and recordings live under $RESONA_HOME.`;

export const DEFAULT_PORT = 7870;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    host: { type: 'string' },
    port: { type: 'string' },
    token: { type: 'string' },
    rate: { type: 'string' },
    buffer: { type: 'string' },
    ...RUNTIME_OPTIONS,
    ...VERBOSE_OPTION,
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(SERVE_USAGE);
    return 0;
  }
  const host = (values.host as string | undefined) ?? '127.0.0.1';
  const port = numberOption('port', values.port as string | undefined) ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0..65535 (got ${port})`);
  const token = (values.token as string | undefined) ?? (process.env.RESONA_TOKEN || undefined);
  const rate = numberOption('rate', values.rate as string | undefined);
  const buffer = numberOption('buffer', values.buffer as string | undefined);
  const staticDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'renderer');

  const runtime = runtimeFrom(values);
  const api = await ControlApi.create({ runtime, sessionDefaults: { ...(rate ? { sampleRate: rate } : {}), ...(buffer ? { bufferFrames: buffer } : {}) } });
  let server: ResonaServer;
  try {
    server = await ResonaServer.start({ host, port, staticDir, api, ...(token ? { token } : {}) });
  } catch (e) {
    await api.close();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UsageError(`port ${port} is in use: choose another with --port`);
    if ((e as Error).name === 'ServerConfigError') throw new UsageError((e as Error).message);
    throw e;
  }
  // Machine-readable first line: the desktop launcher and the tests read the address from it.
  console.log(`resona serve: open ${server.url}${token ? `?token=${encodeURIComponent(token)}` : ''}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  await api.close();
  return 0;
}
