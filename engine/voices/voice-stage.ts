// The seam between the streaming engine and any voice, DSP or neural. The engine owns time, buffering,
// SOLA and resampling; a voice only turns a context window into audio for the region the engine asks for.
import type { F0Source } from '../f0/tracker.js';

/** Pass as a rate to work at the stream's own rate (no resampling), as the DSP voices do. */
export const STREAM_RATE = 0;

export interface VoiceConfig {
  /** Resolved rates (never STREAM_RATE here). */
  inputRate: number;
  outputRate: number;
  /** Largest window the engine will pass, in input samples. */
  maxWindow: number;
  /** Largest region the engine will ask for, in output samples. */
  maxRender: number;
  pitch: number;
  formant: number;
  indexRatio: number;
  protect: number;
  speaker: number;
}

export interface VoiceBlock {
  /** Context window at the voice's input rate, oldest first: [extra context | … | newest sample]. */
  readonly audio: Float32Array;
  /** Absolute index (input-rate samples since the stream began) of audio[0]; negative = zero padding. */
  readonly startIndex: number;
  /** Samples at the end of `audio` that are new since the last block. */
  readonly newSamples: number;
  /** f0 of the input in absolute time (the 10 ms grid of the 16 kHz analysis stream). */
  readonly f0: F0Source;
}

export interface VoiceStage {
  readonly id: string;
  /** Rate the voice wants its window at; STREAM_RATE for the stream's own. 16000 for content encoders. */
  readonly inputRate: number;
  /** Rate the voice renders at; STREAM_RATE for the stream's own. */
  readonly outputRate: number;
  /** Audio the voice needs after a sample before it can render it, in seconds (adds to latency). */
  readonly lookaheadSec: number;
  /** False where the voice cannot shift formants (some neural model contracts); absent means it can. */
  readonly formantSupported?: boolean;
  /** Called before the first block and between blocks on any settings change: allocate here. */
  configure(config: VoiceConfig): void;
  /**
   * Renders `out.length` output samples ending exactly at the newest input sample (absolute time
   * (startIndex + audio.length) / inputRate), at the output rate. Must not allocate. Neural voices return
   * a promise (inference is asynchronous); the engine awaits it before the next stage.
   */
  render(block: VoiceBlock, out: Float32Array): void | Promise<void>;
  /** Forget stream state (a new stream starts at absolute index 0). */
  reset(): void;
}
