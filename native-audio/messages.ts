// Messages between the host and the audio worker. Requests carry an id; the worker answers each once.
import type { AudioDeviceInfo } from '../protocol/devices.js';
import type { SharedBuffers } from '../protocol/rings.js';

export type StreamRole = 'input' | 'output' | 'monitor' | 'click' | 'capture';

export interface OpenRequest {
  role: StreamRole;
  deviceId: number;
  label: string;
  sampleRate: number;
  bufferFrames: number;
  env?: Record<string, string>;
}

export type AudioRequest =
  | { kind: 'init'; buffers: SharedBuffers; inputRate: number; outputRate: number; maxBufferFrames: number }
  | { kind: 'list' }
  | { kind: 'open'; open: OpenRequest }
  | { kind: 'close'; role: StreamRole }
  | { kind: 'measure'; clicks: number; intervalMs: number; emit: boolean }
  | { kind: 'quit' };

export interface MeasureResult {
  /** One figure per click found on both ends, ms. */
  latenciesMs: number[];
  clicksEmitted: number;
  foundInInput: number;
  foundInCapture: number;
}

export type AudioReply =
  | { id: number; ok: true; devices?: AudioDeviceInfo[]; latencySec?: number; measure?: MeasureResult }
  | { id: number; ok: false; error: string };

export interface StreamErrorEvent {
  event: 'stream-error';
  role: StreamRole;
  label: string;
  message: string;
}
