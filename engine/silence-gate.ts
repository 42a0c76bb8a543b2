// Silence gate with hysteresis on 10 ms frames of the input. It opens at the threshold, closes only after
// the level has stayed 6 dB below it for the hold time, and ramps the gain so it never clicks.

const FRAME_SEC = 0.01;
const HYSTERESIS_DB = 6;

export class SilenceGate {
  private open = false;
  private belowSec = 0;
  private gain = 0;
  private thresholdDb = -60;
  private holdSec = 0.15;
  private readonly frame: number;
  private readonly rampStep: number;

  constructor(readonly rate: number) {
    this.frame = Math.max(1, Math.round(rate * FRAME_SEC));
    this.rampStep = 1 / Math.max(1, Math.round(rate * 0.005)); // 5 ms ramps
  }

  configure(thresholdDb: number, holdSec = 0.15): void {
    this.thresholdDb = thresholdDb;
    this.holdSec = holdSec;
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** True when the gate is fully closed (the block is silence and the voice can skip work). */
  get isSilent(): boolean {
    return !this.open && this.gain === 0;
  }

  /** Applies the gate in place and returns whether any sample passed. */
  process(block: Float32Array, n = block.length): boolean {
    return this.run(block, n, block);
  }

  /**
   * Decides on x (left as it is) and writes each sample's gain to `gains`: the streaming path applies them to
   * output its look-ahead older, so the gate opens that much before a sound instead of ramping over its start.
   */
  gainsFor(x: Float32Array, gains: Float32Array, n = x.length): boolean {
    return this.run(x, n, null, gains);
  }

  private run(block: Float32Array, n: number, inPlace: Float32Array | null, gains?: Float32Array): boolean {
    let passed = false;
    for (let s = 0; s < n; s += this.frame) {
      const e = Math.min(n, s + this.frame);
      let sum = 0;
      for (let i = s; i < e; i++) sum += block[i]! * block[i]!;
      const db = 10 * Math.log10(sum / (e - s) + 1e-20);
      if (db >= this.thresholdDb) {
        this.open = true;
        this.belowSec = 0;
      } else if (this.open && db < this.thresholdDb - HYSTERESIS_DB) {
        this.belowSec += (e - s) / this.rate;
        if (this.belowSec >= this.holdSec) this.open = false;
      } else if (this.open) {
        this.belowSec = 0;
      }
      const target = this.open ? 1 : 0;
      for (let i = s; i < e; i++) {
        if (this.gain < target) this.gain = Math.min(target, this.gain + this.rampStep);
        else if (this.gain > target) this.gain = Math.max(target, this.gain - this.rampStep);
        if (inPlace) inPlace[i] = block[i]! * this.gain;
        else gains![i] = this.gain;
        if (this.gain > 0) passed = true;
      }
    }
    return passed;
  }

  reset(): void {
    this.open = false;
    this.belowSec = 0;
    this.gain = 0;
  }
}
