// f0 method choice for the host: the built-in estimator unless the user names a network. Network files come
// from the models folder (RMVPE through the catalogue, with its download) or from a path the user gives.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { F0Estimator } from '../engine/f0/estimator.js';
import { CATALOGUE, findModel, modelsDir, requireModel } from '../models/catalogue/catalogue.js';
import { createF0Estimator, F0_METHODS } from '../models/f0/methods.js';
import { UserError } from '../protocol/errors.js';
import { DEFAULT_RUNTIME, type RuntimeOptions } from '../protocol/runtime.js';
import { providerFor } from '../models/runtime.js';

/** A pitch method or network the user asked for that cannot be set up: the message says what to do. */
export class F0ModelError extends UserError {
  override name = 'F0ModelError';
  constructor(message: string) {
    super(message, 'model');
  }
}

export { F0_METHODS };

/** A pitch network the product can use but nobody publishes a download of: the user places the file. */
export interface UserSuppliedNetwork {
  id: string;
  description: string;
  file: string;
}

/** The f0 networks outside the download catalogue (SwiftF0, CREPE), for listings beside the catalogue. */
export function userSuppliedF0Networks(): UserSuppliedNetwork[] {
  return F0_METHODS.filter((m) => m.needsFile && m.file && !CATALOGUE.some((e) => e.file === m.file)).map((m) => ({ id: m.id, description: m.description, file: m.file! }));
}

async function modelFor(spec: string): Promise<string | undefined> {
  const method = F0_METHODS.find((m) => m.id === spec);
  if (!method?.needsFile) return undefined;
  if (spec === 'rmvpe') return (await findModel('rmvpe')) ?? requireModel('rmvpe');
  // SwiftF0 and CREPE publish no hashed download: the user places the file in the models folder.
  const file = path.join(modelsDir(), method.file!);
  if (!existsSync(file)) {
    throw new F0ModelError(`f0 method "${spec}" needs ${method.file}: put it in ${modelsDir()}, or pass --f0 <path to the .onnx>`);
  }
  return file;
}

/** The estimator for --f0 (undefined: the built-in YIN); `model` names the network file instead of the models folder's. */
export async function createF0(spec: string | undefined, runtime: RuntimeOptions = DEFAULT_RUNTIME, model?: string): Promise<F0Estimator | undefined> {
  if (spec === undefined || spec === 'yin') return undefined;
  const modelPath = model ?? (await modelFor(spec));
  try {
    return await createF0Estimator(spec, { modelPath, threads: runtime.threads, provider: providerFor('f0', runtime.provider) });
  } catch (e) {
    // The estimators' messages name the file and the fix; give them a user-facing type.
    if ((e as Error).name === 'Error') throw new F0ModelError((e as Error).message);
    throw e;
  }
}
