// Runs hostile-input cases (functions that read a generated file) each in a child process and checks that it
// was refused the way the team guide asks: a one-line UserError, in under 10 s, with the process's peak resident
// memory under 500 MB (a Node process with the modules loaded starts near 60 MB).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Outcome {
  threw: boolean;
  name?: string;
  message?: string;
  code?: string;
  userError?: boolean;
  ms: number;
  maxRssMB: number;
}

const CHILD = fileURLToPath(new URL('./hostile-child.js', import.meta.url));
export const MAX_MS = 10_000;
export const MAX_RSS_MB = 500;

export function runCase(casesModuleUrl: string, name: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    // The heap cap only makes a runaway case fail sooner; the assertions below are the real bounds.
    execFile(process.execPath, ['--max-old-space-size=1024', CHILD, casesModuleUrl, name], { timeout: 30_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`case ${name} did not finish cleanly (${err.message}): ${stderr.slice(-2000)}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Outcome);
    });
  });
}

export function assertRefused(o: Outcome, pattern: RegExp, code?: string): void {
  assert.ok(o.threw, 'the hostile file was refused');
  assert.ok(o.userError, `a UserError, not ${o.name}: ${o.message}`);
  assert.ok(!o.message!.includes('\n'), 'one line');
  assert.match(o.message!, pattern);
  if (code) assert.equal(o.code, code, `code ${code}: ${o.message}`);
  assert.doesNotMatch(o.message!, /Maximum call stack|Invalid string length|Invalid typed array length|unexpected failure/);
  assert.ok(o.ms < MAX_MS, `took ${Math.round(o.ms)} ms`);
  assert.ok(o.maxRssMB < MAX_RSS_MB, `peaked at ${Math.round(o.maxRssMB)} MB resident`);
}
