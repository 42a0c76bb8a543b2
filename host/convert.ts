// File conversion through the same block-by-block engine the live mode runs. The engine's output is laid
// out on the live timeline (first block of output after one block of input); by default the algorithmic
// latency is then removed, and extra silent blocks are fed at the end, so the output lines up with the input
// sample for sample and has its exact length. With keepLatency the output is what a listener would hear live.
import { MAX_STREAM_RATE, MIN_STREAM_RATE, StreamingEngine } from '../engine/engine.js';
import type { LatencyReport } from '../engine/latency.js';
import { type EngineSettings, SETTING_RANGES } from '../protocol/settings.js';
import { paramDefaults, settingsWithoutEffect } from '../protocol/voice-params.js';
import { AudioFileError, memoryStream, openAudioStream, type AudioStream } from './audio-file.js';
import { FloatWavFile } from './audio/float-wav-file.js';
import { resolveVoice } from './voices.js';
import { type NetworkPlacement, type RuntimeOptions, type StageReport, stageReports } from '../protocol/runtime.js';

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
  /** Stops the conversion between blocks (Ctrl+C on a long file); it then throws the signal's reason. */
  signal?: AbortSignal;
}

export interface ConvertResult {
  output: Float32Array;
  sampleRate: number;
  latency: LatencyReport;
  /** Processing time / audio time, over the engine's block calls. */
  rtf: number;
  /** Time spent in the engine's block calls. */
  engineSeconds: number;
  seconds: number;
  warnings: string[];
  settings: EngineSettings;
  f0Method: string;
  /** Where each network ran. */
  placement: NetworkPlacement[];
  /** Each network stage of the voice with its provider and its mean time per block, ms (over every block). */
  stages: StageReport[];
}

/** Where converted samples go, in order: x[from, to) each call. */
export interface SampleSink {
  write(x: Float32Array, from: number, to: number): Promise<void> | void;
}

/** The input as a stream of mono frames (what convert needs of an AudioStream). */
export type SampleSource = Pick<AudioStream, 'frames' | 'read'>;

/** Converts samples in memory; the output is as long as the input. */
export async function convertSamples(input: Float32Array, sampleRate: number, o: ConvertOptions): Promise<ConvertResult> {
  const output = new Float32Array(input.length);
  let at = 0;
  const sink: SampleSink = {
    write: (x, from, to) => {
      output.set(x.subarray(from, to), at);
      at += to - from;
    },
  };
  return { ...(await convertStream(memoryStream(input, sampleRate), sampleRate, sink, o)), output };
}

/**
 * Runs a source through the engine block by block into a sink, which receives exactly `source.frames`
 * samples. Only a block of input and a block of output are held, so the input's length costs no memory.
 */
export async function convertStream(source: SampleSource, sampleRate: number, sink: SampleSink, o: ConvertOptions): Promise<Omit<ConvertResult, 'output'>> {
  const voice = await resolveVoice({ voice: o.voice, encoder: o.encoder, f0: o.f0, runtime: o.runtime });
  const settings = { ...paramDefaults(voice.info.params), ...stripUndefined(o.settings ?? {}) };
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
    const total = source.frames;
    const window = new OutputWindow(o.keepLatency ? 0 : latency.totalSamples, total, sink);
    const block = new Float32Array(N);
    const out = new Float32Array(engine.maxOutput);
    // Live timeline: nothing can be played until the first block has been heard, so it opens with a block of
    // silence (block is still all zeros here).
    await window.push(block, N);
    let busy = 0;
    let pos = 0;
    let blocks = 0;
    const stageMs = new Float64Array(engine.stages.length);
    const totalSec = total / sampleRate;
    let lastReport = 0;
    while (!window.full) {
      o.signal?.throwIfAborted();
      // Past the input's end the engine gets silence, until the output window holds the input's length.
      const got = pos < total ? await source.read(block) : 0;
      if (pos + got < Math.min(total, pos + N)) throw new RangeError(`the input ended at sample ${pos + got} of ${total}`);
      block.fill(0, got);
      pos += N;
      const t0 = performance.now();
      const n = await engine.processBlock(block, out);
      busy += performance.now() - t0;
      blocks++;
      engine.stages.forEach((s, i) => (stageMs[i] += s.ms));
      await window.push(out, n);
      if (o.onProgress && performance.now() - lastReport > 100) {
        lastReport = performance.now();
        o.onProgress(Math.min(totalSec, pos / sampleRate), totalSec);
      }
    }
    o.onProgress?.(totalSec, totalSec);
    const processedSec = pos / sampleRate;
    return {
      sampleRate,
      latency,
      rtf: busy / 1000 / processedSec,
      engineSeconds: busy / 1000,
      seconds: totalSec,
      warnings: [
        ...voice.notes,
        // Formant has its own, more precise warning below.
        ...settingsWithoutEffect(voice.info.params, o.settings ?? {})
          .filter((k) => k !== 'formant')
          .map((k) => `${voice.info.name} has no ${SETTING_RANGES[k].description} setting; the value given is ignored`),
        ...(engine.currentSettings.formant !== 0 && voice.stage.formantSupported === false
          ? [`${voice.info.name}: formant shift needs a model exported with formant_length (skip_head contract); this one ignores it`]
          : []),
      ],
      settings: { ...engine.currentSettings },
      f0Method: engine.f0Method,
      placement: voice.placement,
      stages: stageReports(engine.stages, (i) => stageMs[i]! / Math.max(1, blocks), voice.placement),
    };
  } finally {
    engine.destroy();
    await voice.release();
  }
}

/**
 * The part of the live timeline that becomes the output: samples [shift, shift + length) of it, shift being
 * the algorithmic latency removed (0 with keepLatency). Everything before is dropped, and the run stops once
 * the window is full, so the output has exactly the input's length.
 */
class OutputWindow {
  /** Live timeline samples seen so far. */
  private t = 0;

  constructor(
    private readonly shift: number,
    private readonly length: number,
    private readonly sink: SampleSink,
  ) {}

  get full(): boolean {
    return this.t >= this.shift + this.length;
  }

  /** Takes the next n samples of the timeline from x. */
  async push(x: Float32Array, n: number): Promise<void> {
    const lo = Math.max(this.t, this.shift);
    const hi = Math.min(this.t + n, this.shift + this.length);
    if (hi > lo) await this.sink.write(x, lo - this.t, hi - this.t);
    this.t += n;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export interface ConvertFileResult extends Omit<ConvertResult, 'output'> {
  channelsIn: number;
}

/**
 * Converts a file into a WAV, streaming: the input is read a chunk at a time (a WAV; compressed inputs are
 * decoded whole first, see openAudioStream) and the output is written as it is made, into a temporary file
 * renamed into place at the end. A failure or an abort removes the temporary file.
 */
export async function convertFile(inPath: string, outPath: string, o: ConvertOptions & { readChunkFrames?: number }): Promise<ConvertFileResult> {
  const input = await openAudioStream(inPath, { chunkFrames: o.readChunkFrames });
  let out: FloatWavFile | null = null;
  try {
    if (input.sampleRate < MIN_STREAM_RATE || input.sampleRate > MAX_STREAM_RATE) {
      throw new AudioFileError(`${inPath}: its sample rate is ${input.sampleRate} Hz; Resona converts files at ${MIN_STREAM_RATE} to ${MAX_STREAM_RATE} Hz, so resample it first (e.g. sox in.wav -r 48000 out.wav)`);
    }
    const warnings = [...input.warnings];
    if (input.channels > 1) warnings.push(`${inPath}: ${input.channels} channels mixed down to mono (the voice is mono)`);
    // Opened before the first block, so an unwritable output fails at once rather than after the whole run.
    const file = (out = await FloatWavFile.create(outPath, input.frames, input.sampleRate));
    const result = await convertStream(input, input.sampleRate, { write: (x, from, to) => file.write(x, from, to) }, o);
    await file.commit();
    out = null;
    return { ...result, warnings: [...warnings, ...result.warnings], channelsIn: input.channels };
  } finally {
    await out?.abort();
    await input.close();
  }
}
