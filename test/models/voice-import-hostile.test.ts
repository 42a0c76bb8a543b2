// Voice import against hostile input (issue 15): zip bombs and hostile entry names, links out of a voice
// folder, FIFOs and devices given as models or indexes, broken voice.json files, and the temporary folders a
// failed conversion could leave. Each is refused in one line, and the library is left as it was.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { zipSync } from 'fflate';
import { LimitError } from '../../models/archive/limit.js';
import { importVoice } from '../../models/voices/import-voice.js';
import { loadVoice } from '../../models/voices/load-voice.js';
import { VoiceFormatError } from '../../models/voices/manifest.js';
import { writeWavAtomic } from '../../host/audio-file.js';
import { listVoices } from '../../host/voices.js';
import { UserError } from '../../protocol/errors.js';
import { CLI, sine, tempDir } from '../helpers.js';
import { assertRefused, runCase } from './archive/hostile.js';
import { buildTinyEncoder, buildTinySynth, writeModel } from './tiny-models.js';

const run = promisify(execFile);
const tmp = tempDir();
const lib = path.join(tmp.dir, 'library');
let model: string; // 40 kHz VC Client voice, 2 speakers
let modelBytes: Uint8Array;
let enc: string;

before(async () => {
  modelBytes = buildTinySynth({ contract: 'vcclient', rate: 40000, f0: true, channels: 768, speakers: 2 });
  model = await writeModel(tmp.dir, 'alto.onnx', modelBytes);
  enc = await writeModel(tmp.dir, 'enc.onnx', buildTinyEncoder('vec', 768));
  await fs.mkdir(lib);
});
after(() => tmp.cleanup());

/** What the library holds, staging folders included, so a refused import can be seen to have left nothing. */
const libraryNow = () => fs.readdir(lib).then((l) => l.sort());

/** The import is refused with a one-line UserError matching `pattern`, and the library is unchanged. */
async function refused(p: () => Promise<unknown>, pattern: RegExp, kind: new (...a: never[]) => Error = VoiceFormatError): Promise<void> {
  const before = await libraryNow();
  await assert.rejects(p(), (e: Error) => {
    assert.ok(e instanceof kind, `a ${kind.name}, not ${e.name}: ${e.stack}`);
    assert.ok(e instanceof UserError);
    assert.equal(e.message.split('\n').length, 1);
    assert.match(e.message, pattern);
    return true;
  });
  assert.deepEqual(await libraryNow(), before);
}

async function folder(name: string, files: Record<string, Uint8Array | string>): Promise<string> {
  const dir = path.join(tmp.dir, name);
  await fs.mkdir(dir, { recursive: true });
  for (const [f, data] of Object.entries(files)) await fs.writeFile(path.join(dir, f), data);
  return dir;
}

describe('zip bombs and hostile entries', () => {
  const bombs = new URL('./voice-import-bombs.js', import.meta.url).href;
  for (const [name, pattern, code] of [
    ['voice files sharing one 1 GiB stream', /voice\.zip: entries Voice\/model\.onnx and Voice\/added_x\.index share compressed bytes, which no zip writer produces/, 'voice'],
    ['a model entry inflating to 1 GiB of zeros', /entry Voice\/model\.onnx would expand [\d,]+ bytes to 1,0\d\d,\d+,\d+, a ratio more than 100 \(model weights and index features deflate less than 2:1\)/, 'limit'],
    ['a voice zip claiming 4 billion entries', /has 4,000,000,000 entries in its directory, more than 1,000 \(voice zips hold under 20 entries/, 'limit'],
  ] as const) {
    test(name, { timeout: 60_000 }, async () => {
      // In a child process: under 10 s and 500 MB, a one-line UserError (hostile.ts checks all of it).
      assertRefused(await runCase(bombs, name), pattern, code);
    });
  }

  const zipOf = async (name: string, entries: Record<string, Uint8Array>) => {
    const file = path.join(tmp.dir, name);
    await fs.writeFile(file, zipSync(entries));
    return file;
  };

  test('entry names over 255 bytes and paths climbing out with ".." are refused by name', { timeout: 30_000 }, async () => {
    const long = await zipOf('long.zip', { [`Voice/${'a'.repeat(300)}.onnx`]: modelBytes });
    await refused(() => importVoice(long, lib), /long\.zip: entry "Voice\/a+\.\.\." has a name over 255 bytes, which no file system takes; the zip is damaged or malicious/);
    const climb = await zipOf('climb.zip', { 'Voice/model.onnx': modelBytes, '../../x.png': new Uint8Array(4) });
    await refused(() => importVoice(climb, lib), /climb\.zip: entry "\.\.\/\.\.\/x\.png" climbs out of the zip with "\.\."/);
    const abs = await zipOf('abs.zip', { 'Voice/model.onnx': modelBytes, '/etc/cron.d/x': new Uint8Array(4) });
    await refused(() => importVoice(abs, lib), /entry "\/etc\/cron\.d\/x" is an absolute path/);
  });

  test('only the entries the import needs are read: a damaged extra entry never matters', { timeout: 30_000 }, async () => {
    const zip = zipSync({ 'Voice/model.onnx': [modelBytes, { level: 0 }], 'Voice/readme.txt': new TextEncoder().encode('hello '.repeat(100)) });
    // Mark readme.txt as compressed with method 12 (bzip2), which the reader refuses if anything reads it.
    const buf = Buffer.from(zip);
    const name = Buffer.from('Voice/readme.txt');
    for (let at = buf.indexOf(name); at >= 0; at = buf.indexOf(name, at + 1)) {
      const local = buf.readUInt32LE(at - 30) === 0x04034b50;
      buf.writeUInt16LE(12, local ? at - 30 + 8 : at - 46 + 10);
    }
    const file = path.join(tmp.dir, 'extra.zip');
    await fs.writeFile(file, buf);
    const m = await importVoice(file, lib);
    assert.equal(m.name, 'extra');
    assert.equal(m.speakers, 2);
    // A zip whose model entry itself used that method would be refused by name, which shows the bytes above
    // are the ones the reader looks at.
    const modelBuf = Buffer.from(zipSync({ 'Voice/model.onnx': modelBytes }));
    const mn = Buffer.from('Voice/model.onnx');
    for (let at = modelBuf.indexOf(mn); at >= 0; at = modelBuf.indexOf(mn, at + 1)) {
      const local = modelBuf.readUInt32LE(at - 30) === 0x04034b50;
      modelBuf.writeUInt16LE(12, local ? at - 30 + 8 : at - 46 + 10);
    }
    const bad = path.join(tmp.dir, 'method12.zip');
    await fs.writeFile(bad, modelBuf);
    await refused(() => importVoice(bad, lib), /entry Voice\/model\.onnx uses compression method 12/);
  });
});

describe('files are what they claim', () => {
  test('a preview.png linked to /etc/passwd is refused, and nothing is copied', { timeout: 30_000 }, async () => {
    const dir = await folder('linked-preview', { 'voice.onnx': modelBytes });
    await fs.symlink('/etc/passwd', path.join(dir, 'preview.png'));
    await refused(() => importVoice(dir, lib), /linked-preview\/preview\.png: is a symbolic link; a voice folder must hold its files themselves/);
    const all = await run('grep', ['-rl', 'root:', lib]).then((r) => r.stdout, () => '');
    assert.equal(all, '', 'no copy of /etc/passwd in the library');
  });

  test('a preview must be the image it claims: text named .png is refused, a PNG named .jpg is kept as .png', { timeout: 30_000 }, async () => {
    const text = await folder('text-cover', { 'voice.onnx': modelBytes, 'cover.png': 'root:x:0:0:root:/root:/bin/bash\n' });
    await refused(() => importVoice(text, lib), /text-cover\/cover\.png: is named as an image but is not a PNG, JPEG or WebP/);
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const m = await importVoice(await folder('png-as-jpg', { 'voice.onnx': modelBytes, 'cover.jpg': png }), lib);
    assert.equal(m.preview, 'preview.png');
    assert.deepEqual(new Uint8Array(await fs.readFile(path.join(lib, m.id, 'preview.png'))), png);
  });

  test('a model or index inside a voice folder that links elsewhere is refused too', { timeout: 30_000 }, async () => {
    const dir = await folder('linked-model', {});
    await fs.symlink(model, path.join(dir, 'voice.onnx'));
    await refused(() => importVoice(dir, lib), /linked-model\/voice\.onnx: is a symbolic link/);
  });

  test('a FIFO or a device given as the model, the index, or found in a folder is refused at once', { timeout: 20_000 }, async () => {
    const fifo = path.join(tmp.dir, 'pipe.onnx');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    await refused(() => importVoice(fifo, lib), /pipe\.onnx: is a named pipe \(FIFO\), not a voice file or folder/);
    const fifoIndex = path.join(tmp.dir, 'pipe.index');
    assert.equal(spawnSync('mkfifo', [fifoIndex]).status, 0);
    await refused(() => importVoice(model, lib, { index: fifoIndex }), /pipe\.index: is a named pipe \(FIFO\), not a regular file; give the index itself/);
    await refused(() => importVoice(model, lib, { index: '/dev/zero' }), /\/dev\/zero: is a character device, not a regular file/);
    const dir = await folder('fifo-folder', {});
    assert.equal(spawnSync('mkfifo', [path.join(dir, 'model.onnx')]).status, 0);
    await refused(() => importVoice(dir, lib), /fifo-folder\/model\.onnx: is a named pipe \(FIFO\), not a regular file; give the model file itself/);
    const sub = await folder('dir-model', {});
    await fs.mkdir(path.join(sub, 'voice.onnx'));
    await refused(() => importVoice(sub, lib), /dir-model\/voice\.onnx: is a folder, not a regular file/);
  });

  test('a preview in the library that is not a regular file is never offered to the server', { timeout: 30_000 }, async () => {
    const home = path.join(tmp.dir, 'home-preview');
    const prev = process.env.RESONA_HOME;
    process.env.RESONA_HOME = home;
    try {
      const voices = path.join(home, 'voices');
      const m = await importVoice(await folder('with-cover', { 'v.onnx': modelBytes, 'cover.png': new Uint8Array([0x89, 0x50, 0x4e, 0x47]) }), voices);
      const preview = path.join(voices, m.id, m.preview!);
      const listed = async () => (await listVoices()).voices.find((v) => v.id === m.id)?.preview;
      assert.equal(await listed(), preview);
      await fs.rm(preview);
      await fs.symlink('/etc/passwd', preview);
      assert.equal(await listed(), null);
    } finally {
      if (prev === undefined) delete process.env.RESONA_HOME;
      else process.env.RESONA_HOME = prev;
    }
  });

  test('an id taken by a dangling link in the library gets the next id; nothing is written through the link', { timeout: 30_000 }, async () => {
    const outside = path.join(tmp.dir, 'outside');
    await fs.symlink(outside, path.join(lib, 'trap'));
    const m = await importVoice(model, lib, { name: 'Trap' });
    assert.equal(m.id, 'trap-2');
    assert.equal(await fs.stat(outside).then(() => true, () => false), false);
    await fs.rm(path.join(lib, 'trap'));
  });
});

describe('voice.json: one line naming the field', () => {
  const good = {
    format: 1, id: 'alto', name: 'Alto', family: 'rvc', contract: 'vcclient', version: 'v2', model: 'model.onnx', index: null, preview: null,
    sampleRate: 40000, featureSize: 768, encoderLayer: 12, f0: true, speakers: 2, defaultPitch: 0, source: '', description: '',
  };
  const cases: Array<[string, string | Uint8Array, RegExp, (new (...a: never[]) => Error)?]> = [
    ['empty', '', /voice\.json: is empty; import the voice's model file again/],
    ['blank', '  \n', /voice\.json: is empty/],
    ['invalid JSON', '{"format": 1,', /voice\.json: not valid JSON \(.*\); import the voice again/],
    ['a list', '[1, 2]', /voice\.json: holds a list, not a JSON object/],
    ['a string', '"voice"', /voice\.json: holds "voice", not a JSON object/],
    ['not UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), /voice\.json: is not UTF-8 text/],
    ['speakers 1e308', JSON.stringify({ ...good, speakers: 1e308 }), /"speakers" is 1e\+308; a whole number from 1 to 1024/],
    ['speakers as a string', JSON.stringify({ ...good, speakers: '2' }), /"speakers" is "2"; a whole number from 1 to 1024/],
    ['speakers 0', JSON.stringify({ ...good, speakers: 0 }), /"speakers" is 0;/],
    ['speakers 2.5', JSON.stringify({ ...good, speakers: 2.5 }), /"speakers" is 2\.5;/],
    ['sample rate 44100', JSON.stringify({ ...good, sampleRate: 44100 }), /"sampleRate" is 44100; RVC voices run at 32000, 40000, 48000 Hz/],
    ['pitch 1e308', JSON.stringify({ ...good, defaultPitch: 1e308 }), /"defaultPitch" is 1e\+308; semitones from -24 to 24/],
    ['pitch as a list', JSON.stringify({ ...good, defaultPitch: [1] }), /"defaultPitch" is a list;/],
    ['model outside the folder', JSON.stringify({ ...good, model: '../../etc/passwd' }), /"model" is "\.\.\/\.\.\/etc\/passwd"; a plain file name inside the voice folder/],
    ['model as a number', JSON.stringify({ ...good, model: 5 }), /"model" is 5; a file name is required/],
    ['model missing', JSON.stringify({ ...good, model: undefined }), /"model" is missing; a file name is required/],
    ['an id with a path', JSON.stringify({ ...good, id: '../x' }), /"id" is "\.\.\/x"; lower-case letters, digits and dashes/],
    ['an empty name', JSON.stringify({ ...good, name: '' }), /"name" is ""; a non-empty string is required/],
    ['a name of 10,000 characters', JSON.stringify({ ...good, name: 'n'.repeat(10_000) }), /"name" is "n{57}\.\.\."; at most 200 characters/],
    ['a preview that is no image', JSON.stringify({ ...good, preview: 'run.sh' }), /"preview" is "run\.sh"; an image file \(\.png, \.jpg, \.jpeg, \.webp\) or null/],
    ['an object for f0', JSON.stringify({ ...good, f0: {} }), /"f0" is a object; true or false/],
    ['a 100 KB voice.json', JSON.stringify({ ...good, description: 'd'.repeat(100_000) }), /voice\.json: 97\.9 KiB is more than 64 KiB \(voice\.json as Resona writes it is under 1 KB\)/, LimitError],
  ];
  for (const [label, text, pattern, kind] of cases) {
    test(label, { timeout: 30_000 }, async () => {
      const dir = await folder(`json-${label.replace(/\W+/g, '-')}`, { 'model.onnx': modelBytes, 'voice.json': text });
      await refused(() => importVoice(dir, lib), pattern, kind);
    });
  }

  test('more speakers than the model has is refused at import and at load', { timeout: 30_000 }, async () => {
    const dir = await folder('json-3-speakers', { 'model.onnx': modelBytes, 'voice.json': JSON.stringify({ ...good, speakers: 3 }) });
    await refused(() => importVoice(dir, lib), /model\.onnx: voice\.json says "speakers": 3, but the model has 2/);
    await assert.rejects(loadVoice(dir, { encoder: enc }), /model\.onnx: voice\.json says "speakers": 3, but the model has 2/);
  });

  test('the CLI prints one line for a broken voice.json, not "internal error"', { timeout: 30_000 }, async () => {
    const dir = await folder('json-cli', { 'model.onnx': modelBytes, 'voice.json': '{"format": 1,' });
    const r = await run(process.execPath, [CLI, 'import', dir], { env: { ...process.env, RESONA_HOME: path.join(tmp.dir, 'h-cli') } }).catch((e) => e);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^resona: error: .*json-cli\/voice\.json: not valid JSON/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});

describe('temporary folders', () => {
  test('a failed convert --voice <bad .pth | .zip | .onnx> leaves nothing in the temporary folder', { timeout: 60_000 }, async () => {
    const tmpdir = path.join(tmp.dir, 'tmpdir');
    await fs.mkdir(tmpdir);
    const wav = path.join(tmp.dir, 'in.wav');
    await writeWavAtomic(wav, sine(200, 16000, 0.5), 16000);
    const bad = { 'bad.pth': new Uint8Array(1000).fill(7), 'bad.zip': new TextEncoder().encode('PK\x03\x04 not really'), 'bad.onnx': new Uint8Array([1, 2, 3]) };
    for (const [name, bytes] of Object.entries(bad)) {
      const voice = path.join(tmp.dir, name);
      await fs.writeFile(voice, bytes);
      const r = await run(process.execPath, [CLI, 'convert', wav, path.join(tmp.dir, 'out.wav'), '--voice', voice, '--encoder', enc], {
        env: { ...process.env, TMPDIR: tmpdir, RESONA_HOME: path.join(tmp.dir, 'h-tmp') },
      }).catch((e) => e);
      assert.equal(r.code, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^resona: error: .*${name.replace('.', '\\.')}`));
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.deepEqual(await fs.readdir(tmpdir), [], `${name} left a temporary folder`);
    }
  });
});
