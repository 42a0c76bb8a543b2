// File conversion through the same block-by-block engine the live mode runs. The engine's output is laid
// out on the live timeline (first block of output after one block of input); by default the algorithmic
// latency is then removed, and extra silent blocks are fed at the end, so the output lines up with the input
// sample for sample and has its exact length. With keepLatency the output is what a listener would hear live.
import { MAX_STREAM_RATE, MIN_STREAM_RATE, StreamingEngine } from '../engine/engine.js';
import type { LatencyReport } from '../engine/latency.js';
import type { EngineSettings } from '../protocol/settings.js';
import { AudioFileError, readAudioFile, toMono, writeWavAtomic } from './audio-file.js';
import { resolveVoice } from './voices.js';
import type { NetworkPlacement, RuntimeOptions } from '../protocol/runtime.js';

export interface ConvertOptions {
  voice: string;
  /** Content encoder file for neural voices (default: the catalogue's). */
  encoder?: string;
  /** f0 method or pitch network file (default: the built-in estimator). */
  f0?: string;
  /** Provider and threads of the voice's networks. */
  runtime?: Partial<RuntimeOptions>;
  settings?: Partial<EngineSettings>;
  /** Keep the live delay in the output instead of compensating it. */
  keepLatency?: boolean;
  /** Engine path for voices that can stream (default: streaming, as live mode runs them). */
  path?: 'block' | 'streaming';
  onProgress?: (doneSec: number, totalSec: number) => void;
}

export interface ConvertResult {
  output: Float32Array;
  sampleRate: number;
  latency: LatencyReport;
  /** Processing time / audio time, over the engine's block calls. */
  rtf: number;
  seconds: number;
  warnings: string[];
  settings: EngineSettings;
  f0Method: string;
  /** Where each network ran. */
  placement: NetworkPlacement[];
}

export async function convertSamples(input: Float32Array, sampleRate: number, o: ConvertOptions): Promise<ConvertResult> {
  const voice = await resolveVoice({ voice: o.voice, encoder: o.encoder, f0: o.f0, runtime: o.runtime });
  const settings = { pitch: voice.info.defaultPitch, formant: voice.info.defaultFormant, ...stripUndefined(o.settings ?? {}) };
  let engine: StreamingEngine;
  try {
    engine = await StreamingEngine.create({ streamRate: sampleRate, voice: voice.stage, f0: voice.f0, settings, ...(o.path ? { path: o.path } : {}) });
  } catch (e) {
    await voice.f0?.dispose?.(); // the engine owns the estimator only once it exists
    await voice.release();
    throw e;
  }
  try {
    const latency = engine.latency();
    const N = engine.blockSize;
    const shift = o.keepLatency ? 0 : latency.totalSamples;
    // Live timeline: nothing can be played until the first block has been heard.
    const needed = input.length + shift;
    const live = new Float32Array(needed + N + engine.maxOutput);
    let liveLen = N;
    const block = new Float32Array(N);
    const out = new Float32Array(engine.maxOutput);
    let busy = 0;
    let pos = 0;
    const totalSec = input.length / sampleRate;
    let lastReport = 0;
    while (liveLen < needed) {
      block.fill(0);
      if (pos < input.length) block.set(input.subarray(pos, Math.min(input.length, pos + N)));
      pos += N;
      const t0 = performance.now();
      const n = await engine.processBlock(block, out);
      busy += performance.now() - t0;
      live.set(out.subarray(0, n), liveLen);
      liveLen += n;
      if (o.onProgress && performance.now() - lastReport > 100) {
        lastReport = performance.now();
        o.onProgress(Math.min(totalSec, pos / sampleRate), totalSec);
      }
    }
    o.onProgress?.(totalSec, totalSec);
    const processedSec = pos / sampleRate;
    return {
      output: live.slice(shift, shift + input.length),
      sampleRate,
      latency,
      rtf: busy / 1000 / processedSec,
      seconds: totalSec,
      warnings: [
        ...voice.notes,
        ...(engine.currentSettings.formant !== 0 && voice.stage.formantSupported === false
          ? [`${voice.info.name}: formant shift needs a model exported with formant_length (skip_head contract); this one ignores it`]
          : []),
      ],
      settings: { ...engine.currentSettings },
      f0Method: engine.f0Method,
      placement: voice.placement,
    };
  } finally {
    engine.destroy();
    await voice.release();
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export interface ConvertFileResult extends ConvertResult {
  channelsIn: number;
}

export async function convertFile(inPath: string, outPath: string, o: ConvertOptions): Promise<ConvertFileResult> {
  const audio = await readAudioFile(inPath);
  if (audio.sampleRate < MIN_STREAM_RATE || audio.sampleRate > MAX_STREAM_RATE) {
    throw new AudioFileError(`${inPath}: its sample rate is ${audio.sampleRate} Hz; Resona converts files at ${MIN_STREAM_RATE} to ${MAX_STREAM_RATE} Hz, so resample it first (e.g. sox in.wav -r 48000 out.wav)`);
  }
  const warnings = [...audio.warnings];
  if (audio.channels.length > 1) warnings.push(`${inPath}: ${audio.channels.length} channels mixed down to mono (the voice is mono)`);
  const result = await convertSamples(toMono(audio.channels), audio.sampleRate, o);
  await writeWavAtomic(outPath, result.output, result.sampleRate);
  return { ...result, warnings: [...warnings, ...result.warnings], channelsIn: audio.channels.length };
}
