// The knobs of a so-vits-svc voice: pitch (they all follow pitch), the silence gate, the flow's noise scale,
// the retrieval ratio only when a cluster or index file came with the voice, speaker with several.
// Protect and formant do not exist in these exports, so they are not offered.
import { DEFAULT_SETTINGS, DIFFUSION_METHODS } from '../../../protocol/settings.js';
import { pitchParam, silenceParam, voiceParam, type VoiceNote, type VoiceParam } from '../../../protocol/voice-params.js';
import type { SovitsManifest } from './manifest.js';

export function sovitsParams(m: SovitsManifest): VoiceParam[] {
  const params: VoiceParam[] = [pitchParam(m.defaultPitch)];
  if (m.retrieval) {
    const hint = m.retrieval.kind === 'cluster' ? 'share of each frame moved to its nearest cluster centre' : 'share of retrieved training features';
    params.push(voiceParam('clusterInferRatio', { label: m.retrieval.kind === 'cluster' ? 'Cluster ratio' : 'Feature ratio', step: 0.05, default: DEFAULT_SETTINGS.clusterInferRatio, hint }));
  }
  // The voice's own figure (voice.json) is where the knob starts.
  params.push(voiceParam('noiseScale', { label: 'Noise scale', step: 0.05, default: m.noiseScale, hint: 'variation of the voice; 0 = the same output every time' }));
  if (m.diffusion && m.vocoder) {
    // Cost per block: one denoiser pass per sampler step (≈ k_step / speedup) plus the vocoder; telemetry shows each stage's ms.
    params.push(voiceParam('diffusion', { label: 'Shallow diffusion', step: 1, default: DEFAULT_SETTINGS.diffusion, choices: ['off', 'on'], hint: 'refine the voice with the diffusion model and render it with the vocoder' }));
    params.push(voiceParam('kStep', { label: 'Diffusion depth (k_step)', step: 1, default: DEFAULT_SETTINGS.kStep, hint: "how far the mel is noised and re-drawn; at most the model's k_step_max" }));
    params.push(voiceParam('speedup', { label: 'Diffusion speedup', step: 1, default: DEFAULT_SETTINGS.speedup, hint: 'denoiser passes per block ≈ k_step / speedup: higher is cheaper' }));
    params.push(voiceParam('diffusionMethod', { label: 'Diffusion sampler', step: 1, default: DEFAULT_SETTINGS.diffusionMethod, choices: DIFFUSION_METHODS }));
  }
  if (m.f0Decoder) {
    params.push(voiceParam('autoF0', { label: 'Auto-predict f0 (speech)', step: 1, default: 0, hint: 'the voice predicts its own pitch from the speech; off for singing (pitch then barely moves)' }));
  }
  params.push(silenceParam());
  if (m.speakers > 1) params.push(voiceParam('speaker', { label: 'Speaker', step: 1, default: 0, max: m.speakers - 1 }));
  return params;
}

export function sovitsNotes(m: SovitsManifest): VoiceNote[] {
  const notes: VoiceNote[] = [];
  if (!m.retrieval) notes.push({ id: 'sovits-no-retrieval', text: 'No cluster or index file with this voice: retrieval is off (import one with --cluster or --index).' });
  if (!m.diffusion) notes.push({ id: 'sovits-no-diffusion', text: 'No diffusion model with this voice: shallow diffusion is off (import one with --diffusion model_*.pt or an exported ONNX set).' });
  else if (!m.vocoder) notes.push({ id: 'sovits-no-vocoder', text: 'This voice has a diffusion model but no vocoder: add "vocoder" to its voice.json (see resona vocoder <file>) to use shallow diffusion.' });
  return notes;
}
