// The engine host, in Electron's utility process: the same ControlApi that server mode serves, spoken to
// over the parent port. Inference and audio run in this process's workers, so a native crash in them takes
// this process down, never the window; the main process restarts it.
import { ControlApi } from '../host/control/control-api.js';
import type { CommandName, HostEvent } from '../protocol/control.js';

interface ParentPort {
  on(event: 'message', l: (e: { data: unknown }) => void): void;
  postMessage(m: unknown): void;
}

export type ToEngine = { kind: 'call'; id: number; cmd: CommandName; args: unknown } | { kind: 'shutdown' };
export type FromEngine = { kind: 'result'; id: number; reply: unknown } | { kind: 'event'; event: HostEvent } | { kind: 'ready' };

const port = (process as unknown as { parentPort: ParentPort }).parentPort;
const api = await ControlApi.create();
api.onEvent((event) => port.postMessage({ kind: 'event', event } satisfies FromEngine));
port.on('message', ({ data }) => {
  const m = data as ToEngine;
  if (m.kind === 'shutdown') {
    void api.close().finally(() => process.exit(0));
    return;
  }
  void api.call(m.cmd, m.args as never).then((reply) => port.postMessage({ kind: 'result', id: m.id, reply } satisfies FromEngine));
});
port.postMessage({ kind: 'ready' } satisfies FromEngine);
