// so-vits-svc retrieval (issue 12, deliverable 5): kmeans_10000.pt and feature_and_index.pkl as so-vits-svc
// 4.1 writes them (made by test/fixtures/torch/make-sovits-retrieval.py with PyTorch 1.13, numpy 1.24 and
// faiss 1.7.3) read by the safe reader, numpy arrays and faiss indexes as data and nothing else; the blends
// checked against what numpy/faiss computed for the same frames.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { readAudioFile, writeWavAtomic } from '../../host/audio-file.js';
import { listVoices } from '../../host/voices.js';
import { importVoice } from '../../models/voices/import-voice.js';
import { indexWithCoarseLists } from '../../models/index/coarse-lists.js';
import { parseFaissIndex } from '../../models/index/faiss-ivf.js';
import { readIndexPickle, readKmeans, retrievalForSpeakers } from '../../models/families/sovits/retrieval-files.js';
import { numpyFloats } from '../../models/torch/numpy-array.js';
import { CheckpointError, DATA_GLOBALS, unpickle } from '../../models/torch/pickle.js';
import { UserError } from '../../protocol/errors.js';
import { ROOT, runResona, sine, tempDir } from '../helpers.js';
import { buildTinyEncoder, writeModel } from './tiny-models.js';
import { buildTinySovits, sovitsConfig, sovitsSpeakerGain } from './tiny-sovits.js';

const T_OUT = { timeout: 120_000 };
const tmp = tempDir();
process.env.RESONA_HOME = path.join(tmp.dir, 'home');
const library = path.join(tmp.dir, 'home', 'voices');
after(() => tmp.cleanup());
const dir = path.join(ROOT, 'test', 'fixtures', 'torch', 'sovits');
const read = (name: string) => new Uint8Array(readFileSync(path.join(dir, name)));
const meta = JSON.parse(readFileSync(path.join(dir, 'sovits-retrieval.json'), 'utf8')) as {
  C: number; K: number; T: number; ratio: number; nearest: number[]; nlist: Record<string, number>; ntotal: Record<string, number>; alto00: number; bass47last: number;
};
const blob = new Float32Array(new Uint8Array(readFileSync(path.join(dir, 'sovits-retrieval.bin'))).buffer);
const { C, T } = meta;
const queries = () => blob.slice(0, T * C);
const clusterRef = blob.subarray(T * C, 2 * T * C);
const indexRef = blob.subarray(2 * T * C, 3 * T * C);

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('reading', () => {
  test('kmeans_10000.pt: each speaker\'s cluster_centers_ [K, C] float32 as numpy wrote them', T_OUT, () => {
    const km = readKmeans(read('kmeans-tiny.pt'), 'kmeans-tiny.pt');
    assert.deepEqual([...km.keys()], ['alto', 'bass']);
    const alto = km.get('alto')!;
    assert.deepEqual([alto.k, alto.c], [meta.K, C]);
    assert.equal(alto.centres[0], Math.fround(meta.alto00));
    assert.equal(km.get('bass')!.centres[meta.K * C - 1], Math.fround(meta.bass47last));
    // float64 centres (KMeans fitted on doubles) read as the same numbers.
    const f64 = readKmeans(read('kmeans-float64.pt'), 'kmeans-float64.pt').get('alto')!;
    assert.deepEqual([f64.k, f64.c], [8, C]);
    assert.deepEqual(f64.centres, alto.centres.subarray(0, 8 * C));
  });

  test('a cluster file whose pickle calls os.system is refused by name before anything runs', T_OUT, () => {
    assert.throws(() => readKmeans(read('kmeans-hostile.pt'), 'kmeans-hostile.pt'), (e: Error) => e instanceof CheckpointError && /posix\.system/.test(e.message) && /malicious/.test(e.message));
  });

  test('numpy arrays under numpy 2\'s module name (numpy._core.multiarray) read alike; other numpy calls refused by name', T_OUT, () => {
    const p2 = read('numpy-array-p2.pkl');
    const opts = { where: 'a.pkl', globals: DATA_GLOBALS, persistentLoad: () => null };
    const fail = (m: string) => new Error(m);
    const one = numpyFloats((unpickle(p2, opts) as Map<string, unknown>).get('a'), 'a', fail);
    assert.deepEqual(one.shape, [2, 3]);
    assert.deepEqual([...one.data], [0, 0.25, 0.5, 0.75, 1, 1.25]);
    const text = Buffer.from(p2).toString('latin1');
    assert.ok(text.includes('numpy.core.multiarray\n'));
    // Protocol 2 has no frame lengths, so renaming a GLOBAL keeps the pickle valid.
    const renamed = new Uint8Array(Buffer.from(text.replace('numpy.core.multiarray\n', 'numpy._core.multiarray\n'), 'latin1'));
    const two = numpyFloats((unpickle(renamed, opts) as Map<string, unknown>).get('a'), 'a', fail);
    assert.deepEqual(two, one);
    const swapGlobal = (to: string) => new Uint8Array(Buffer.from(text.replace('numpy.core.multiarray\n_reconstruct', to), 'latin1'));
    // Any other numpy function is refused by name (np.load would read a file).
    assert.throws(() => unpickle(swapGlobal('numpy.lib.npyio\nload'), opts), /numpy\.lib\.npyio\.load, which is not a tensor or plain data/);
    // numpy.ndarray is a value only (_reconstruct's argument): calling it is refused.
    const called = swapGlobal('numpy\nndarray');
    assert.throws(() => unpickle(called, opts), /numpy\.ndarray, which Resona accepts only as a value/);
  });

  test('feature_and_index.pkl: faiss\'s pickled IndexIVFFlat per speaker id, its bytes read by the FAISS reader', T_OUT, () => {
    const byId = readIndexPickle(read('feature-and-index-tiny.pkl'), 'feature-and-index-tiny.pkl');
    assert.deepEqual([...byId.keys()], [0, 1]);
    for (const [id, e] of byId) {
      const index = parseFaissIndex(e.bytes, `speaker ${id}`);
      assert.deepEqual([index.d, index.nlist, index.ntotal, index.nprobe], [C, meta.nlist[id], meta.ntotal[id], 1]);
    }
  });

  test('another faiss class or a non-faiss global in an index pickle is refused by name', T_OUT, () => {
    const text = Buffer.from(read('feature-and-index-tiny.pkl')).toString('latin1');
    // SHORT_BINUNICODE carries its length: swap for names of the same length.
    const swap = (from: string, to: string) => new Uint8Array(Buffer.from(text.replace(from, to), 'latin1'));
    assert.equal('IndexIVFFlat'.length, 'IndexIVFPQR_'.length);
    assert.throws(() => readIndexPickle(swap('IndexIVFFlat', 'IndexIVFPQR_'), 'x.pkl'), /faiss IndexIVFPQR_; only IVF-Flat indexes/);
    assert.equal('faiss.swigfaiss'.length, 'subprocess.Popn'.length);
    assert.throws(() => readIndexPickle(swap('faiss.swigfaiss', 'subprocess.Popn'), 'x.pkl'), (e: Error) => e instanceof UserError && /subprocess\.Popn\.IndexIVFFlat/.test(e.message) && /malicious/.test(e.message));
  });
});

describe('blends against numpy and faiss', () => {
  test('cluster: r·nearest centre + (1−r)·c, exact with every list probed and equal to it at the default probe here', T_OUT, () => {
    const alto = readKmeans(read('kmeans-tiny.pt'), 'k.pt').get('alto')!;
    const index = indexWithCoarseLists(alto.centres, C, 16);
    // The search answers the same centres as KMeans.predict did.
    const idx = new Int32Array(T);
    index.search(queries(), T, 1, idx, new Float32Array(T), index.nlist);
    assert.deepEqual([...idx], meta.nearest);
    const exact = queries();
    index.blendNearest(exact, T, meta.ratio, index.nlist);
    assert.ok(maxDiff(exact, clusterRef) < 1e-6, `max diff ${maxDiff(exact, clusterRef)}`);
    const probed = queries();
    index.blendNearest(probed, T, meta.ratio);
    assert.ok(maxDiff(probed, clusterRef) < 1e-6);
    const untouched = queries();
    index.blendNearest(untouched, T, 0);
    assert.deepEqual(untouched, queries());
  });

  test('index: k = 8, weights 1/score² normalised, over the speaker\'s index, as so-vits-svc with faiss computes it', T_OUT, () => {
    const e = readIndexPickle(read('feature-and-index-tiny.pkl'), 'f.pkl').get(1)!;
    const index = parseFaissIndex(e.bytes, 'speaker 1');
    const q = queries();
    index.blend(q, T, meta.ratio, 0.5, null);
    assert.ok(maxDiff(q, indexRef) < 1e-5, `max diff ${maxDiff(q, indexRef)}`);
  });
});

describe('picking the voice\'s speakers', () => {
  const kmeans = { kind: 'cluster' as const, path: 'kmeans_10000.pt', bytes: read('kmeans-tiny.pt') };
  const pkl = { kind: 'index' as const, path: 'feature_and_index.pkl', bytes: read('feature-and-index-tiny.pkl') };

  test('kmeans by name, index by id; each speaker gets its own index', T_OUT, () => {
    const byName = retrievalForSpeakers(kmeans, { count: 2, names: ['bass', 'alto'], featureSize: C });
    const centres = readKmeans(kmeans.bytes, 'k').get('bass')!.centres;
    const first = parseFaissIndex(byName[0]!, 'bass');
    assert.equal(first.ntotal, meta.K);
    // Row ids are the centre numbers: vector with id 5 is bass's centre 5.
    const row = [...first.ids].indexOf(5);
    assert.deepEqual(first.vectors.subarray(row * C, (row + 1) * C), centres.subarray(5 * C, 6 * C));
    const byId = retrievalForSpeakers(pkl, { count: 2, names: null, featureSize: C });
    assert.deepEqual(byId[1], readIndexPickle(pkl.bytes, 'p').get(1)!.bytes);
  });

  test('a missing speaker, unnamed speakers or other dimensions are refused saying which and what the file has', T_OUT, () => {
    assert.throws(() => retrievalForSpeakers(kmeans, { count: 2, names: ['alto', 'tenor'], featureSize: C }), /no cluster centres for speaker "tenor" \(id 1\); it has "alto", "bass"/);
    assert.throws(() => retrievalForSpeakers(kmeans, { count: 2, names: null, featureSize: C }), /keyed by speaker name \("alto", "bass"\).*without the config/);
    assert.throws(() => retrievalForSpeakers(kmeans, { count: 1, names: ['alto'], featureSize: 768 }), /speaker "alto"'s cluster_centers_ holds 256-d features, but the model takes 768-d/);
    assert.throws(() => retrievalForSpeakers(pkl, { count: 3, names: null, featureSize: C }), /holds no index for speaker 2; it has speakers 0, 1; the voice has 3/);
    assert.throws(() => retrievalForSpeakers(pkl, { count: 1, names: null, featureSize: 768 }), /speaker 0's index holds 256-d features, but the model takes 768-d/);
    assert.throws(() => retrievalForSpeakers({ ...kmeans, bytes: pkl.bytes }, { count: 1, names: ['alto'], featureSize: C }), UserError);
  });
});

describe('so-vits-svc voices with retrieval, through import and convert', () => {
  const RATE = 48000;
  let enc: string;
  let model: string;
  let input: string;
  before(async () => {
    enc = await writeModel(tmp.dir, 'enc256.onnx', buildTinyEncoder('vec', 256));
    const dir = path.join(tmp.dir, 'duet');
    await fs.mkdir(dir);
    model = await writeModel(dir, 'Duet.onnx', buildTinySovits({ form: 'sovits41', channels: 256, speakers: 2 }));
    await fs.writeFile(path.join(dir, 'Duet.json'), sovitsConfig({ name: 'Duet', channels: 256, speakers: ['alto', 'bass'] }));
    input = path.join(tmp.dir, 'in.wav');
    await writeWavAtomic(input, sine(200, RATE, 2), RATE);
  });

  /** RMS of the steady middle of a conversion. */
  async function convertRms(voice: string, extra: string[]): Promise<number> {
    const out = path.join(tmp.dir, `out-${Math.random().toString(36).slice(2)}.wav`);
    const r = await runResona(['convert', input, out, '--voice', voice, '--encoder', enc, '--f0', 'yin', '--block', '100', '--extra', '300', ...extra]);
    assert.equal(r.code, 0, r.stderr);
    const y = (await readAudioFile(out)).channels[0]!;
    let s = 0;
    for (let i = RATE / 2; i < RATE * 1.5; i++) s += y[i]! * y[i]!;
    return Math.sqrt(s / RATE);
  }

  test('resona import --cluster: one index per speaker by name, the ratio knob listed; convert blends toward the speaker\'s nearest centre', T_OUT, async () => {
    const km = path.join(dir, 'kmeans-tiny.pt');
    const r = await runResona(['import', model, '--cluster', km, '--name', 'Duet cluster']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /with cluster centres/);
    const saved = JSON.parse(await fs.readFile(path.join(library, 'duet-cluster', 'voice.json'), 'utf8'));
    assert.deepEqual(saved.retrieval, { kind: 'cluster', files: ['cluster-0.index', 'cluster-1.index'] });
    const v = (await listVoices()).voices.find((x) => x.id === 'duet-cluster')!;
    assert.deepEqual(v.params.map((p) => p.id), ['pitch', 'clusterInferRatio', 'noiseScale', 'silenceDb', 'speaker']);
    assert.equal(v.params.find((p) => p.id === 'noiseScale')!.default, 0.4);

    // The tiny encoder gives every channel the input's RMS v; the graph sings channel 0 × the speaker's gain.
    // So with ratio r the level is |r·centre[0] + (1 − r)·v| × gain / √2, centre being the speaker's centre
    // nearest to v·1 (found here by brute force).
    const v0 = 0.5 / Math.SQRT2;
    const expect = (speaker: string, id: number, ratio: number) => {
      const { k, centres } = readKmeans(read('kmeans-tiny.pt'), 'k').get(speaker)!;
      let best = 0;
      let bestD = Infinity;
      for (let j = 0; j < k; j++) {
        let d2 = 0;
        for (let c = 0; c < C; c++) d2 += (v0 - centres[j * C + c]!) ** 2;
        if (d2 < bestD) [best, bestD] = [j, d2];
      }
      return (Math.abs(ratio * centres[best * C]! + (1 - ratio) * v0) * sovitsSpeakerGain(id)) / Math.SQRT2;
    };
    for (const [speaker, id, ratio] of [['bass', 1, 1], ['alto', 0, 1], ['bass', 1, 0.5], ['bass', 1, 0]] as const) {
      const rms = await convertRms('duet-cluster', ['--speaker', String(id), '--cluster-ratio', String(ratio)]);
      const want = expect(speaker, id, ratio);
      assert.ok(Math.abs(rms / want - 1) < 0.05, `${speaker} r ${ratio}: rms ${rms.toFixed(4)}, want ${want.toFixed(4)}`);
    }
  });

  test('resona import --index feature_and_index.pkl: by speaker id; convert moves each frame to its retrieved features', T_OUT, async () => {
    const pkl = path.join(dir, 'feature-and-index-tiny.pkl');
    const m = await importVoice(model, library, { index: pkl, name: 'Duet index' });
    const saved = JSON.parse(await fs.readFile(path.join(library, m.id, 'voice.json'), 'utf8'));
    assert.deepEqual(saved.retrieval, { kind: 'index', files: ['index-0.index', 'index-1.index'] });
    // Speaker 1's file is its faiss index byte for byte.
    assert.deepEqual(new Uint8Array(await fs.readFile(path.join(library, m.id, 'index-1.index'))), readIndexPickle(read('feature-and-index-tiny.pkl'), 'p').get(1)!.bytes);
    const index = parseFaissIndex(readIndexPickle(read('feature-and-index-tiny.pkl'), 'p').get(1)!.bytes, 'speaker 1');
    const frame = new Float32Array(C).fill(0.5 / Math.SQRT2);
    index.blend(frame, 1, 1, 0.5, null);
    const want = (Math.abs(frame[0]!) * sovitsSpeakerGain(1)) / Math.SQRT2;
    const rms = await convertRms(m.id, ['--speaker', '1', '--cluster-ratio', '1']);
    assert.ok(Math.abs(rms / want - 1) < 0.05, `rms ${rms.toFixed(4)}, want ${want.toFixed(4)}`);
  });

  test('import refuses a file missing a speaker, of other dimensions, or hostile; both files at once; --cluster for RVC', T_OUT, async () => {
    const other = path.join(tmp.dir, 'trio');
    await fs.mkdir(other);
    const trio = await writeModel(other, 'Trio.onnx', buildTinySovits({ form: 'sovits41', channels: 256, speakers: 3 }));
    await fs.writeFile(path.join(other, 'Trio.json'), sovitsConfig({ name: 'Trio', channels: 256, speakers: ['alto', 'bass', 'tenor'] }));
    await assert.rejects(importVoice(trio, library, { cluster: path.join(dir, 'kmeans-tiny.pt') }), /no cluster centres for speaker "tenor" \(id 2\)/);
    await assert.rejects(importVoice(trio, library, { index: path.join(dir, 'feature-and-index-tiny.pkl') }), /no index for speaker 2 \("tenor"\)/);
    const wide = await writeModel(tmp.dir, 'Wide.onnx', buildTinySovits({ form: 'sovits40', channels: 768 }));
    await assert.rejects(importVoice(wide, library, { cluster: path.join(dir, 'kmeans-float64.pt') }), /holds 256-d features, but the model takes 768-d/);
    const r = await runResona(['import', model, '--cluster', path.join(dir, 'kmeans-hostile.pt')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /posix\.system/);
    await assert.rejects(importVoice(model, library, { cluster: path.join(dir, 'kmeans-tiny.pt'), index: path.join(dir, 'feature-and-index-tiny.pkl') }), /not both/);
    const before = (await fs.readdir(library)).sort();
    assert.ok(!before.some((n) => n.startsWith('trio') || n.startsWith('wide') || n.startsWith('.import-')), before.join(', '));
  });

  test('a zip holding the model, its .json and kmeans_10000.pt (or feature_and_index.pkl) imports with that retrieval', T_OUT, async () => {
    const onnx = new Uint8Array(await fs.readFile(model));
    const cfg = new Uint8Array(await fs.readFile(path.join(path.dirname(model), 'Duet.json')));
    const zip = path.join(tmp.dir, 'duet.zip');
    await fs.writeFile(zip, zipSync({ 'Duet/Duet.onnx': onnx, 'Duet/Duet.json': cfg, 'Duet/kmeans_10000.pt': read('kmeans-tiny.pt') }));
    const a = await importVoice(zip, library, { name: 'Zipped cluster' });
    assert.deepEqual((a as unknown as { retrieval: unknown }).retrieval, { kind: 'cluster', files: ['cluster-0.index', 'cluster-1.index'] });
    await fs.writeFile(zip, zipSync({ 'Duet/Duet.onnx': onnx, 'Duet/Duet.json': cfg, 'Duet/feature_and_index.pkl': read('feature-and-index-tiny.pkl') }));
    const b = await importVoice(zip, library, { name: 'Zipped index' });
    assert.deepEqual((b as unknown as { retrieval: unknown }).retrieval, { kind: 'index', files: ['index-0.index', 'index-1.index'] });
  });

  test('a voice without retrieval has no ratio knob and says so', T_OUT, async () => {
    const m = await importVoice(model, library, { name: 'Duet plain' });
    const v = (await listVoices()).voices.find((x) => x.id === m.id)!;
    assert.deepEqual(v.params.map((p) => p.id), ['pitch', 'noiseScale', 'silenceDb', 'speaker']);
    assert.ok(v.notes?.some((n) => n.id === 'sovits-no-retrieval'));
  });
});
