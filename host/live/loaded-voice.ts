// One voice ready to run in the inference worker: the resolved voice (its networks), its streaming engine and
// what its warm-up measured. The worker keeps one running and loads the next one beside it, so a switch never
// interrupts the running voice and a failed load leaves it untouched.
import { StreamingEngine } from '../../engine/engine.js';
import type { F0Estimator } from '../../engine/f0/estimator.js';
import type { EngineSettings } from '../../protocol/settings.js';
import { paramDefaults } from '../../protocol/voice-params.js';
import { resolveVoice, type ResolvedVoice } from '../voices.js';
import type { NetworkPlacement, RuntimeOptions } from '../../protocol/runtime.js';

export interface VoiceChoice {
  voice: string;
  /** f0 method or network file; content encoder file (neural voices). Defaults as in resolveVoice. */
  f0?: string;
  encoder?: string;
  /** Where the voice's networks run. */
  runtime?: Partial<RuntimeOptions>;
  settings: Partial<EngineSettings>;
}

const WARMUP_BLOCKS = 8;

export class LoadedVoice {
  private constructor(
    readonly choice: VoiceChoice,
    readonly engine: StreamingEngine,
    private readonly rv: ResolvedVoice,
    /** Processing time of each warm-up block, ms (the first ones include JIT compilation). */
    readonly warmupMs: number[],
    /** The engine's output for one block, allocated once. */
    readonly out: Float32Array,
  ) {}

  static async load(choice: VoiceChoice, streamRate: number): Promise<LoadedVoice> {
    const rv = await resolveVoice({ voice: choice.voice, f0: choice.f0, encoder: choice.encoder, runtime: choice.runtime });
    let engine: StreamingEngine | null = null;
    try {
      // The engine owns the estimator from here (its destroy() disposes it).
      const f0 = (rv as { f0?: F0Estimator }).f0;
      const settings = { ...paramDefaults(rv.info.params), ...choice.settings };
      engine = await StreamingEngine.create({ streamRate, voice: rv.stage, settings, ...(f0 ? { f0 } : {}) });
      const out = new Float32Array(engine.maxOutput);
      const warm = await warmUp(engine, out, streamRate);
      engine.restartOutput(); // live audio now follows the synthetic warm-up
      return new LoadedVoice(choice, engine, rv, warm, out);
    } catch (e) {
      engine?.destroy();
      await rv.release().catch(() => undefined);
      throw e;
    }
  }

  /** Where each of its networks runs. */
  get placement(): NetworkPlacement[] {
    return this.rv.placement;
  }

  /** What the user should know about this voice's load (an accelerator that fell back to CPU). */
  get notes(): string[] {
    return this.rv.notes;
  }

  async destroy(): Promise<void> {
    this.engine.destroy();
    await this.rv.release().catch(() => undefined);
  }
}

/**
 * JIT-compiles the per-block path and measures what a block costs here, for the prebuffer. Real speech takes
 * paths a steady tone does not (the silence gate opening and closing, voiced and unvoiced grains, louder
 * input), and the first real blocks ran slower than a tone warm-up predicted; so the warm-up alternates a
 * voiced pulse train at speech level with near-silence. The last blocks are near-silent, so what is left in
 * the engine's context when the voice goes live is inaudible. Each block yields to the event loop, so a
 * voice warming up beside a running one delays it by at most one block's work at a time.
 */
async function warmUp(engine: StreamingEngine, out: Float32Array, rate: number): Promise<number[]> {
  // A streaming voice is fed whatever quanta have arrived, about one device buffer: time chunks of ~5 ms
  // (what its prebuffer must cover), and as many as make the same 8-phase pattern last long enough to JIT.
  const q = engine.blockSize;
  const block = new Float32Array(engine.streaming ? Math.max(q, Math.round((0.005 * rate) / q) * q) : q);
  const per = engine.streaming ? 8 : 1;
  const ms: number[] = [];
  let seed = 12345;
  const noise = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
  for (let k = 0; k < WARMUP_BLOCKS * per; k++) {
    const b = Math.floor(k / per);
    const loud = b < WARMUP_BLOCKS - 2 && b % 2 === 0;
    const f0 = 110 + 40 * b;
    for (let i = 0; i < block.length; i++) {
      const t = (k * block.length + i) / rate;
      const phase = (t * f0) % 1;
      // A glottal-like pulse train with a little breath noise: voiced, harmonic-rich, speech level.
      const pulse = Math.exp(-phase * 12) - 0.08;
      block[i] = loud ? 0.25 * pulse + 0.01 * noise() : 0.001 * Math.sin(2 * Math.PI * 140 * t);
    }
    const t0 = performance.now();
    await engine.processBlock(block, out);
    ms.push(performance.now() - t0);
    await new Promise((r) => setImmediate(r));
  }
  return ms;
}
