// The checkpoint's tensors as the graph builder takes them: every one checked against the shape the config
// implies before any node is written, weight norm folded (w = g · v / ‖v‖, norm over all axes but 0, as
// torch.nn.utils.weight_norm's default dim = 0 computes it), and anything the architecture does not use
// refused, so a checkpoint of another network cannot pass for an RVC voice.
import type { Weight } from '../onnx/layers.js';
import { type ArchitectureFacts, type ParamSpec, RvcGraphError, rvcParameters, type RvcNetConfig } from './rvc-spec.js';

/** A tensor as the checkpoint reader hands it over (fp16 / bf16 already widened to float32). */
export interface TensorLike {
  dtype?: string;
  shape: number[];
  data: ArrayLike<number> | ArrayLike<bigint>;
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

function asWeight(name: string, t: TensorLike, o: CheckedWeightsOptions): Weight {
  const d = t.data;
  if (d instanceof Float32Array) return { shape: t.shape, data: d };
  if (d instanceof Float64Array || (Array.isArray(d) && d.every((v) => typeof v === 'number'))) return { shape: t.shape, data: Float32Array.from(d as ArrayLike<number>) };
  throw o.error(`weight ${name} is ${t.dtype ? `a ${t.dtype}` : 'not a float'} tensor; ${o.family} weights are floating point`);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function foldWeightNorm(gain: Weight, v: Weight): Weight {
  const rows = v.shape[0]!;
  const per = v.data.length / rows;
  const out = new Float32Array(v.data.length);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < per; i++) ss += v.data[r * per + i]! ** 2;
    const f = gain.data[r]! / Math.sqrt(ss);
    for (let i = 0; i < per; i++) out[r * per + i] = v.data[r * per + i]! * f;
  }
  return { shape: v.shape, data: out };
}

/** Where the halves of a weight-normed tensor may be stored (weight_norm, or torch.nn.utils.parametrize); a
 *  pre-folded `.weight` is taken as it is. */
function weightNormKeys(name: string): { g: string; v: string }[] {
  const base = name.slice(0, -'.weight'.length);
  return [
    { g: `${name}_g`, v: `${name}_v` },
    { g: `${base}.parametrizations.weight.original0`, v: `${base}.parametrizations.weight.original1` },
  ];
}

/** What the layer builders read weights through: one checked, folded tensor by parameter name. */
export interface WeightSource {
  get(name: string): Weight;
  /** Whether the architecture has parameter `name` (optional parts: biases, embeddings). */
  has(name: string): boolean;
}

export interface CheckedWeightsOptions {
  /** Makes the family's error from a message. */
  error: (message: string) => Error;
  /** Keys of training-only parts the checkpoint may hold and the network never reads (enc_q, …). */
  ignored: (key: string) => boolean;
  /** The family, as messages name it ("RVC", "so-vits-svc"). */
  family: string;
}

/**
 * A checkpoint's tensors checked against the parameter list an architecture implies: every one present with
 * its shape before any node is written, nothing left over but the ignored training-only parts.
 */
export class CheckedWeights implements WeightSource {
  private readonly specs = new Map<string, ParamSpec>();

  constructor(
    private readonly tensors: ReadonlyMap<string, TensorLike>,
    specs: readonly ParamSpec[],
    private readonly o: CheckedWeightsOptions,
  ) {
    for (const s of specs) this.specs.set(s.name, s);
    const used = new Set<string>();
    const missing: string[] = [];
    for (const s of this.specs.values()) {
      const keys = [s.name, ...(s.weightNorm ? weightNormKeys(s.name).flatMap((k) => [k.g, k.v]) : [])];
      const present = keys.filter((k) => tensors.has(k));
      if (present.length === 0) missing.push(`${s.name} ${fmt(s.shape)}`);
      present.forEach((k) => used.add(k));
    }
    if (missing.length) {
      throw o.error(`the checkpoint lacks ${missing.length} weight${missing.length > 1 ? 's' : ''} this config needs: ${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ', …' : ''}`);
    }
    const extra = [...tensors.keys()].filter((k) => !used.has(k) && !o.ignored(k));
    if (extra.length) {
      throw o.error(`the checkpoint has weights this ${o.family} config does not use: ${extra.slice(0, 6).join(', ')}${extra.length > 6 ? ', …' : ''}; it is another architecture or its config does not match its weights`);
    }
    for (const s of this.specs.values()) this.locate(s); // every shape checked before any node is written
  }

  has(name: string): boolean {
    return this.specs.has(name);
  }

  /** The tensor `name` (folded if weight-normed), checked against the shape the config implies. */
  get(name: string): Weight {
    const s = this.specs.get(name);
    if (!s) throw this.o.error(`internal: ${name} is not a ${this.o.family} parameter`);
    const found = this.locate(s);
    return 'weight' in found ? found.weight : foldWeightNorm(found.g, found.v);
  }

  private locate(s: ParamSpec): { weight: Weight } | { g: Weight; v: Weight } {
    const direct = this.tensors.get(s.name);
    if (direct || !s.weightNorm) return { weight: this.checked(s.name, direct, s.shape) };
    for (const k of weightNormKeys(s.name)) {
      const gt = this.tensors.get(k.g);
      const vt = this.tensors.get(k.v);
      if (!gt && !vt) continue;
      return {
        v: this.checked(k.v, vt, s.shape),
        g: this.checked(k.g, gt, [s.shape[0]!, ...s.shape.slice(1).map(() => 1)]),
      };
    }
    throw this.o.error(`weight ${s.name} is missing (expected shape ${fmt(s.shape)})`);
  }

  private checked(name: string, t: TensorLike | undefined, want: number[]): Weight {
    if (!t) throw this.o.error(`weight ${name} is missing (expected shape ${fmt(want)})`);
    if (!sameShape(t.shape, want)) throw this.o.error(`weight ${name} has shape ${fmt(t.shape)}, expected ${fmt(want)} for this config`);
    return asWeight(name, t, this.o);
  }
}

/** An RVC synthesizer's weights: rvcParameters' list; enc_q (the posterior encoder) only trains, and RVC strips
 *  it on export, but some files keep it. */
export class RvcWeights extends CheckedWeights {
  constructor(tensors: ReadonlyMap<string, TensorLike>, config: RvcNetConfig, facts: ArchitectureFacts) {
    super(tensors, rvcParameters(config, facts), {
      error: (m) => new RvcGraphError(m),
      ignored: (k) => k.startsWith('enc_q.'),
      family: 'RVC',
    });
  }
}
