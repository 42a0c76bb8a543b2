// What a live session reports a few times a second (CLI status line, app, server clients).

export type LiveState = 'starting' | 'running' | 'passthrough' | 'stopped';

export interface LatencyFigures {
  /** block + crossfade + search + resampling + look-ahead (+ noise suppression), ms. */
  algorithmicMs: number;
  /** Output prebuffer in use, ms: the time a block's voice waits after its input ends, covering inference. */
  prebufferMs: number;
  /** Device I/O: measured in passthrough with a click when available, else the backend's nominal figure, ms. */
  deviceMs: number;
  /** How deviceMs was obtained. */
  deviceSource: 'measured' | 'nominal';
  /** Last click measurement through the whole chain with the voice on, ms (absent until measured). */
  measuredMs?: number;
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
  /** Input frames lost: ring full plus backlog skipped. */
  droppedInput: number;
  droppedOutput: number;
  resyncs: number;
  /** Times the output device stalled and the voice skipped ahead to keep its latency (counted, faded). */
  catchUps: number;
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
  latency: LatencyFigures;
}

/** Events a session reports once (device lost, restarted worker, …); one line each. */
export interface LiveEvent {
  at: number;
  kind: 'device-lost' | 'device-back' | 'inference-crashed' | 'inference-restarted' | 'underrun' | 'info' | 'warning';
  message: string;
}
