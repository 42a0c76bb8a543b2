// The vocoder file a user points Resona to (Resona never bundles one: the NSF-HiFiGAN weights in circulation are
// CC BY-NC-SA), checked where the CLI and the app can reach it: the CLI stays on the host side of the layers.
import path from 'node:path';
import type { RuntimeOptions } from '../protocol/runtime.js';

/** Loads the vocoder at `file`, renders a test tone through it on the CPU, and says what it found. */
export async function checkUserVocoder(file: string, runtime: RuntimeOptions = { provider: 'cpu', threads: 2 }) {
  // Loaded on demand: onnxruntime is not needed by the commands that never touch a network.
  const { checkVocoder } = await import('../models/vocoder/vocoder.js');
  return checkVocoder(path.resolve(file), runtime);
}
