// The f0 methods a user can pick, and the one place that turns a pick into an F0Estimator: a method id, or
// a path to an .onnx file whose network is recognised from its inputs and outputs. Model files are given
// by path (the model catalogue resolves ids to files); nothing here downloads.
import { existsSync } from 'node:fs';
import type { F0Estimator } from '../../engine/f0/estimator.js';
import { YinEstimator } from '../../engine/f0/yin.js';
import { PYIN_VOICING } from '../../engine/f0/yin-pyin.js';
import { F0_METHODS as F0_METHOD_IDS, type F0Method } from '../../protocol/control.js';
import { loadSession, type LoadedSession, type ProviderChoice } from '../runtime.js';
import { CrepeEstimator, isCrepeSession } from './crepe.js';
import { RMVPE_FORMS, RmvpeEstimator, describeSessionIo, detectRmvpeIo } from './rmvpe.js';
import { SwiftF0Estimator, isSwiftF0Session } from './swiftf0.js';

/** The method ids are the protocol's (the UI offers the same list); what each one is lives here. */
export type F0MethodId = F0Method;

export interface F0MethodInfo {
  id: F0MethodId;
  description: string;
  /** Whether the method needs a model file (options.modelPath). */
  needsFile: boolean;
  /** The file it is usually shipped as, for messages. */
  file?: string;
}

// A Record, so a method added to the protocol's list fails to compile until it is described here.
const INFO: Record<F0MethodId, Omit<F0MethodInfo, 'id'>> = {
  yin: { description: 'built-in YIN in TypeScript: no model file, cheapest, 23 ms of f0 look-ahead', needsFile: false },
  pyin: { description: "built-in YIN with pYIN's probabilistic voicing: voices 95 % of speech CREPE voices (yin: 84 %), more false voicing, 33 ms of f0 look-ahead", needsFile: false },
  swiftf0: { description: 'SwiftF0 network (0.4 MB): robust on speech, ~4 ms per block, but 186 ms of f0 look-ahead', needsFile: true, file: 'swiftf0.onnx' },
  crepe: { description: 'CREPE network (tiny, 2 MB): one 64 ms window per 10 ms frame, 32 ms of f0 look-ahead', needsFile: true, file: 'crepe_tiny.onnx' },
  rmvpe: { description: "RMVPE network (RVC's default; 181 MB .pt, 361 MB .onnx): the costliest per block, 72 ms of f0 look-ahead", needsFile: true, file: 'rmvpe.onnx' },
};

export const F0_METHODS: readonly F0MethodInfo[] = F0_METHOD_IDS.map((id) => ({ id, ...INFO[id] }));

export interface F0MethodOptions {
  /** The method's network file (.onnx); required for every method but yin. */
  modelPath?: string;
  /** onnxruntime intra-op threads. */
  threads?: number;
  /** Where the network runs (default CPU). */
  provider?: ProviderChoice;
  /** Largest number of frames one block brings (sizes the input buffers). */
  maxFrames?: number;
}

const KNOWN_NETWORKS =
  'SwiftF0 (input_audio [1, N] → pitch_hz, confidence); CREPE (frames [n, 1024] → probabilities [n, 360]); ' +
  Object.entries(RMVPE_FORMS).map(([k, v]) => `RMVPE ${k}: ${v}`).join('; ');

/** An F0Estimator for a method id or an .onnx path. */
export async function createF0Estimator(spec: string, o: F0MethodOptions = {}): Promise<F0Estimator> {
  const method = F0_METHODS.find((m) => m.id === spec);
  if (method?.id === 'yin') return new YinEstimator();
  if (method?.id === 'pyin') return new YinEstimator({ pyin: PYIN_VOICING });
  if (!method && !/\.onnx$/i.test(spec)) {
    throw new Error(`unknown f0 method "${spec}": use one of ${F0_METHODS.map((m) => m.id).join(', ')}, or the path of an .onnx f0 network`);
  }
  const file = method ? o.modelPath : spec;
  if (!file) {
    throw new Error(`f0 method "${spec}" needs its network file (${method!.file}): pass its path as modelPath (the model catalogue provides it)`);
  }
  if (!existsSync(file)) {
    throw new Error(`f0 network file not found: ${file}${method ? ` (for f0 method "${spec}", usually ${method.file})` : ''}: download it through the model catalogue or give the path of an existing .onnx file`);
  }
  const s = await loadSession(file, { threads: o.threads ?? 1, provider: o.provider ?? 'cpu' });
  try {
    const estimator = fromSession(s, file, method?.id, o);
    estimator.placement = { provider: s.provider, note: s.placementNote, warning: s.providerNote };
    return estimator;
  } catch (e) {
    await s.release();
    throw e;
  }
}

function fromSession(s: LoadedSession, file: string, want: F0MethodId | undefined, o: F0MethodOptions): F0Estimator {
  const opts = { maxFrames: o.maxFrames };
  const swift = isSwiftF0Session(s);
  const crepe = !swift && isCrepeSession(s);
  const kind: F0MethodId = swift ? 'swiftf0' : crepe ? 'crepe' : 'rmvpe';
  if (want && want !== kind && (swift || crepe)) {
    throw new Error(`${file} is a ${kind} network, not ${want}: choose f0 method "${kind}" or give the ${want} file`);
  }
  if (swift) return new SwiftF0Estimator(s, opts);
  if (crepe) return new CrepeEstimator(s, opts);
  try {
    return new RmvpeEstimator(s, detectRmvpeIo(s, file), opts);
  } catch (e) {
    if (want === 'rmvpe') throw e;
    throw new Error(`${file}: not a known f0 network; ${describeSessionIo(s)}. Known networks: ${KNOWN_NETWORKS}`);
  }
}
