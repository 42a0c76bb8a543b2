// The one module that imports onnxruntime-node. Everything else asks it for sessions, so thread counts,
// spinning, execution providers and the checks on inputs live in one place.
import * as ort from 'onnxruntime-node';
import { UserError } from '../protocol/errors.js';
import { checkRegularFile } from './regular-file.js';

export type Provider = 'cpu' | 'cuda' | 'dml' | 'coreml';
export type ElementType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool';

export interface SessionOptions {
  /** Intra-op threads; spinning is always off, since several sessions share a few cores (FIELD-NOTES §7). */
  threads?: number;
  /** 'auto' tries the platform's accelerator (DirectML, CoreML, CUDA where bundled) and falls back to CPU. */
  provider?: 'auto' | Provider;
  /** Name used in messages when the model comes as bytes. */
  name?: string;
}

export class ModelLoadError extends UserError {
  override name = 'ModelLoadError';
  constructor(message: string) {
    super(message, 'model');
  }
}

/** A feed that does not match what the model declares: a bug or a model of another contract. */
export class ModelInputError extends UserError {
  override name = 'ModelInputError';
  constructor(message: string) {
    super(message, 'model');
  }
}

export interface InputSpec {
  name: string;
  type: string;
  dims: readonly (number | string)[];
}

export interface LoadedSession {
  readonly name: string;
  /** The raw session, for metadata this wrapper does not surface; run through run() for the checks. */
  readonly session: ort.InferenceSession;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputs: readonly InputSpec[];
  /** The execution provider the session runs on. */
  readonly provider: Provider;
  /** Set when the requested accelerator was not usable and the session fell back to CPU. */
  readonly providerNote: string | null;
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

// onnxruntime's log repeats on stderr what its exceptions say; every failure reaches the user once, as an
// error or the accelerator fallback's note, in words.
ort.env.logLevel = 'fatal';

const ORT_NAMES: Record<Provider, string> = { cpu: 'cpu', cuda: 'cuda', dml: 'dml', coreml: 'coreml' };
const LABELS: Record<Provider, string> = { cpu: 'CPU', cuda: 'CUDA', dml: 'DirectML', coreml: 'CoreML' };

/** Accelerators this build of onnxruntime-node carries on this platform, best first. */
export function availableProviders(): Provider[] {
  const bundled = new Set(ort.listSupportedBackends().filter((b) => b.bundled).map((b) => b.name));
  const order: Provider[] = process.platform === 'win32' ? ['cuda', 'dml'] : process.platform === 'darwin' ? ['coreml'] : ['cuda'];
  return [...order.filter((p) => bundled.has(ORT_NAMES[p])), 'cpu'];
}

function create(source: string | Uint8Array, provider: Provider, threads: number): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: provider === 'cpu' ? ['cpu'] : [ORT_NAMES[provider], 'cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
  return typeof source === 'string' ? ort.InferenceSession.create(source, options) : ort.InferenceSession.create(source, options);
}

export async function loadSession(source: string | Uint8Array, o: SessionOptions = {}): Promise<LoadedSession> {
  const name = typeof source === 'string' ? source : (o.name ?? 'model');
  // onnxruntime opens a path itself: a FIFO would block it forever and a device feed it without end.
  if (typeof source === 'string') await checkRegularFile(source, { what: 'ONNX model', fail: (m) => new ModelLoadError(m) });
  const wanted = o.provider ?? 'cpu';
  const candidates = wanted === 'auto' ? availableProviders() : wanted === 'cpu' ? ['cpu' as const] : [wanted, 'cpu' as const];
  let session: ort.InferenceSession | null = null;
  let provider: Provider = 'cpu';
  const failures: string[] = [];
  for (const p of candidates) {
    try {
      session = await create(source, p, o.threads ?? 1);
      provider = p;
      break;
    } catch (e) {
      const reason = (e as Error).message.split('\n')[0]!;
      // A broken file fails on CPU too; only an accelerator failure is worth a fallback.
      if (p === 'cpu') throw new ModelLoadError(`${name}: not a loadable ONNX model (${reason}); download or export it again`);
      failures.push(`${LABELS[p]} unavailable (${reason})`);
    }
  }
  if (!session) throw new ModelLoadError(`${name}: could not create a session`);
  if (wanted !== 'auto' && wanted !== 'cpu' && provider === 'cpu' && failures.length === 0) {
    failures.push(`${LABELS[wanted]} unavailable`);
  }
  const providerNote = failures.length ? `${failures.join('; ')}: running on CPU` : null;
  const s = session;
  const inputs: InputSpec[] = s.inputMetadata.map((m) =>
    m.isTensor ? { name: m.name, type: m.type, dims: m.shape } : { name: m.name, type: 'non-tensor', dims: [] },
  );
  const checked = new WeakSet<ort.Tensor>();
  return {
    name,
    session: s,
    inputNames: s.inputNames,
    outputNames: s.outputNames,
    inputs,
    provider,
    providerNote,
    async run(feeds) {
      for (const spec of inputs) {
        const t = feeds[spec.name];
        if (!t) throw new ModelInputError(`${name}: input "${spec.name}" was not given (model inputs: ${s.inputNames.join(', ')})`);
        // Tensors are reused block after block, so each is checked once.
        if (!checked.has(t)) {
          checkFeed(name, spec, t);
          checked.add(t);
        }
      }
      for (const key of Object.keys(feeds)) {
        if (!s.inputNames.includes(key)) throw new ModelInputError(`${name}: the model has no input "${key}" (model inputs: ${s.inputNames.join(', ')})`);
      }
      return (await s.run(feeds)) as Record<string, ort.Tensor>;
    },
    release: () => s.release(),
  };
}

function checkFeed(model: string, spec: InputSpec, t: ort.Tensor): void {
  if (spec.type !== t.type) {
    throw new ModelInputError(`${model}: input "${spec.name}" wants ${spec.type}, was given ${t.type}`);
  }
  // A scalar input may be declared [] or [1]; ranks must agree otherwise, and fixed sizes must match.
  if (spec.dims.length === 0 && t.dims.length <= 1 && t.size === 1) return;
  const bad = spec.dims.length !== t.dims.length || spec.dims.some((d, i) => typeof d === 'number' && d > 0 && d !== t.dims[i]);
  if (bad) {
    throw new ModelInputError(`${model}: input "${spec.name}" wants shape [${spec.dims.join(', ')}], was given [${t.dims.join(', ')}]`);
  }
}

export function float32Tensor(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

export type Tensor = ort.Tensor;

type Storage = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

function storage(type: ElementType, n: number): Storage {
  switch (type) {
    case 'float32': return new Float32Array(n);
    case 'float16': return new Uint16Array(n);
    case 'int64': return new BigInt64Array(n);
    case 'int32': return new Int32Array(n);
    case 'bool': return new Uint8Array(n);
  }
}

/**
 * A tensor whose storage is allocated once at its largest size; view() hands out an ort.Tensor over the
 * first elements for the given shape, made again only when the shape changes. Per-block inference then
 * writes into `data` and allocates nothing for the audio itself.
 */
export class ReusableTensor<T extends Storage = Storage> {
  readonly data: T;
  private tensor: ort.Tensor | null = null;
  private dims: number[] = [];

  constructor(readonly type: ElementType, capacity: number) {
    this.data = storage(type, capacity) as T;
  }

  view(dims: number[]): ort.Tensor {
    if (this.tensor && dims.length === this.dims.length && dims.every((d, i) => d === this.dims[i])) return this.tensor;
    const n = dims.reduce((a, b) => a * b, 1);
    if (n > this.data.length) throw new RangeError(`tensor of ${n} elements exceeds its capacity ${this.data.length}`);
    this.dims = dims.slice();
    this.tensor = new ort.Tensor(this.type, this.data.subarray(0, n) as never, this.dims);
    return this.tensor;
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half-precision bits of a float32 (round to nearest even), for models exported in float16. */
export function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** float32 value of IEEE half-precision bits. */
export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
