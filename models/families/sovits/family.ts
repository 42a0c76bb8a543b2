// so-vits-svc 4.x voices from their ONNX exports (4.0 and 4.1 forms): content features from the shared
// encoder at 50 fps mapped onto the model's 512-sample hop (86 fps at 44.1 kHz) with mel2ph, f0 with unvoiced
// frames interpolated and a separate uv, the flow's noise drawn here, loudness per hop where the model takes it.
import type { VoiceFamily } from '../family.js';
import { looksLikeSovits } from './forms.js';
import { importSovits, loadSovits } from './load.js';
import { checkSovitsManifest, type SovitsManifest } from './manifest.js';
import { sovitsNotes, sovitsParams } from './params.js';

export const sovitsFamily: VoiceFamily<SovitsManifest> = {
  id: 'sovits',
  label: 'so-vits-svc',
  // 44.1 kHz in every so-vits-svc config; the exporter's .json may name another, checked against the model.
  sampleRates: null,
  hop: () => 512,
  checkManifest: checkSovitsManifest,
  params: sovitsParams,
  notes: sovitsNotes,
  info: () => ({ hasIndex: false, defaultFormant: 0 }),
  load: loadSovits,
  importer: {
    claims: looksLikeSovits,
    manifest: importSovits,
  },
};
