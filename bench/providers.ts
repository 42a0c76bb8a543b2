// The benches' one way to take execution providers: `--providers cpu,webgpu` (each checked by name and probed;
// one that cannot run here is printed as skipped, with why), or by default CPU plus WebGPU where it runs. And
// the node placement line each bench prints for a GPU provider: a node onnxruntime has no kernel for runs on the
// CPU in the middle of the graph, with copies between the devices on every run, which per-session provider
// names would not show.
import { describePlacement, nodePlacement } from '../models/node-placement.js';
import { probeProvider } from '../models/runtime.js';
import { isProviderChoice, PROVIDER_LABELS, type Provider } from '../protocol/runtime.js';

/** `--providers` as a string option for parseArgs: no default, so the absent flag means "CPU plus what runs". */
export const PROVIDERS_OPTION = { type: 'string' } as const;

/** The providers to run on: those asked for that run here, or CPU plus WebGPU where its probe passes. */
export async function benchProviders(arg: string | undefined): Promise<Provider[]> {
  const out: Provider[] = [];
  for (const p of (arg ?? 'cpu,webgpu').split(',')) {
    if (!isProviderChoice(p) || p === 'auto') throw new Error(`--providers: ${p} is not a provider (cpu, webgpu, cuda, dml, coreml)`);
    const why = await probeProvider(p);
    if (why) console.log(`${PROVIDER_LABELS[p]}: skipped (${why})`);
    else out.push(p);
  }
  return out;
}

/** "WebGPU network: all 270 nodes on the provider" (or the ops left on the CPU); nothing for CPU. */
export async function printPlacement(provider: Provider, network: string, bytes: Uint8Array | string): Promise<void> {
  if (provider === 'cpu') return;
  try {
    console.log(`  ${PROVIDER_LABELS[provider]} ${network}: ${describePlacement(await nodePlacement(bytes, provider))}`);
  } catch (e) {
    console.log(`  ${PROVIDER_LABELS[provider]} ${network}: placement not read (${(e as Error).message})`);
  }
}
