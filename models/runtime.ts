// The one module that imports onnxruntime-node. Everything else asks it for sessions, so thread counts,
// spinning and the checks on inputs live in one place.
import * as ort from 'onnxruntime-node';

export interface SessionOptions {
  /** Intra-op threads; spinning is always off, since several sessions share a few cores (FIELD-NOTES §7). */
  threads?: number;
}

export class ModelLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelLoadError';
  }
}

export interface LoadedSession {
  readonly session: ort.InferenceSession;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

export async function loadSession(file: string, o: SessionOptions = {}): Promise<LoadedSession> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: o.threads ?? 1,
      interOpNumThreads: 1,
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
  } catch (e) {
    throw new ModelLoadError(`${file}: not a loadable ONNX model (${(e as Error).message.split('\n')[0]})`);
  }
  const inputNames = session.inputNames;
  const outputNames = session.outputNames;
  return {
    session,
    inputNames,
    outputNames,
    async run(feeds) {
      for (const name of inputNames) {
        if (!(name in feeds)) throw new ModelLoadError(`${file}: input "${name}" was not given (model inputs: ${inputNames.join(', ')})`);
      }
      return (await session.run(feeds)) as Record<string, ort.Tensor>;
    },
    release: () => session.release(),
  };
}

export function float32Tensor(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}
