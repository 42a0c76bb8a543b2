// PulseAudio (and PipeWire's pulse server) through pactl: listing sinks and sources, the virtual
// microphone, and watching devices come and go. PortAudio reaches PulseAudio through ALSA's "pulse"
// device; a stream is routed to a given sink or source with PULSE_SINK / PULSE_SOURCE while it connects.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { promisify } from 'node:util';
import { VIRTUAL_MIC, type PulseEndpoint } from '../protocol/devices.js';
import { UserError } from '../protocol/errors.js';

const run = promisify(execFile);

export class PulseError extends UserError {
  override name = 'PulseError';
  constructor(message: string) {
    super(message, 'device');
  }
}

async function pactl(...args: string[]): Promise<string> {
  const { stdout } = await run('pactl', args, { timeout: 5000, maxBuffer: 8 << 20 });
  return stdout;
}

/** The server's name and version, or null when no PulseAudio/PipeWire-pulse server answers. */
export async function pulseServer(): Promise<string | null> {
  try {
    const info = await pactl('info');
    const name = /Server Name: (.*)/.exec(info)?.[1] ?? 'pulseaudio';
    const version = /Server Version: (.*)/.exec(info)?.[1] ?? '';
    return `${name} ${version}`.trim();
  } catch {
    return null;
  }
}

function parseSpec(spec: string): { rate: number; channels: number } {
  return { rate: Number(/(\d+)Hz/.exec(spec)?.[1] ?? 0), channels: Number(/(\d+)ch/.exec(spec)?.[1] ?? 0) };
}

/** Sinks (outputs) and sources (inputs, monitors included). */
export async function listPulse(): Promise<PulseEndpoint[]> {
  const out: PulseEndpoint[] = [];
  for (const kind of ['sink', 'source'] as const) {
    try {
      const json = JSON.parse(await pactl('--format=json', 'list', `${kind}s`)) as Array<Record<string, unknown>>;
      for (const e of json) {
        const { rate, channels } = parseSpec(String(e.sample_specification ?? ''));
        const name = String(e.name);
        const declared = e.monitor_of_sink as string | null | undefined;
        const monitorOf = kind !== 'source' ? undefined : declared && declared !== 'n/a' ? declared : name.endsWith('.monitor') ? name.slice(0, -8) : undefined;
        out.push({
          kind,
          name: String(e.name),
          description: String(e.description ?? e.name),
          sampleRate: rate,
          channels,
          ...(monitorOf ? { monitorOf } : {}),
        });
      }
    } catch {
      // Older pactl without JSON: the short list has no descriptions.
      for (const line of (await pactl('list', 'short', `${kind}s`)).split('\n')) {
        const f = line.split('\t');
        if (f.length < 4) continue;
        const { rate, channels } = parseSpec(f[3]!);
        out.push({ kind, name: f[1]!, description: f[1]!, sampleRate: rate, channels, ...(f[1]!.endsWith('.monitor') ? { monitorOf: f[1]!.slice(0, -8) } : {}) });
      }
    }
  }
  return out;
}

async function moduleIdsMatching(re: RegExp): Promise<string[]> {
  const ids: string[] = [];
  for (const line of (await pactl('list', 'short', 'modules')).split('\n')) {
    const [id, name, args] = line.split('\t');
    if (id && name && re.test(`${name} ${args ?? ''}`)) ids.push(id);
  }
  return ids;
}

export interface VirtualMic {
  sinkName: string;
  sourceName: string;
  /** Unloads both modules. */
  remove(): Promise<void>;
}

/**
 * Creates "Resona Virtual Microphone": a null sink Resona plays into and a source remapped from its monitor,
 * which other apps list as a microphone. Stale copies (a crashed run) are unloaded first, since loading
 * again would silently create "name.2".
 */
export async function createVirtualMic(rate: number): Promise<VirtualMic> {
  if (!(await pulseServer())) {
    throw new PulseError(
      'the virtual microphone needs a PulseAudio or PipeWire (pipewire-pulse) server and none answered to pactl: start one, or choose an output device with --output',
    );
  }
  await removeVirtualMic();
  // Nested quoting: the module argument holds a property list whose value has spaces.
  const prop = (text: string) => `'device.description="${text}"'`;
  const sinkId = (
    await pactl(
      'load-module',
      'module-null-sink',
      `sink_name=${VIRTUAL_MIC.sinkName}`,
      `rate=${rate}`,
      'channels=1',
      `sink_properties=${prop(`${VIRTUAL_MIC.description} (playback)`)}`,
    )
  ).trim();
  let sourceId: string;
  try {
    sourceId = (
      await pactl(
        'load-module',
        'module-remap-source',
        `master=${VIRTUAL_MIC.sinkName}.monitor`,
        `source_name=${VIRTUAL_MIC.sourceName}`,
        `source_properties=${prop(VIRTUAL_MIC.description)}`,
      )
    ).trim();
  } catch (e) {
    await pactl('unload-module', sinkId).catch(() => undefined);
    throw new PulseError(`could not create the virtual microphone's source: ${(e as Error).message.split('\n')[0]}`);
  }
  return {
    sinkName: VIRTUAL_MIC.sinkName,
    sourceName: VIRTUAL_MIC.sourceName,
    remove: async () => {
      await pactl('unload-module', sourceId).catch(() => undefined);
      await pactl('unload-module', sinkId).catch(() => undefined);
    },
  };
}

/** Unloads any Resona virtual microphone modules (ours or a crashed run's). */
export async function removeVirtualMic(): Promise<void> {
  const re = new RegExp(`(source_name=${VIRTUAL_MIC.sourceName}\\b|sink_name=${VIRTUAL_MIC.sinkName}\\b)`);
  for (const id of (await moduleIdsMatching(re)).reverse()) await pactl('unload-module', id).catch(() => undefined);
}

/**
 * Reports sinks and sources that appear and disappear (`pactl subscribe`). PulseAudio moves a stream whose
 * sink vanishes onto another sink instead of failing it, so without this a lost virtual microphone would
 * quietly play into the wrong device.
 */
export class PulseWatcher extends EventEmitter {
  private proc: ChildProcess | null = null;
  private names = new Map<string, string>(); // "sink#3" → name

  static async start(): Promise<PulseWatcher> {
    const w = new PulseWatcher();
    await w.refresh();
    w.proc = spawn('pactl', ['subscribe'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let buf = '';
    w.proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        void w.onLine(line);
      }
    });
    w.proc.on('error', () => undefined);
    return w;
  }

  private async refresh(): Promise<void> {
    const next = new Map<string, string>();
    for (const kind of ['sink', 'source']) {
      for (const line of (await pactl('list', 'short', `${kind}s`).catch(() => '')).split('\n')) {
        const [idx, name] = line.split('\t');
        if (idx && name) next.set(`${kind}#${idx}`, name);
      }
    }
    this.names = next;
  }

  private async onLine(line: string): Promise<void> {
    const m = /Event '(new|remove)' on (sink|source) #(\d+)/.exec(line);
    if (!m) return;
    const [, what, kind, idx] = m;
    const key = `${kind}#${idx}`;
    if (what === 'remove') {
      const name = this.names.get(key);
      this.names.delete(key);
      if (name) this.emit('removed', kind, name);
    } else {
      await this.refresh();
      const name = this.names.get(key);
      if (name) this.emit('added', kind, name);
    }
  }

  has(kind: 'sink' | 'source', name: string): boolean {
    for (const [k, n] of this.names) if (k.startsWith(kind) && n === name) return true;
    return false;
  }

  stop(): void {
    this.proc?.kill();
    this.proc = null;
  }
}
