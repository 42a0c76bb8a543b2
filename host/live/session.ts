// A live session: the composition root of live mode. It owns the shared memory, starts the audio worker
// (devices) and the inference worker (the voice), sizes the output prebuffer from the measured inference
// time, follows devices that disappear and return, records to WAV and reports telemetry.
//
// Devices outlive voices: the streams, the rings and the virtual microphone live as long as the session.
// Switching the voice, its f0 method, encoder or settings happens inside the running inference worker, and
// stopping the voice (stopVoice) leaves every device open with silence going out, so an app listening to the
// virtual microphone is never moved to the real one.
//
//   mic ─▶ audio worker ─▶ [input ring] ─▶ inference worker (engine) ─▶ [output ring] ─▶ audio worker ─▶ output
//                      └─▶ dry FIFO (bypass, passthrough) ─────────────────────────────────────┘   └─▶ monitor
import { outputQueueBuffers } from '../../native-audio/audio-device.js';
import { raiseAudioPriority } from './priority.js';
import { DEFAULT_SETTINGS, type EngineSettings, mergeSettings, SETTING_RANGES } from '../../protocol/settings.js';
import { checkLive, LIVE_RANGES } from '../../protocol/live-settings.js';
import { CTRL, STATS, type SharedBuffers } from '../../protocol/rings.js';
import { type Fallback, latencyFigures, type LiveEvent, type LiveTelemetry } from '../../protocol/telemetry.js';
import { AudioIO } from '../../native-audio/audio-io.js';
import type { StreamRole } from '../../native-audio/messages.js';
import { createVirtualMic, type VirtualMic } from '../../native-audio/pulse.js';
import { Control, createSharedBuffers } from '../../native-audio/rings.js';
import { findBuiltinVoice } from '../../engine/voices/builtin.js';
import { listVoices, looksLikePath, VoiceNotFoundError } from '../voices.js';
import { type DeviceCatalogue, readCatalogue, resolveDevice } from './devices.js';
import type { FromInference, VoiceReady } from './inference-messages.js';
import { InferenceSupervisor } from './inference-supervisor.js';
import { DeviceFollower } from './device-follower.js';
import type { VoiceChoice } from './loaded-voice.js';
import { Recorder } from './recorder.js';
import { type LatencyMeasurement, measureLatency, type ProbeOptions } from './latency-probe.js';
import { type NetworkPlacement, type RuntimeOptions, stageReports } from '../../protocol/runtime.js';

export interface LiveOptions {
  voice: string;
  /** Pitch estimator: yin (default), pyin, swiftf0, crepe, rmvpe or a network file; as `resona convert --f0`. */
  f0?: string;
  /** Content encoder file for neural voices (default: the catalogue's). */
  encoder?: string;
  /** Where the voice's networks run (default: the best accelerator here, else CPU). */
  runtime?: Partial<RuntimeOptions>;
  settings?: Partial<EngineSettings>;
  /** Device specs (see resolveDevice); input/output default to the system's. */
  input?: string;
  output?: string;
  monitor?: string;
  /** Create "Resona Virtual Microphone" (PulseAudio) and play into it (unless `output` is given). */
  virtualMic?: boolean;
  inputGainDb?: number;
  outputGainDb?: number;
  monitorGainDb?: number;
  /** Stream rate (the engine's), Hz. Default 48000. */
  sampleRate?: number;
  /** Output device rate when it must differ (the voice is resampled to it). Default: the stream rate. */
  outputRate?: number;
  /** Frames per device buffer. Default 256 (128 is the smallest that ran a built-in voice clean here). */
  bufferFrames?: number;
  noiseSuppression?: boolean;
  bypass?: boolean;
  /** Start muted: the output carries silence until setMute(false). */
  muted?: boolean;
  /** What goes out while no converted voice exists (the inference worker restarting): silence (default) or the dry input. */
  fallback?: Fallback;
  recordInput?: string;
  recordOutput?: string;
  onEvent?: (e: LiveEvent) => void;
}

export type { LatencyMeasurement };

const DEFAULT_RATE = 48000;
const DEFAULT_BUFFER = 256;
// Device buffer for a streaming (built-in) voice, measured on the PulseAudio test chain with 2 cores shared
// with other jobs: 128 frames saves ~10 ms of device latency over 256 and ran 45 s of speech clean in 2 of 3
// runs (the third had one underrun; a 300 s soak, one after 105 s); 64 halved the device part again (15 vs
// 26 ms) but underran and fell behind within 45 s. 256 stays the default: at 128 the existing live tests
// underran and stalled on the shared machine. See README "Latency".
const MIN_PREBUFFER_MS = 20;
const MAX_PREBUFFER_MS = 400;
/**
 * Scheduling slack in the prebuffer, ms: input callbacks and the inference worker's wake-ups arrive late by
 * this much at worst on a loaded machine. Measured through the PulseAudio test chain (2 cores shared with other
 * jobs): a streaming voice used ~2 ms of its prebuffer in a typical second (spareMs) but underran within
 * seconds at 6 ms of slack (collector and scheduler pauses); 10 ms, the block path's figure, is what held.
 */
const BLOCK_SLACK_MS = 10;
const STREAM_SLACK_MS = 10;


export class LiveSession {
  private readonly ctl: Control;
  private readonly devices: DeviceFollower;
  private readonly recorder: Recorder;
  private vmic: VirtualMic | null = null;
  private supervisor!: InferenceSupervisor;
  private settings!: EngineSettings;
  /** The pitch estimator the inference worker runs ('yin', 'crepe', …). */
  f0Method = 'yin';
  /** Where the running voice's networks run (telemetry). */
  private placement: NetworkPlacement[] = [];
  /** The running voice's network stages (their times are read from STATS.STAGE_MS… for telemetry). */
  private stageNames: VoiceReady['stages'] = [];
  private placementNotes = '';
  private voice: string;
  private voiceOn = true;
  /** 0 until the first voice's warm-up has sized it. */
  private prebufferMs = 0;
  /** The last click measurement: its device part replaces the nominal one, and the report keeps its figures. */
  private measured: LatencyMeasurement | null = null;
  private nominalDeviceMs = 0;
  private stopped = false;
  private events: LiveEvent[] = [];
  private noise = false;
  private state: LiveTelemetry['state'] = 'starting';

  private constructor(
    private readonly o: LiveOptions,
    private readonly audio: AudioIO,
    private readonly buffers: SharedBuffers,
    readonly streamRate: number,
    readonly outputRate: number,
    readonly bufferFrames: number,
    catalogue: DeviceCatalogue,
  ) {
    this.devices = new DeviceFollower(audio, catalogue, bufferFrames, { input: streamRate, output: outputRate }, (k, m) => this.emit(k, m));
    this.ctl = new Control(buffers);
    this.recorder = new Recorder(buffers, this.ctl, streamRate, outputRate);
    this.voice = o.voice;
  }

  /** A voice id that names no voice fails here, before anything loads. */
  static async checkVoice(voice: string): Promise<void> {
    if (!findBuiltinVoice(voice) && !looksLikePath(voice)) {
      const ids = (await listVoices()).voices.map((v) => v.id);
      if (!ids.includes(voice)) throw new VoiceNotFoundError(voice, ids);
    }
  }

  /** Checks every option before any device or worker starts, so a typo costs nothing. */
  static async validate(o: LiveOptions): Promise<void> {
    await LiveSession.checkVoice(o.voice);
    mergeSettings(DEFAULT_SETTINGS, o.settings ?? {});
    if (o.inputGainDb !== undefined) checkLive('inputGainDb', o.inputGainDb);
    if (o.outputGainDb !== undefined) checkLive('outputGainDb', o.outputGainDb);
    if (o.monitorGainDb !== undefined) checkLive('monitorGainDb', o.monitorGainDb);
    if (o.sampleRate !== undefined) checkLive('sampleRate', o.sampleRate);
    if (o.outputRate !== undefined) checkLive('sampleRate', o.outputRate);
    if (o.bufferFrames !== undefined) checkLive('deviceBufferFrames', o.bufferFrames);
  }

  static async start(o: LiveOptions): Promise<LiveSession> {
    await LiveSession.validate(o);
    const streamRate = o.sampleRate ?? DEFAULT_RATE;
    const outputRate = o.outputRate ?? streamRate;
    const bufferFrames = o.bufferFrames ?? DEFAULT_BUFFER;
    const audio = AudioIO.start();
    let session: LiveSession | null = null;
    try {
      const cat = await readCatalogue(audio);
      const maxBlock = Math.round((SETTING_RANGES.blockMs.max * streamRate) / 1000);
      const buffers = createSharedBuffers(streamRate, outputRate, Math.ceil((maxBlock * outputRate) / streamRate));
      session = new LiveSession(o, audio, buffers, streamRate, outputRate, bufferFrames, cat);
      await session.begin();
      return session;
    } catch (e) {
      if (session) await session.stop().catch(() => undefined);
      else await audio.stop().catch(() => undefined);
      throw e;
    }
  }

  private emit(kind: LiveEvent['kind'], message: string): void {
    const e = { at: Date.now(), kind, message };
    this.events.push(e);
    if (this.events.length > 200) this.events.shift();
    this.o.onEvent?.(e);
  }

  private async begin(): Promise<void> {
    const o = this.o;
    const stats = this.ctl.stats;
    stats[STATS.INPUT_GAIN_DB] = o.inputGainDb ?? 0;
    stats[STATS.OUTPUT_GAIN_DB] = o.outputGainDb ?? 0;
    stats[STATS.MONITOR_GAIN_DB] = o.monitorGainDb ?? 0;
    stats[STATS.PREBUFFER_MS] = MAX_PREBUFFER_MS; // until the inference time is known
    stats[STATS.WET_SPARE_MS] = -1;
    this.ctl.set(CTRL.BYPASS, o.bypass ? 1 : 0);
    this.ctl.set(CTRL.FALLBACK_DRY, o.fallback === 'dry' ? 1 : 0);
    this.ctl.set(CTRL.MUTE, o.muted ? 1 : 0);
    this.noise = Boolean(o.noiseSuppression);

    // Resolve every device first: a wrong name fails before anything opens.
    let outputSpec = o.output;
    if (o.virtualMic && !outputSpec) {
      this.vmic = await createVirtualMic(this.outputRate);
      await this.devices.refresh();
      outputSpec = `pulse:${this.vmic.sinkName}`;
      this.emit('info', `created "Resona Virtual Microphone": in other apps choose it (pulse:${this.vmic.sourceName}) as the microphone`);
    }
    const cat = this.devices.catalogue;
    const input = resolveDevice(o.input, 'input', cat);
    const output = resolveDevice(outputSpec, 'output', cat);
    const monitor = o.monitor ? resolveDevice(o.monitor, 'output', cat) : null;
    const chosen = [this.devices.choose('input', 'input', input), this.devices.choose('output', 'output', output)];
    if (monitor) chosen.push(this.devices.choose('monitor', 'output', monitor));

    await this.audio.init(this.buffers, this.streamRate, this.outputRate, Math.max(4096, this.bufferFrames));

    this.supervisor = new InferenceSupervisor(
      {
        buffers: this.buffers,
        streamRate: this.streamRate,
        outputRate: this.outputRate,
        choice: {
          voice: o.voice,
          ...(o.f0 ? { f0: o.f0 } : {}),
          ...(o.encoder ? { encoder: o.encoder } : {}),
          ...(o.runtime ? { runtime: o.runtime } : {}),
          settings: o.settings ?? {},
        },
        noiseSuppression: this.noise,
        paused: false,
      },
      this.ctl,
      {
        onReady: (r, restart) => {
          this.onVoice(r);
          if (restart) {
            this.state = 'running';
            this.emit('inference-restarted', `the voice is back (inference worker restarted, ${this.supervisor.restartCount} restart(s) so far)`);
          }
        },
        onCrash: (why) => {
          this.state = 'recovering';
          const fallback = this.ctl.get(CTRL.FALLBACK_DRY) === 1 ? 'passing your voice through (dry fallback)' : 'the output is silent';
          this.emit('inference-crashed', `${why}; ${fallback} while it restarts`);
        },
        onMessage: (m: FromInference) => {
          if (m.kind === 'settings') this.settings = m.settings;
          else if (m.kind === 'warning' || m.kind === 'settings-failed') this.emit('warning', m.kind === 'warning' ? m.message : m.error.message);
        },
      },
    );
    await this.supervisor.start();

    // Devices last: the voice is warm, so the first block's timing is representative.
    for (const c of chosen) await this.devices.open(c, true);
    this.nominalDeviceMs = ((outputQueueBuffers(this.bufferFrames, this.streamRate) + 1) * this.bufferFrames * 1000) / this.streamRate;
    if (o.recordInput || o.recordOutput) await this.startRecording(o.recordInput, o.recordOutput);
    await this.devices.watch();
    // The devices' threads exist now: raise the whole audio path above ordinary work (see priority.ts).
    const pr = raiseAudioPriority();
    if (pr.warning) this.emit('warning', pr.warning);
    this.state = 'running';
  }

  /** A voice took over (first start, restart or switch): its settings, f0 method and cost. */
  private onVoice(r: VoiceReady): void {
    this.f0Method = r.f0Method;
    // A voice's accelerator falling back to CPU is said once per load, not once per network.
    if (r.notes.join() !== this.placementNotes) for (const n of r.notes) this.emit('warning', n);
    this.placementNotes = r.notes.join();
    this.placement = r.placement;
    this.stageNames = r.stages;
    this.settings = r.settings;
    this.sizePrebuffer(r.warmupMs, r.streaming);
  }

  /** The algorithmic latency: one formula, the inference worker's (engine + output resampler + noise suppression). */
  private get algorithmicMs(): number {
    return this.ctl.stats[STATS.ALGORITHMIC_MS]!;
  }

  /**
   * Switches the voice (and/or its f0 method, encoder, settings) inside the running inference worker: the new
   * voice loads beside the running one and takes over at a block boundary with a crossfade. Devices and the
   * virtual microphone are untouched. A voice that fails to load leaves the running one as it was, and the
   * error says why.
   */
  async switchVoice(choice: VoiceChoice): Promise<void> {
    await LiveSession.checkVoice(choice.voice);
    mergeSettings(DEFAULT_SETTINGS, choice.settings);
    const r = await this.supervisor.switchVoice(choice);
    this.voice = choice.voice;
    this.onVoice(r);
    this.emit('info', `voice "${choice.voice}" took over${choice.f0 ? ` (f0 ${r.f0Method})` : ''}`);
  }

  /** Stops converting; every device stays open and the output (the virtual microphone) carries silence. */
  stopVoice(): void {
    if (!this.voiceOn) return;
    this.voiceOn = false;
    this.ctl.set(CTRL.VOICE_OFF, 1);
    this.supervisor.post({ kind: 'pause' });
  }

  /** Converts again from the present moment. */
  startVoice(): void {
    if (this.voiceOn) return;
    this.voiceOn = true;
    this.supervisor.post({ kind: 'resume' });
    this.ctl.set(CTRL.VOICE_OFF, 0);
  }

  get voiceRunning(): boolean {
    return this.voiceOn;
  }

  setFallback(f: Fallback): void {
    this.ctl.set(CTRL.FALLBACK_DRY, f === 'dry' ? 1 : 0);
  }

  /**
   * The prebuffer must cover the worst block time (a block's voice is due prebuffer after its input ended),
   * the input buffer (a block completes only when the buffer holding its last sample arrives) and the mixer's
   * two-buffer low-water mark, plus scheduling slack for a loaded machine. Underruns grow it further.
   * A streaming voice converts each input buffer as it lands (its worst time is per ~5 ms chunk) and its
   * output keeps one buffer in reserve, not two; its floor is what that sum gives, not the block floor.
   */
  private sizePrebuffer(warmupMs: number[], streaming: boolean): void {
    // The first blocks include JIT compilation; a streaming voice's chunks are tiny, so its compiler and
    // collector spikes last longer in chunk terms: only the second half of its warm-up counts.
    const steady = warmupMs.slice(streaming ? warmupMs.length >> 1 : 2);
    const worst = Math.max(...(steady.length ? steady : warmupMs));
    const bufMs = (this.bufferFrames * 1000) / this.streamRate;
    const p = streaming ? 1.5 * worst + 2 * bufMs + STREAM_SLACK_MS : 1.5 * worst + 3 * bufMs + BLOCK_SLACK_MS;
    const floor = streaming ? 0 : MIN_PREBUFFER_MS;
    // A switch to a cheaper voice keeps the prebuffer (the schedule in use stays); a costlier one raises it.
    this.prebufferMs = Math.min(MAX_PREBUFFER_MS, Math.max(floor, p, this.prebufferMs));
    this.ctl.stats[STATS.PREBUFFER_MS] = this.prebufferMs;
  }

  /** Chooses another device for a role (output, input or monitor; null closes the monitor). */
  async setDevice(role: 'input' | 'output' | 'monitor', spec: string | null): Promise<void> {
    await this.devices.setDevice(role, spec);
  }

  update(settings: Partial<EngineSettings>): EngineSettings {
    const next = mergeSettings(this.settings, settings);
    this.supervisor.post({ kind: 'update', settings });
    this.settings = next; // a restarted inference worker starts from these
    return next;
  }

  setBypass(on: boolean): void {
    this.ctl.set(CTRL.BYPASS, on ? 1 : 0);
  }

  /** True silence out (the mixer fades within one buffer); wins over bypass and the dry fallback. */
  setMute(on: boolean): void {
    this.ctl.set(CTRL.MUTE, on ? 1 : 0);
  }

  setGain(which: 'input' | 'output' | 'monitor', db: number): void {
    const key = `${which}GainDb` as 'inputGainDb';
    checkLive(key, db);
    const slot = which === 'input' ? STATS.INPUT_GAIN_DB : which === 'output' ? STATS.OUTPUT_GAIN_DB : STATS.MONITOR_GAIN_DB;
    this.ctl.stats[slot] = db;
  }

  setNoiseSuppression(on: boolean): void {
    this.noise = on;
    this.supervisor.post({ kind: 'noise', on });
  }

  /** Stress and test hooks: extra work per block in the inference worker, and killing it. */
  setInferenceLoad(ms: number): void {
    this.ctl.set(CTRL.LOAD_MS, Math.max(0, Math.round(ms)));
  }
  killInference(): void {
    this.supervisor.kill();
  }

  /** Starts recording what goes in and/or what comes out to WAV files (also while running). */
  async startRecording(inPath?: string, outPath?: string): Promise<void> {
    await this.recorder.start(inPath, outPath);
  }

  /** Frames of output recorded so far (tests line the recording up with events through this). */
  recordedOutputFrames(): number {
    return this.recorder.outputFrames();
  }

  /** Writes what is recorded so far to the files (they stay open). */
  async flushRecording(): Promise<void> {
    await this.recorder.flush();
  }

  async stopRecording(): Promise<void> {
    await this.recorder.stop();
  }

  /** Click latency through the whole chain (host/live/latency-probe.ts); the figures then show as measured. */
  async measureLatency(o: ProbeOptions): Promise<LatencyMeasurement> {
    const m = await measureLatency(
      {
        audio: this.audio,
        ctl: this.ctl,
        devices: this.devices,
        bufferFrames: this.bufferFrames,
        streamRate: this.streamRate,
        outputRate: this.outputRate,
        algorithmicMs: () => this.algorithmicMs,
        prebufferMs: () => this.prebufferMs,
        settings: () => this.settings,
        update: (s) => this.update(s),
        setBypass: (on) => this.setBypass(on),
        emit: (k, msg) => this.emit(k, msg),
      },
      o,
    );
    this.measured = m;
    return m;
  }

  telemetry(): LiveTelemetry {
    const c = this.ctl;
    const s = c.stats;
    const db = (x: number) => (x > 0 ? 20 * Math.log10(x) : -Infinity);
    const blockMsNominal = (s[STATS.BLOCK_FRAMES]! / this.streamRate) * 1000;
    const label = (r: StreamRole) => this.devices.chosen.get(r)?.device.label ?? null;
    return {
      state: this.stopped
        ? 'stopped'
        : c.get(CTRL.PASSTHROUGH) === 1
          ? c.get(CTRL.FALLBACK_DRY) === 1
            ? 'passthrough'
            : 'recovering'
          : this.state === 'running' && !this.voiceOn
            ? 'idle'
            : this.state,
      bypass: c.get(CTRL.BYPASS) === 1,
      voice: this.voice,
      placement: this.placement,
      // Calls as the last block ran them (a denoiser's passes follow k_step/speedup); before the first block, the ready message's.
      stages: stageReports(this.stageNames.map((x, i) => ({ name: x.name, calls: s[STATS.STAGE_CALLS + i] ? s[STATS.STAGE_CALLS + i]! - 1 : x.calls })), (i) => s[STATS.STAGE_MS + i]!, this.placement),
      streaming: this.ctl.get(CTRL.STREAMING) !== 0,
      fallback: c.get(CTRL.FALLBACK_DRY) === 1 ? 'dry' : 'silence',
      streamRate: this.streamRate,
      outputRate: this.outputRate,
      inputPeakDb: db(s[STATS.INPUT_PEAK]!),
      outputPeakDb: db(s[STATS.OUTPUT_PEAK]!),
      underruns: c.get(CTRL.UNDERRUNS),
      underrunCauses: { startup: c.get(CTRL.UNDERRUN_STARTUP), inference: c.get(CTRL.UNDERRUN_INFERENCE), device: c.get(CTRL.UNDERRUN_DEVICE) },
      droppedInput: c.get(CTRL.DROPPED_INPUT) + c.get(CTRL.DROPPED_BACKLOG),
      droppedOutput: c.get(CTRL.DROPPED_OUTPUT),
      resyncs: c.get(CTRL.RESYNCS),
      catchUps: c.get(CTRL.CATCH_UPS),
      prebufferTrims: c.get(CTRL.PREBUFFER_TRIMS),
      prebufferGrows: c.get(CTRL.PREBUFFER_GROWS),
      driftPads: c.get(CTRL.DRIFT_PADS),
      concealedMs: (s[STATS.CONCEALED_FRAMES]! / this.outputRate) * 1000,
      blocks: c.get(CTRL.BLOCKS),
      blockMs: s[STATS.BLOCK_MS]!,
      blockMsP95: s[STATS.BLOCK_MS_P95]!,
      blockMsMax: s[STATS.BLOCK_MS_MAX]!,
      rtf: blockMsNominal > 0 ? s[STATS.BLOCK_MS_P95]! / blockMsNominal : 0,
      inferenceRestarts: this.supervisor?.restartCount ?? 0,
      noiseSuppression: c.get(CTRL.NOISE_ACTIVE) === 1,
      devices: { input: label('input'), output: label('output'), monitor: label('monitor') },
      missing: [...this.devices.missing],
      deviceStalls: this.devices.stalls,
      latency: latencyFigures({
        algorithmicMs: this.algorithmicMs,
        // What converted audio waits in the output ring: the prebuffer, plus how far the output plays behind
        // its schedule (input bursts; see SCHEDULE_LAG_MS), which a click measures too.
        prebufferMs: Math.max(0, (s[STATS.PREBUFFER_IN_USE_MS]! || this.prebufferMs) + s[STATS.SCHEDULE_LAG_MS]!),
        deviceMs: this.measured?.deviceMs ?? this.nominalDeviceMs,
        deviceSource: this.measured === null ? 'nominal' : 'measured',
        ...(s[STATS.WET_SPARE_MS]! >= 0 ? { spareMs: s[STATS.WET_SPARE_MS]! } : {}),
        ...(this.measured !== null ? { measuredMs: this.measured.voiceMs, measuredPrebufferMs: this.measured.prebufferMs } : {}),
      }),
    };
  }

  recentEvents(): LiveEvent[] {
    return [...this.events];
  }

  /**
   * Ends the session within a bounded time: the recording is closed, the inference worker stopped, every
   * stream quit (each close has its own watchdog in the audio worker, and the worker is terminated if it
   * does not answer), and the virtual microphone removed.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // The output fades to silence before the inference worker goes: otherwise the voice runs dry while the
    // devices are still open, and the session's last act is an underrun in its counts (and a cut, not a fade).
    this.ctl.set(CTRL.VOICE_OFF, 1);
    this.devices.stop();
    await this.stopRecording().catch(() => undefined);
    await this.supervisor?.stop().catch(() => undefined);
    await this.audio.stop();
    await this.vmic?.remove().catch(() => undefined);
  }
}

export { LIVE_RANGES };
