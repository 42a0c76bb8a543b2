// Run as a child process by models/runtime.ts: probes one execution provider here, where the native libraries'
// own prints (Dawn's adapter search, the Vulkan loader) land in a pipe nobody shows, and answers with one JSON
// line on stdout.
import { PROVIDERS, type Provider } from '../protocol/runtime.js';
import { probeHere } from './runtime.js';

const p = process.argv[2] as Provider;
if (!(PROVIDERS as readonly string[]).includes(p)) {
  process.stdout.write(`${JSON.stringify({ why: `unknown provider ${String(p)}` })}\n`);
} else {
  const why = await probeHere(p);
  process.stdout.write(`${JSON.stringify({ why })}\n`);
}
// Dawn's device may keep the event loop alive; the answer is out.
process.exit(0);
