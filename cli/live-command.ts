// `resona live`: the voice changer on real devices, until Ctrl-C (or --duration).
import { LiveSession, type LiveOptions } from '../host/live/session.js';
import { DEFAULT_VOICE } from '../host/voices.js';
import { DEFAULT_SETTINGS } from '../protocol/settings.js';
import { LIVE_RANGES } from '../protocol/live-settings.js';
import type { LiveTelemetry } from '../protocol/telemetry.js';
import { describePlacement } from '../protocol/runtime.js';
import { formatStatusLine } from './status-line.js';
import { ENGINE_OPTIONS, engineSettingsFrom, numberOption, parse, RUNTIME_OPTIONS, RUNTIME_USAGE, runtimeFrom, UsageError, VERBOSE_OPTION, VERBOSE_USAGE } from './args.js';

export const LIVE_USAGE = `usage: resona live [options]
  --input <dev>          microphone: a number, part of a name, or pulse:<source> ('resona devices'); default: the system's
  --output <dev>         where the voice goes (the virtual microphone); default: the system's
  --virtual-mic          create "Resona Virtual Microphone" (PulseAudio/PipeWire) and play into it; removed on exit
  --monitor <dev>        also play the voice here (headphones)
  --input-gain <dB>      ${LIVE_RANGES.inputGainDb.min}..${LIVE_RANGES.inputGainDb.max} (default 0); likewise --output-gain, --monitor-gain
  --voice <id|path>      voice (default ${DEFAULT_VOICE}; see 'resona voices'); --f0 <method|file> and
                         --encoder <file> as in 'resona convert'
${RUNTIME_USAGE}
  --pitch <st>  --formant <st>  --block <ms> (default ${DEFAULT_SETTINGS.blockMs})  --extra <ms>  --crossfade <ms>  --search <ms>  --silence <dB>
  --loudness <0..1>  --index-ratio <0..1>  --protect <0..0.5>  --speaker <n>  --cluster-ratio <0..1>  --noise-scale <0..2>  --auto-f0 <0|1>
  --diffusion <0|1>  --k-step <k>  --speedup <s>  --diffusion-method <name>   (as in 'resona convert --help')
  --rate <Hz>            stream rate (default 48000); --output-rate <Hz> when the output device needs another
  --buffer <frames>      device buffer, ${LIVE_RANGES.deviceBufferFrames.min}..${LIVE_RANGES.deviceBufferFrames.max} (default 256; 128 ran the built-in voices clean here)
  --noise-suppression    RNNoise on the input
  --bypass               start bypassed (your own voice); press b to toggle
  --fallback <silence|dry>  what goes out while the voice engine restarts after a failure (default silence:
                         your real voice never reaches the output unless you choose dry or bypass)
  --record-input <f.wav> --record-output <f.wav>   record what goes in and what comes out
  --measure-latency      time clicks through the whole chain; needs --latency-capture <dev> (hears the output)
                         and --latency-click <dev> (its sound reaches the input), or clicks you make yourself
  --duration <s>         stop after this long (default: until Ctrl-C or q)
  --quiet                no status line
${VERBOSE_USAGE}
Keys (in a terminal): b bypass, n noise suppression, q quit.`;


export function formatTelemetry(t: LiveTelemetry): string {
  const db = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)}` : '-inf');
  const l = t.latency;
  const lat = `latency ${l.totalMs.toFixed(0)} ms (${l.algorithmicMs.toFixed(0)} algorithmic + ${l.prebufferMs.toFixed(0)} prebuffer + ${l.deviceMs.toFixed(0)} device, ${l.deviceSource})${l.measuredMs !== undefined ? `, measured ${l.measuredMs.toFixed(0)} ms` : ''}`;
  const c = t.underrunCauses;
  const under = t.underruns ? `underruns ${t.underruns} (start-up ${c.startup}, inference ${c.inference}, device ${c.device})` : 'underruns 0';
  return (
    `${t.state}${t.bypass ? ' BYPASS' : ''}  in ${db(t.inputPeakDb)} dB  out ${db(t.outputPeakDb)} dB  block ${t.blockMsP95.toFixed(1)} ms p95 (rtf ${t.rtf.toFixed(2)})  ` +
    `${under}  dropped ${t.droppedInput}  ${lat}${t.noiseSuppression ? '  NS' : ''}${t.missing.length ? `  missing: ${t.missing.join(', ')}` : ''}`
  );
}

export async function liveCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    input: { type: 'string' },
    output: { type: 'string' },
    monitor: { type: 'string' },
    'virtual-mic': { type: 'boolean' },
    'input-gain': { type: 'string' },
    'output-gain': { type: 'string' },
    'monitor-gain': { type: 'string' },
    voice: { type: 'string' },
    f0: { type: 'string' },
    encoder: { type: 'string' },
    ...RUNTIME_OPTIONS,
    ...ENGINE_OPTIONS,
    rate: { type: 'string' },
    'output-rate': { type: 'string' },
    buffer: { type: 'string' },
    'noise-suppression': { type: 'boolean' },
    bypass: { type: 'boolean' },
    fallback: { type: 'string' },
    'record-input': { type: 'string' },
    'record-output': { type: 'string' },
    'measure-latency': { type: 'boolean' },
    'latency-capture': { type: 'string' },
    'latency-click': { type: 'string' },
    duration: { type: 'string' },
    quiet: { type: 'boolean' },
    ...VERBOSE_OPTION,
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    console.log(LIVE_USAGE);
    return 0;
  }
  const str = (k: string) => values[k as keyof typeof values] as string | undefined;
  const num = (k: string) => numberOption(k, str(k));
  const duration = num('duration');
  if (duration !== undefined && duration <= 0) throw new UsageError(`--duration must be positive (got ${duration})`);
  if (values['measure-latency'] && !str('latency-capture')) throw new UsageError('--measure-latency needs --latency-capture <device that hears the output>');
  const quiet = Boolean(values.quiet);
  const statusOnTty = !quiet && process.stderr.isTTY === true;
  const o: LiveOptions = {
    voice: str('voice') ?? DEFAULT_VOICE,
    ...(str('f0') ? { f0: str('f0') } : {}),
    ...(str('encoder') ? { encoder: str('encoder') } : {}),
    runtime: runtimeFrom(values),
    settings: engineSettingsFrom(values),
    input: str('input'),
    output: str('output'),
    monitor: str('monitor'),
    virtualMic: Boolean(values['virtual-mic']),
    inputGainDb: num('input-gain'),
    outputGainDb: num('output-gain'),
    monitorGainDb: num('monitor-gain'),
    sampleRate: num('rate'),
    outputRate: num('output-rate'),
    bufferFrames: num('buffer'),
    noiseSuppression: Boolean(values['noise-suppression']),
    bypass: Boolean(values.bypass),
    fallback: fallbackOption(values.fallback as string | undefined),
    recordInput: str('record-input'),
    recordOutput: str('record-output'),
    onEvent: (e) => {
      // Clear the status line first, so the message gets a line of its own and the status is redrawn below it.
      if (statusOnTty) process.stderr.write('\r\x1b[K');
      console.error(`resona: ${e.kind === 'warning' || e.kind === 'device-lost' || e.kind === 'inference-crashed' ? 'warning' : 'note'}: ${e.message}`);
    },
  };
  for (const k of Object.keys(o.settings!) as (keyof NonNullable<LiveOptions['settings']>)[]) if (o.settings![k] === undefined) delete o.settings![k];

  let session: LiveSession;
  try {
    session = await LiveSession.start(o);
  } catch (e) {
    return reportError(e);
  }
  const startedAt = Date.now();
  const t0 = session.telemetry();
  console.log(`live: ${t0.devices.input} → voice ${o.voice} → ${t0.devices.output}${t0.devices.monitor ? ` (monitor ${t0.devices.monitor})` : ''}, ${t0.streamRate} Hz`);
  if (t0.placement.length) console.log(`networks: ${describePlacement(t0.placement)}`);

  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const onSignal = () => finish();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const tty = process.stdin.isTTY && !quiet;
  if (tty) {
    process.stdin.setRawMode(true);
    process.stdin.resume();
    // One read may carry several keys (typed fast, pasted, or coalesced by a busy terminal): each is a key.
    process.stdin.on('data', (d: Buffer) => {
      for (const k of d.toString()) {
        if (k === 'q' || k === '\u0003') finish();
        else if (k === 'b') session.setBypass(!session.telemetry().bypass);
        else if (k === 'n') session.setNoiseSuppression(!session.telemetry().noiseSuppression);
      }
    });
  }
  const status = quiet
    ? null
    : setInterval(() => {
        if (statusOnTty) process.stderr.write(`\r${formatStatusLine(session.telemetry(), process.stderr.columns)}\x1b[K`);
        else console.error(formatTelemetry(session.telemetry()));
      }, statusOnTty ? 250 : 5000);
  const timer = duration !== undefined ? setTimeout(finish, duration * 1000) : null;
  try {
    if (values['measure-latency']) {
      const m = await session.measureLatency({ capture: str('latency-capture')!, ...(str('latency-click') ? { click: str('latency-click')! } : {}) });
      console.log(
        `latency: measured ${m.voiceMs.toFixed(1)} ms end to end; algorithmic ${m.algorithmicMs.toFixed(1)} + prebuffer ${m.prebufferMs.toFixed(1)} + device ${m.deviceMs.toFixed(1)} (measured in bypass) = ${(m.algorithmicMs + m.prebufferMs + m.deviceMs).toFixed(1)} ms`,
      );
    }
    await done;
  } catch (e) {
    return reportError(e, session);
  } finally {
    if (status) clearInterval(status);
    if (timer) clearTimeout(timer);
    if (tty) process.stdin.setRawMode(false);
    process.stdin.pause();
    if (statusOnTty) process.stderr.write('\r\x1b[K');
  }
  const t = session.telemetry();
  // Stopping is bounded inside the session; this is the last line of defence (and a second Ctrl-C ends at once),
  // so `q` or Ctrl-C never leaves a terminal waiting on a wedged audio driver.
  const force = () => {
    console.error('resona: the audio devices did not close in time; exiting anyway');
    process.exit(1);
  };
  const hard = setTimeout(force, 20_000);
  hard.unref();
  process.once('SIGINT', force);
  await session.stop();
  clearTimeout(hard);
  process.removeListener('SIGINT', force);
  // The summary: how long it ran and whether the listener heard clean audio (underruns are audible gaps).
  if (!quiet) console.log(`stopped after ${((Date.now() - startedAt) / 1000).toFixed(1)} s: latency ${t.latency.totalMs.toFixed(0)} ms, ${t.blocks} blocks, ${t.underruns} underruns (start-up ${t.underrunCauses.startup}, inference ${t.underrunCauses.inference}, device ${t.underrunCauses.device}), ${t.droppedInput} input frames dropped, ${t.inferenceRestarts} inference restarts`);
  return 0;
}

async function reportError(e: unknown, session?: LiveSession): Promise<number> {
  await session?.stop().catch(() => undefined);
  // One place words every failure (cli/resona.ts): a UserError's message, or an internal error with its stack.
  throw e;
}

function fallbackOption(v: string | undefined): 'silence' | 'dry' {
  if (v === undefined || v === 'silence' || v === 'dry') return v ?? 'silence';
  throw new UsageError(`--fallback must be silence or dry (got "${v}")`);
}
