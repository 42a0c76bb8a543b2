// The seam between the audio worker and a native audio library. The worker only ever sees this interface,
// so a leaner backend (a native callback that never blocks, say) can replace naudiodon without touching it.
import type { AudioDeviceInfo } from '../protocol/devices.js';

export interface StreamOptions {
  deviceId: number;
  sampleRate: number;
  /** Frames per device buffer. */
  bufferFrames: number;
  /** Set in the environment while the stream connects (PULSE_SINK / PULSE_SOURCE routing). */
  env?: Record<string, string>;
}

export interface InputStream {
  /** Nominal latency of the stream (buffering the backend knows of), seconds. */
  readonly latencySec: number;
  close(): Promise<void>;
}

export interface OutputStream {
  readonly latencySec: number;
  close(): Promise<void>;
}

export interface StreamEvents {
  /** The stream failed or its device went away; it is closed already. */
  onError(message: string): void;
}

export interface AudioBackend {
  readonly name: string;
  listDevices(): AudioDeviceInfo[];
  /**
   * Opens a mono float input. `onData` gets each captured buffer, with the wall time it arrived; the array
   * is only valid during the call.
   */
  openInput(o: StreamOptions, onData: (x: Float32Array, arrivedMs: number) => void, ev: StreamEvents): Promise<InputStream>;
  /**
   * Opens a mono float output driven by the device: `fill` is called whenever the device can take the next
   * buffer and must fill out[0..n) at once (it must not wait).
   */
  openOutput(o: StreamOptions, fill: (out: Float32Array, n: number) => void, ev: StreamEvents): Promise<OutputStream>;
}
