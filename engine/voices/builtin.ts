// The built-in voices: PSOLA presets that need no model files, so a fresh install changes a voice at once.
// Presets set default pitch and formant; the user's own values override them.
import { formantParam, pitchParam, silenceParam, type VoiceParam } from '../../protocol/voice-params.js';
import type { VoiceInfo } from '../../protocol/voices.js';
import { PsolaVoice } from './psola.js';
import type { VoiceStage } from './voice-stage.js';

interface BuiltinPreset extends Omit<VoiceInfo, 'params'> {
  monotoneHz?: number;
}

/**
 * The knobs of a built-in voice: PSOLA shifts pitch and formant and the gate silences breath; there is no
 * retrieval, no speaker and nothing to protect, so those knobs are not listed at all.
 */
function builtinParams(p: BuiltinPreset): VoiceParam[] {
  return [
    pitchParam(p.defaultPitch, p.monotoneHz ? `moves the ${p.monotoneHz} Hz monotone` : undefined),
    formantParam(p.defaultFormant),
    silenceParam(),
  ];
}

const PRESETS: readonly BuiltinPreset[] = [
  { id: 'natural', name: 'Natural', description: 'your own voice; pitch and formant as you set them', defaultPitch: 0, defaultFormant: 0 },
  { id: 'deeper', name: 'Deeper', description: 'lower pitch and a longer vocal tract', defaultPitch: -5, defaultFormant: -2 },
  { id: 'higher', name: 'Higher', description: 'higher pitch and a shorter vocal tract', defaultPitch: 5, defaultFormant: 2.5 },
  { id: 'androgynous', name: 'Androgynous', description: 'pitch raised more than the formants, between registers', defaultPitch: 4, defaultFormant: 1 },
  { id: 'giant', name: 'Giant', description: 'an octave-ish down with a huge vocal tract', defaultPitch: -9, defaultFormant: -4 },
  { id: 'chipmunk', name: 'Chipmunk', description: 'high and small', defaultPitch: 9, defaultFormant: 5 },
  { id: 'robot', name: 'Robot', description: 'a flat monotone at 110 Hz (pitch moves the monotone)', defaultPitch: 0, defaultFormant: 0, monotoneHz: 110 },
].map((p) => ({ ...p, kind: 'builtin' as const }));

export function builtinVoices(): VoiceInfo[] {
  return PRESETS.map((p) => {
    const { monotoneHz: _m, ...info } = p;
    return { ...info, params: builtinParams(p) };
  });
}

export function findBuiltinVoice(id: string): VoiceInfo | undefined {
  return builtinVoices().find((v) => v.id === id);
}

export function createBuiltinVoice(id: string): VoiceStage {
  const p = PRESETS.find((v) => v.id === id);
  if (!p) {
    throw new Error(`unknown built-in voice "${id}": choose one of ${PRESETS.map((v) => v.id).join(', ')}`);
  }
  return new PsolaVoice(p.id, p.monotoneHz ? { monotoneHz: p.monotoneHz } : {});
}
