// Every family, in the order the table lists them.
import { flacFamily, mp3Family, oggFamily } from './fam-compressed.js';
import { faissFamily } from './fam-faiss.js';
import { hubertFamily } from './fam-hubert.js';
import { pickleFamily } from './fam-pickle.js';
import { pthFamily } from './fam-pth.js';
import { serverFamily } from './fam-server.js';
import { voiceFamily } from './fam-voice.js';
import { wavFamily } from './fam-wav.js';
import { zipFamily } from './fam-zip.js';
import type { Family } from './family.js';

export const FAMILIES: readonly Family[] = [
  pthFamily, pickleFamily, zipFamily, hubertFamily, faissFamily, wavFamily, flacFamily, mp3Family, oggFamily, voiceFamily, serverFamily,
];

export function familyNamed(name: string): Family {
  const f = FAMILIES.find((x) => x.name === name);
  if (!f) throw new Error(`no fuzz family "${name}" (families: ${FAMILIES.map((x) => x.name).join(', ')})`);
  return f;
}
