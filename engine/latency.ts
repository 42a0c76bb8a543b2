// The algorithmic latency of the engine, from the settings alone: what a listener waits between a
// sound entering the engine and the same sound leaving it, before any device buffering.
//   block      the engine waits for a whole block before it can process it
//   crossfade  SOLA emits the region that ends crossfade + search before the newest input…
//   search     …and may advance by up to `search` to match phase (so the true delay lies in
//              [total − search, total]; with a steady voice the lag settles and the delay is the total)
//   resampling libsamplerate's filter delay on the way in (neural voices) and out
//   voice      any look-ahead the voice itself declares

export interface LatencyInputs {
  streamRate: number;
  voiceInRate: number;
  voiceOutRate: number;
  block: number; // stream samples
  crossfade: number; // voice-output samples
  search: number; // voice-output samples
  resampleInDelay: number; // voice-input samples
  resampleOutDelay: number; // stream samples
  voiceLookaheadSec: number;
  /** The voice's network stages and the look-ahead each adds (part of voiceLookaheadSec). */
  voiceStages?: readonly { name: string; lookaheadSec: number }[];
}

export interface LatencyReport {
  totalMs: number;
  blockMs: number;
  crossfadeMs: number;
  searchMs: number;
  resampleMs: number;
  voiceMs: number;
  /** Each network stage of the voice, in order, with the look-ahead it adds (ms; these are part of voiceMs). */
  stages: { name: string; lookaheadMs: number }[];
  /** The same total in stream samples (what a click through `convert --keep-latency` is delayed by). */
  totalSamples: number;
}

export function latencyReport(i: LatencyInputs): LatencyReport {
  const blockSec = i.block / i.streamRate;
  const crossfadeSec = i.crossfade / i.voiceOutRate;
  const searchSec = i.search / i.voiceOutRate;
  const resampleSec = i.resampleInDelay / i.voiceInRate + i.resampleOutDelay / i.streamRate;
  const total = blockSec + crossfadeSec + searchSec + resampleSec + i.voiceLookaheadSec;
  return {
    totalMs: total * 1000,
    blockMs: blockSec * 1000,
    crossfadeMs: crossfadeSec * 1000,
    searchMs: searchSec * 1000,
    resampleMs: resampleSec * 1000,
    voiceMs: i.voiceLookaheadSec * 1000,
    stages: (i.voiceStages ?? []).map((s) => ({ name: s.name, lookaheadMs: s.lookaheadSec * 1000 })),
    totalSamples: Math.round(total * i.streamRate),
  };
}
