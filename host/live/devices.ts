// Turning what the user typed ("3", "USB", "pulse:resona_vmic_sink") into a device, with one-line errors
// that say what to do, and the listing `resona devices` prints.
import { listPulse, pulseServer } from '../../native-audio/pulse.js';
import { AudioIO } from '../../native-audio/audio-io.js';
import { deviceLabel, pulseLabel } from './device-names.js';
import { VIRTUAL_CABLES, VIRTUAL_MIC, type AudioDeviceInfo, type PulseEndpoint, type ResolvedDevice } from '../../protocol/devices.js';
import { UserError } from '../../protocol/errors.js';

export class DeviceError extends UserError {
  override name = 'DeviceError';
  constructor(message: string) {
    super(message, 'device');
  }
}

export type Direction = 'input' | 'output';

export interface DeviceCatalogue {
  devices: AudioDeviceInfo[];
  /** Empty when no PulseAudio server answers. */
  pulse: PulseEndpoint[];
  pulseServer: string | null;
}

export async function readCatalogue(audio: AudioIO): Promise<DeviceCatalogue> {
  const [devices, server] = await Promise.all([audio.listDevices(), pulseServer()]);
  return { devices, pulse: server ? await listPulse() : [], pulseServer: server };
}

const channels = (d: AudioDeviceInfo, dir: Direction) => (dir === 'input' ? d.maxInputChannels : d.maxOutputChannels);
const HINT = "run 'resona devices' to list them";

/** Resolves a device spec for one direction; undefined spec = the system default. */
export function resolveDevice(spec: string | undefined, dir: Direction, cat: DeviceCatalogue): ResolvedDevice {
  const usable = cat.devices.filter((d) => channels(d, dir) > 0);
  if (usable.length === 0) throw new DeviceError(`there is no ${dir} device on this machine (${HINT})`);
  if (spec === undefined || spec === '' || spec === 'default') {
    const d = usable.find((x) => x.name === 'default') ?? usable[0]!;
    return { spec: 'default', id: d.id, label: deviceLabel(d), backendName: d.name, defaultSampleRate: d.defaultSampleRate };
  }
  if (spec.startsWith('pulse:')) {
    const name = spec.slice(6);
    const kind = dir === 'output' ? 'sink' : 'source';
    if (!cat.pulseServer) throw new DeviceError(`"${spec}" needs a PulseAudio (or PipeWire-pulse) server and none answered: start one, or pick a device by number (${HINT})`);
    const ep = cat.pulse.find((e) => e.kind === kind && e.name === name);
    if (!ep) {
      const names = cat.pulse.filter((e) => e.kind === kind).map((e) => e.name);
      throw new DeviceError(`no PulseAudio ${kind} named "${name}" (${kind}s: ${names.join(', ') || 'none'}; ${HINT})`);
    }
    const pulseDev = usable.find((d) => d.name === 'pulse');
    if (!pulseDev) throw new DeviceError(`PortAudio has no "pulse" device to reach PulseAudio through: install libasound2-plugins (ALSA's pulse plugin)`);
    return { spec, id: pulseDev.id, label: `${ep.description} (pulse:${name})`, backendName: pulseDev.name, pulseName: name, defaultSampleRate: ep.sampleRate || pulseDev.defaultSampleRate };
  }
  if (/^\d+$/.test(spec)) {
    const id = Number(spec);
    const d = cat.devices.find((x) => x.id === id);
    if (!d) throw new DeviceError(`no device number ${id} (${HINT})`);
    if (channels(d, dir) === 0) throw new DeviceError(`device ${id} "${d.name}" has no ${dir} channels: choose an ${dir} device (${HINT})`);
    return { spec, id, label: deviceLabel(d), backendName: d.name, defaultSampleRate: d.defaultSampleRate };
  }
  const lower = spec.toLowerCase();
  const exact = usable.filter((d) => d.name.toLowerCase() === lower);
  const matches = exact.length ? exact : usable.filter((d) => d.name.toLowerCase().includes(lower));
  if (matches.length === 0) throw new DeviceError(`no ${dir} device matches "${spec}" (${HINT})`);
  if (matches.length > 1) {
    throw new DeviceError(`"${spec}" matches ${matches.length} ${dir} devices (${matches.map((d) => `${d.id}: ${d.name}`).join('; ')}): give its number`);
  }
  const d = matches[0]!;
  // Labelled as the listing names it: "default" or "pulse" is ALSA's plugin name, not something a person chose.
  return { spec, id: d.id, label: deviceLabel(d), backendName: d.name, defaultSampleRate: d.defaultSampleRate };
}

/** Environment that routes a stream on the "pulse" device to the chosen sink or source. */
export function routingEnv(d: ResolvedDevice, dir: Direction): Record<string, string> | undefined {
  if (!d.pulseName) return undefined;
  return dir === 'output' ? { PULSE_SINK: d.pulseName } : { PULSE_SOURCE: d.pulseName };
}

/** Third-party virtual cables found among the devices, with what to pick (Windows and macOS). */
export function virtualCables(devices: AudioDeviceInfo[]): { product: string; playInto: string; appsPick: string; deviceIds: number[] }[] {
  const out = [];
  for (const c of VIRTUAL_CABLES) {
    const ids = devices.filter((d) => c.pattern.test(d.name)).map((d) => d.id);
    if (ids.length) out.push({ product: c.product, playInto: c.playInto, appsPick: c.appsPick, deviceIds: ids });
  }
  return out;
}

/** The text of `resona devices`. */
export function formatCatalogue(cat: DeviceCatalogue): string {
  const lines: string[] = [];
  if (cat.devices.length === 0) {
    lines.push('no audio devices found: PortAudio sees none (on Linux, is PulseAudio or PipeWire running for this user?)');
  }
  const byApi = new Map<string, AudioDeviceInfo[]>();
  for (const d of cat.devices) byApi.set(d.hostApi, [...(byApi.get(d.hostApi) ?? []), d]);
  for (const [api, list] of byApi) {
    lines.push(`${api}:`);
    for (const d of list) {
      const io = [d.maxInputChannels ? `in ${d.maxInputChannels}ch` : '', d.maxOutputChannels ? `out ${d.maxOutputChannels}ch` : ''].filter(Boolean).join(', ');
      // The recognisable name first; ALSA's plugin name (what a name match uses) only where it differs.
      const name = deviceLabel(d) === d.name ? d.name : `${deviceLabel(d)} (${d.name})`;
      lines.push(`  ${String(d.id).padStart(3)}  ${name.padEnd(36)} ${io.padEnd(18)} default ${d.defaultSampleRate} Hz (rates ${d.sampleRates.join(', ')})`);
    }
  }
  if (cat.pulseServer) {
    lines.push(`PulseAudio (${cat.pulseServer}): the names your sound settings show; give the pulse:<name> to --input, --output or --monitor:`);
    for (const kind of ['source', 'sink'] as const) {
      lines.push(`  ${kind === 'source' ? 'microphones (sources)' : 'speakers and headphones (sinks)'}:`);
      // Real microphones before monitors (a monitor hears what a sink plays, rarely what a person wants).
      const list = cat.pulse.filter((x) => x.kind === kind).sort((a, b) => Number(Boolean(a.monitorOf)) - Number(Boolean(b.monitorOf)));
      for (const e of list) {
        lines.push(`    ${`${pulseLabel(e)}${e.monitorOf && !/^Monitor of /.test(pulseLabel(e)) ? ' (monitor)' : ''}`.padEnd(40)} pulse:${e.name.padEnd(34)} ${e.sampleRate} Hz ${e.channels}ch`);
      }
    }
    lines.push(`  'resona live --virtual-mic' creates "${VIRTUAL_MIC.description}": in Discord or OBS choose "${VIRTUAL_MIC.description}" as the microphone.`);
  }
  const cables = virtualCables(cat.devices);
  for (const c of cables) {
    lines.push(`${c.product} found: use --output "${c.playInto}" (device ${c.deviceIds.join('/')}); in the other app choose "${c.appsPick}" as the microphone.`);
  }
  if (!cat.pulseServer && cables.length === 0 && process.platform !== 'linux') {
    lines.push('No virtual cable found: install VB-CABLE (Windows) or BlackHole (macOS) to give other apps a Resona microphone.');
  }
  return lines.join('\n');
}
