// HuBERT / ContentVec checkpoints whose saved config is hostile: conv_feature_layers that multiply to billions
// of layers, very long or deeply bracketed specs, wrong types, huge numbers.
import { OrderedDict, torchSave } from '../models/torch/torch-writer.js';
import { oneFile, type Built, type Family } from './family.js';
import type { Rng } from './rng.js';

const FILE = 'hubert_base.pt';

function withConfig(model: Record<string, unknown>): Uint8Array {
  return torchSave(new OrderedDict([['cfg', { model: { _name: 'hubert', ...model } }], ['model', new OrderedDict([])]]));
}

const SPECS: Array<[string, unknown]> = [
  ['HuBERT base (valid)', '[(512,10,5)] + [(512,3,2)] * 4 + [(512,2,2)] * 2'],
  ['[(512,10,5)] * 10000000000', '[(512,10,5)] * 10000000000'],
  ['[(512,10,5)] * 99999999', '[(512,10,5)] * 99999999'],
  ['a 400-digit repeat count', `[(512,10,5)] * ${'9'.repeat(400)}`],
  ['a 400-digit channel count', `[(${'9'.repeat(400)},10,5)]`],
  ['200000 tuples in one list (2.4 MB spec)', `[${'(512,3,2),'.repeat(200_000)}]`],
  ['100000 lists summed', Array.from({ length: 100_000 }, () => '[(512,3,2)]').join(' + ')],
  ['1000 lists each * 1000000', Array.from({ length: 1000 }, () => '[(512,3,2)] * 1000000').join(' + ')],
  ['100000 opening brackets', '['.repeat(100_000)],
  ['stride 0', '[(512,10,0)]'],
  ['strides that overflow the hop (2^60 after 60 layers)', '[(512,2,2)] * 60'],
  ['empty string', ''],
  ['a number', 5],
  ['None', null],
  ['a list of tuples instead of a string', [[512, 10, 5]]],
  ['a nested dict', { a: { b: 1 } }],
];

const FIELDS: Array<[string, Record<string, unknown>]> = [
  ['encoder_layers = 10^12', { encoder_layers: 1_000_000_000_000 }],
  ['encoder_embed_dim = 2^62', { encoder_embed_dim: 2n ** 62n }],
  ['encoder_attention_heads = 0', { encoder_attention_heads: 0 }],
  ['conv_pos_groups = -1', { conv_pos_groups: -1 }],
  ['final_dim = 1e308', { final_dim: 1e308 }],
  ['layer_type as a list', { layer_type: ['transformer'] }],
  ['activation_fn of 1 MB', { activation_fn: 'g'.repeat(1 << 20) }],
];

export const hubertFamily: Family = {
  name: 'hubert',
  async handmade() {
    return [
      ...SPECS.map(([label, spec]) => () => oneFile('hubert', FILE, withConfig({ conv_feature_layers: spec }), `conv_feature_layers: ${label}`)),
      ...FIELDS.map(([label, model]) => () => oneFile('hubert', FILE, withConfig(model), label)),
    ] as Array<() => Built>;
  },
  async random(rng: Rng) {
    // Random specs from the grammar's pieces, well-formed or not, with counts from small to absurd.
    const num = () => String(rng.pick([0, 1, 2, 3, 5, 10, 512, 2 ** 31, 2 ** 53, 1e15, rng.int(100000)]));
    const tuple = () => `(${num()},${num()},${num()})`;
    const list = () => `[${Array.from({ length: rng.int(4) }, tuple).join(rng.pick([',', ', ', '']))}]`;
    const terms = Array.from({ length: 1 + rng.int(4) }, () => (rng.next() < 0.5 ? `${list()} * ${num()}` : list()));
    let spec = terms.join(rng.pick([' + ', '+', ' * ', ' ']));
    if (rng.next() < 0.3) {
      const at = rng.int(spec.length + 1);
      spec = spec.slice(0, at) + rng.pick(['(', ')', '[', ']', '*', '+', ',', 'x', '-1', '1e9', '']) + spec.slice(at);
    }
    return oneFile('hubert', FILE, withConfig({ conv_feature_layers: spec }), `conv_feature_layers "${spec.slice(0, 80)}"`);
  },
};
