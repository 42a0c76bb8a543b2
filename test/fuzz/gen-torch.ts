// Valid PyTorch checkpoints made in-process with the test torch writer, the base the checkpoint, pickle, zip
// and HuBERT families damage.
import { OP, OrderedDict, pickle, PickleWriter, storage, Tensor, zipCheckpoint, type Storage } from '../models/torch/torch-writer.js';

export interface CheckpointParts {
  pkl: Uint8Array;
  storages: Storage[];
}

/** A checkpoint whose data.pkl is `ops` between PROTO 2 and STOP, as parts that can be damaged before zipping. */
export function rawParts(write: (w: PickleWriter) => void): CheckpointParts {
  const w = new PickleWriter().op(OP.PROTO, 2);
  write(w);
  w.op(OP.STOP);
  return { pkl: w.bytes(), storages: [...w.storages.values()] };
}

/** Zips parts the way torch.save does, so damage inside a record reaches the reader past the zip layer. */
export function zipParts(p: CheckpointParts): Uint8Array {
  return zipCheckpoint(p.pkl, p.storages);
}

export function validCheckpoint(): Uint8Array {
  return zipParts(validParts());
}

/** A small state dict with the dtypes and shapes RVC files hold, plus a config list as RVC keeps one. */
export function validParts(): CheckpointParts {
  const w = (key: string, n: number) => Array.from({ length: n }, (_, i) => ((i * 7 + key.length) % 13) / 13 - 0.5);
  const weight = new OrderedDict([
    ['enc_p.emb_phone.weight', new Tensor(storage('0', 'HalfStorage', w('a', 24)), [4, 6])],
    ['enc_p.emb_phone.bias', new Tensor(storage('1', 'FloatStorage', w('bb', 4)), [4])],
    ['dec.conv_pre.weight', new Tensor(storage('2', 'FloatStorage', w('ccc', 18)), [2, 3, 3])],
    ['emb_g.weight', new Tensor(storage('3', 'HalfStorage', w('dddd', 8)), [2, 4])],
    ['steps', new Tensor(storage('4', 'LongStorage', [1n, 2n, 3n]), [3])],
  ]);
  const { pkl, storages } = pickle(new OrderedDict([
    ['weight', weight],
    ['config', [513, 32, 192, 192, 768, 2, 6, 3, 0, '1', [3, 7, 11], [[1, 3, 5]], [10, 10, 2, 2], 512, [16, 16, 4, 4], 109, 256, 40000]],
    ['info', '300epoch'],
    ['sr', '40k'],
    ['f0', 1],
    ['version', 'v2'],
  ]));
  return { pkl, storages: [...storages.values()] };
}
