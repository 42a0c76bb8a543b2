// What the output device plays, one device buffer at a time, on the audio worker's thread. Pure logic over
// the rings and the control block, so it is tested without any device.
//
// The voice (wet) path, from the output ring:
//   priming  → waits for a block, then for `prebuffer` more input time, so every block's voice starts
//              exactly prebuffer after its input ended: the delay is algorithmic + prebuffer, whatever the
//              first block's processing time was, and later blocks have prebuffer of slack.
//   playing  → takes one device buffer per call. When less than two buffers are left the next block is
//              late: the buffer it has is faded out (raised cosine), the rest is silence, an underrun is
//              counted and the path primes again with a slightly larger prebuffer (never a hard cut).
//              The input's frame count is the clock: when the output device stalls (it stops asking for
//              audio for a while, as PulseAudio does after its own underflow), everything after would play
//              that much later for good; instead the voice skips ahead to its schedule, with a fade.
// The dry path (the input) comes from a private FIFO fed by the input callback. It plays only in bypass (the
// user's deliberate choice) or, when the user chose the dry fallback, while the inference worker restarts.
// Otherwise a missing voice is silence: the user's real voice never reaches the virtual microphone by accident.
// A stopped voice (VOICE_OFF) is silence too, without counting underruns. Wet and dry cross-fade; gains are
// smoothed per sample. Mute (CTRL.MUTE) is applied last, on top of all of that: see render().
import { CTRL, STATS } from '../protocol/rings.js';
import { dbToGain } from '../protocol/live-settings.js';
import { fadeIn, fadeOut } from './fades.js';
import type { Fifo } from './fifo.js';
import { type AudioRing, type Control, wallMs } from './rings.js';

export interface MixerOptions {
  inputRate: number;
  outputRate: number;
  /** Largest device buffer the mixer will be asked for. */
  maxFrames: number;
  /** Fade length for wet/dry switches and fade-ins after a gap, ms. */
  fadeMs?: number;
  /** Prebuffer added after each underrun, ms, and its ceiling. */
  growMs?: number;
  maxPrebufferMs?: number;
}

/** Streaming prebuffer trim (trimToJitter): window, least margin kept, most given back (or taken) per window. */
const TRIM_WINDOW_SEC = 4;
const TRIM_MARGIN_MS = 15;
const TRIM_STEP_MS = 24;
/**
 * A window whose least spare (on schedule, drift aside) fell under this grows the prebuffer back to what it used
 * plus TRIM_MARGIN_MS. The jitter is not stationary: PulseAudio delivers input in bursts of 1–3 buffers, whose
 * phase against the output's requests moves (an output reopened after a stall, drift), and a trimmed margin
 * stayed at 4.3 ms until a 15 ms input gap underran (buffer 256, a busy core, traced). Under half the margin, so
 * that one buffer's step (5.3 ms at 256) from a margin of 15 does not grow it.
 */
const GROW_BELOW_MS = 7;
/**
 * Ahead of the schedule by this much over a whole trim window, the output plays that much silence in a quiet buffer.
 * An input and an output device each run on their own clock: two PulseAudio null sinks drifted by about 0.01 %
 * (the output faster), 10 ms per 100 s, which ate a trimmed margin in a few minutes (buffer 256, 300 s traced).
 * The other way (input faster) is lag, which the trims and the catch-up drop.
 */
const DRIFT_PAD_MS = 2;
/** A buffer this quiet (a pause between words) may be spliced unheard: −30 dBFS peak (−40 gave 2 trims in 57 s of speech). */
const QUIET = 0.03;

/** Input younger than this at an underrun is not yet the inference worker's to have converted (see underrunCause). */
const INFERENCE_GRACE_MS = 2;

/**
 * The shortest fade a voice that runs dry gets, ms. What the ring still holds is faded out, and where that is
 * shorter than this, the fade runs on into the mirror image of what played just before (see concealDry): a
 * voice that ran dry with 1 ms left used to fade over 1 ms, a cut (0.16 step at the virtual microphone).
 */
const DRY_FADE_MS = 4;

/** Mute fade, ms: raised cosine, click-free, and over well within one device buffer's worth of reaction. */
export const MUTE_FADE_MS = 5;

const enum Wet {
  Priming,
  Playing,
}

export class OutputMixer {
  private state = Wet.Priming;
  private primeEnd = -1; // input frame index at which the primed voice may start
  private readTotal = 0; // frames read from the output ring since the session began
  private wetPhase = 0; // 0..1 position on the wet fade curve
  private dryPhase = 0;
  private outGain = 0;
  private monGain = 0;
  private growthMs = 0;
  /**
   * Streaming voices: prebuffer given back because the measured jitter never used it (see trimToJitter). The
   * host sizes the prebuffer before any audio flows, from the warm-up's slowest chunk; on a loaded machine that
   * guess was 58 ms at buffer 128 while the output never used more than 7 ms of it.
   */
  private trimMs = 0;
  private trimPending = 0; // frames to give back at the next quiet buffer
  private trimSpareMin = Infinity; // least spare over the current trim window, frames
  private trimBehindMin = Infinity; // least lag behind schedule over it, frames
  private trimLag = 0; // frames of lag to drop with the next trim (no schedule change)
  private secSpareMin = Infinity; // the same, over the current second: growing back does not wait for a window
  private secBehindMax = -Infinity;
  private secFrames = 0;
  private trimHeld = false; // an underrun after a trim: the prebuffer stops shrinking
  private trimFadeIn = false; // the buffer after a trim (or a pad) fades in
  private padPending = 0; // frames of silence to insert at the next quiet buffer (drift, and the prebuffer grown back)
  private padGrow = 0; // the part of padPending that grows the prebuffer (moves the schedule)
  /** The window (TRIM_WINDOW_SEC) that drift (every voice) and the trim (streaming voices) are judged over. */
  private windowBehindMax = -Infinity; // most lag behind schedule over it (negative: ahead all window), frames
  private windowFrames = 0;
  private padLeft = 0; // silence still to play before the ring is read again
  private recovering = false;
  /** Output frames played since the voice (re)started from scratch; underruns in its first second are 'startup'. */
  private sinceStart = 0;
  private readonly fadeStep: number;
  private readonly smooth: number;
  private readonly wetBuf: Float32Array;
  /** The last DRY_FADE_MS of wet audio rendered (the fade-out of a voice that runs dry mirrors it). */
  private readonly wetTail: Float32Array;
  private readonly dryBuf: Float32Array;
  private readonly dryIn: Float32Array;
  private readonly monBuf: Float32Array;
  private readonly growMs: number;
  private readonly maxPrebufferMs: number;
  private lastN = 0; // the device buffer of the current render() call
  private spareMin = Infinity; // least frames beyond the reserve this second
  private spareFrames = 0; // output frames played since spareMin was published
  private behindMin = Infinity; // streaming: least lag behind schedule in the current half second, frames
  private behindFrames = 0;
  private lagSum = 0; // behind schedule, summed per output frame over the current second (SCHEDULE_LAG_MS)
  private lagFrames = 0;
  private dryPos = 0; // fractional read position into the dry input (rate conversion)
  private dryPrev = 0;
  private peakOut = 0;
  private peakFrames = 0;
  /** Mute fade position: 1 open, 0 muted (exact zeros out). */
  private mutePhase: number;
  private readonly muteStep: number;

  constructor(
    private readonly o: MixerOptions,
    private readonly ctl: Control,
    private readonly wet: AudioRing,
    private readonly dry: Fifo,
    private readonly monitor: Fifo | null,
  ) {
    const fade = ((o.fadeMs ?? 10) * o.outputRate) / 1000;
    this.fadeStep = 1 / Math.max(1, fade);
    this.smooth = 1 - Math.exp(-1 / (0.01 * o.outputRate)); // 10 ms gain smoothing
    this.wetBuf = new Float32Array(o.maxFrames);
    this.wetTail = new Float32Array(Math.round((o.outputRate * DRY_FADE_MS) / 1000));
    this.dryBuf = new Float32Array(o.maxFrames);
    this.monBuf = new Float32Array(o.maxFrames);
    this.dryIn = new Float32Array(Math.ceil((o.maxFrames * o.inputRate) / o.outputRate) + 4);
    this.growMs = o.growMs ?? 10;
    this.maxPrebufferMs = o.maxPrebufferMs ?? 400;
    // Short enough that push-to-talk feels instant, long enough (a few hundred samples) to be click-free.
    this.muteStep = 1 / Math.max(1, (MUTE_FADE_MS * o.outputRate) / 1000);
    this.mutePhase = ctl.get(CTRL.MUTE) === 1 ? 0 : 1;
  }

  get playing(): boolean {
    return this.state === Wet.Playing;
  }

  /** Forget the wet timeline (a new output stream, a restarted inference worker, a stopped voice). */
  reset(): void {
    this.reprime();
    this.sinceStart = 0;
  }

  /** Prime again after a late block, keeping the start-up clock. */
  private reprime(): void {
    this.padLeft = 0;
    this.padPending = 0;
    this.padGrow = 0;
    // A new schedule: measured afresh.
    this.restartWindow();
    this.secSpareMin = Infinity;
    this.secBehindMax = -Infinity;
    this.secFrames = 0;
    this.behindMin = Infinity;
    this.behindFrames = 0;
    this.lagSum = 0;
    this.lagFrames = 0;
    this.ctl.stats[STATS.SCHEDULE_LAG_MS] = 0; // a primed voice starts on its schedule
    this.state = Wet.Priming;
    this.primeEnd = -1;
    this.take(null, Infinity);
  }

  /** Reads (or, with no target, discards) from the output ring, counting the ring's read position. */
  private take(out: Float32Array | null, n: number): number {
    const got = out ? this.wet.pop(out, n) : this.wet.discard(n);
    this.readTotal += got;
    return got;
  }

  private prebufferMs(): number {
    return Math.max(0, this.ctl.stats[STATS.PREBUFFER_MS]! + this.growthMs - this.trimMs);
  }

  /** Fills out[0..n) with the next device buffer. */
  render(out: Float32Array, n: number): void {
    const ctl = this.ctl;
    const bypass = ctl.get(CTRL.BYPASS) === 1;
    const workerDown = ctl.get(CTRL.PASSTHROUGH) === 1;
    const voiceOff = ctl.get(CTRL.VOICE_OFF) === 1;
    const fallbackDry = ctl.get(CTRL.FALLBACK_DRY) === 1;
    const muted = ctl.get(CTRL.MUTE) === 1;
    // No converted audio can come: the wet path rests (and counts nothing) until it can.
    const passthrough = workerDown || voiceOff;
    const outTarget = dbToGain(ctl.stats[STATS.OUTPUT_GAIN_DB]!);
    const monTarget = dbToGain(ctl.stats[STATS.MONITOR_GAIN_DB]!);
    const wet = this.wetBuf;
    this.lastN = n;

    if (passthrough) {
      if (this.state === Wet.Playing || this.sinceStart > 0) this.reset(); // the voice is gone; prime afresh when it returns
      this.recovering = workerDown;
    }
    this.fillWet(n, passthrough);
    this.keepTail(wet, n);
    const wetOn = !bypass && !passthrough && this.state === Wet.Playing;
    // With the dry fallback, the dry input plays from a crash until the voice is back, then they cross-fade.
    if (wetOn) this.recovering = false;
    const dryOn = bypass || (fallbackDry && (workerDown || this.recovering));
    this.fillDry(n);
    const dry = this.dryBuf;

    const mon = this.monBuf;
    const step = this.fadeStep;
    let wp = this.wetPhase;
    let dp = this.dryPhase;
    let og = this.outGain;
    let mg = this.monGain;
    let up = this.mutePhase;
    const upStep = this.muteStep;
    const a = this.smooth;
    let peak = 0;
    for (let i = 0; i < n; i++) {
      wp = wetOn ? Math.min(1, wp + step) : Math.max(0, wp - step);
      dp = dryOn ? Math.min(1, dp + step) : Math.max(0, dp - step);
      const sw = Math.sin(0.5 * Math.PI * wp);
      const sd = Math.sin(0.5 * Math.PI * dp);
      const m = sw * sw * wet[i]! + sd * sd * dry[i]!;
      og += a * (outTarget - og);
      mg += a * (monTarget - mg);
      // Mute multiplies the final mix (wet, dry bypass or dry fallback alike), so nothing gets around it; at
      // the end of its raised-cosine fade the gain is exactly 0 and so is every sample. The monitor follows:
      // it plays what goes out, so the user hears that they are muted.
      up = muted ? Math.max(0, up - upStep) : Math.min(1, up + upStep);
      const su = Math.sin(0.5 * Math.PI * up);
      const g = su * su;
      const y = m * og * g;
      out[i] = y;
      mon[i] = m * mg * g;
      const ay = y < 0 ? -y : y;
      if (ay > peak) peak = ay;
    }
    // While priming the wet fade rests at silence, so the next voice fades in (this buffer's own fade-out
    // is already in the wet samples).
    this.wetPhase = this.state === Wet.Playing ? wp : 0;
    if (this.state === Wet.Playing) this.sinceStart += n;
    this.dryPhase = dp;
    this.mutePhase = up;
    this.outGain = og;
    this.monGain = mg;
    if (this.monitor) this.monitor.push(mon, n);

    this.peakOut = Math.max(this.peakOut, peak);
    this.peakFrames += n;
    if (this.peakFrames >= this.o.outputRate / 10) {
      ctl.stats[STATS.OUTPUT_PEAK] = this.peakOut;
      this.peakOut = 0;
      this.peakFrames = 0;
    }
    ctl.stats[STATS.RING_LEVEL] = this.wet.availableRead();
    ctl.stats[STATS.PREBUFFER_IN_USE_MS] = this.prebufferMs();
    ctl.set(CTRL.WET_PLAYING, this.state === Wet.Playing ? 1 : 0);
  }

  private fillWet(n: number, passthrough: boolean): void {
    const wet = this.wetBuf;
    const ctl = this.ctl;
    const rateRatio = this.o.outputRate / this.o.inputRate;
    if (this.state === Wet.Priming) {
      wet.fill(0, 0, n);
      if (passthrough) {
        this.take(null, Infinity);
        return;
      }
      ctl.stats[STATS.CONCEALED_FRAMES] = ctl.stats[STATS.CONCEALED_FRAMES]! + n;
      if (this.primeEnd < 0) {
        if (this.wet.availableRead() === 0) return;
        this.primeEnd = this.headDue();
      }
      const now = ctl.stats[STATS.INPUT_FRAMES]!;
      if (now < this.primeEnd) return;
      // Audio already overdue (queued while the output was away) is stale: skip it to keep the schedule.
      const late = Math.floor((now - this.primeEnd) * rateRatio);
      if (late > 0) this.take(null, Math.min(late, Math.max(0, this.wet.availableRead() - 2 * n)));
      this.state = Wet.Playing;
    }
    // Playing.
    const avail = this.wet.availableRead();
    const blockOut = ctl.stats[STATS.BLOCK_FRAMES]! * rateRatio;
    const tooMuch = blockOut + ((this.prebufferMs() + 250) * this.o.outputRate) / 1000;
    // The reserve, what the spare is measured above: a block voice keeps two device buffers (the next block may
    // come late); a streaming voice's audio arrives with every input buffer, so one is enough, plus 2 ms.
    const streaming = ctl.get(CTRL.STREAMING) !== 0;
    const reserve = streaming ? n + Math.round(this.o.outputRate * 0.002) : 2 * n;
    // A streaming voice under its reserve but with this buffer's worth still plays it: its worker is a little
    // late (input came in a burst after a 15 ms system stall, traced with a busy core: 304 frames left for a
    // 256-frame buffer), and the next buffer gives it 5 ms more. Priming afresh there cost a prebuffer of
    // silence for 48 frames short. If it does run dry, concealDry fades it out smoothly however little is left,
    // and the spare below zero grows the prebuffer back (trimToJitter).
    const playable = streaming ? n : reserve;
    // A block voice took over: its prebuffer is the host's, untrimmed (its blocks are not a streaming voice's jitter).
    if (ctl.get(CTRL.STREAMING) !== 1 && this.trimMs > 0) {
      this.trimMs = 0;
      this.trimPending = 0;
      this.trimLag = 0;
    }
    // Growing back: silence goes out in place of ring audio (after a quiet buffer that faded out), so the ring
    // keeps what the device did not take; the schedule moved with growthMs already.
    if (this.padLeft > 0 && avail >= playable && avail <= tooMuch) {
      const k = Math.min(n, this.padLeft);
      this.padLeft -= k;
      wet.fill(0, 0, k);
      if (k < n) {
        this.take(wet.subarray(k, n), n - k);
        fadeIn(wet.subarray(k, n), Math.min(n - k, n >> 1));
      }
      return;
    }
    if (avail >= playable && avail <= tooMuch) {
      this.noteSpare(avail - reserve, n);
      // Behind schedule by more than input-arrival jitter (two device buffers and 10 ms): the device stalled,
      // or the engine's latency dropped (a smaller block: the audio queued under the old geometry now plays
      // late). The schedule is read afresh from the newest block each time, as priming reads it.
      const behind = (ctl.stats[STATS.INPUT_FRAMES]! - this.headDue()) * rateRatio;
      this.noteLag(behind, n);
      // Drift is made up for every voice: a block voice's ring is drained by a fast output clock too. A streaming
      // voice with the built-in f0 plans it together with its trim, over the same window.
      const ahead = this.followDrift(behind, n);
      if (streaming) {
        if (ctl.get(CTRL.STREAMING) === 1) this.trimToJitter(avail - reserve, behind, n, ahead);
        if (this.streamCatchUp(wet, n, behind, avail)) return;
      } else {
        const slack = 2 * this.o.maxFrames + this.o.outputRate / 100;
        const skip = Math.min(Math.floor(behind), avail - 3 * n);
        if (behind > slack && skip > 0) {
          this.catchUp(wet, n, skip);
          return;
        }
      }
      this.take(wet, n);
      // Held (the latency probe is timing clicks): planned steps wait, so the clicks cross the prebuffer reported.
      const hold = ctl.get(CTRL.HOLD_STEPS) === 1;
      if (this.trimFadeIn) {
        fadeIn(wet, n >> 1);
        this.trimFadeIn = false;
      } else if (!hold && this.padPending > 0) {
        this.applyPad(wet, n);
      } else if (!hold && this.trimPending + this.trimLag > 0 && avail - n - this.trimPending - this.trimLag >= reserve) {
        this.applyTrim(wet, n);
      }
      return;
    }
    // Late block (or a stale backlog): fade what there is, then prime again.
    const got = this.take(wet, Math.min(n, avail));
    this.concealDry(wet, got, n);
    ctl.stats[STATS.CONCEALED_FRAMES] = ctl.stats[STATS.CONCEALED_FRAMES]! + (n - got);
    if (avail > tooMuch) {
      ctl.add(CTRL.RESYNCS, 1);
    } else {
      ctl.add(CTRL.UNDERRUNS, 1);
      ctl.add(this.underrunCause(), 1);
      if (this.trimMs > 0) this.trimHeld = true;
      this.growthMs = Math.min(this.growthMs + this.growMs, Math.max(0, this.maxPrebufferMs - ctl.stats[STATS.PREBUFFER_MS]!));
    }
    this.reprime();
  }

  /**
   * A streaming voice's catch-up. The block path's slack is two of the largest device buffers (4096 frames:
   * 180 ms), and a stalled output left a streaming voice 80 ms behind for good (a click measured 140 ms against
   * 58 modelled). Judged on the instant instead, PulseAudio's bursty requests at 128 frames read as "behind" and
   * 22 skips in 45 s drained the cushion into underruns. So: the least it was behind over half a second, and
   * when even that exceeds two device buffers and 10 ms, skip all but one buffer of it (with a fade).
   */
  private streamCatchUp(wet: Float32Array, n: number, behind: number, avail: number): boolean {
    if (behind < this.behindMin) this.behindMin = behind;
    this.behindFrames += n;
    if (this.behindFrames < this.o.outputRate / 2) return false;
    const lag = this.behindMin;
    this.behindMin = Infinity;
    this.behindFrames = 0;
    const skip = Math.min(Math.floor(lag - n), avail - 2 * n);
    if (lag <= 2 * n + this.o.outputRate / 100 || skip <= 0) return false;
    this.catchUp(wet, n, skip);
    return true;
  }

  /**
   * The streaming prebuffer follows the measured jitter. Over each TRIM_WINDOW_SEC of playing, the least spare
   * (prebuffer the schedule never needed) is measured; the prebuffer then keeps what was used plus a margin
   * (as much again, at least TRIM_MARGIN_MS) and gives back the rest, at most TRIM_STEP_MS per window
   * so every level is measured before the next step. The frames are dropped in a quiet buffer (see applyTrim),
   * so no one hears the step. It follows the jitter back up too: a window whose spare fell under GROW_BELOW_MS
   * takes back what was used plus the margin, as silence in a quiet buffer (applyPad), and a window spent ahead
   * of the schedule (clock drift) is made up the same way without moving the schedule. An underrun grows the
   * prebuffer again (growthMs) and ends the trimming (not the growing). Measured at
   * buffer 128 with a busy core: half of what was used as the margin trimmed to 4 ms and underran once in 45 s;
   * a 6 ms floor left 9 ms unused and still underran once in 45 s (CREPE and the streaming test, full CI run with
   * a busy core), because a 4 s window does not see the rarer scheduling spikes: the floor is 15 ms.
   */
  private trimToJitter(spare: number, behind: number, n: number, windowAhead: number): void {
    if (spare < this.trimSpareMin) this.trimSpareMin = spare;
    if (behind < this.trimBehindMin) this.trimBehindMin = behind;
    if (spare < this.secSpareMin) this.secSpareMin = spare;
    if (behind > this.secBehindMax) this.secBehindMax = behind;
    this.secFrames += n;
    const rate = this.o.outputRate;
    if (this.secFrames >= rate) {
      // Growing back is checked every second (less margin is the risk; more latency is not): at start-up the
      // host's guess at buffer 128 underran 5 and 8 s in, within the first 4 s window (busy core).
      const ahead = Math.max(0, Math.floor(-this.secBehindMax));
      const spareMs = ((this.secSpareMin + ahead) * 1000) / rate;
      this.secSpareMin = Infinity;
      this.secBehindMax = -Infinity;
      this.secFrames = 0;
      if (this.sinceStart >= rate && this.padPending === 0 && this.padLeft === 0 && spareMs < GROW_BELOW_MS) {
        const grow = this.growFrames(spareMs);
        if (grow > 0) {
          this.padPending = ahead + grow;
          this.padGrow = grow;
          this.trimPending = 0;
          this.trimLag = 0;
        }
      }
    }
    if (windowAhead < 0) return; // the window goes on
    // Part of the spare may be lag, not prebuffer: a device stall leaves the ring fuller than the schedule, and
    // below the catch-up's threshold (two buffers + 10 ms) it stays. That part is dropped too, but it is no
    // prebuffer given back (the schedule does not move): at buffer 64 it left the click 12 ms over the model.
    const lag = Math.max(0, Math.floor(this.trimBehindMin - n));
    // Ahead of the schedule the whole window (drift, see followDrift): the ring is that much emptier than the
    // schedule keeps it, and the silence that makes up the drift restores it.
    const ahead = windowAhead;
    const spareMs = ((this.trimSpareMin - lag + ahead) * 1000) / rate;
    this.trimSpareMin = Infinity;
    this.trimBehindMin = Infinity;
    this.trimPending = 0;
    this.trimLag = 0;
    this.padPending = 0;
    this.padGrow = 0;
    // Start-up is not yet the steady state.
    if (this.sinceStart < rate) return;
    const usedMs = Math.max(0, this.prebufferMs() - spareMs);
    const grow = spareMs < GROW_BELOW_MS ? this.growFrames(spareMs) : 0;
    if (grow > 0 || (ahead * 1000) / rate >= DRIFT_PAD_MS) {
      this.padPending = ahead + grow;
      this.padGrow = grow;
      return;
    }
    // After an underrun the level that held is known: no more trims (lag is still dropped).
    const keepMs = usedMs + Math.max(TRIM_MARGIN_MS, usedMs);
    const giveMs = this.trimHeld ? 0 : Math.min(TRIM_STEP_MS, this.prebufferMs() - keepMs);
    this.trimPending = giveMs >= 1 ? Math.floor((giveMs * rate) / 1000) : 0;
    this.trimLag = lag;
  }

  /**
   * Clock drift, for every voice. Ahead of the schedule by DRIFT_PAD_MS or more over a whole window: that much
   * silence in the next quiet buffer, the schedule unmoved (a streaming voice's trimToJitter plans it again with
   * its grow, at the same window's end). Answers how far ahead the window that just ended was, frames, or −1
   * while the window goes on.
   */
  private followDrift(behind: number, n: number): number {
    if (behind > this.windowBehindMax) this.windowBehindMax = behind;
    this.windowFrames += n;
    const rate = this.o.outputRate;
    if (this.windowFrames < TRIM_WINDOW_SEC * rate) return -1;
    const ahead = Math.max(0, Math.floor(-this.windowBehindMax));
    this.windowBehindMax = -Infinity;
    this.windowFrames = 0;
    if (this.sinceStart >= rate && this.padPending === 0 && this.padLeft === 0 && (ahead * 1000) / rate >= DRIFT_PAD_MS) {
      this.padPending = ahead;
      this.padGrow = 0;
    }
    return ahead;
  }

  /** Starts the window afresh (a new schedule, or a new level after a pad). */
  private restartWindow(): void {
    this.trimSpareMin = Infinity;
    this.trimBehindMin = Infinity;
    this.windowBehindMax = -Infinity;
    this.windowFrames = 0;
  }

  /** The jitter grew into the margin (spareMs left): the prebuffer takes back what it used plus the margin, frames. */
  private growFrames(spareMs: number): number {
    const growMs = Math.min(TRIM_STEP_MS, TRIM_MARGIN_MS - spareMs, this.maxPrebufferMs - this.prebufferMs());
    return growMs >= 1 ? Math.floor((growMs * this.o.outputRate) / 1000) : 0;
  }

  /**
   * Drops the planned trim from the ring when the buffer just taken is quiet: its second half fades out and the
   * next buffer's first half fades in, so the splice is a dip of a few ms at under −30 dBFS. (Exact zeros only,
   * the gate's, came too rarely: a speech clip's pauses sit above them, and 45 s of speech gave one trim.)
   */
  private applyTrim(wet: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) if (wet[i]! > QUIET || wet[i]! < -QUIET) return;
    const half = n >> 1;
    fadeOut(wet.subarray(half, n), n - half);
    this.trimFadeIn = true;
    const k = this.take(null, this.trimLag + this.trimPending);
    this.trimMs += (Math.max(0, k - this.trimLag) * 1000) / this.o.outputRate;
    this.trimPending = 0;
    this.trimLag = 0;
    this.ctl.add(CTRL.PREBUFFER_TRIMS, 1);
  }

  /**
   * Inserts the planned pad after the buffer just taken, when it is quiet (as applyTrim: its second half fades
   * out, the audio after the silence fades in): a pause lengthened by a few ms, where a trim shortened one.
   */
  private applyPad(wet: Float32Array, n: number): void {
    for (let i = 0; i < n; i++) if (wet[i]! > QUIET || wet[i]! < -QUIET) return;
    const half = n >> 1;
    fadeOut(wet.subarray(half, n), n - half);
    this.padLeft = this.padPending;
    this.growthMs += (this.padGrow * 1000) / this.o.outputRate;
    // A new level: the window measures it afresh (its low spare before the pad would grow it twice).
    this.restartWindow();
    if (this.padGrow > 0) this.ctl.add(CTRL.PREBUFFER_GROWS, 1);
    else this.ctl.add(CTRL.DRIFT_PADS, 1);
    this.padPending = 0;
    this.padGrow = 0;
  }

  /** Publishes the output's mean offset behind its schedule over each second of playing (SCHEDULE_LAG_MS). */
  private noteLag(behind: number, n: number): void {
    this.lagSum += behind * n;
    this.lagFrames += n;
    if (this.lagFrames < this.o.outputRate) return;
    this.ctl.stats[STATS.SCHEDULE_LAG_MS] = (this.lagSum / this.lagFrames / this.o.outputRate) * 1000;
    this.lagSum = 0;
    this.lagFrames = 0;
  }

  /** Tracks the jitter margin (WET_SPARE_MS): the minimum spare over each second of playing. */
  private noteSpare(spare: number, n: number): void {
    if (spare < this.spareMin) this.spareMin = spare;
    this.spareFrames += n;
    if (this.spareFrames >= this.o.outputRate) {
      this.ctl.stats[STATS.WET_SPARE_MS] = (this.spareMin * 1000) / this.o.outputRate;
      this.spareMin = Infinity;
      this.spareFrames = 0;
    }
  }

  /**
   * The input frame at which the ring's head should play. On the engine's timeline a block's first output
   * sample is due when its input has ended, and every later sample one sample later; the ring's head is
   * (written end − read position) samples before the newest block's end. Playing it prebuffer after that due
   * time makes the delay exactly algorithmic + prebuffer, however many blocks queued while the output was
   * starting or away, and whatever the block size was when they were rendered.
   */
  private headDue(): number {
    const s = this.ctl.stats;
    const rateRatio = this.o.outputRate / this.o.inputRate;
    const due = s[STATS.LAST_BLOCK_INPUT_END]! + s[STATS.BLOCK_FRAMES]! - (s[STATS.OUTPUT_WRITTEN_END]! - this.readTotal) / rateRatio;
    return due + (this.prebufferMs() * this.o.inputRate) / 1000;
  }

  /**
   * Why the voice ran dry. A whole block of input waiting unconverted means the inference worker was late;
   * otherwise the block was on time by the input's clock and the output device took audio faster than the
   * input delivered it (a device burst or late input). Input that arrived under INFERENCE_GRACE_MS ago is not
   * counted as waiting: the worker has not had the time to wake. (Traced with a busy core: 2 "inference"
   * underruns came 0.2–0.6 ms after an input buffer that had itself come late, the worker idle and on time.)
   * The first second after a fresh start is counted apart.
   */
  private underrunCause(): number {
    const s = this.ctl.stats;
    if (this.sinceStart < this.o.outputRate) return CTRL.UNDERRUN_STARTUP;
    const justArrived = wallMs() - s[STATS.INPUT_ARRIVED_AT]! < INFERENCE_GRACE_MS;
    const waiting = s[justArrived ? STATS.INPUT_FRAMES_BEFORE : STATS.INPUT_FRAMES]! - s[STATS.LAST_BLOCK_INPUT_END]!;
    // A streaming voice's block is a quantum shorter than a device buffer: input a buffer long is normal there.
    const late = Math.max(s[STATS.BLOCK_FRAMES]!, (this.lastN * this.o.inputRate) / this.o.outputRate + 1);
    return waiting >= late ? CTRL.UNDERRUN_INFERENCE : CTRL.UNDERRUN_DEVICE;
  }

  /**
   * Fades out a voice that ran dry with `got` frames of this buffer left. Where they are fewer than DRY_FADE_MS,
   * the fade continues into their mirror image (and then the previous buffers' tail, mirrored): a reflection
   * joins the audio without a jump, so the fade is as smooth with nothing left as with a buffer left.
   */
  private concealDry(wet: Float32Array, got: number, n: number): void {
    const tail = this.wetTail;
    const len = Math.min(n, Math.max(got, tail.length));
    for (let i = got; i < len; i++) {
      const j = 2 * got - 1 - i; // the sample as far before the join as i is after it
      wet[i] = j >= 0 ? wet[j]! : tail[tail.length + j]!;
    }
    fadeOut(wet, len);
    wet.fill(0, len, n);
  }

  /** Keeps the last DRY_FADE_MS of wet audio rendered, for concealDry. Allocation-free. */
  private keepTail(wet: Float32Array, n: number): void {
    const tail = this.wetTail;
    const k = tail.length;
    if (n >= k) {
      tail.set(wet.subarray(n - k, n));
    } else {
      tail.copyWithin(0, n);
      tail.set(wet.subarray(0, n), k - n);
    }
  }

  /** Plays half a buffer fading out, drops `skip` ring frames, and fades the rest of the buffer back in. */
  private catchUp(wet: Float32Array, n: number, skip: number): void {
    const half = n >> 1;
    this.take(wet, half);
    this.take(null, skip);
    this.take(wet.subarray(half, n), n - half);
    fadeOut(wet, half);
    fadeIn(wet.subarray(half, n), n - half);
    this.ctl.add(CTRL.CATCH_UPS, 1);
  }

  /** Dry input resampled (linearly; it is a fallback path) from the input rate to the output rate. */
  private fillDry(n: number): void {
    const out = this.dryBuf;
    const inRate = this.o.inputRate;
    const outRate = this.o.outputRate;
    // Keep the dry queue to two buffers, or passthrough would lag further behind with every hiccup; its
    // level is published so the bypass click can be told apart from the devices' own latency.
    const maxQueue = Math.ceil((2 * n * inRate) / outRate);
    if (this.dry.length > maxQueue) this.dry.drop(this.dry.length - maxQueue);
    const q = this.ctl.stats[STATS.DRY_QUEUE_FRAMES]!;
    this.ctl.stats[STATS.DRY_QUEUE_FRAMES] = q === 0 ? this.dry.length : q + 0.02 * (this.dry.length - q);
    if (inRate === outRate) {
      const got = this.dry.pop(out, n);
      out.fill(0, got, n);
      return;
    }
    const step = inRate / outRate;
    const need = Math.floor(this.dryPos + n * step);
    const got = this.dry.pop(this.dryIn, need);
    this.dryIn.fill(got > 0 ? this.dryIn[got - 1]! : this.dryPrev, got, need + 1);
    let pos = this.dryPos;
    for (let i = 0; i < n; i++) {
      const k = Math.floor(pos);
      const f = pos - k;
      const x0 = k === 0 ? this.dryPrev : this.dryIn[k - 1]!;
      const x1 = this.dryIn[k]!;
      out[i] = x0 + f * (x1 - x0);
      pos += step;
    }
    this.dryPrev = need > 0 ? this.dryIn[need - 1]! : this.dryPrev;
    this.dryPos = pos - need;
  }
}
