// Loudness follow ("RMS mix" in RVC): scales the voice's output towards the input's envelope.
// mix = 1 keeps the voice's own loudness; mix = 0 gives it the input's envelope exactly.

const FRAME_SEC = 0.01;
const MAX_GAIN = 10;

export class LoudnessFollow {
  private readonly gains: Float32Array;

  constructor(maxOutputSamples: number, outRate: number) {
    this.gains = new Float32Array(Math.ceil(maxOutputSamples / (outRate * FRAME_SEC)) + 2);
  }

  /**
   * @param out output block (outRate), modified in place over [0, n)
   * @param ref input covering the same time span (refRate)
   */
  apply(out: Float32Array, n: number, outRate: number, ref: Float32Array, refStart: number, refRate: number, mix: number): void {
    if (mix >= 1) return;
    const hop = outRate * FRAME_SEC;
    const frames = Math.max(1, Math.ceil(n / hop));
    const refHop = refRate * FRAME_SEC;
    for (let f = 0; f < frames; f++) {
      const a = Math.floor(f * hop);
      const b = Math.min(n, Math.floor((f + 1) * hop));
      let so = 0;
      for (let i = a; i < b; i++) so += out[i]! * out[i]!;
      const ra = refStart + Math.floor(f * refHop);
      const rb = Math.min(ref.length, refStart + Math.floor((f + 1) * refHop));
      let si = 0;
      for (let i = Math.max(0, ra); i < rb; i++) si += ref[i]! * ref[i]!;
      const rmsOut = Math.sqrt(so / Math.max(1, b - a)) + 1e-6;
      const rmsIn = Math.sqrt(si / Math.max(1, rb - ra)) + 1e-6;
      this.gains[f] = Math.min(MAX_GAIN, Math.pow(rmsIn / rmsOut, 1 - mix));
    }
    // Linear interpolation between frame centres avoids gain steps at frame edges.
    for (let i = 0; i < n; i++) {
      const pos = i / hop - 0.5;
      const f0 = Math.max(0, Math.min(frames - 1, Math.floor(pos)));
      const f1 = Math.min(frames - 1, f0 + 1);
      const t = Math.max(0, Math.min(1, pos - f0));
      out[i] = out[i]! * (this.gains[f0]! * (1 - t) + this.gains[f1]! * t);
    }
  }
}
