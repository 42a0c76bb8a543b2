// Tiny so-vits-svc synthesizers with exactly the input names, shapes and types of the 4.0 and 4.1 ONNX
// exports (SOVITS-NOTES §3) and behaviour a test can predict:
//   audio = sin at f0 (Hz) gated by uv, amplitude = channel 0 of the content row mel2ph picks (1-based into c
//   padded with a zero row in front, as the real graph does) × the speaker's gain; hop samples per frame.
// noise (and vol) are consumed but do not change the sound, unless noiseGain is given: then the amplitude of
// frame t also gets noise[0, 0, t] × noiseGain, so the flow's noise scale is audible.
import { GraphBuilder } from '../../models/onnx/graph-builder.js';

export interface TinySovitsOptions {
  form: 'sovits40' | 'sovits41';
  channels?: 256 | 768;
  rate?: number;
  hop?: number;
  /** Speakers; with form sovits41 and ≥ 2, sid is f32 [T, n_spk] mix weights. */
  speakers?: number;
  /** Extra inputs, to make forms the family must refuse (4.0-v2's t_window, say). */
  extraInputs?: { name: string; type: 'float32' | 'int64'; dims: (number | string)[] }[];
  /** Makes noise channel 0 add to each frame's amplitude, × this. */
  noiseGain?: number;
}

/** Amplitude the tiny so-vits synthesizers give speaker s. */
export function sovitsSpeakerGain(s: number): number {
  return 0.5 * (s + 1);
}

export function buildTinySovits(o: TinySovitsOptions): Uint8Array {
  const g = new GraphBuilder('tiny-sovits');
  const C = o.channels ?? 768;
  const rate = o.rate ?? 44100;
  const hop = o.hop ?? 512;
  const speakers = o.speakers ?? 1;
  const mix = o.form === 'sovits41' && speakers >= 2;
  const c = g.input('c', 'float32', [1, 'T_h', C]);
  const f0 = g.input('f0', 'float32', [1, 'T']);
  const mel2ph = g.input('mel2ph', 'int64', [1, 'T']);
  const uv = g.input('uv', 'float32', [1, 'T']);
  const noise = g.input('noise', 'float32', [1, 192, 'T']);
  const sid = mix ? g.input('sid', 'float32', ['T', speakers]) : g.input('sid', 'int64', [1]);
  const vol = o.form === 'sovits41' ? g.input('vol', 'float32', [1, 'T']) : null;
  const extras = (o.extraInputs ?? []).map((e) => g.input(e.name, e.type, e.dims));

  // Frame t = pad(c, one zero row in front)[mel2ph[t]], channel 0.
  const padded = g.op('Concat', [g.f32(new Float32Array(C), [1, 1, C]), c], { axis: 1 });
  const picked = g.op('Gather', [padded, mel2ph], { axis: 1 }); // [1, 1, T, C]
  const ch0 = g.op('Reshape', [g.op('Slice', [picked, g.i64([0]), g.i64([1]), g.i64([3])]), g.i64([1, -1])]); // [1, T]
  let amp = g.op('Mul', [ch0, uv]);
  const table = Float32Array.from({ length: speakers }, (_, s) => sovitsSpeakerGain(s));
  const embG = g.constant({ type: 'float32', dims: [speakers, 1], data: table }, 'emb_g.weight');
  const gain = mix
    ? g.op('Reshape', [g.op('MatMul', [sid, embG]), g.i64([1, -1])]) // per-frame weighted gain [1, T]
    : g.op('Reshape', [g.op('Gather', [embG, sid], { axis: 0 }), g.i64([1, 1])]);
  amp = g.op('Mul', [amp, gain]);
  if (o.noiseGain) {
    const n0 = g.op('Reshape', [g.op('Slice', [noise, g.i64([0]), g.i64([1]), g.i64([1])]), g.i64([1, -1])]); // [1, T]
    amp = g.op('Add', [amp, g.op('Mul', [n0, g.f32([o.noiseGain])])]);
  }
  // Consume every input so the graph depends on all of them, as a real one does.
  const zeroOf = (x: string) => g.op('Mul', [g.op('ReduceMean', [x], { keepdims: 0 }), g.f32([0])]);
  for (const x of [noise, ...(vol ? [vol] : []), ...extras.map((e) => (o.extraInputs!.find((x) => x.name === e)!.type === 'int64' ? g.op('Cast', [e], { to: 1 }) : e))]) {
    amp = g.op('Add', [amp, zeroOf(x)]);
  }
  const upsample = (x: string) => {
    const col = g.op('Unsqueeze', [x, g.i64([2])]);
    const rep = g.op('Expand', [col, g.op('Concat', [g.op('Slice', [g.op('Shape', [col]), g.i64([0]), g.i64([2])]), g.i64([hop])], { axis: 0 })]);
    return g.op('Reshape', [rep, g.i64([1, -1])]);
  };
  const fS = upsample(f0);
  const aS = upsample(amp);
  const cycles = g.op('CumSum', [g.op('Div', [fS, g.f32([rate])]), g.i64([1])]);
  const frac = g.op('Sub', [cycles, g.op('Floor', [cycles])]);
  const wave = g.op('Mul', [g.op('Sin', [g.op('Mul', [frac, g.f32([2 * Math.PI])])]), aS]);
  g.op('Unsqueeze', [wave, g.i64([0])], {}, 'audio');
  g.output('audio', 'float32', [1, 1, 'L']);
  return g.toBytes({ opset: 17 });
}

/** The companion JSON the 4.1 exporter writes beside the model. */
export function sovitsConfig(o: { name?: string; rate?: number; hop?: number; channels?: 256 | 768; layer?: 9 | 12; speakers?: string[]; volume?: boolean }): string {
  const C = o.channels ?? 768;
  return JSON.stringify({
    Folder: o.name ?? 'Tiny',
    Name: o.name ?? 'Tiny',
    Type: 'SoVits',
    Rate: o.rate ?? 44100,
    Hop: o.hop ?? 512,
    Hubert: `vec-${C}-layer-${o.layer ?? (C === 768 ? 12 : 9)}`,
    SoVits4: true,
    SoVits3: false,
    CharaMix: (o.speakers?.length ?? 1) > 1,
    Volume: o.volume ?? false,
    HiddenSize: C,
    Characters: o.speakers ?? ['tiny'],
    Cluster: '',
  });
}
