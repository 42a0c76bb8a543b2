// RVC's ResidualCouplingBlock run in reverse (z_p → z): four mean-only coupling layers, each preceded (in
// reverse order) by a channel flip, each with a WaveNet (WN) conditioned on the speaker embedding.
import type { GraphBuilder } from '../onnx/graph-builder.js';
import { conv1d } from '../onnx/layers.js';
import { RVC, type RvcNetConfig } from './rvc-spec.js';
import type { WeightSource } from './rvc-weights.js';

/**
 * How a flow is laid out, where RVC and so-vits-svc differ: WN depth (RVC 3, so-vits-svc n_flow_layer, 4 by
 * default), where each coupling's WN lives (so-vits-svc's flow_share_parameter makes all four one module,
 * flow.wn), and whether its dilated convolutions are depthwise separable (so-vits-svc use_depthwise_conv:
 * depth_conv, groups = channels, then a 1×1 point_conv).
 */
export interface FlowSpec {
  layers: number;
  wnPrefix: (coupling: number) => string;
  depthwise: boolean;
}

export const RVC_FLOW: FlowSpec = { layers: RVC.flowLayers, wnPrefix: (f) => `flow.flows.${2 * f}.enc`, depthwise: false };

/** WN: gated convolutions (dilation_rate 1 in both families' flows), residual and skip sums, masked. */
function wn(g: GraphBuilder, w: WeightSource, c: Pick<RvcNetConfig, 'hidden_channels'>, s: FlowSpec, p: string, x: string, mask: string, spk: string): string {
  const H = c.hidden_channels;
  const n = s.layers;
  const k = RVC.flowKernel;
  const cond = conv1d(g, spk, w.get(`${p}.cond_layer.weight`), w.get(`${p}.cond_layer.bias`));
  const condParts = g.nodeMulti('Split', [cond, g.i64(new Array(n).fill(2 * H))], n, { axis: 1 });
  let out: string | null = null;
  for (let i = 0; i < n; i++) {
    const inp = `${p}.in_layers.${i}`;
    const xin = s.depthwise
      ? conv1d(g, conv1d(g, x, w.get(`${inp}.depth_conv.weight`), w.get(`${inp}.depth_conv.bias`), { padding: (k - 1) >> 1, groups: H }), w.get(`${inp}.point_conv.weight`), w.get(`${inp}.point_conv.bias`))
      : conv1d(g, x, w.get(`${inp}.weight`), w.get(`${inp}.bias`), { padding: (k - 1) >> 1 });
    const [a, b] = g.nodeMulti('Split', [g.op('Add', [xin, condParts[i]!]), g.i64([H, H])], 2, { axis: 1 });
    const acts = g.op('Mul', [g.op('Tanh', [a!]), g.op('Sigmoid', [b!])]);
    const rs = conv1d(g, acts, w.get(`${p}.res_skip_layers.${i}.weight`), w.get(`${p}.res_skip_layers.${i}.bias`));
    let skip = rs;
    if (i < n - 1) {
      const [res, sk] = g.nodeMulti('Split', [rs, g.i64([H, H])], 2, { axis: 1 });
      x = g.op('Mul', [g.op('Add', [x, res!]), mask]);
      skip = sk!;
    }
    out = out ? g.op('Add', [out, skip]) : skip;
  }
  return g.op('Mul', [out!, mask]);
}

/** z = flow⁻¹(z_p); x and the result are [1, inter, T'], spk is g = emb_g(sid) as [1, gin, 1]. */
export function reverseFlow(g: GraphBuilder, w: WeightSource, c: Pick<RvcNetConfig, 'hidden_channels' | 'inter_channels'>, zp: string, mask: string, spk: string, s: FlowSpec = RVC_FLOW): string {
  const half = c.inter_channels / 2;
  const flip = g.i64(Array.from({ length: c.inter_channels }, (_, i) => c.inter_channels - 1 - i));
  let x = zp;
  for (let f = RVC.flowCount - 1; f >= 0; f--) {
    x = g.op('Gather', [x, flip], { axis: 1 });
    const p = `flow.flows.${2 * f}`;
    const [x0, x1] = g.nodeMulti('Split', [x, g.i64([half, half])], 2, { axis: 1 });
    const h = g.op('Mul', [conv1d(g, x0!, w.get(`${p}.pre.weight`), w.get(`${p}.pre.bias`)), mask]);
    const enc = wn(g, w, c, s, s.wnPrefix(f), h, mask, spk);
    const m = g.op('Mul', [conv1d(g, enc, w.get(`${p}.post.weight`), w.get(`${p}.post.bias`)), mask]);
    // mean_only: logs = 0, so x1 = (x1 − m) · exp(−0) · mask.
    const y1 = g.op('Mul', [g.op('Sub', [x1!, m]), mask]);
    x = g.op('Concat', [x0!, y1], { axis: 1 });
  }
  return x;
}
