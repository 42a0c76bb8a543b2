// Which of a graph's nodes onnxruntime puts on which execution provider. A session reports only the provider
// list it was given; a node the accelerator has no kernel for (RandomNormalLike on WebGPU, say) runs on the CPU
// in the middle of the graph and costs copies between the devices on every run, which a benchmark's per-session
// provider would not show. onnxruntime logs the placement at verbose level from native code, straight to file
// descriptor 2, so a child process (./node-placement-child.ts) makes the session with that log on, and this
// reads it back.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Provider } from '../protocol/runtime.js';

/** onnxruntime's name for each provider's kernels, as its placement log spells them. */
const EP_NAMES: Record<Provider, string> = {
  cpu: 'CPUExecutionProvider',
  webgpu: 'WebGpuExecutionProvider',
  cuda: 'CUDAExecutionProvider',
  dml: 'DmlExecutionProvider',
  coreml: 'CoreMLExecutionProvider',
};

export interface PlacedNode {
  op: string;
  node: string;
}

export interface NodePlacement {
  /** Nodes per onnxruntime execution provider (after graph optimisation; copies included). */
  counts: Record<string, number>;
  /** Nodes that are not on the provider asked for (empty for CPU), in graph order. */
  off: PlacedNode[];
  /** Copies onnxruntime inserted between the devices (MemcpyToHost / MemcpyFromHost nodes). */
  copies: number;
}

const HEADER = /Node\(s\) placed on \[(\w+)\]\. Number of nodes: (\d+)|All nodes placed on \[(\w+)\]\. Number of nodes: (\d+)/;
const NODE = /VerifyEachNodeIsAssignedToAnEp\]\s+(\S+) \((.*)\)\s*$/;

/** Reads the placement out of onnxruntime's verbose log (exported for its test). */
export function parsePlacement(log: string, provider: Provider): NodePlacement {
  const counts: Record<string, number> = {};
  const off: PlacedNode[] = [];
  let copies = 0;
  let ep: string | null = null;
  for (const line of log.split('\n')) {
    const h = HEADER.exec(line);
    if (h) {
      ep = h[1] ?? h[3]!;
      counts[ep] = Number(h[2] ?? h[4]);
      continue;
    }
    const n = ep ? NODE.exec(line) : null;
    if (!n) continue;
    if (n[1]!.startsWith('Memcpy')) copies++;
    if (ep !== EP_NAMES[provider]) off.push({ op: n[1]!, node: n[2]! });
  }
  if (Object.keys(counts).length === 0) throw new Error('onnxruntime logged no node placement (its verbose log changed?)');
  return { counts, off, copies };
}

const TIMEOUT_MS = 300_000;

/** Where onnxruntime places each node of this graph on `provider` (with the options every Resona session has). */
export async function nodePlacement(source: Uint8Array | string, provider: Provider, threads = 1): Promise<NodePlacement> {
  let file = typeof source === 'string' ? source : null;
  const dir = file ? null : await fs.mkdtemp(path.join(os.tmpdir(), 'resona-placement-'));
  try {
    if (!file) await fs.writeFile((file = path.join(dir!, 'model.onnx')), source as Uint8Array);
    const script = fileURLToPath(new URL('./node-placement-child.js', import.meta.url));
    const log = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [script, file!, provider, String(threads)], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: TIMEOUT_MS, maxBuffer: 256 << 20 },
        (err, _stdout, stderr) => (err ? reject(new Error(`node placement on ${provider} failed: ${stderr.split('\n').filter((l) => !/\[[VI]:onnxruntime/.test(l)).join(' ').slice(0, 400) || err.message}`)) : resolve(stderr)));
    });
    return parsePlacement(log, provider);
  } finally {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  }
}

/** One line: "all 273 nodes on WebGpuExecutionProvider" or the ops left off it, counted. */
export function describePlacement(p: NodePlacement): string {
  const total = Object.values(p.counts).reduce((a, b) => a + b, 0);
  if (p.off.length === 0) return `all ${total} nodes on the provider`;
  const ops = new Map<string, number>();
  for (const n of p.off) ops.set(n.op, (ops.get(n.op) ?? 0) + 1);
  return `${p.off.length} of ${total} nodes off the provider (${[...ops].map(([op, k]) => (k > 1 ? `${op} ×${k}` : op)).join(', ')}), ${p.copies} device copies`;
}
