// A running voice that can be swapped without a gap: the new voice and its engine are loaded completely
// beside the running one, and take over at the next block boundary only if every step succeeded. A voice
// that fails to load leaves the running one untouched, which is what a user mid-stream needs.
import { StreamingEngine } from '../engine/engine.js';
import type { EngineSettings } from '../protocol/settings.js';
import { paramDefaults } from '../protocol/voice-params.js';
import type { VoiceInfo } from '../protocol/voices.js';
import { resolveVoice, type ResolvedVoice, type VoiceRequest } from './voices.js';

interface Running {
  engine: StreamingEngine;
  voice: ResolvedVoice;
}

export class VoiceSession {
  private next: Running | null = null;
  private closed = false;

  private constructor(
    readonly streamRate: number,
    private current: Running,
  ) {}

  static async start(streamRate: number, req: VoiceRequest, settings: Partial<EngineSettings> = {}): Promise<VoiceSession> {
    return new VoiceSession(streamRate, await VoiceSession.open(streamRate, req, settings));
  }

  private static async open(streamRate: number, req: VoiceRequest, settings: Partial<EngineSettings>): Promise<Running> {
    const voice = await resolveVoice(req);
    try {
      const engine = await StreamingEngine.create({
        streamRate,
        voice: voice.stage,
        f0: voice.f0,
        settings: { ...paramDefaults(voice.info.params), ...settings },
      });
      return { engine, voice };
    } catch (e) {
      await voice.f0?.dispose?.(); // the engine owns the estimator only once it exists
      await voice.release();
      throw e;
    }
  }

  get voice(): VoiceInfo {
    return (this.next ?? this.current).voice.info;
  }

  get engine(): StreamingEngine {
    return this.current.engine;
  }

  get blockSize(): number {
    return (this.next ?? this.current).engine.blockSize;
  }

  get maxOutput(): number {
    return Math.max(this.current.engine.maxOutput, this.next?.engine.maxOutput ?? 0);
  }

  update(partial: Partial<Record<string, unknown>>): EngineSettings {
    return (this.next ?? this.current).engine.update(partial);
  }

  /**
   * Loads another voice (keeping block, context and other stream settings; pitch and formant become the
   * new voice's defaults unless given). Throws if it cannot load; the running voice then carries on.
   */
  async switchVoice(req: VoiceRequest, settings: Partial<EngineSettings> = {}): Promise<VoiceInfo> {
    const { pitch: _p, formant: _f, ...stream } = this.current.engine.currentSettings;
    const opened = await VoiceSession.open(this.streamRate, req, { ...stream, ...settings });
    if (this.closed) {
      await VoiceSession.dispose(opened);
      throw new Error('the session closed while the voice was loading');
    }
    const previous = this.next;
    this.next = opened;
    if (previous) await VoiceSession.dispose(previous);
    return opened.voice.info;
  }

  async processBlock(input: Float32Array, out: Float32Array): Promise<number> {
    if (this.next) {
      const old = this.current;
      this.current = this.next;
      this.next = null;
      void VoiceSession.dispose(old);
    }
    return this.current.engine.processBlock(input, out);
  }

  private static async dispose(r: Running): Promise<void> {
    r.engine.destroy();
    await r.voice.release();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.next) await VoiceSession.dispose(this.next);
    await VoiceSession.dispose(this.current);
  }
}
