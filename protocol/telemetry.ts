// What a live session reports a few times a second (CLI status line, app, server clients).
import type { NetworkPlacement, StageReport } from './runtime.js';

/**
 * starting: devices opening, first voice loading. running: the voice converts. idle: the voice is stopped but the
 * devices and the virtual microphone stay (silence goes out). recovering: the inference worker restarts and the
 * output is silent; passthrough: the same with the dry fallback chosen (the real voice goes out). stopped: the
 * session ended.
 */
export type LiveState = 'starting' | 'running' | 'idle' | 'recovering' | 'passthrough' | 'stopped';
export type Fallback = 'silence' | 'dry';

export interface LatencyFigures {
  /** block + crossfade + search + resampling + look-ahead (+ noise suppression), ms. */
  algorithmicMs: number;
  /**
   * Output prebuffer in use, ms: the time a block's voice waits after its input ends, covering inference (the
   * prebuffer the mixer keeps, plus the output's lag behind its schedule over the last second).
   */
  prebufferMs: number;
  /** Device I/O: measured in passthrough with a click when available, else the backend's nominal figure, ms. */
  deviceMs: number;
  /** How deviceMs was obtained. */
  deviceSource: 'measured' | 'nominal';
  /**
   * Least audio beyond the output's reserve at any device buffer in the last second, ms: the part of the
   * prebuffer that jitter did not use (part of prebufferMs, not added to the total).
   */
  spareMs?: number;
  /** Last click measurement through the whole chain with the voice on, ms (absent until measured). */
  measuredMs?: number;
  /**
   * The prebuffer part while those clicks were timed, ms (it holds still then, and may step after): the
   * measured click less it and deviceMs is the engine's delay as the click saw it.
   */
  measuredPrebufferMs?: number;
  /** What a listener waits: algorithmic + prebuffer + device, ms. The one headline figure (see latencyFigures). */
  totalMs: number;
}

/** The one place the latency parts add up, so the CLI, the UI and the tests show the same figure. */
export function latencyFigures(p: Omit<LatencyFigures, 'totalMs'>): LatencyFigures {
  return { ...p, totalMs: p.algorithmicMs + p.prebufferMs + p.deviceMs };
}

export interface LiveTelemetry {
  state: LiveState;
  bypass: boolean;
  voice: string;
  streamRate: number;
  outputRate: number;
  /** Peak levels of the last ~100 ms, dBFS. */
  inputPeakDb: number;
  outputPeakDb: number;
  underruns: number;
  /** Underruns by cause (they add up to `underruns`): see protocol/rings.ts UNDERRUN_*. */
  underrunCauses: { startup: number; inference: number; device: number };
  /** What goes out while no converted voice exists (worker restarting). */
  fallback: Fallback;
  /** Input frames lost: ring full plus backlog skipped. */
  droppedInput: number;
  droppedOutput: number;
  resyncs: number;
  /** Times the output device stalled and the voice skipped ahead to keep its latency (counted, faded). */
  catchUps: number;
  /** Times a streaming voice's prebuffer was trimmed to the jitter measured while it played. */
  prebufferTrims?: number;
  /** Times it grew back because the jitter came to use its margin (a pause lengthened by a few ms). */
  prebufferGrows?: number;
  /** Times the output ran ahead of the input's clock and a pause was lengthened to keep the schedule (drift). */
  driftPads?: number;
  concealedMs: number;
  blocks: number;
  blockMs: number;
  blockMsP95: number;
  blockMsMax: number;
  /** Processing time ÷ block time (p95). */
  rtf: number;
  inferenceRestarts: number;
  noiseSuppression: boolean;
  devices: { input: string | null; output: string | null; monitor: string | null };
  /** Devices that are chosen but gone, waiting to return. */
  missing: string[];
  /** Streams that stopped while their device was still there (a busy machine), reopened at once. */
  deviceStalls: number;
  latency: LatencyFigures;
  /** Where each network of the running voice runs (empty: a built-in voice with the built-in pitch estimator). */
  placement: NetworkPlacement[];
  /** Each network stage of the running voice in order, with its provider and the last block's time (empty: no networks). */
  stages: StageReport[];
  /**
   * The running voice is on the streaming path (the built-in voices): it converts every millisecond with a fixed
   * look-ahead, so block, crossfade and search do not apply to it (they do to neural voices).
   */
  streaming: boolean;
}

/** Events a session reports once (device lost, restarted worker, …); one line each. */
export interface LiveEvent {
  at: number;
  kind: 'device-lost' | 'device-back' | 'inference-crashed' | 'inference-restarted' | 'underrun' | 'info' | 'warning';
  message: string;
}
