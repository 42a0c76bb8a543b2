// so-vits-svc's retrieval files (SOVITS-NOTES §4), read at import and turned into one FAISS IVF-Flat index per
// speaker of the voice, which the voice folder keeps and load() reads with the one FAISS reader:
//   kmeans_10000.pt      torch.save({speaker_name: {n_features_in_, _n_threads, cluster_centers_: ndarray[K, C]}})
//                        (cluster/train_cluster.py); read with the safe checkpoint reader, numpy arrays as data.
//                        The K centres become an index with coarse lists (../../index/coarse-lists.ts) so the
//                        nearest centre is found at a bounded cost.
//   feature_and_index.pkl pickle.dump({speaker_id: faiss.IndexIVFFlat}) (train_index.py); faiss pickles an
//                        index as its write_index bytes, kept as they are after the FAISS reader has checked them.
// The model's speakers pick their entries: by name for kmeans (the file is keyed by the training folder's
// speaker name, the config's spk), by id for the index (keyed by the spk id).
import { UserError } from '../../../protocol/errors.js';
import { indexWithCoarseLists } from '../../index/coarse-lists.js';
import { parseFaissIndex, writeIvfFlatIndex } from '../../index/faiss-ivf.js';
import { readCheckpoint } from '../../torch/checkpoint.js';
import { numpyFloats } from '../../torch/numpy-array.js';
import { DATA_GLOBALS, describe, FAISS_GLOBALS, FaissPickled, shortKey, unpickle } from '../../torch/pickle.js';

export type RetrievalKind = 'cluster' | 'index';

/** Every pickle of protocol 2 or later (torch.save, pickle.dump) starts with PROTO. */
const PICKLE_PROTO = 0x80;

/**
 * Lists a cluster search probes (of √K: 100 for K = 10,000): the 100 list centroids and 8 lists of ~100
 * centres instead of all 10,000. In bench/sovits-retrieval.ts that is ~1.5 ms a frame against ~6.5 ms for
 * the exact scan (14 ms vs 60 ms for a 100 ms block), and it found the exact nearest centre for every frame.
 */
export const CLUSTER_NPROBE = 8;

/**
 * Centres per speaker Resona takes: train_cluster.py makes 10,000; the coarse lists are built at import in
 * time that grows with K^1.5 (2 s of CPU at 10,000 × 768), so a file far past that is refused, not ground through.
 */
export const MAX_CENTRES = 65_536;

export class RetrievalError extends UserError {
  override name = 'RetrievalError';
  constructor(message: string) {
    super(message, 'import');
  }
}

export interface RetrievalSource {
  kind: RetrievalKind;
  path: string;
  bytes: Uint8Array;
}

export interface VoiceSpeakers {
  count: number;
  /** Names from the model's config, in id order; null when the model came without one. */
  names: readonly string[] | null;
  featureSize: number;
}

const list = (keys: readonly unknown[]) => (keys.length > 12 ? `${keys.slice(0, 12).map(shortKey).join(', ')}, …` : keys.map(shortKey).join(', ')) || 'nothing';

/** Centres per speaker name, each [K, C] float32. */
export function readKmeans(bytes: Uint8Array, where: string): Map<string, { k: number; c: number; centres: Float32Array }> {
  const root = readCheckpoint(bytes, where);
  const bad = (why: string) => new RetrievalError(`${where}: ${why}; it should be the kmeans_10000.pt so-vits-svc's cluster/train_cluster.py writes`);
  if (!(root instanceof Map) || root.size === 0) throw bad(`holds ${describe(root)}, not a dict of speakers`);
  const out = new Map<string, { k: number; c: number; centres: Float32Array }>();
  for (const [name, entry] of root) {
    if (typeof name !== 'string') throw bad(`has a speaker named by ${describe(name)}`);
    if (!(entry instanceof Map) || !entry.has('cluster_centers_')) throw bad(`speaker ${shortKey(name)} holds ${describe(entry)}, not {cluster_centers_, …}`);
    const m = numpyFloats(entry.get('cluster_centers_'), `speaker ${shortKey(name)}'s cluster_centers_`, bad);
    if (m.shape.length !== 2 || m.shape[0]! < 1 || m.shape[1]! < 1) throw bad(`speaker ${shortKey(name)}'s cluster_centers_ has shape (${m.shape.join(', ')}), not [K, C]`);
    const [k, c] = m.shape as [number, number];
    if (k > MAX_CENTRES) throw bad(`speaker ${shortKey(name)} has ${k} cluster centres; Resona takes up to ${MAX_CENTRES} (so-vits-svc trains 10,000)`);
    const nIn = entry.get('n_features_in_');
    if (nIn !== undefined && nIn !== c) throw bad(`speaker ${shortKey(name)} says n_features_in_ ${describe(nIn)} for ${c}-d centres`);
    for (let i = 0; i < m.data.length; i++) if (!Number.isFinite(m.data[i])) throw bad(`speaker ${shortKey(name)}'s centre ${Math.floor(i / c)} holds a value that is not finite`);
    out.set(name, { k, c, centres: m.data });
  }
  return out;
}

/** Each speaker id's faiss index bytes (already checked by the FAISS reader) and its dimension. */
export function readIndexPickle(bytes: Uint8Array, where: string): Map<number, { bytes: Uint8Array; d: number }> {
  const bad = (why: string) => new RetrievalError(`${where}: ${why}; it should be the feature_and_index.pkl so-vits-svc's train_index.py writes`);
  const root = unpickle(bytes, {
    where,
    globals: new Map([...DATA_GLOBALS, ...FAISS_GLOBALS]),
    persistentLoad: (pid, fail) => fail(`asks for the persistent object ${describe(pid)}; a pickled dict of faiss indexes has none`),
    refuse: (path) =>
      path.startsWith('faiss.')
        ? `refusing to load: the file holds a faiss ${path.split('.').pop()}; only IVF-Flat indexes (IndexIVFFlat, as train_index.py builds them) are read`
        : `refusing to load: the file asks for ${path}, which is not a faiss index or plain data; it may be malicious`,
  });
  if (!(root instanceof Map) || root.size === 0) throw bad(`holds ${describe(root)}, not a dict of speaker ids to indexes`);
  const out = new Map<number, { bytes: Uint8Array; d: number }>();
  for (const [id, v] of root) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw bad(`has a speaker id ${shortKey(id)}, not a whole number`);
    if (!(v instanceof FaissPickled) || v.bytes === null) throw bad(`speaker ${id} holds ${describe(v)}, not a faiss index`);
    const index = parseFaissIndex(v.bytes, `${where} (speaker ${id})`);
    out.set(id, { bytes: v.bytes, d: index.d });
  }
  return out;
}

/**
 * The .index bytes of each of the voice's speakers, in id order. Every speaker needs an entry: so-vits-svc
 * would fail on one without (a KeyError at its first block), and a knob that silently does nothing for some
 * speakers is worse.
 */
export function retrievalForSpeakers(src: RetrievalSource, v: VoiceSpeakers): Uint8Array[] {
  const dims = (d: number, what: string) => {
    if (d !== v.featureSize) throw new RetrievalError(`${src.path}: ${what} holds ${d}-d features, but the model takes ${v.featureSize}-d; it belongs to another voice (or another encoder)`);
  };
  if (src.kind === 'index') {
    // A bare FAISS file (faiss.write_index of one speaker's index, "IwFl") is that speaker's for a one-speaker voice.
    if (src.bytes[0] !== PICKLE_PROTO) {
      const one = parseFaissIndex(src.bytes, src.path);
      if (v.count !== 1) throw new RetrievalError(`${src.path}: is one FAISS index, and the voice has ${v.count} speakers; give the feature_and_index.pkl that holds one per speaker`);
      dims(one.d, 'the index');
      return [src.bytes];
    }
    const byId = readIndexPickle(src.bytes, src.path);
    return Array.from({ length: v.count }, (_, id) => {
      const e = byId.get(id);
      if (!e) throw new RetrievalError(`${src.path}: holds no index for speaker ${id}${v.names?.[id] ? ` (${JSON.stringify(v.names[id])})` : ''}; it has speakers ${list([...byId.keys()])}; the voice has ${v.count}`);
      dims(e.d, `speaker ${id}'s index`);
      return e.bytes;
    });
  }
  const byName = readKmeans(src.bytes, src.path);
  const entries = [...byName.keys()];
  // Without the config's names only a one-speaker voice and a one-speaker file pair up unambiguously.
  const names = v.names ?? (v.count === 1 && entries.length === 1 ? entries : null);
  if (names === null) {
    throw new RetrievalError(`${src.path}: is keyed by speaker name (${list(entries)}), and the model came without the config that names its ${v.count} speakers; import it with its config (.json)`);
  }
  return Array.from({ length: v.count }, (_, id) => {
    const e = byName.get(names[id]!);
    if (!e) throw new RetrievalError(`${src.path}: holds no cluster centres for speaker ${JSON.stringify(names[id])} (id ${id}); it has ${list(entries)}`);
    dims(e.c, `speaker ${JSON.stringify(names[id])}'s cluster_centers_`);
    return writeIvfFlatIndex(indexWithCoarseLists(e.centres, e.c, CLUSTER_NPROBE));
  });
}
