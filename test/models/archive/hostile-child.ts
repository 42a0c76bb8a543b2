// Runs one hostile case in a process of its own, so its time and peak memory are its own and a case that
// ran away could be killed: node hostile-child.js <cases module URL> <case name>. Prints one JSON line.
import { isUserError } from '../../../protocol/errors.js';

const [moduleUrl, name] = process.argv.slice(2);
const { cases } = (await import(moduleUrl!)) as { cases: Record<string, () => unknown> };
const run = cases[name!];
if (!run) throw new Error(`no case ${name} in ${moduleUrl}`);
const t0 = performance.now();
let out: Record<string, unknown>;
try {
  await run();
  out = { threw: false };
} catch (e) {
  const err = e as Error & { code?: unknown };
  out = { threw: true, name: err.name, message: err.message, code: err.code, userError: isUserError(e) };
}
out.ms = performance.now() - t0;
out.maxRssMB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify(out)}\n`);
