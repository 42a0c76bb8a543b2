// The naudiodon (PortAudio) backend: the only module that loads naudiodon, and it is only ever loaded in
// the audio worker (naudiodon's crash handler is not context-aware: one JS context per process may load it).
//
// naudiodon's own queue sits between JS and PortAudio's callback, and its callback blocks when that queue
// is empty. So output is driven by write completion: one buffer in flight, the next rendered the moment the
// previous one is queued (writing whenever input arrives underflows constantly); maxQueue keeps about
// OUTPUT_QUEUE_MS of buffers queued (at least three: 16 ms of slack for the worker at 256 frames). Streams are opened with closeOnError false (the default ends them at the first
// underflow) and a read size of one buffer (the default 16 KiB means 85 ms chunks).
import { createRequire } from 'node:module';
import type { AudioDeviceInfo } from '../protocol/devices.js';
import { type AudioBackend, type InputStream, type OutputStream, type StreamEvents, type StreamOptions, outputQueueBuffers } from './audio-device.js';
import { wallMs } from './rings.js';

interface NaudiodonDevice {
  id: number;
  name: string;
  hostAPIName: string;
  maxInputChannels: number;
  maxOutputChannels: number;
  defaultSampleRate: number;
  defaultLowInputLatency: number;
  defaultLowOutputLatency: number;
}
interface NaudiodonStream {
  start(): void;
  quit(cb?: () => void): Promise<void> | void;
  abort(cb?: () => void): void;
  on(ev: string, cb: (...a: unknown[]) => void): void;
  write(chunk: Buffer, cb: (err?: unknown) => void): boolean;
  removeAllListeners(): void;
}
interface Naudiodon {
  getDevices(): NaudiodonDevice[];
  AudioIO(o: Record<string, unknown>): NaudiodonStream;
  SampleFormatFloat32: number;
}

const require = createRequire(import.meta.url);
let lib: Naudiodon | null = null;
function naudiodon(): Naudiodon {
  lib ??= require('naudiodon') as Naudiodon;
  return lib;
}

/** Rates checked when listing; PortAudio only answers yes/no per rate. */
const COMMON_RATES = [16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000];
const INPUT_QUEUE = 8;
/** An output whose writes stop completing this long is taken for gone (its device vanished or hung). */
const STALL_MS = 600;
/** PulseAudio streams take 0.5–2 s to deliver their first buffer; the stall watch starts after it. */
const FIRST_DATA_MS = 6000;

export class NaudiodonBackend implements AudioBackend {
  readonly name = 'naudiodon (PortAudio)';

  listDevices(): AudioDeviceInfo[] {
    return naudiodon()
      .getDevices()
      .map((d) => ({
        id: d.id,
        name: d.name,
        hostApi: d.hostAPIName,
        maxInputChannels: d.maxInputChannels,
        maxOutputChannels: d.maxOutputChannels,
        defaultSampleRate: d.defaultSampleRate,
        // naudiodon exposes no Pa_IsFormatSupported; ALSA's plug/pulse devices convert any rate, so the list
        // is the device's default plus the common rates it sits among.
        sampleRates: [...new Set([d.defaultSampleRate, ...COMMON_RATES])].sort((a, b) => a - b),
        defaultLowInputLatencySec: d.defaultLowInputLatency,
        defaultLowOutputLatencySec: d.defaultLowOutputLatency,
      }));
  }

  private create(dir: 'inOptions' | 'outOptions', o: StreamOptions): NaudiodonStream {
    const nd = naudiodon();
    const saved: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(o.env ?? {})) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    try {
      return nd.AudioIO({
        [dir]: {
          deviceId: o.deviceId,
          sampleRate: o.sampleRate,
          channelCount: 1,
          sampleFormat: nd.SampleFormatFloat32,
          framesPerBuffer: o.bufferFrames,
          highwaterMark: o.bufferFrames * 4,
          maxQueue: dir === 'inOptions' ? INPUT_QUEUE : outputQueueBuffers(o.bufferFrames, o.sampleRate),
          closeOnError: false,
        },
      });
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }

  async openInput(o: StreamOptions, onData: (x: Float32Array, arrivedMs: number) => void, ev: StreamEvents): Promise<InputStream> {
    const s = this.create('inOptions', o);
    // PortAudio hands us Buffers of any alignment: copy into one float array, allocated once.
    const bytes = new Uint8Array(o.bufferFrames * 4 * INPUT_QUEUE);
    const floats = new Float32Array(bytes.buffer);
    let closed = false;
    let started = false;
    let lastData = wallMs();
    // Chunks are one device buffer long: that view is made once. (naudiodon itself allocates each chunk's
    // Buffer natively; that is the one allocation per buffer left on the audio path.)
    const oneBuffer = floats.subarray(0, o.bufferFrames);
    s.on('data', (chunk: unknown) => {
      const b = chunk as Buffer;
      const n = Math.min(b.length, bytes.length) >> 2;
      started = true;
      lastData = wallMs();
      bytes.set(b.length === n << 2 ? b : b.subarray(0, n << 2));
      onData(n === oneBuffer.length ? oneBuffer : floats.subarray(0, n), lastData);
    });
    s.on('error', (e: unknown) => {
      if (!closed) ev.onError(`input stream failed: ${String(e)}`);
    });
    const watchdog = setInterval(() => {
      if (!closed && wallMs() - lastData > (started ? STALL_MS : FIRST_DATA_MS)) {
        closed = true;
        clearInterval(watchdog);
        ev.onError(started ? 'input stopped delivering audio (device gone?)' : 'input delivered no audio after opening');
      }
    }, 100);
    s.start();
    return {
      latencySec: (o.bufferFrames * (INPUT_QUEUE > 0 ? 1 : 0)) / o.sampleRate,
      close: async () => {
        closed = true;
        clearInterval(watchdog);
        await quitWithin(s, 1500);
      },
    };
  }

  async openOutput(o: StreamOptions, fill: (out: Float32Array, n: number) => void, ev: StreamEvents): Promise<OutputStream> {
    const s = this.create('outOptions', o);
    const n = o.bufferFrames;
    const floats = new Float32Array(n);
    // naudiodon copies a chunk when write() is called, so one Buffer is reused for every write.
    const chunk = Buffer.from(floats.buffer, 0, n * 4);
    let closed = false;
    let writes = 0;
    let lastDone = wallMs();
    const pump = (err?: unknown): void => {
      if (closed) return;
      if (err) {
        closed = true;
        ev.onError(`output stream failed: ${String(err)}`);
        return;
      }
      lastDone = wallMs();
      writes++;
      fill(floats, n);
      s.write(chunk, pump);
    };
    s.on('error', (e: unknown) => {
      if (!closed) {
        closed = true;
        ev.onError(`output stream failed: ${String(e)}`);
      }
    });
    const watchdog = setInterval(() => {
      // The first writes fill naudiodon's queue, then block for up to ~1.5 s while PulseAudio starts the stream.
      if (!closed && wallMs() - lastDone > (writes > 20 ? STALL_MS : FIRST_DATA_MS)) {
        closed = true;
        clearInterval(watchdog);
        ev.onError(writes > 20 ? 'output stopped taking audio (device gone?)' : 'output took no audio after opening');
      }
    }, 100);
    s.start();
    pump();
    return {
      latencySec: (n * (outputQueueBuffers(n, o.sampleRate) + 1)) / o.sampleRate,
      close: async () => {
        closed = true;
        clearInterval(watchdog);
        await quitWithin(s, 1500);
      },
    };
  }
}

/**
 * quit() waits for PortAudio to drain; on a device that vanished it may never return. Stop waiting after
 * `ms` (the stream is abandoned, its thread-pool thread stays blocked) rather than hang the worker.
 */
async function quitWithin(s: NaudiodonStream, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.resolve(s.quit()).catch(() => undefined),
    new Promise<void>((r) => {
      timer = setTimeout(r, ms);
    }),
  ]);
  clearTimeout(timer);
  s.removeAllListeners();
}
