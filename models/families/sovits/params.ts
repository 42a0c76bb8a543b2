// The knobs of a so-vits-svc voice: pitch (they all follow pitch), the silence gate, speaker with several.
// Retrieval, protect and formant do not exist in these exports, so they are not offered.
import { pitchParam, silenceParam, voiceParam, type VoiceNote, type VoiceParam } from '../../../protocol/voice-params.js';
import type { SovitsManifest } from './manifest.js';

export function sovitsParams(m: SovitsManifest): VoiceParam[] {
  const params: VoiceParam[] = [pitchParam(m.defaultPitch), silenceParam()];
  if (m.speakers > 1) params.push(voiceParam('speaker', { label: 'Speaker', step: 1, default: 0, max: m.speakers - 1 }));
  return params;
}

export function sovitsNotes(m: SovitsManifest): VoiceNote[] {
  return [
    { id: 'sovits-no-retrieval', text: 'so-vits-svc voices run without cluster or index retrieval and without shallow diffusion (not supported yet).' },
    { id: 'sovits-noise', text: `Noise scale ${m.noiseScale} (voice.json "noiseScale").` },
  ];
}
