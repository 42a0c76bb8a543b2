// The seam between the streaming engine and any voice, DSP or neural. The engine owns time, buffering,
// SOLA and resampling; a voice only turns a context window into audio for the region the engine asks for.
// Two paths (the voice says which): the block path re-renders a context window per block and joins blocks
// with SOLA (neural voices: their encoders need context); the streaming path, for voices that declare
// `streaming`, renders each fixed quantum of output exactly once from state carried across calls, with no
// crossfade and no search, so its delay is only the voice's look-ahead.
import type { EngineSettings } from '../../protocol/settings.js';
import type { F0Source } from '../f0/tracker.js';

/** Pass as a rate to work at the stream's own rate (no resampling), as the DSP voices do. */
export const STREAM_RATE = 0;

/** The settings a voice renders with; their meanings are documented once, in EngineSettings. */
export const VOICE_KNOBS = [
  'pitch', 'formant', 'indexRatio', 'protect', 'speaker', 'clusterInferRatio', 'noiseScale', 'diffusion', 'kStep', 'speedup', 'diffusionMethod', 'autoF0',
] as const satisfies readonly (keyof EngineSettings)[];
export type VoiceKnobs = Pick<EngineSettings, (typeof VOICE_KNOBS)[number]>;

/** The voice's knobs out of the engine's settings (on configure, not per block). */
export function voiceKnobs(s: EngineSettings): VoiceKnobs {
  return Object.fromEntries(VOICE_KNOBS.map((k) => [k, s[k]])) as unknown as VoiceKnobs;
}

export interface VoiceConfig extends VoiceKnobs {
  /** Resolved rates (never STREAM_RATE here). */
  inputRate: number;
  outputRate: number;
  /** Largest window the engine will pass, in input samples. */
  maxWindow: number;
  /** Largest region the engine will ask for, in output samples. */
  maxRender: number;
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

/** What a voice that runs on the streaming path needs from the engine. */
export interface StreamingCapability {
  /**
   * Input the voice needs after a sample before it can render it, seconds: output sample n is rendered once
   * input up to n + look-ahead has arrived. The engine delays the output by exactly this (its algorithmic latency).
   */
  readonly lookaheadSec: number;
  /**
   * The fixed step the engine advances the voice by, seconds. Every decision the voice makes (a pitch mark, the
   * f0 it reads) happens at a quantum boundary, so its output is the same however the caller splits the input.
   */
  readonly quantumSec: number;
}

/**
 * One network stage of a neural voice: the content encoder and whatever follows it (synthesizer → mel →
 * denoiser × k → vocoder). The voice lists them in order; the engine, the latency report and telemetry show each
 * with its own time and provider, joined to the voice's placement by name.
 */
export interface StageTiming {
  /** As the voice's placement names the network: 'content encoder', 'synthesizer', 'vocoder', … */
  readonly name: string;
  /** Input this stage needs beyond the newest sample, seconds: its share of the voice's lookaheadSec. */
  readonly lookaheadSec: number;
  /** Network calls per block (a denoiser runs k steps; most stages 1); a voice may change it in configure(). */
  calls: number;
  /** Time the stage took in the last render, ms; the voice writes it (no allocation per block). */
  ms: number;
}

/** A voice's stage list, every time at 0 until the first render. */
export function stageTimings(...stages: (string | { name: string; lookaheadSec?: number; calls?: number })[]): StageTiming[] {
  return stages.map((s) => (typeof s === 'string' ? { name: s, lookaheadSec: 0, calls: 1, ms: 0 } : { name: s.name, lookaheadSec: s.lookaheadSec ?? 0, calls: s.calls ?? 1, ms: 0 }));
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
  /** Present on voices that run on the streaming path (renderStream) instead of the block path (render). */
  readonly streaming?: StreamingCapability;
  /**
   * Streaming path: renders `out.length` (one quantum) output samples ending exactly look-ahead before the newest
   * input sample, continuing the previous call's output. Every sample is rendered once, so it must never depend
   * on input that a later call brings. Synchronous and allocation-free.
   */
  renderStream?(block: VoiceBlock, out: Float32Array): void;
  /** Forget stream state (a new stream starts at absolute index 0). */
  reset(): void;
  /** The voice's network stages in order, with the last render's times (absent: a voice without networks). */
  readonly stages?: readonly StageTiming[];
}
