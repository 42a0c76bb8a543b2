// Where the neural networks run: the execution providers a user can choose, and what each network actually
// got. Pure data shared by the host, the CLI, the control API and the UI; models/runtime.ts turns it into
// onnxruntime sessions.

/** Execution providers, in onnxruntime-node's terms: CPU, WebGPU (Dawn on Vulkan / Direct3D 12 / Metal), CUDA, DirectML, CoreML. */
export const PROVIDERS = ['cpu', 'webgpu', 'cuda', 'dml', 'coreml'] as const;
export type Provider = (typeof PROVIDERS)[number];
/** 'auto': the best accelerator this machine has, else CPU (models/runtime.ts has the order per platform). */
export type ProviderChoice = 'auto' | Provider;
export const PROVIDER_CHOICES = ['auto', ...PROVIDERS] as const satisfies readonly ProviderChoice[];

export const PROVIDER_LABELS: Record<ProviderChoice, string> = {
  auto: 'Automatic',
  cpu: 'CPU',
  webgpu: 'WebGPU',
  cuda: 'CUDA',
  dml: 'DirectML',
  coreml: 'CoreML',
};

/** How every onnxruntime session of a voice is made: the one set of runtime options from CLI, UI, presets and voice.json. */
export interface RuntimeOptions {
  provider: ProviderChoice;
  /** Intra-op threads per network (CPU work, including the CPU-only nodes of an accelerated graph). */
  threads: number;
}

export const DEFAULT_RUNTIME: RuntimeOptions = { provider: 'auto', threads: 2 };
export const THREAD_RANGE = { min: 1, max: 16 } as const;

/** One network of a loaded voice and where it runs. */
export interface NetworkPlacement {
  /** What the network does: 'content encoder', 'synthesizer', 'f0 (crepe)', … */
  network: string;
  provider: Provider;
  /** Why it is not on an accelerator (the one asked for is missing, 'auto' found none), in words; null when it is. */
  note: string | null;
}

/** An execution provider on this machine: whether it can run, and why not. */
export interface ProviderStatus {
  id: Provider;
  label: string;
  available: boolean;
  /** Why it is unavailable (or a caveat, such as a software adapter), in words. */
  reason: string | null;
}

export function isProviderChoice(x: unknown): x is ProviderChoice {
  return typeof x === 'string' && (PROVIDER_CHOICES as readonly string[]).includes(x);
}

/**
 * "content encoder WebGPU, synthesizer WebGPU, f0 (crepe) CPU": one line for the CLI and logs, then why any
 * network is not on an accelerator (each reason once).
 */
export function describePlacement(p: readonly NetworkPlacement[]): string {
  const notes = [...new Set(p.map((n) => n.note).filter((n): n is string => n !== null))];
  return p.map((n) => `${n.network} ${PROVIDER_LABELS[n.provider]}`).join(', ') + (notes.length ? ` (${notes.join('; ')})` : '');
}

/**
 * One network stage of the running voice (content encoder, synthesizer, mel, denoiser, vocoder…): where it runs and
 * what the last block cost it. Built in one place (stageReports) from the voice's stage list and its placement.
 */
export interface StageReport {
  name: string;
  /** Its placement's provider; null for a stage with no network of its own (the mel front end). */
  provider: Provider | null;
  /** Time of the last block, ms (0 while the input is gated silent). */
  ms: number;
  /** Network calls per block (a denoiser's k steps). */
  calls: number;
}

/** The voice's stages joined to its placement by name. */
export function stageReports(stages: readonly { name: string; calls: number }[], ms: (i: number) => number, placement: readonly NetworkPlacement[]): StageReport[] {
  return stages.map((s, i) => ({ name: s.name, provider: placement.find((p) => p.network === s.name)?.provider ?? null, ms: ms(i), calls: s.calls }));
}

/** "content encoder CPU 12.1 ms, denoiser ×10 WebGPU 40.2 ms, vocoder CPU 30.0 ms": one line for the CLI. */
export function describeStages(s: readonly StageReport[]): string {
  return s.map((x) => `${x.name}${x.calls > 1 ? ` ×${x.calls}` : ''} ${x.provider ? PROVIDER_LABELS[x.provider] : 'CPU'} ${x.ms.toFixed(1)} ms`).join(', ');
}
