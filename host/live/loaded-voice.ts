// One voice ready to run in the inference worker: the resolved voice (its networks), its streaming engine and
// what its warm-up measured. The worker keeps one running and loads the next one beside it, so a switch never
// interrupts the running voice and a failed load leaves it untouched.
import { StreamingEngine } from '../../engine/engine.js';
import type { F0Estimator } from '../../engine/f0/estimator.js';
import type { EngineSettings } from '../../protocol/settings.js';
import { resolveVoice, type ResolvedVoice } from '../voices.js';

export interface VoiceChoice {
  voice: string;
  /** f0 method or network file; content encoder file (neural voices). Defaults as in resolveVoice. */
  f0?: string;
  encoder?: string;
  settings: Partial<EngineSettings>;
}

const WARMUP_BLOCKS = 6;

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
    const rv = await resolveVoice({ voice: choice.voice, f0: choice.f0, encoder: choice.encoder, threads: 2 });
    let engine: StreamingEngine | null = null;
    try {
      // The engine owns the estimator from here (its destroy() disposes it).
      const f0 = (rv as { f0?: F0Estimator }).f0;
      const settings = { pitch: rv.info.defaultPitch, formant: rv.info.defaultFormant, ...choice.settings };
      engine = await StreamingEngine.create({ streamRate, voice: rv.stage, settings, ...(f0 ? { f0 } : {}) });
      const out = new Float32Array(engine.maxOutput);
      return new LoadedVoice(choice, engine, rv, await warmUp(engine, out, streamRate), out);
    } catch (e) {
      engine?.destroy();
      await rv.release().catch(() => undefined);
      throw e;
    }
  }

  async destroy(): Promise<void> {
    this.engine.destroy();
    await this.rv.release().catch(() => undefined);
  }
}

/**
 * JIT-compiles the per-block path and measures what a block costs here, for the prebuffer. Quiet (−40 dBFS)
 * so the little of it left in the engine's context is inaudible. Each block yields to the event loop, so a
 * voice warming up beside a running one delays it by at most one block's work at a time.
 */
async function warmUp(engine: StreamingEngine, out: Float32Array, rate: number): Promise<number[]> {
  const block = new Float32Array(engine.blockSize);
  const ms: number[] = [];
  for (let b = 0; b < WARMUP_BLOCKS; b++) {
    for (let i = 0; i < block.length; i++) {
      const t = (b * block.length + i) / rate;
      block[i] = 0.01 * (Math.sin(2 * Math.PI * 140 * t) + 0.5 * Math.sin(2 * Math.PI * 280 * t) + 0.2 * (Math.random() - 0.5));
    }
    const t0 = performance.now();
    await engine.processBlock(block, out);
    ms.push(performance.now() - t0);
    await new Promise((r) => setImmediate(r));
  }
  return ms;
}
