// The checkpoint's tensors as the graph builder takes them: every one checked against the shape the config
// implies before any node is written, weight norm folded (w = g · v / ‖v‖, norm over all axes but 0, as
// torch.nn.utils.weight_norm's default dim = 0 computes it), and anything the architecture does not use
// refused, so a checkpoint of another network cannot pass for an RVC voice. CheckedWeights does the same for
// any list of parameter specs (the NSF-HiFiGAN vocoder's, models/vocoder/nsf-hifigan.ts).
import type { Weight } from '../onnx/layers.js';
import { type ArchitectureFacts, type ParamSpec, RvcGraphError, rvcParameters, type RvcNetConfig } from './rvc-spec.js';

/** A tensor as the checkpoint reader hands it over (fp16 / bf16 already widened to float32). */
export interface TensorLike {
  dtype?: string;
  shape: number[];
  data: ArrayLike<number> | ArrayLike<bigint>;
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

function asWeight(name: string, t: TensorLike, o: CheckOptions): Weight {
  const d = t.data;
  if (d instanceof Float32Array) return { shape: t.shape, data: d };
  if (d instanceof Float64Array || (Array.isArray(d) && d.every((v) => typeof v === 'number'))) return { shape: t.shape, data: Float32Array.from(d as ArrayLike<number>) };
  throw o.fail(`weight ${name} is ${t.dtype ? `a ${t.dtype}` : 'not a float'} tensor; ${o.what} weights are floating point`);
}

/** How a CheckedWeights names its network in errors, which error it throws, and which stored keys it skips. */
export interface CheckOptions {
  what: string;
  fail: (message: string) => Error;
  /** Stored tensors the network does not use but a file may keep (training-only parts). */
  ignore?: (key: string) => boolean;
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

export class CheckedWeights {
  private readonly specs = new Map<string, ParamSpec>();

  constructor(
    private readonly tensors: ReadonlyMap<string, TensorLike>,
    specs: readonly ParamSpec[],
    private readonly o: CheckOptions,
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
      throw o.fail(`the checkpoint lacks ${missing.length} weight${missing.length > 1 ? 's' : ''} this config needs: ${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ', …' : ''}`);
    }
    const extra = [...tensors.keys()].filter((k) => !used.has(k) && !o.ignore?.(k));
    if (extra.length) {
      throw o.fail(`the checkpoint has weights this ${o.what} config does not use: ${extra.slice(0, 6).join(', ')}${extra.length > 6 ? ', …' : ''}; it is another architecture or its config does not match its weights`);
    }
    for (const s of this.specs.values()) this.locate(s); // every shape checked before any node is written
  }

  /** The tensor `name` (folded if weight-normed), checked against the shape the config implies. */
  get(name: string): Weight {
    const s = this.specs.get(name);
    if (!s) throw this.o.fail(`internal: ${name} is not a ${this.o.what} parameter`);
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
    throw this.o.fail(`weight ${s.name} is missing (expected shape ${fmt(s.shape)})`);
  }

  private checked(name: string, t: TensorLike | undefined, want: number[]): Weight {
    if (!t) throw this.o.fail(`weight ${name} is missing (expected shape ${fmt(want)})`);
    if (!sameShape(t.shape, want)) throw this.o.fail(`weight ${name} has shape ${fmt(t.shape)}, expected ${fmt(want)} for this config`);
    return asWeight(name, t, this.o);
  }
}

export class RvcWeights extends CheckedWeights {
  constructor(tensors: ReadonlyMap<string, TensorLike>, config: RvcNetConfig, facts: ArchitectureFacts) {
    super(tensors, rvcParameters(config, facts), {
      what: 'RVC',
      fail: (m) => new RvcGraphError(m),
      // enc_q (the posterior encoder) only trains; RVC strips it on export but some files keep it.
      ignore: (k) => k.startsWith('enc_q.'),
    });
  }
}
