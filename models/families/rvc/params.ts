// The knobs of an RVC voice, from what its voice.json says it has: pitch only if it follows pitch, formant only
// with a contract that takes formant_length, index ratio only with an index file, speaker only with several.
import { DEFAULT_SETTINGS } from '../../../protocol/settings.js';
import { formantParam, pitchParam, silenceParam, voiceParam, type VoiceNote, type VoiceParam } from '../../../protocol/voice-params.js';
import { contractHasFormant } from '../../rvc/contracts.js';
import type { RvcManifest } from './manifest.js';

// RVC WebUI's defaults, kept where every front end (and presets saved before families) reads them.
const INDEX_RATIO = DEFAULT_SETTINGS.indexRatio;
const PROTECT = DEFAULT_SETTINGS.protect;

export function rvcParams(m: RvcManifest): VoiceParam[] {
  const params: VoiceParam[] = [];
  if (m.f0) params.push(pitchParam(m.defaultPitch));
  if (contractHasFormant(m.contract)) params.push(formantParam(0));
  if (m.index) params.push(voiceParam('indexRatio', { label: 'Index ratio', step: 0.05, default: INDEX_RATIO, hint: 'share of retrieved features' }));
  params.push(voiceParam('protect', { label: 'Protect', step: 0.01, default: PROTECT, hint: 'keeps consonants from retrieval; 0.5 = off' }));
  params.push(silenceParam());
  // Speaker ids past the model's table would index past its embedding: the knob stops at the last one.
  if (m.speakers > 1) params.push(voiceParam('speaker', { label: 'Speaker', step: 1, default: 0, max: m.speakers - 1 }));
  return params;
}

export function rvcNotes(m: RvcManifest): VoiceNote[] {
  const notes: VoiceNote[] = [];
  if (!m.index) notes.push({ id: 'no-index', text: 'No index file with this voice: retrieval is off.' });
  if (!m.f0) notes.push({ id: 'no-f0', text: 'This voice does not follow pitch: it speaks at its own.' });
  if (!contractHasFormant(m.contract)) notes.push({ id: 'no-formant', text: 'Formant shift needs a voice exported with formant support.' });
  return notes;
}
