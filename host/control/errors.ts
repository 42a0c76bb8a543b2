// Turns whatever a host call threw into the protocol's {code, message, field?}, so every front end shows the
// same one-line message and the UI can put a settings error beside the field it concerns. A UserError keeps
// its own code and field; anything else is a bug: logged with its stack here, answered with a generic line.
import type { ControlError } from '../../protocol/control.js';
import { UserError } from '../../protocol/errors.js';

export class RequestError extends UserError {
  override name = 'RequestError';
  constructor(message: string, field?: string) {
    super(message, 'request', field);
  }
}

/** Internal errors are written here (stderr by default) with their stack; tests can capture them. */
export let logInternal: (e: unknown) => void = (e) => console.error('resona: internal error:', e instanceof Error ? (e.stack ?? e.message) : e);
export function setInternalLogger(f: (e: unknown) => void): void {
  logInternal = f;
}

export function toControlError(e: unknown, context?: ControlError['code']): ControlError {
  if (e instanceof UserError) {
    // An import's failures (a bad model, index or checkpoint) are reported as import errors.
    const code = context === 'import' && (e.code === 'voice' || e.code === 'model' || e.code === 'file' || e.code === 'limit') ? 'import' : e.code;
    return { code, message: e.message, ...(e.field ? { field: e.field } : {}) };
  }
  logInternal(e);
  return { code: 'engine', message: 'internal error: the engine hit a bug (details are in the log); the request changed nothing' };
}
