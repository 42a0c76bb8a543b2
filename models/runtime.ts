// The one module that imports onnxruntime-node. Everything else asks it for sessions, so thread counts,
// spinning, execution providers and the checks on inputs live in one place.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { UserError } from '../protocol/errors.js';
import { PROVIDER_LABELS as LABELS, PROVIDERS, type Provider, type ProviderChoice, type ProviderStatus } from '../protocol/runtime.js';
import { GraphBuilder } from './onnx/graph-builder.js';
import { checkRegularFile } from './regular-file.js';

export type { Provider, ProviderChoice, RuntimeOptions, NetworkPlacement, ProviderStatus } from '../protocol/runtime.js';
export type ElementType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool';

export interface SessionOptions {
  /** Intra-op threads; spinning is always off, since several sessions share a few cores (FIELD-NOTES §7). */
  threads?: number;
  /** 'auto' takes the best accelerator this machine has (see AUTO_ORDER) and falls back to CPU. Default: CPU. */
  provider?: ProviderChoice;
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
  /** Set when the requested accelerator was not usable and the session fell back to CPU (a warning). */
  readonly providerNote: string | null;
  /** Why the session is not on an accelerator, also under 'auto' (for the UI and print-outs); null when it is. */
  readonly placementNote: string | null;
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

// onnxruntime's log repeats on stderr what its exceptions say; every failure reaches the user once, as an
// error or the accelerator fallback's note, in words.
ort.env.logLevel = 'fatal';

/**
 * The providers as data: onnxruntime's name for each, the platforms whose onnxruntime-node build can carry it,
 * and what to tell a user who asked for it where it cannot run.
 */
const SPECS: Record<Provider, { ort: string; platforms: readonly NodeJS.Platform[]; missing: string; brief: string }> = {
  cpu: { ort: 'cpu', platforms: ['linux', 'win32', 'darwin'], missing: '', brief: '' },
  webgpu: {
    ort: 'webgpu',
    brief: 'no GPU adapter',
    platforms: ['linux', 'win32', 'darwin'],
    missing: 'no GPU adapter found: WebGPU needs a Vulkan (Linux: the GPU vendor\'s Vulkan driver and libvulkan1), Direct3D 12 or Metal driver',
  },
  cuda: {
    ort: 'cuda',
    brief: 'not installed',
    platforms: ['linux', 'win32'],
    missing: "CUDA's files are not installed: run `RESONA_CUDA=1 bash scripts/setup.sh` (onnxruntime-node's CUDA 12 build; needs an NVIDIA driver, CUDA 12 and cuDNN 9)",
  },
  dml: { ort: 'dml', platforms: ['win32'], missing: 'DirectML runs on Windows only', brief: 'Windows only' },
  coreml: { ort: 'coreml', platforms: ['darwin'], missing: 'CoreML runs on macOS only', brief: 'macOS only' },
};

/**
 * What 'auto' tries, best first. CUDA leads where its files were installed on purpose; WebGPU covers every
 * desktop GPU with no download; on macOS WebGPU (Metal) comes before CoreML, whose EP takes only a subset of
 * these graphs' operators and splits them into many partitions.
 */
const AUTO_ORDER: Partial<Record<NodeJS.Platform, Provider[]>> = {
  linux: ['cuda', 'webgpu'],
  win32: ['cuda', 'dml', 'webgpu'],
  darwin: ['webgpu', 'coreml'],
};

/**
 * A Vulkan driver that renders on the CPU (SwiftShader, Mesa's lavapipe/llvmpipe): WebGPU runs there, correctly
 * but slower than onnxruntime's own CPU kernels, so 'auto' does not take it (an explicit 'webgpu' still does).
 */
function softwareVulkan(): string | null {
  const icd = `${process.env.VK_ICD_FILENAMES ?? ''}:${process.env.VK_DRIVER_FILES ?? ''}`;
  const m = /swiftshader|lvp|llvmpipe/i.exec(icd);
  return m ? `software renderer only (${m[0]}), slower than the CPU` : null;
}

/** onnxruntime's failure, in words a user can act on. */
function explain(p: Provider, raw: string): string {
  if (/backend not found|Failed to load shared library|Failed to get a WebGPU adapter|No supported adapters|not supported on this platform/i.test(raw)) {
    return SPECS[p].missing;
  }
  return raw.split('\n')[0]!.replace(/^\/onnxruntime_src\/\S+\s+/, '');
}

// A one-node model (y = 2x) that each accelerator must load and run once before any voice uses it.
let probeModel: Uint8Array | null = null;
function probeBytes(): Uint8Array {
  if (!probeModel) {
    const g = new GraphBuilder('resona-provider-probe');
    const x = g.input('x', 'float32', [1, 'N']);
    g.op('Mul', [x, g.f32([2])], {}, 'y');
    g.output('y', 'float32', [1, 'N']);
    probeModel = g.toBytes({ opset: 17 });
  }
  return probeModel;
}

const probes = new Map<Provider, Promise<string | null>>();

/**
 * Providers probed in a child process: Dawn (WebGPU) and the Vulkan loader print their adapter search straight
 * to file descriptor 2 from native code ("Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.", "error:
 * XDG_RUNTIME_DIR is invalid …"), which nothing in-process can intercept. The child's output is dropped; the
 * answer comes back as one JSON line, and Resona says in words whether WebGPU runs and why not. Where the probe
 * succeeds, the sessions made here afterwards find their adapter without such prints.
 */
const PROBE_IN_CHILD: ReadonlySet<Provider> = new Set(['webgpu']);
const PROBE_ENV = 'RESONA_PROVIDER_PROBE_';
const PROBE_TIMEOUT_MS = 20_000;

/** Whether the provider can run here: null, or why not in words. Probed once per process (an adapter does not come and go). */
export function probeProvider(p: Provider): Promise<string | null> {
  let known = probes.get(p);
  if (!known) {
    known = p === 'cpu' ? Promise.resolve(null) : !SPECS[p].platforms.includes(process.platform) ? Promise.resolve(SPECS[p].missing)
      : PROBE_IN_CHILD.has(p) ? probeInChild(p) : probeHere(p);
    probes.set(p, known);
  }
  return known;
}

/** Loads and runs the one-node model on the provider in this process. */
export async function probeHere(p: Provider): Promise<string | null> {
  try {
    const s = await create(probeBytes(), p, 1);
    try {
      const y = (await s.run({ x: new ort.Tensor('float32', new Float32Array([1, 2]), [1, 2]) })).y!;
      if ((y.data as Float32Array)[1] !== 4) return `${LABELS[p]} ran a test model wrongly`;
    } finally {
      await s.release();
    }
    return null;
  } catch (e) {
    return explain(p, (e as Error).message);
  }
}

async function probeInChild(p: Provider): Promise<string | null> {
  // Worker threads started later (the inference worker) inherit the answer through the environment; it holds
  // only for the same Vulkan driver choice (child processes inherit it too, perhaps with another driver).
  const drivers = `${process.env.VK_ICD_FILENAMES ?? ''}:${process.env.VK_DRIVER_FILES ?? ''}`;
  const cached = process.env[PROBE_ENV + p];
  if (cached?.startsWith(`${drivers}|`)) {
    const why = cached.slice(drivers.length + 1);
    return why === 'ok' ? null : why;
  }
  const script = fileURLToPath(new URL('./provider-probe-child.js', import.meta.url));
  const why = await new Promise<string | null>((resolve) => {
    execFile(
      process.execPath,
      [script, p],
      // ELECTRON_RUN_AS_NODE: in the packaged app, execPath is Electron's binary.
      { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: PROBE_TIMEOUT_MS, maxBuffer: 1 << 20 },
      (err, stdout) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          const r = JSON.parse(line) as { why: string | null };
          resolve(r.why);
        } catch {
          const killed = (err as { killed?: boolean } | null)?.killed;
          resolve(killed ? `the GPU driver did not answer within ${PROBE_TIMEOUT_MS / 1000} s` : `${LABELS[p]}'s test crashed (${(err?.message ?? 'no answer').split('\n')[0]})`);
        }
      },
    );
  });
  process.env[PROBE_ENV + p] = `${drivers}|${why ?? 'ok'}`;
  return why;
}

/** Every provider with whether it runs here, for `resona providers`-style listings and the UI's selector. */
export async function providerStatus(): Promise<ProviderStatus[]> {
  const out: ProviderStatus[] = [];
  for (const id of PROVIDERS) {
    const why = await probeProvider(id);
    const caveat = id === 'webgpu' && why === null ? softwareVulkan() : null;
    out.push({ id, label: LABELS[id], available: why === null, reason: why ?? caveat });
  }
  return out;
}

/** Accelerators that run here, in 'auto''s order, then CPU. */
export async function availableProviders(): Promise<Provider[]> {
  const ok: Provider[] = [];
  for (const p of AUTO_ORDER[process.platform] ?? []) if ((await probeProvider(p)) === null) ok.push(p);
  return [...ok, 'cpu'];
}

/**
 * The provider a choice comes to on this machine. `note` says why it is not the one asked for (a warning: an
 * explicit choice fell back); `why` explains a CPU placement under 'auto' (no accelerator here, and why), for
 * the UI and print-outs, not repeated as a warning on every load.
 */
export async function resolveProvider(choice: ProviderChoice): Promise<{ provider: Provider; note: string | null; why: string | null }> {
  if (choice === 'cpu') return { provider: 'cpu', note: null, why: null };
  if (choice !== 'auto') {
    const why = await probeProvider(choice);
    const note = why === null ? null : `${LABELS[choice]} unavailable (${why}): running on CPU`;
    return { provider: why === null ? choice : 'cpu', note, why: note };
  }
  const reasons: string[] = [];
  for (const p of AUTO_ORDER[process.platform] ?? []) {
    const why = (await probeProvider(p)) ?? (p === 'webgpu' ? softwareVulkan() : null);
    if (why === null) return { provider: p, note: null, why: null };
    reasons.push(`${LABELS[p]} ${why === SPECS[p].missing ? SPECS[p].brief : why}`);
  }
  return { provider: 'cpu', note: null, why: `auto: no accelerator here (${reasons.join(', ')})` };
}

/** The networks of a voice, by what they do. */
export type NetworkRole = 'encoder' | 'synthesizer' | 'f0';

/**
 * Per-network placement under 'auto': the pitch networks (SwiftF0 0.4 MB, CREPE tiny 2 MB) do microseconds of
 * arithmetic per block, so a GPU's per-call cost (dispatch, copies both ways) would only add to their time; they
 * stay on CPU while the encoder and the synthesizer take the accelerator. An explicit choice places every network.
 */
export function providerFor(role: NetworkRole, choice: ProviderChoice): ProviderChoice {
  return role === 'f0' && choice === 'auto' ? 'cpu' : choice;
}

/** The options every session is made with (also by ./node-placement-child.ts, which must place nodes alike). */
export function sessionOptions(provider: Provider, threads: number): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: provider === 'cpu' ? ['cpu'] : [SPECS[provider].ort, 'cpu'],
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

function create(source: string | Uint8Array, provider: Provider, threads: number): Promise<ort.InferenceSession> {
  const options = sessionOptions(provider, threads);
  return typeof source === 'string' ? ort.InferenceSession.create(source, options) : ort.InferenceSession.create(source, options);
}

export async function loadSession(source: string | Uint8Array, o: SessionOptions = {}): Promise<LoadedSession> {
  const name = typeof source === 'string' ? source : (o.name ?? 'model');
  // onnxruntime opens a path itself: a FIFO would block it forever and a device feed it without end.
  if (typeof source === 'string') await checkRegularFile(source, { what: 'ONNX model', fail: (m) => new ModelLoadError(m) });
  const placed = await resolveProvider(o.provider ?? 'cpu');
  let provider = placed.provider;
  let providerNote = placed.note;
  let placementNote = placed.why;
  let session: ort.InferenceSession;
  try {
    session = await create(source, provider, o.threads ?? 1);
  } catch (e) {
    const reason = (e as Error).message.split('\n')[0]!;
    // A broken file fails on CPU too; only an accelerator's failure on this one graph is worth a fallback.
    if (provider === 'cpu') throw new ModelLoadError(`${name}: not a loadable ONNX model (${reason}); download or export it again`);
    try {
      session = await create(source, 'cpu', o.threads ?? 1);
    } catch (e2) {
      throw new ModelLoadError(`${name}: not a loadable ONNX model (${(e2 as Error).message.split('\n')[0]}); download or export it again`);
    }
    providerNote = `${LABELS[provider]} could not load this network (${explain(provider, reason)}): running on CPU`;
    placementNote = providerNote;
    provider = 'cpu';
  }
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
    placementNote,
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
