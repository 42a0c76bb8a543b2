// Messages between the host and the inference worker.
import type { LatencyReport } from '../../engine/latency.js';
import type { EngineSettings } from '../../protocol/settings.js';
import type { SharedBuffers } from '../../protocol/rings.js';

export interface InferenceInit {
  buffers: SharedBuffers;
  streamRate: number;
  outputRate: number;
  voice: string;
  /** f0 method or network file, and content encoder file (neural voices); defaults as in resolveVoice. */
  f0?: string;
  encoder?: string;
  settings: Partial<EngineSettings>;
  noiseSuppression: boolean;
}

export type ToInference =
  | { kind: 'update'; settings: Partial<EngineSettings> }
  | { kind: 'noise'; on: boolean }
  /** Test hook: throw from the worker, as a real crash would. */
  | { kind: 'crash' };

export type FromInference =
  | {
      kind: 'ready';
      /** Processing time of each warm-up block, ms. */
      warmupMs: number[];
      latency: LatencyReport;
      blockFrames: number;
      settings: EngineSettings;
      noiseDelayMs: number;
      f0Method: string;
    }
  | { kind: 'settings'; latency: LatencyReport; blockFrames: number; settings: EngineSettings }
  | { kind: 'warning'; message: string };
