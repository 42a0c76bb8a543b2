// so-vits-svc 4.1's diffusion networks as ONNX, from the checked weights (./model.ts):
//
// Conditioning encoder (Unit2Mel's embedding, run once per block):
//   cond = unit_embed(units) + f0_embed(ln(1 + f0/700)) + volume_embed(volume) [+ spk · spk_embed], as [1, H, T].
//   The speaker enters as weights over the speaker table (one-hot for one speaker, a mix otherwise), per frame
//   ([T, S]) or for the whole block ([1, S]); a model with n_spk ≤ 1 has no table and no `spk` input.
//   (aug_shift_embed only trains: inference passes no aug_shift.)
//   A second output, cond_proj [1, L·2C, T], holds every layer's conditioner_projection(cond): the condition
//   is fixed for a block while the denoiser runs k/speedup times, so those L projections (about a ninth of a
//   pass's work at real size) are computed once per block instead of once per pass.
// Denoiser (WaveNet, run k/speedup times per block): eps = f(x, t, cond) with
//   step embedding  e = mlp(sinusoid(t)), sinusoid = [sin(t·ω), cos(t·ω)], ω_i = 10000^(−i/(C/2 − 1)),
//                   mlp = Linear(C, 4C) → Mish → Linear(4C, C); t is a float (DPM-Solver passes fractional times)
//   h = relu(input_projection(x)); per layer: y = dilated_conv(h + diffusion_projection(e)) + conditioner_projection(cond),
//   y = sigmoid(y[:C]) · tanh(y[C:]) (gate first), y = output_projection(y), h = (h + y[:C]) / √2, skip += y[C:];
//   eps = output_projection(relu(skip_projection(skip / √L))).
// x and eps are [1, M, T] (upstream's [1, 1, M, T] without the singleton axis). The denoiser takes either the
// projected condition (`cond_proj`, what Resona runs) or the raw one (`cond`, upstream's own contract).
import { GraphBuilder } from '../onnx/graph-builder.js';
import { conv1d, linear, type Weight } from '../onnx/layers.js';
import type { DiffusionModel } from './model.js';

const D = 'decoder.denoise_fn';

function get(m: DiffusionModel, name: string): Weight {
  const w = m.weights.get(name);
  if (!w) throw new Error(`internal: diffusion weight ${name} was not checked in`);
  return w;
}

/** All L conditioner projections as one 1×1 convolution to [1, L·2C, T]. */
function projectCondition(g: GraphBuilder, m: DiffusionModel, cond: string, out: string): void {
  const { channels: C, layers: L, hidden: H } = m.config;
  const w = new Float32Array(L * 2 * C * H);
  const b = new Float32Array(L * 2 * C);
  for (let i = 0; i < L; i++) {
    const p = `${D}.residual_layers.${i}.conditioner_projection`;
    w.set(get(m, `${p}.weight`).data, i * 2 * C * H);
    b.set(get(m, `${p}.bias`).data, i * 2 * C);
  }
  g.op('Identity', [conv1d(g, cond, { shape: [L * 2 * C, H, 1], data: w }, { shape: [L * 2 * C], data: b })], {}, out);
  g.output(out, 'float32', [1, L * 2 * C, 'T']);
}

/** Inputs units [1, T, U], f0 [1, T] (Hz), volume [1, T], spk [1|T, S] (n_spk > 1 only) → cond [1, H, T], cond_proj. */
export function buildConditionEncoder(m: DiffusionModel): Uint8Array {
  const c = m.config;
  const g = new GraphBuilder('so-vits-diffusion-condition');
  const units = g.input('units', 'float32', [1, 'T', c.units]);
  const f0 = g.input('f0', 'float32', [1, 'T']);
  const volume = g.input('volume', 'float32', [1, 'T']);
  const col = (x: string) => g.op('Unsqueeze', [x, g.i64([2])]);
  const lf0 = g.op('Log', [g.op('Add', [g.op('Div', [f0, g.f32([700], [])]), g.f32([1], [])])]);
  let x = linear(g, units, get(m, 'unit_embed.weight'), get(m, 'unit_embed.bias'));
  x = g.op('Add', [x, linear(g, col(lf0), get(m, 'f0_embed.weight'), get(m, 'f0_embed.bias'))]);
  x = g.op('Add', [x, linear(g, col(volume), get(m, 'volume_embed.weight'), get(m, 'volume_embed.bias'))]);
  if (c.speakers > 1) {
    const spk = g.input('spk', 'float32', ['N', c.speakers]);
    const table = get(m, 'spk_embed.weight');
    x = g.op('Add', [x, g.op('MatMul', [spk, g.constant({ type: 'float32', dims: table.shape, data: table.data })])]);
  }
  const cond = g.op('Transpose', [x], { perm: [0, 2, 1] }, 'cond');
  g.output('cond', 'float32', [1, c.hidden, 'T']);
  projectCondition(g, m, cond, 'cond_proj');
  return g.toBytes();
}

export interface DenoiserOptions {
  /** 'projected' (default): input cond_proj from the condition encoder; 'raw': input cond [1, H, T]. */
  condition?: 'projected' | 'raw';
}

/** Inputs x [1, M, T], t [1] (float step), cond_proj [1, L·2C, T] or cond [1, H, T] → eps [1, M, T]. */
export function buildDenoiser(m: DiffusionModel, o: DenoiserOptions = {}): Uint8Array {
  const { channels: C, layers: L, hidden: H } = m.config;
  const M = m.mels;
  const g = new GraphBuilder('so-vits-diffusion-wavenet');
  const x = g.input('x', 'float32', [1, M, 'T']);
  const t = g.input('t', 'float32', [1]);
  let condParts: string[] | null = null;
  let cond = '';
  if ((o.condition ?? 'projected') === 'projected') {
    const proj = g.input('cond_proj', 'float32', [1, L * 2 * C, 'T']);
    // One Slice per layer rather than one L-way Split: onnxruntime's WebGPU Split binds every output to one
    // shader, and 20 outputs pass the storage buffers an adapter allows per shader (SwiftShader's 12, WebGPU's
    // default 8), which fails the run. L Slices cost the CPU the same copies.
    condParts = L === 1 ? [proj] : Array.from({ length: L }, (_, i) => g.op('Slice', [proj, g.i64([i * 2 * C]), g.i64([(i + 1) * 2 * C]), g.i64([1])]));
  } else cond = g.input('cond', 'float32', [1, H, 'T']);

  const half = C / 2;
  const freqs = Float32Array.from({ length: half }, (_, i) => Math.exp((-i * Math.log(10000)) / (half - 1)));
  const arg = g.op('Mul', [g.op('Unsqueeze', [t, g.i64([1])]), g.f32(freqs, [1, half])]);
  let e = g.op('Concat', [g.op('Sin', [arg]), g.op('Cos', [arg])], { axis: 1 });
  e = linear(g, e, get(m, `${D}.mlp.0.weight`), get(m, `${D}.mlp.0.bias`));
  e = g.op('Mul', [e, g.op('Tanh', [g.op('Softplus', [e])])]); // Mish (an operator only from opset 18)
  e = linear(g, e, get(m, `${D}.mlp.2.weight`), get(m, `${D}.mlp.2.bias`));

  let h = g.op('Relu', [conv1d(g, x, get(m, `${D}.input_projection.weight`), get(m, `${D}.input_projection.bias`))]);
  const split = g.i64([C, C]);
  let skip: string | null = null;
  for (let i = 0; i < L; i++) {
    const p = `${D}.residual_layers.${i}`;
    const step = g.op('Unsqueeze', [linear(g, e, get(m, `${p}.diffusion_projection.weight`), get(m, `${p}.diffusion_projection.bias`)), g.i64([2])]);
    let y = conv1d(g, g.op('Add', [h, step]), get(m, `${p}.dilated_conv.weight`), get(m, `${p}.dilated_conv.bias`), { padding: 1 });
    const c = condParts ? condParts[i]! : conv1d(g, cond, get(m, `${p}.conditioner_projection.weight`), get(m, `${p}.conditioner_projection.bias`));
    y = g.op('Add', [y, c]);
    const [gate, filter] = g.nodeMulti('Split', [y, split], 2, { axis: 1 });
    y = g.op('Mul', [g.op('Sigmoid', [gate!]), g.op('Tanh', [filter!])]);
    y = conv1d(g, y, get(m, `${p}.output_projection.weight`), get(m, `${p}.output_projection.bias`));
    const [res, sk] = g.nodeMulti('Split', [y, split], 2, { axis: 1 });
    h = g.op('Mul', [g.op('Add', [h, res!]), g.f32([Math.SQRT1_2], [])]);
    skip = skip ? g.op('Add', [skip, sk!]) : sk!;
  }
  let out = g.op('Mul', [skip!, g.f32([1 / Math.sqrt(L)], [])]);
  out = g.op('Relu', [conv1d(g, out, get(m, `${D}.skip_projection.weight`), get(m, `${D}.skip_projection.bias`))]);
  const eps = conv1d(g, out, get(m, `${D}.output_projection.weight`), get(m, `${D}.output_projection.bias`));
  g.op('Identity', [eps], {}, 'eps');
  g.output('eps', 'float32', [1, M, 'T']);
  return g.toBytes();
}

/** cond [1, H, T] → cond_proj: for a condition computed elsewhere (upstream's encoder export, tests). */
export function buildConditionProjector(m: DiffusionModel): Uint8Array {
  const g = new GraphBuilder('so-vits-diffusion-condition-projection');
  projectCondition(g, m, g.input('cond', 'float32', [1, m.config.hidden, 'T']), 'cond_proj');
  return g.toBytes();
}
