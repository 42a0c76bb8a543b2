// The one error of the diffusion stage: a file, field or setting that does not fit, said with its value and
// what was expected, so the user knows which file to fix or which setting to change.
import { UserError, type UserErrorCode } from '../../protocol/errors.js';

export class DiffusionError extends UserError {
  override name = 'DiffusionError';
  constructor(message: string, code: UserErrorCode = 'import', field?: string) {
    super(message, code, field);
  }
}

function shown(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return Array.isArray(value) ? `a list of ${value.length}` : typeof value === 'object' ? 'a mapping' : typeof value;
}

/** "<where>: <field> is <value>; expected <expected>". */
export function badField(where: string, field: string, value: unknown, expected: string): DiffusionError {
  return new DiffusionError(`${where}: ${field} is ${shown(value)}; expected ${expected}`);
}

/** A sampler setting out of range (a live setting, so the code is 'setting' and the field names it). */
export function badSetting(field: string, value: unknown, expected: string): DiffusionError {
  return new DiffusionError(`diffusion ${field} is ${shown(value)}; expected ${expected}`, 'setting', field);
}
