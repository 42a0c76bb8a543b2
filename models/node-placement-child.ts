// Run as a child process by ./node-placement.ts: makes one session with onnxruntime's verbose log on, whose
// node placement lines land on this process's stderr for the parent to read; then exits.
import * as ort from 'onnxruntime-node';
import { PROVIDERS, type Provider } from '../protocol/runtime.js';
import { sessionOptions } from './runtime.js';

const [file, p, threads] = process.argv.slice(2);
if (!file || !(PROVIDERS as readonly string[]).includes(p ?? '')) {
  process.stderr.write(`usage: node-placement-child <model.onnx> <${PROVIDERS.join('|')}> [threads]\n`);
  process.exit(2);
}
// After ./runtime.js set it to 'fatal': onnxruntime reads it when its environment starts, at the first session.
ort.env.logLevel = 'verbose';
await ort.InferenceSession.create(file, { ...sessionOptions(p as Provider, Number(threads ?? 1)), logSeverityLevel: 0, logVerbosityLevel: 0 });
// Dawn's device may keep the event loop alive; the log is out.
process.exit(0);
