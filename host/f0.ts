// f0 method choice for the host: the built-in estimator unless the user names a network.
import type { F0Estimator } from '../engine/f0/estimator.js';

export async function createF0(spec: string | undefined, _threads?: number): Promise<F0Estimator | undefined> {
  if (spec === undefined || spec === 'yin') return undefined;
  throw new Error(`f0 method "${spec}" is not available yet`);
}
