// How an outcome is decided. A thrown error is clean only if it is a UserError (protocol/errors.ts) with a
// one-line message; anything else reaching the user is a bug. A child that had to be stopped, or died,
// is classified by why.
import { UserError } from '../../protocol/errors.js';
import type { Outcome } from './types.js';

export interface Verdict {
  outcome: Outcome;
  message: string;
}

/** The first line of a message, cut to a length a table can show. */
export function firstLine(s: string, max = 300): string {
  const line = s.split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function classifyError(e: unknown): Verdict {
  if (e instanceof UserError) {
    if (/[\r\n]/.test(e.message)) return { outcome: 'wrong-kind', message: `${e.name} with a multi-line message: ${firstLine(e.message)}` };
    if (/unexpected failure|Maximum call stack|Invalid typed array length|Array buffer allocation failed/i.test(e.message)) {
      return { outcome: 'wrong-kind', message: `${e.name} wrapping an internal failure: ${firstLine(e.message)}` };
    }
    return { outcome: 'clean-error', message: firstLine(e.message) };
  }
  if (e instanceof Error) return { outcome: 'wrong-kind', message: firstLine(`${e.name}: ${e.message}`) };
  return { outcome: 'wrong-kind', message: firstLine(`a non-Error was thrown: ${String(e)}`) };
}

/** Why a child died on its own: V8's out-of-memory deaths count as memory, anything else as a crash. */
export function classifyDeath(code: number | null, signal: NodeJS.Signals | null, stderr: string): Verdict {
  const tail = stderr.trim().split('\n').filter(Boolean);
  const last = tail.slice(-3).join(' | ');
  if (/heap out of memory|Array buffer allocation failed|Allocation failed|Cannot allocate memory|std::bad_alloc/i.test(stderr)) {
    return { outcome: 'memory', message: firstLine(`the child ran out of memory: ${last}`) };
  }
  return { outcome: 'crash', message: firstLine(`the child died (${signal ?? `exit ${code}`}): ${last || 'no output'}`) };
}
