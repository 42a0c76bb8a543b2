// The audio worker: the only thread that touches the audio library. It moves audio between the devices
// and the shared rings and never waits for the inference worker: input goes into the input ring (or is
// counted as dropped), the output mixer takes what the output ring has (or conceals the gap).
// The per-buffer callbacks below allocate nothing, log nothing and take no locks.
import { parentPort } from 'node:worker_threads';
import { dbToGain } from '../protocol/live-settings.js';
import { CTRL, STATS } from '../protocol/rings.js';
import type { AudioBackend, InputStream, OutputStream } from './audio-device.js';
import { Fifo } from './fifo.js';
import type { AudioReply, AudioRequest, MeasureResult, OpenRequest, StreamErrorEvent, StreamRole } from './messages.js';
import { NaudiodonBackend } from './naudiodon-backend.js';
import { OutputMixer } from './output-mixer.js';
import { AudioRing, Control } from './rings.js';

const port = parentPort!;
const backend: AudioBackend = new NaudiodonBackend();

interface Session {
  ctl: Control;
  inRing: AudioRing;
  recIn: AudioRing;
  recOut: AudioRing;
  dry: Fifo;
  monitorFifo: Fifo;
  mixer: OutputMixer;
  inputRate: number;
  outputRate: number;
}
let s: Session | null = null;
const streams = new Map<StreamRole, InputStream | OutputStream>();
const labels = new Map<StreamRole, string>();

/** Stream clocks: the earliest (arrival − frames so far / rate) seen, i.e. the wall time of frame 0. */
class StreamClock {
  t0 = Infinity;
  frames = 0;
  constructor(readonly rate: number) {}
  arrive(n: number, arrivedMs: number): void {
    this.frames += n;
    const t = arrivedMs - (this.frames * 1000) / this.rate;
    if (t < this.t0) this.t0 = t;
  }
  timeOf(frame: number): number {
    return this.t0 + (frame * 1000) / this.rate;
  }
}
let inputClock: StreamClock | null = null;
let captureClock: StreamClock | null = null;

// Latency measurement state (allocated when a measurement starts, never per buffer).
interface Measure {
  inBuf: Float32Array;
  inStart: number; // input clock frame index of inBuf[0]
  inLen: number;
  capBuf: Float32Array;
  capStart: number;
  capLen: number;
  emit: boolean;
  intervalFrames: number;
  clicksLeft: number;
  nextClick: number; // frames until the next click on the click stream
  emitted: number;
}
let measure: Measure | null = null;

let inGain = 0;
let inPeak = 0;
let inPeakFrames = 0;

function onInput(x: Float32Array, arrivedMs: number): void {
  const ss = s!;
  const ctl = ss.ctl;
  const n = x.length;
  const target = dbToGain(ctl.stats[STATS.INPUT_GAIN_DB]!);
  const a = 1 - Math.exp(-1 / (0.01 * ss.inputRate));
  let g = inGain;
  let peak = inPeak;
  for (let i = 0; i < n; i++) {
    g += a * (target - g);
    const v = x[i]! * g;
    x[i] = v;
    const av = v < 0 ? -v : v;
    if (av > peak) peak = av;
  }
  inGain = g;
  inPeakFrames += n;
  if (inPeakFrames >= ss.inputRate / 10) {
    ctl.stats[STATS.INPUT_PEAK] = peak;
    peak = 0;
    inPeakFrames = 0;
  }
  inPeak = peak;
  const pushed = ss.inRing.push(x, n);
  if (pushed < n) ctl.add(CTRL.DROPPED_INPUT, n - pushed);
  ctl.stats[STATS.INPUT_FRAMES_BEFORE] = ctl.stats[STATS.INPUT_FRAMES]!;
  ctl.stats[STATS.INPUT_ARRIVED_AT] = arrivedMs;
  ctl.stats[STATS.INPUT_FRAMES] = ctl.stats[STATS.INPUT_FRAMES]! + pushed;
  ctl.signalInput();
  ss.dry.push(x, n);
  if (ctl.get(CTRL.RECORD) === 1) {
    const r = ss.recIn.push(x, n);
    if (r < n) ctl.add(CTRL.DROPPED_RECORD, n - r);
  }
  const frame0 = inputClock!.frames;
  inputClock!.arrive(n, arrivedMs);
  const m = measure;
  if (m) {
    if (m.inStart < 0) m.inStart = frame0;
    const room = Math.min(n, m.inBuf.length - m.inLen);
    if (room > 0) m.inBuf.set(room === n ? x : x.subarray(0, room), m.inLen);
    m.inLen += Math.max(0, room);
  }
}

function onCapture(x: Float32Array, arrivedMs: number): void {
  const frame0 = captureClock!.frames;
  captureClock!.arrive(x.length, arrivedMs);
  const m = measure;
  if (m) {
    if (m.capStart < 0) m.capStart = frame0;
    const room = Math.min(x.length, m.capBuf.length - m.capLen);
    if (room > 0) m.capBuf.set(room === x.length ? x : x.subarray(0, room), m.capLen);
    m.capLen += Math.max(0, room);
  }
}

function fillOutput(out: Float32Array, n: number): void {
  const ss = s!;
  ss.mixer.render(out, n);
  if (ss.ctl.get(CTRL.RECORD) === 1) {
    const r = ss.recOut.push(out, n);
    if (r < n) ss.ctl.add(CTRL.DROPPED_RECORD, n - r);
  }
  ss.ctl.stats[STATS.OUTPUT_FRAMES] = ss.ctl.stats[STATS.OUTPUT_FRAMES]! + n;
}

function fillMonitor(out: Float32Array, n: number): void {
  const f = s!.monitorFifo;
  // The monitor runs on its own device clock: keep its queue to a few buffers so drift never builds delay.
  if (f.length > 4 * n) f.drop(f.length - 2 * n);
  const got = f.pop(out, n);
  out.fill(0, got, n);
}

function fillClick(out: Float32Array, n: number): void {
  out.fill(0, 0, n);
  const m = measure;
  if (!m || !m.emit || m.clicksLeft <= 0) return;
  if (m.nextClick < n) {
    out[m.nextClick] = 0.9;
    m.clicksLeft--;
    m.emitted++;
    m.nextClick += m.intervalFrames;
  }
  m.nextClick -= n;
}

function post(msg: AudioReply | StreamErrorEvent): void {
  port.postMessage(msg);
}

async function open(o: OpenRequest): Promise<number> {
  const ss = s!;
  await close(o.role);
  const so = { deviceId: o.deviceId, sampleRate: o.sampleRate, bufferFrames: o.bufferFrames, ...(o.env ? { env: o.env } : {}) };
  const ev = {
    onError: (message: string) => {
      // The stream is dead: drop it so a later open starts clean, and tell the host.
      const st = streams.get(o.role);
      streams.delete(o.role);
      void st?.close().catch(() => undefined);
      post({ event: 'stream-error', role: o.role, label: o.label, message });
    },
  };
  let st: InputStream | OutputStream;
  switch (o.role) {
    case 'input':
      inputClock = new StreamClock(o.sampleRate);
      st = await backend.openInput(so, onInput, ev);
      break;
    case 'capture':
      captureClock = new StreamClock(o.sampleRate);
      st = await backend.openInput(so, onCapture, ev);
      break;
    case 'output':
      ss.mixer.reset();
      ss.ctl.stats[STATS.OUTPUT_FRAMES] = 0;
      st = await backend.openOutput(so, fillOutput, ev);
      break;
    case 'monitor':
      ss.monitorFifo.clear();
      st = await backend.openOutput(so, fillMonitor, ev);
      break;
    case 'click':
      st = await backend.openOutput(so, fillClick, ev);
      break;
  }
  streams.set(o.role, st);
  labels.set(o.role, o.label);
  return st.latencySec;
}

async function close(role: StreamRole): Promise<void> {
  const st = streams.get(role);
  if (!st) return;
  streams.delete(role);
  await st.close();
}

/** Click onsets: samples above `thr` after at least `gap` quiet samples. */
function onsets(x: Float32Array, len: number, thr: number, gap: number): number[] {
  const out: number[] = [];
  let quiet = gap;
  for (let i = 0; i < len; i++) {
    const v = Math.abs(x[i]!);
    if (v > thr) {
      if (quiet >= gap) {
        // the peak of this click, within 5 ms
        let best = i;
        for (let j = i; j < Math.min(len, i + 240); j++) if (Math.abs(x[j]!) > Math.abs(x[best]!)) best = j;
        out.push(best);
      }
      quiet = 0;
    } else {
      quiet++;
    }
  }
  return out;
}

async function runMeasure(clicks: number, intervalMs: number, emit: boolean): Promise<MeasureResult> {
  const ss = s!;
  if (!captureClock || !streams.has('capture')) throw new Error('no capture stream is open to hear the output');
  if (emit && !streams.has('click')) throw new Error('no click stream is open');
  const seconds = (clicks * intervalMs) / 1000 + 1.5;
  const intervalFrames = Math.round((intervalMs * ss.inputRate) / 1000);
  measure = {
    inBuf: new Float32Array(Math.ceil(seconds * ss.inputRate)),
    inStart: -1,
    inLen: 0,
    capBuf: new Float32Array(Math.ceil(seconds * captureClock.rate)),
    capStart: -1,
    capLen: 0,
    emit,
    intervalFrames,
    clicksLeft: clicks,
    nextClick: Math.round(0.2 * ss.inputRate),
    emitted: 0,
  };
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const m = measure;
  measure = null;
  const gapIn = Math.round(intervalFrames * 0.4);
  const inOn = onsets(m.inBuf, m.inLen, 0.2, gapIn);
  let capMax = 0;
  for (let i = 0; i < m.capLen; i++) capMax = Math.max(capMax, Math.abs(m.capBuf[i]!));
  const capRate = captureClock.rate;
  const capOn = onsets(m.capBuf, m.capLen, Math.max(0.05, 0.35 * capMax), Math.round(((intervalMs * 0.4) / 1000) * capRate));
  const tIn = inOn.map((i) => inputClock!.timeOf(m.inStart + i));
  const tCap = capOn.map((i) => captureClock!.timeOf(m.capStart + i));
  const latenciesMs: number[] = [];
  for (const t of tIn) {
    const c = tCap.find((u) => u > t && u < t + intervalMs * 0.95);
    if (c !== undefined) latenciesMs.push(c - t);
  }
  return { latenciesMs, clicksEmitted: m.emitted, foundInInput: inOn.length, foundInCapture: capOn.length };
}

async function handle(id: number, req: AudioRequest): Promise<void> {
  try {
    switch (req.kind) {
      case 'init': {
        const ctl = new Control(req.buffers);
        const inRing = new AudioRing(req.buffers.inputRing);
        const dry = new Fifo(Math.ceil(req.inputRate * 0.5));
        const monitorFifo = new Fifo(Math.ceil(req.outputRate * 0.5));
        const wet = new AudioRing(req.buffers.outputRing);
        const mixer = new OutputMixer(
          { inputRate: req.inputRate, outputRate: req.outputRate, maxFrames: req.maxBufferFrames },
          ctl,
          wet,
          dry,
          monitorFifo,
        );
        s = {
          ctl,
          inRing,
          recIn: new AudioRing(req.buffers.recordIn),
          recOut: new AudioRing(req.buffers.recordOut),
          dry,
          monitorFifo,
          mixer,
          inputRate: req.inputRate,
          outputRate: req.outputRate,
        };
        post({ id, ok: true });
        return;
      }
      case 'list':
        post({ id, ok: true, devices: backend.listDevices() });
        return;
      case 'open':
        post({ id, ok: true, latencySec: await open(req.open) });
        return;
      case 'close':
        await close(req.role);
        post({ id, ok: true });
        return;
      case 'measure':
        post({ id, ok: true, measure: await runMeasure(req.clicks, req.intervalMs, req.emit) });
        return;
      case 'quit':
        // Every stream must be quit before the worker ends: terminating with a live stream crashes.
        for (const role of [...streams.keys()]) await close(role);
        post({ id, ok: true });
        return;
    }
  } catch (e) {
    post({ id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
}

port.on('message', (m: { id: number; req: AudioRequest }) => {
  void handle(m.id, m.req);
});
