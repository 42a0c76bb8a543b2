// One base class for every failure the user can do something about: a wrong value, a bad file, a missing
// device or model. Its message is one line that says what was wrong and what to do. Anything that is not a
// UserError is a bug: front ends log it with its stack and answer with a generic message.
//
// `code` says which part of the product the user should look at (the UI groups and places errors by it) and
// `field` names the setting or form field when there is one. Errors cross worker and process boundaries as
// plain data (`toWire`) and are rebuilt as UserErrors (`fromWire`), so `instanceof UserError` holds on every
// side of a boundary and no list of error names has to be kept in step anywhere.

export type UserErrorCode =
  | 'setting' // a value out of range; field says which
  | 'request' // a malformed or impossible request (wrong type, unknown command, missing argument)
  | 'usage' // the command line
  | 'voice' // a voice that cannot be found or loaded
  | 'import' // a voice file that cannot be imported
  | 'model' // a network file (encoder, f0 network, catalogue download)
  | 'file' // an audio or other input file
  | 'device' // audio devices, PulseAudio
  | 'limit' // input past a safety budget (size, depth, count)
  | 'auth'; // server access

export interface WireError {
  name: string;
  message: string;
  code?: UserErrorCode;
  field?: string;
  /** Present for internal errors only, so the receiving side can log it. */
  stack?: string;
}

export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    readonly code: UserErrorCode,
    readonly field?: string,
  ) {
    super(oneLine(message));
  }
}

/** Messages are one line: a raw byte dump or a multi-line library message is folded and cut. */
export function oneLine(message: string, max = 600): string {
  // eslint-disable-next-line no-control-regex
  const s = message.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?').replace(/\s*\n\s*/g, '; ');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

export function toWire(e: unknown): WireError {
  if (e instanceof UserError) return { name: e.name, message: e.message, code: e.code, ...(e.field ? { field: e.field } : {}) };
  if (e instanceof Error) return { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) };
  return { name: 'Error', message: String(e) };
}

/** Rebuilds a UserError (keeping its name) or, for an internal error, a plain Error with the remote stack. */
export function fromWire(w: WireError): Error {
  if (w.code) {
    const e = new UserError(w.message, w.code, w.field);
    e.name = w.name;
    return e;
  }
  const e = new Error(w.message);
  e.name = w.name;
  if (w.stack) e.stack = w.stack;
  return e;
}
