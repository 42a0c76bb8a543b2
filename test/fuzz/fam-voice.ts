// Voice folders and zips as users and voice sites hand them over: voice.json empty, broken, of wrong types or
// absurd values, symbolic links where files should be, zip entry names over 255 bytes or climbing out with ../,
// and zip bombs. Folders go through the importer and the library's manifest reader.
import { zipSync } from 'fflate';
import { buildTinySynth } from '../models/tiny-models.js';
import { sharedStreamBomb, zip64Claim } from './fam-zip.js';
import type { Built, Family } from './family.js';
import { mutate, utf8, type Rng } from './rng.js';
import { ESCAPE_NAME, type CaseFile } from './types.js';


let model: Uint8Array | null = null;
const tinyModel = () => (model ??= buildTinySynth({ contract: 'vcclient', rate: 40000, f0: true, channels: 768, metadata: null }));

const MANIFEST = {
  format: 1, id: 'fuzz', name: 'Fuzz', family: 'rvc', contract: 'vcclient', version: 'v2', model: 'model.onnx', index: null,
  preview: null, sampleRate: 40000, featureSize: 768, encoderLayer: 12, f0: true, speakers: 1, defaultPitch: 0, source: '', description: '',
};
const manifest = (patch: Record<string, unknown> = {}) => utf8(JSON.stringify({ ...MANIFEST, ...patch }));

/** voice.json texts, as written (some are not JSON at all). */
const JSON_CASES: Array<[string, () => Uint8Array]> = [
  ['voice.json valid', () => manifest()],
  ['voice.json empty', () => new Uint8Array(0)],
  ['voice.json "{"', () => utf8('{')],
  ['voice.json null', () => utf8('null')],
  ['voice.json []', () => utf8('[]')],
  ['voice.json a string', () => utf8('"voice"')],
  ['voice.json a UTF-16 BOM and garbage', () => new Uint8Array([0xff, 0xfe, 0x7b, 0, 0x7d, 0])],
  ['"speakers": 1e308', () => utf8(new TextDecoder().decode(manifest()).replace('"speakers":1', '"speakers":1e308'))],
  ['"speakers": "2"', () => manifest({ speakers: '2' })],
  ['"speakers": -1', () => manifest({ speakers: -1 })],
  ['"speakers": 2.5', () => manifest({ speakers: 2.5 })],
  ['"defaultPitch": 1e308', () => utf8(new TextDecoder().decode(manifest()).replace('"defaultPitch":0', '"defaultPitch":1e308'))],
  ['"sampleRate": "40000"', () => manifest({ sampleRate: '40000' })],
  ['"format": "1"', () => manifest({ format: '1' })],
  ['"model": 5', () => manifest({ model: 5 })],
  ['"model": ""', () => manifest({ model: '' })],
  ['"model": "../../../etc/passwd"', () => manifest({ model: '../../../etc/passwd' })],
  ['"model": "/etc/passwd"', () => manifest({ model: '/etc/passwd' })],
  ['"index": "../x.index"', () => manifest({ index: '../x.index' })],
  ['"preview": "..\\\\x.png"', () => manifest({ preview: '..\\x.png' })],
  ['"name": 5 MB', () => manifest({ name: 'n'.repeat(5 << 20) })],
  ['"__proto__": {"speakers": 9}', () => utf8(new TextDecoder().decode(manifest()).replace('{', '{"__proto__":{"speakers":9,"model":"../x"},'))],
  ['nested 200000 deep', () => utf8(`{"format":1,"x":${'['.repeat(200_000)}${']'.repeat(200_000)}}`)],
];

function folder(files: Record<string, CaseFile>, label: string, target: 'voice-import' | 'voice-manifest' = 'voice-import'): Built {
  const laid: Record<string, CaseFile> = {};
  for (const [k, v] of Object.entries(files)) laid[`voice/${k}`] = v;
  return { label, body: { kind: 'file', target, files: laid, input: 'voice' } };
}

function zip(bytes: Uint8Array, label: string): Built {
  return { label, body: { kind: 'file', target: 'voice-import', files: { 'voice.zip': bytes }, input: 'voice.zip' } };
}

function handmade(): Array<() => Built> {
  const m = tinyModel();
  const cases: Array<() => Built> = [];
  for (const [label, json] of JSON_CASES) {
    cases.push(() => folder({ 'voice.json': json() }, `library: ${label}`, 'voice-manifest'));
    cases.push(() => folder({ 'voice.json': json(), 'model.onnx': m }, `folder: ${label}`));
  }
  cases.push(
    () => folder({ 'singer.onnx': m }, 'folder: a bare model (valid)'),
    () => folder({ 'voice.json': manifest({ preview: 'preview.png' }), 'model.onnx': m, 'preview.png': { symlink: '/etc/passwd' } }, 'folder: preview.png a link to /etc/passwd'),
    () => folder({ 'singer.onnx': m, 'cover.png': { symlink: '/etc/passwd' } }, 'folder without voice.json: cover.png a link to /etc/passwd'),
    () => folder({ 'singer.onnx': m, 'cover.png': { symlink: 'missing.png' } }, 'folder: a dangling preview link'),
    () => folder({ 'singer.onnx': m, 'cover.png': { symlink: '.' } }, 'folder: a preview link to the folder itself'),
    () => folder({ 'voice.json': manifest(), 'model.onnx': { symlink: '/etc/passwd' } }, 'folder: model.onnx a link to /etc/passwd'),
    () => folder({ 'voice.json': { symlink: '.' }, 'model.onnx': m }, 'folder: voice.json a link to the folder'),
    () => folder({ 'voice.json': { symlink: 'voice.json' }, 'model.onnx': m }, 'folder: voice.json a link to itself'),
    () => folder({ 'a.onnx': m, 'b.onnx': m }, 'folder: two models'),
    () => folder({ 'notes.txt': utf8('hi') }, 'folder: no model'),
    () => zip(zipSync({ 'Voice/model.onnx': m, 'Voice/voice.json': manifest() }), 'zip: valid'),
    () => zip(zipSync({ [`${'a'.repeat(300)}.onnx`]: m }), 'zip: a 304-byte entry name'),
    () => zip(zipSync({ [`${'é'.repeat(130)}.onnx`]: m }), 'zip: a 260-byte UTF-8 entry name'),
    () => zip(zipSync({ 'v/model.onnx': m, [`v/${'p'.repeat(251)}.png`]: utf8('x') }), 'zip: a 255+ byte preview name'),
    () => zip(zipSync({ [`../../${ESCAPE_NAME}`]: utf8('x'), 'model.onnx': m }), 'zip: ../ traversal entry'),
    () => zip(zipSync({ [`/tmp/${ESCAPE_NAME}`]: utf8('x'), 'model.onnx': m }), 'zip: absolute entry name'),
    () => zip(zipSync({ [`a/../../../${ESCAPE_NAME}`]: utf8('x'), 'model.onnx': m }), 'zip: a/../../ traversal entry'),
    () => zip(zipSync({ '../voice.json': manifest({ model: '../model.onnx' }), 'model.onnx': m }), 'zip: ../voice.json naming ../model.onnx'),
    () => zip(sharedStreamBomb(64, 'v/'), 'zip: 64 entries sharing one 64 MB deflated stream'),
    () => zip(zip64Claim(4_000_000_000n), 'zip: zip64 claiming 4 billion entries'),
    () => zip(zipSync({ 'a.onnx': m, 'b.onnx': m }), 'zip: two models'),
    () => zip(new Uint8Array(0), 'zip: empty file'),
    () => zip(utf8('this is not a zip'), 'zip: text'),
    () => {
      const z = zipSync({ 'v/model.onnx': m });
      return zip(z.subarray(0, z.length >> 1), 'zip: cut in half');
    },
  );
  return cases;
}

const ODD_VALUES: unknown[] = [null, '', 0, -1, 1e308, -1e308, true, [], {}, '../x', '/etc/passwd', 'x'.repeat(1000), 2 ** 53, 1.5, '40000'];

export const voiceFamily: Family = {
  name: 'voice',
  async handmade() {
    return handmade();
  },
  async random(rng: Rng): Promise<Built> {
    if (rng.next() < 0.8) {
      const keys = Object.keys(MANIFEST);
      const patch: Record<string, unknown> = {};
      for (let i = 0, n = 1 + rng.int(3); i < n; i++) patch[rng.pick(keys)] = rng.pick(ODD_VALUES);
      let json = manifest(patch);
      if (rng.next() < 0.3) json = mutate(json, rng);
      return folder({ 'voice.json': json }, `library: voice.json with ${JSON.stringify(patch).slice(0, 100)}`, 'voice-manifest');
    }
    return zip(mutate(zipSync({ 'v/model.onnx': tinyModel(), 'v/voice.json': manifest() }), rng), 'zip: random mutation');
  },
};
