// Layout of the shared memory between the host, the audio worker and the inference worker. Pure constants:
// every thread builds its own typed-array views over the same SharedArrayBuffers from these indices.
//
//   input ring   (Float32, audio worker → inference worker)  mono audio at the input stream rate
//   output ring  (Float32, inference worker → audio worker)  mono converted audio at the output rate
//   record rings (Float32, audio worker → host)             what went in and what came out, for WAV files
//   ctrl         (Int32, Atomics)  flags, wake-up signal and event counters, each slot with one writer
//   stats        (Float64)         frame counters, timings and parameters, each slot with one writer
//
// Rings are ringbuf.js single-producer/single-consumer buffers: neither side ever waits on the other.

/** Int32 slots (Atomics). Writer in brackets. */
export const CTRL = {
  /** [audio] bumped after every push into the input ring; the inference worker waits on it. */
  INPUT_SIGNAL: 0,
  /** [host] 1: output the dry input instead of the voice (the user's bypass). */
  BYPASS: 1,
  /**
   * [host] 1: the inference worker is down (crashed, restarting). The output then carries silence, or the dry
   * input when FALLBACK_DRY is 1: the user's real voice never reaches the virtual microphone by default.
   */
  PASSTHROUGH: 2,
  /** [audio] frames the input ring could not take (ring full), counted. */
  DROPPED_INPUT: 3,
  /** [audio] times the output ring ran dry and the voice was faded out (all causes; see UNDERRUN_*). */
  UNDERRUNS: 4,
  /** [audio] times the output ring held far too much (e.g. after an output device came back) and was resynchronised. */
  RESYNCS: 5,
  /** [inference] oldest input frames skipped because the inference worker fell more than the backlog limit behind. */
  DROPPED_BACKLOG: 6,
  /** [inference] output frames the output ring could not take. */
  DROPPED_OUTPUT: 7,
  /** [inference] blocks converted (also the heartbeat the host's watchdog reads). */
  BLOCKS: 8,
  /** [host] artificial extra work per block, ms (stress tests and benchmarks only). */
  LOAD_MS: 9,
  /** [host] 1 while the input and output are recorded to WAV. */
  RECORD: 10,
  /** [inference] 1 when input noise suppression is on and working. */
  NOISE_ACTIVE: 11,
  /** [host] 1 asks the inference worker to stop. */
  STOP: 12,
  /** [audio] 1 while the wet (voice) path is playing, 0 while priming or concealing. */
  WET_PLAYING: 13,
  /** [audio] frames the record rings could not take. */
  DROPPED_RECORD: 14,
  /** [audio] times the output device fell behind the schedule (a stall) and the voice skipped ahead to it. */
  CATCH_UPS: 15,
  /** [host] 1: while no converted audio exists (worker restarting), play the dry input instead of silence. */
  FALLBACK_DRY: 16,
  /** [host] 1: the voice is stopped (the devices and the virtual microphone stay): the output carries silence. */
  VOICE_OFF: 17,
  /**
   * [audio] underruns by cause. INFERENCE: a whole block of input was waiting unconverted when the voice ran
   * dry (the inference worker was late: CPU starvation or a slow model). DEVICE: the converted audio was on
   * time by the input's clock but the output device took audio faster than the input delivered it (a burst
   * after its own stall, or input arriving late). STARTUP: within the first second after the voice (re)started
   * playing, before the schedule has settled.
   */
  UNDERRUN_INFERENCE: 18,
  UNDERRUN_DEVICE: 19,
  UNDERRUN_STARTUP: 20,
  /**
   * [host] 1: muted (the mute button, push-to-talk released). The output (virtual microphone) and the monitor
   * fade to exact zeros within a few ms, whatever bypass or the dry fallback say: mute wins, so the real voice
   * never leaks while the user believes they are muted.
   */
  MUTE: 21,
  /**
   * [inference] nonzero: the running voice is on the streaming path (converted audio arrives with every input
   * buffer, not once a block), so the output may play down to one device buffer instead of keeping two in
   * reserve. 1: its f0 is the built-in estimator, whose jitter the prebuffer may follow down (trimToJitter);
   * STREAMING_NETWORK_F0: a pitch network runs beside it, whose rarer late calls a few seconds of measurement do
   * not see (CREPE underran after trims in 1 of 2 runs with a busy core), so its prebuffer is never trimmed.
   */
  STREAMING: 22,
  /** [audio] times a streaming voice's prebuffer was trimmed to the measured jitter (output-mixer trimToJitter). */
  PREBUFFER_TRIMS: 23,
  /** [audio] times a streaming voice's prebuffer grew back because the jitter used its margin (trimToJitter). */
  PREBUFFER_GROWS: 24,
  /**
   * [audio] times the voice played a few ms of silence in a pause because the output device's clock ran ahead of
   * the input's (the ring emptied below the schedule): drift compensation, the schedule unmoved. Every voice.
   */
  DRIFT_PADS: 25,
  /**
   * [host] 1: the output mixer keeps its prebuffer as it is: no trim, grow or drift pad starts (underruns and
   * catch-ups still act). Set while the latency probe times clicks, which must cross the prebuffer it reports.
   */
  HOLD_STEPS: 26,
} as const;
export const CTRL_SLOTS = 27;
/** CTRL.STREAMING's value for a streaming voice whose f0 comes from a pitch network. */
export const STREAMING_NETWORK_F0 = 2;

/** Float64 slots. Writer in brackets. */
export const STATS = {
  /** [audio] input frames received since the session began. */
  INPUT_FRAMES: 0,
  /** [audio] output frames handed to the output device since it was (re)opened. */
  OUTPUT_FRAMES: 1,
  /** [audio] frames of silence or fade written because the voice was not there (priming, concealment). */
  CONCEALED_FRAMES: 2,
  /** [inference] input frame index one past the end of the newest block written to the output ring. */
  LAST_BLOCK_INPUT_END: 3,
  /** [inference] processing time of the last block, ms. */
  BLOCK_MS: 4,
  /** [inference] worst block processing time since start, ms. */
  BLOCK_MS_MAX: 5,
  /** [inference] 95th percentile of the recent block times, ms. */
  BLOCK_MS_P95: 6,
  /** [inference] block length, input frames. */
  BLOCK_FRAMES: 7,
  /** [inference] algorithmic latency, ms. */
  ALGORITHMIC_MS: 8,
  /** [host] output prebuffer, ms: how long after a block's input ends its voice starts playing (covers processing). */
  PREBUFFER_MS: 9,
  /** [host] gains in dB (ramped in the audio worker). */
  INPUT_GAIN_DB: 10,
  OUTPUT_GAIN_DB: 11,
  MONITOR_GAIN_DB: 12,
  /** [audio] peak level of the last ~100 ms, linear. */
  INPUT_PEAK: 13,
  OUTPUT_PEAK: 14,
  /** [audio] output ring level after the last render, frames. */
  RING_LEVEL: 15,
  /** [audio] prebuffer actually in use, ms (grows after underruns). */
  PREBUFFER_IN_USE_MS: 16,
  /** [inference] wall time (performance.timeOrigin + now) of the last heartbeat, ms. */
  HEARTBEAT_AT: 17,
  /**
   * [inference] total frames written to the output ring once the newest block is in (published with
   * LAST_BLOCK_INPUT_END, before the audio): any ring position maps to the input time it carries.
   */
  OUTPUT_WRITTEN_END: 18,
  /** [audio] dry FIFO level before each render (smoothed), input frames: the dry path's own queue. */
  DRY_QUEUE_FRAMES: 19,
  /**
   * [audio] the least audio the voice had beyond its reserve at any device buffer over the last second of
   * playing, ms (−1 until measured): how much of the prebuffer the jitter of input, inference and output
   * actually used. What is left here is latency that could be given back.
   */
  WET_SPARE_MS: 20,
  /**
   * [audio] wall time (wallMs) of the newest input buffer, and INPUT_FRAMES before it was pushed: an underrun
   * right behind an input buffer is the input's lateness, not the inference worker's (see underrunCause).
   */
  INPUT_ARRIVED_AT: 21,
  INPUT_FRAMES_BEFORE: 22,
  /**
   * [audio] how far behind its schedule the output played, on average over the last second of playing, ms
   * (negative: ahead). Input arrives in bursts of device buffers, so the output sits anywhere from on time to a
   * buffer or two behind, which the catch-up and the trims tolerate; converted audio waits that much beyond
   * the prebuffer, so the latency report adds it (a click measured 5.3 ms over its parts at buffer 256 when it
   * was one buffer, 0.0 when it was none: same session, busy core).
   */
  SCHEDULE_LAG_MS: 23,
  /**
   * [inference] the running voice's network stages, ms of the last block each: slots STAGE_MS … STAGE_MS +
   * MAX_VOICE_STAGES − 1, in the order of the stage names the worker's ready message carries.
   */
  STAGE_MS: 24,
  /**
   * [inference] the same stages' network calls in the last block (slots STAGE_CALLS …): a denoiser's passes
   * follow the live k_step/speedup settings, so the count the ready message carried can go stale. Written as
   * calls + 1, so 0 still means "no block yet" (a denoiser with diffusion off makes 0 calls).
   */
  STAGE_CALLS: 32,
} as const;
/** Most network stages a voice may report (content encoder, synthesizer, mel, denoiser, vocoder and room). */
export const MAX_VOICE_STAGES = 8;
export const STATS_SLOTS = 32 + MAX_VOICE_STAGES;

/** Ring capacities, in seconds of audio: room for the largest block plus slack for the worst stall. */
export const INPUT_RING_SEC = 4;
export const OUTPUT_RING_SEC = 4;
export const RECORD_RING_SEC = 4;
/** The inference worker skips the oldest input beyond this much backlog (beyond one block), seconds. */
export const MAX_INPUT_BACKLOG_SEC = 0.5;

/** The SharedArrayBuffers of one session (ringbuf.js storage for the rings). */
export interface SharedBuffers {
  inputRing: SharedArrayBuffer;
  outputRing: SharedArrayBuffer;
  recordIn: SharedArrayBuffer;
  recordOut: SharedArrayBuffer;
  ctrl: SharedArrayBuffer;
  stats: SharedArrayBuffer;
}
