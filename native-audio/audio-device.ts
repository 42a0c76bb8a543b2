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

/**
 * Device buffers queued between the audio worker and the output device. The worker refills the queue when a
 * write completes, so the queue must outlast the worker's wake-up jitter: measured here, wake-ups on the loaded
 * 2-core machine ran late by up to ~4.4 ms at p99, and with a fixed three buffers PortAudio reported "output
 * underflow" ~30 times in a 30 s session at buffer 64 (4 ms queued) and ~25 at 128 (8 ms), start-up included: a
 * gap Resona's own counters cannot see (not yet told apart from the stream's start). So the queue holds
 * OUTPUT_QUEUE_MS of audio, and never fewer than three buffers.
 */
export const OUTPUT_QUEUE_MS = 8;
export function outputQueueBuffers(bufferFrames: number, rate: number): number {
  return Math.max(3, Math.ceil((OUTPUT_QUEUE_MS * rate) / 1000 / bufferFrames));
}
