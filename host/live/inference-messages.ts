// Messages between the host and the inference worker.
import type { LatencyReport } from '../../engine/latency.js';
import type { WireError } from '../../protocol/errors.js';
import type { EngineSettings } from '../../protocol/settings.js';
import type { SharedBuffers } from '../../protocol/rings.js';
import type { VoiceChoice } from './loaded-voice.js';
import type { NetworkPlacement } from '../../protocol/runtime.js';

export interface InferenceInit {
  buffers: SharedBuffers;
  streamRate: number;
  outputRate: number;
  /** The voice to run first (a restarted worker gets the one that was running). */
  choice: VoiceChoice;
  noiseSuppression: boolean;
  /** Start paused (the voice loaded but stopped): a restart while the user has the voice stopped. */
  paused: boolean;
}

export type ToInference =
  | { kind: 'update'; settings: Partial<EngineSettings> }
  | { kind: 'noise'; on: boolean }
  /** Load this voice beside the running one; it takes over at a block boundary with a crossfade. */
  | { kind: 'switch'; id: number; choice: VoiceChoice }
  /** Stop converting (the devices stay; the output carries silence) / start again from the present. */
  | { kind: 'pause' }
  | { kind: 'resume' }
  /** Test hook: throw from the worker, as a real crash would. */
  | { kind: 'crash' };

export interface VoiceReady {
  /** Processing time of each warm-up block, ms. */
  warmupMs: number[];
  latency: LatencyReport;
  blockFrames: number;
  /** The voice runs on the streaming path (blockFrames is then its quantum). */
  streaming: boolean;
  settings: EngineSettings;
  noiseDelayMs: number;
  f0Method: string;
  /** Where each of the voice's networks runs, and what the user should know about it (a fallback to CPU). */
  placement: NetworkPlacement[];
  /** The voice's network stages in order (their times arrive in STATS.STAGE_MS…); empty for DSP voices. */
  stages: { name: string; calls: number }[];
  notes: string[];
}

export type FromInference =
  | ({ kind: 'ready' } & VoiceReady)
  /** The first voice could not be loaded: the worker ends after this. */
  | { kind: 'failed'; error: WireError }
  /** A switch took over (`ready`) or failed, leaving the running voice untouched. */
  | ({ kind: 'switched'; id: number } & VoiceReady)
  | { kind: 'switch-failed'; id: number; error: WireError }
  | { kind: 'settings'; latency: LatencyReport; blockFrames: number; settings: EngineSettings }
  /** A settings update the engine refused (checked on the host first, so this is rare). */
  | { kind: 'settings-failed'; error: WireError }
  | { kind: 'warning'; message: string };
