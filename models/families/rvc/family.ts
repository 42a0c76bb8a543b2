// RVC v1/v2 voices: a synthesizer ONNX (one of three export contracts), content features from a shared
// encoder at 50 fps stretched to 100 fps, an optional FAISS index for retrieval.
import type { VoiceFamily } from '../family.js';
import { loadVoice } from '../../voices/load-voice.js';
import { encoderFor } from './encoder.js';
import { checkRvcManifest, RVC_RATES, type RvcManifest } from './manifest.js';
import { rvcNotes, rvcParams } from './params.js';

/** RVC's synthesizers render 100 content frames a second at every rate (320/400/480 samples a frame). */
const FRAMES_PER_SECOND = 100;

export const rvcFamily: VoiceFamily<RvcManifest> = {
  id: 'rvc',
  label: 'RVC',
  sampleRates: RVC_RATES,
  hop: (rate) => rate / FRAMES_PER_SECOND,
  checkManifest: checkRvcManifest,
  params: rvcParams,
  notes: rvcNotes,
  info: (m) => ({ hasIndex: m.index !== null, defaultFormant: 0 }),
  async load(dir, m, o) {
    const encoder = o.encoder ?? (await encoderFor(m));
    const { stage, placement, notes, release } = await loadVoice(dir, { encoder, runtime: o.runtime, manifest: m });
    return { stage, placement, notes, release };
  },
};
