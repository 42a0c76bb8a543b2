// The numbers of a numpy array read from a pickle (pickle.ts's NumpyArray: shape, dtype and raw bytes) as
// float32 in C order, the one form retrieval uses. Floats of any width are taken (KMeans keeps the dtype of
// the features it was fitted on: float32 in so-vits-svc, float64 if fitted on doubles); integer and boolean
// arrays are refused, since no centre or feature is stored that way.
import { halfToFloat, NumpyArray } from './pickle.js';

export interface FloatMatrix {
  shape: number[];
  data: Float32Array;
}

/** `x` as float32 in C order; `fail` gets a predicate about `what` ("holds …"). */
export function numpyFloats(x: unknown, what: string, fail: (why: string) => Error): FloatMatrix {
  if (!(x instanceof NumpyArray) || x.raw === null || x.dtype === null) throw fail(`${what} is not a numpy array of numbers`);
  const { dtype, raw, shape } = x;
  const size = Number(dtype.code.slice(1));
  if (dtype.code[0] !== 'f') throw fail(`${what} is a numpy ${dtype.name} array; floating-point values are expected`);
  const n = raw.length / size;
  const little = dtype.order !== '>';
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const flat = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * size;
    flat[i] = size === 2 ? halfToFloat(v.getUint16(o, little)) : size === 4 ? v.getFloat32(o, little) : v.getFloat64(o, little);
  }
  if (!x.fortran || shape.length < 2) return { shape: [...shape], data: flat };
  // Fortran order: the first index varies fastest; rebuild C order (row-major) by walking every index.
  const data = new Float32Array(n);
  const strideF = shape.map((_, i) => shape.slice(0, i).reduce((a, b) => a * b, 1));
  const idx = new Array<number>(shape.length).fill(0);
  for (let c = 0; c < n; c++) {
    let f = 0;
    for (let k = 0; k < shape.length; k++) f += idx[k]! * strideF[k]!;
    data[c] = flat[f]!;
    for (let k = shape.length - 1; k >= 0; k--) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
  return { shape: [...shape], data };
}
