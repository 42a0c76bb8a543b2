// Generators for the hostile checkpoints the fuzzing campaign found, and the cases the hostile test runs on them
// in child processes. Every file is made here by code; none is stored.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readCheckpoint } from '../../../models/torch/checkpoint.js';
import { convertHubertCheckpoint } from '../../../models/torch/hubert-import.js';
import { parseRvcCheckpoint } from '../../../models/torch/rvc-checkpoint.js';
import { sharedStreamZip, zip64Claim } from '../archive/zip-bombs.js';
import { OP, OrderedDict, pickle, type PickleWriter, Raw, rawCheckpoint, torchSave } from './torch-writer.js';

const POP = 0x30;

/**
 * L_depth on the stack, where L_0 = [] and L_k = [L_k-1, L_k-1] through memo references: a few bytes per
 * level, 2^depth lists to anything that walks it as a tree. Memo slots from 200 up, clear of the writer's.
 */
export function referenceGraph(depth: number, slot = 200): Raw {
  return new Raw((w) => {
    w.op(OP.EMPTY_LIST, OP.BINPUT, slot, POP);
    for (let k = 1; k <= depth; k++) w.op(OP.EMPTY_LIST, OP.MARK, OP.BINGET, slot + k - 1, OP.BINGET, slot + k - 1, OP.APPENDS, OP.BINPUT, slot + k, POP);
    w.op(OP.BINGET, slot + depth);
  });
}

/** A list nested `depth` deep: [[[…]]]. */
export function deepList(depth: number): Raw {
  return new Raw((w) => {
    for (let i = 0; i < depth; i++) w.op(OP.EMPTY_LIST);
    for (let i = 1; i < depth; i++) w.op(OP.APPEND);
  });
}

/** A list that holds itself, directly or (indirect) through a dict it holds. */
export function selfContaining(kind: 'list' | 'dict' | 'indirect'): Raw {
  return new Raw((w) => {
    if (kind === 'list') w.op(OP.EMPTY_LIST, OP.BINPUT, 250, OP.BINGET, 250, OP.APPEND);
    else if (kind === 'dict') w.op(OP.EMPTY_DICT, OP.BINPUT, 250).str('me').op(OP.BINGET, 250, OP.SETITEM);
    else w.op(OP.EMPTY_LIST, OP.BINPUT, 250, OP.EMPTY_DICT).str('up').op(OP.BINGET, 250, OP.SETITEM, OP.APPEND);
  });
}

/** torch._utils._rebuild_tensor_v2 over a one-element storage, its size replaced by `size`. */
function tensorWithSize(w: PickleWriter, size: Raw): void {
  w.global('torch._utils', '_rebuild_tensor_v2').op(OP.MARK);
  w.op(OP.MARK).str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(1).op(OP.TUPLE, OP.BINPERSID);
  w.int(0).value(size).tuple([1]).value(false);
  w.global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE, OP.REDUCE);
  w.op(OP.TUPLE, OP.REDUCE);
}

/** RVC's v2 40 kHz config list, one field replaced. */
function rvcVoice(field: number, value: unknown): Uint8Array {
  const config: unknown[] = [1025, 32, 192, 192, 768, 2, 6, 3, 0, '1', [3, 7, 11], [[1, 3, 5], [1, 3, 5], [1, 3, 5]], [10, 10, 2, 2], 512, [16, 16, 4, 4], 109, 256, 40000];
  config[field] = value;
  return torchSave(new OrderedDict([['weight', new OrderedDict([])], ['config', config], ['f0', 1], ['version', 'v2'], ['sr', '40k'], ['info', '']]));
}

/** A fairseq HuBERT checkpoint (weights left out: the config is read first) with this conv_feature_layers. */
async function hubertWithConvSpec(spec: string): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'resona-hostile-'));
  try {
    const file = path.join(dir, 'hubert_base.pt');
    writeFileSync(file, torchSave({ model: new OrderedDict([]), cfg: { model: { _name: 'hubert', conv_feature_layers: spec } } }));
    await convertHubertCheckpoint(file, dir, { layer: 12, channels: 768 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const read = (bytes: Uint8Array) => readCheckpoint(bytes, 'hostile.pth');
const stored = (name: string, data: Uint8Array) => ({ name, data, method: 0 as const, size: data.length });

export const cases: Record<string, () => unknown> = {
  'a checkpoint whose four storages share one 1 GiB stream': () => {
    const { pkl } = pickle(null);
    return read(sharedStreamZip(['archive/data/0', 'archive/data/1', 'archive/data/2', 'archive/data/3'], 'true', [stored('archive/data.pkl', pkl)]));
  },
  'a zip64 checkpoint claiming 4 billion entries': () => read(zip64Claim([stored('archive/data.pkl', pickle(null).pkl)])),
  'a dict key [L, L] nested 40 deep': () => read(torchSave(new Map([[referenceGraph(40), 1]]))),
  'a tensor size [L, L] nested 40 deep': () => read(rawCheckpoint((w) => tensorWithSize(w, referenceGraph(40)))),
  'a torch.device index [L, L] nested 40 deep': () =>
    read(rawCheckpoint((w) => w.global('torch', 'device').str('cuda').value(referenceGraph(40)).op(OP.TUPLE2, OP.REDUCE))),
  'an RVC config field [L, L] nested 40 deep': () => parseRvcCheckpoint(read(rvcVoice(10, referenceGraph(40))), 'voice.pth'),
  'a dict key nested 5,000 deep': () => read(torchSave(new Map([[deepList(5000), 1]]))),
  'a list that contains itself': () => read(torchSave({ x: selfContaining('list') })),
  'a dict that contains itself': () => read(torchSave({ x: selfContaining('dict') })),
  'a list that contains itself through a dict': () => read(torchSave({ x: selfContaining('indirect') })),
  'conv_feature_layers [(512,10,5)] * 10000000000': () => hubertWithConvSpec('[(512,10,5)] * 10000000000'),
  'conv_feature_layers of 100,000 terms': () => hubertWithConvSpec(`[(512,10,5)]${' + [(512,10,5)]'.repeat(100_000)}`),
  'conv_feature_layers nested 1,000,000 brackets deep': () => hubertWithConvSpec(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`),
  'conv_feature_layers of 33 layers': () => hubertWithConvSpec('[(512,10,5)] + [(512,3,2)] * 32'),
  'conv_feature_layers with a 20-digit channel count': () => hubertWithConvSpec('[(99999999999999999999,10,5)]'),
  'conv_feature_layers that is a list': () => hubertWithConvSpec(referenceGraph(40) as unknown as string),
};
