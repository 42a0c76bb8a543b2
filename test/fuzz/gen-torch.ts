// Valid PyTorch checkpoints made in-process with the test torch writer, the base the checkpoint, pickle, zip
// and HuBERT families damage.
import { OrderedDict, storage, Tensor, torchSave } from '../models/torch/torch-writer.js';

/** A small state dict with the dtypes and shapes RVC files hold, plus a config list as RVC keeps one. */
export function validCheckpoint(): Uint8Array {
  const w = (key: string, n: number) => Array.from({ length: n }, (_, i) => ((i * 7 + key.length) % 13) / 13 - 0.5);
  const weight = new OrderedDict([
    ['enc_p.emb_phone.weight', new Tensor(storage('0', 'HalfStorage', w('a', 24)), [4, 6])],
    ['enc_p.emb_phone.bias', new Tensor(storage('1', 'FloatStorage', w('bb', 4)), [4])],
    ['dec.conv_pre.weight', new Tensor(storage('2', 'FloatStorage', w('ccc', 18)), [2, 3, 3])],
    ['emb_g.weight', new Tensor(storage('3', 'HalfStorage', w('dddd', 8)), [2, 4])],
    ['steps', new Tensor(storage('4', 'LongStorage', [1n, 2n, 3n]), [3])],
  ]);
  return torchSave(new OrderedDict([
    ['weight', weight],
    ['config', [513, 32, 192, 192, 768, 2, 6, 3, 0, '1', [3, 7, 11], [[1, 3, 5]], [10, 10, 2, 2], 512, [16, 16, 4, 4], 109, 256, 40000]],
    ['info', '300epoch'],
    ['sr', '40k'],
    ['f0', 1],
    ['version', 'v2'],
  ]));
}
