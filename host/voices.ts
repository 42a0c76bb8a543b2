// Voice resolution for the host: today the built-in DSP voices; neural voice packages join here.
import { builtinVoices, createBuiltinVoice, findBuiltinVoice } from '../engine/voices/builtin.js';
import type { VoiceStage } from '../engine/voices/voice-stage.js';
import type { VoiceInfo } from '../protocol/voices.js';

export const DEFAULT_VOICE = 'deeper';

export function listVoices(): VoiceInfo[] {
  return builtinVoices();
}

export interface ResolvedVoice {
  info: VoiceInfo;
  stage: VoiceStage;
}

export class VoiceNotFoundError extends Error {
  constructor(id: string) {
    super(`unknown voice "${id}": choose one of ${listVoices().map((v) => v.id).join(', ')}`);
    this.name = 'VoiceNotFoundError';
  }
}

export function resolveVoice(id: string): ResolvedVoice {
  const info = findBuiltinVoice(id);
  if (!info) throw new VoiceNotFoundError(id);
  return { info, stage: createBuiltinVoice(id) };
}
