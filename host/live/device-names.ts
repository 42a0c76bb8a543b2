// Names a person recognises. PortAudio reports ALSA's plugin names ("pulse", "default"), which mean nothing to
// someone setting up a stream; PulseAudio's sinks and sources carry a description ("Built-in Audio Analog
// Stereo") that is what the system's own sound settings show. The technical name stays beside it, because it
// is what --input/--output take.
import { VIRTUAL_MIC, type AudioDeviceInfo, type PulseEndpoint } from '../../protocol/devices.js';

/** ALSA plugin devices that stand for a sound server or the system's choice rather than a card. */
const ALSA_PLUGINS: Readonly<Record<string, string>> = {
  default: 'System default device',
  sysdefault: 'System default (ALSA, bypassing the sound server)',
  pulse: 'PulseAudio sound server',
  pipewire: 'PipeWire sound server',
  jack: 'JACK sound server',
};

export function deviceLabel(d: AudioDeviceInfo): string {
  return ALSA_PLUGINS[d.name] ?? d.name;
}

/** What the virtual microphone is called in other apps, and the hint that says so. */
export const VIRTUAL_MIC_LABEL = `${VIRTUAL_MIC.description} (pick it as the microphone in Discord or OBS)`;

export function pulseLabel(e: PulseEndpoint): string {
  if (e.kind === 'source' && e.name === VIRTUAL_MIC.sourceName) return VIRTUAL_MIC_LABEL;
  return e.description || e.name;
}
