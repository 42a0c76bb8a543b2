// What front ends know about audio devices and how they name them.

export interface AudioDeviceInfo {
  /** Index in the backend's device list (PortAudio's device index). */
  id: number;
  name: string;
  hostApi: string;
  maxInputChannels: number;
  maxOutputChannels: number;
  defaultSampleRate: number;
  /** Rates this device was found to accept (checked when listing). */
  sampleRates: number[];
  defaultLowInputLatencySec: number;
  defaultLowOutputLatencySec: number;
}

/** A PulseAudio (or PipeWire-pulse) sink or source, reachable through the backend's "pulse" device. */
export interface PulseEndpoint {
  kind: 'sink' | 'source';
  name: string;
  description: string;
  sampleRate: number;
  channels: number;
  /** A sink's monitor source, or a source that is a monitor. */
  monitorOf?: string;
}

/**
 * A device as the user names it: a PortAudio index ("3"), part of a PortAudio name ("USB Audio"), or a
 * PulseAudio sink/source name prefixed with "pulse:" ("pulse:resona_vmic_sink").
 */
export type DeviceSpec = string;

/** Where a stream actually goes, once a spec is resolved. */
export interface ResolvedDevice {
  spec: DeviceSpec;
  /** Backend device index. */
  id: number;
  /** Human-readable name for messages. */
  label: string;
  /** The backend's own name for the device (PortAudio's, e.g. "default"): how it is found again after it left. */
  backendName: string;
  /** For PulseAudio endpoints: the sink (output) or source (input) the stream is routed to. */
  pulseName?: string;
  /** Rate the device runs at by default. */
  defaultSampleRate: number;
}

export const VIRTUAL_MIC = {
  /** The null sink Resona plays into. */
  sinkName: 'resona_vmic_sink',
  /** The source other apps pick as their microphone (remapped from the sink's monitor). */
  sourceName: 'resona_vmic',
  description: 'Resona Virtual Microphone',
} as const;

/** Names of third-party virtual cables on Windows and macOS: [pattern, the device to choose as output, the one apps pick]. */
export const VIRTUAL_CABLES: readonly { pattern: RegExp; product: string; playInto: string; appsPick: string }[] = [
  { pattern: /CABLE Input|VB-Audio Virtual Cable/i, product: 'VB-CABLE', playInto: 'CABLE Input', appsPick: 'CABLE Output' },
  { pattern: /VoiceMeeter (VAIO|AUX )?Input/i, product: 'VoiceMeeter', playInto: 'VoiceMeeter Input', appsPick: 'VoiceMeeter Output' },
  { pattern: /BlackHole/i, product: 'BlackHole', playInto: 'BlackHole 2ch', appsPick: 'BlackHole 2ch' },
  { pattern: /Loopback Audio/i, product: 'Rogue Amoeba Loopback', playInto: 'Loopback Audio', appsPick: 'Loopback Audio' },
  { pattern: /Soundflower/i, product: 'Soundflower', playInto: 'Soundflower (2ch)', appsPick: 'Soundflower (2ch)' },
];
