// A budget on untrusted input, and the error for passing one. Budgets live in tables beside the readers that
// enforce them; each carries the real file it was sized from, so the message can say why the figure is what it
// is and a user with a genuine file that passes it knows to report it rather than to retry.
import { UserError } from '../../protocol/errors.js';

export interface Limit {
  readonly max: number;
  /** What real input the figure was sized from, said when it is passed. */
  readonly sizedFrom: string;
}

export class LimitError extends UserError {
  override name = 'LimitError';
  constructor(message: string, field?: string) {
    super(message, 'limit', field);
  }
}

/** "<subject> <what> more than <max> (<sizedFrom>); the file is damaged or malicious". */
export function overLimit(subject: string, what: string, limit: Limit, unit: (n: number) => string = count): LimitError {
  return new LimitError(`${subject} ${what} more than ${unit(limit.max)} (${limit.sizedFrom}); the file is damaged or malicious`);
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

export function byteSize(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1 && n % 1024 === 0) {
    n /= 1024;
    i++;
  }
  if (i === 0 && n >= 1024) {
    const exp = Math.min(Math.floor(Math.log2(n) / 10), units.length - 1);
    return `${(n / 1024 ** exp).toFixed(1)} ${units[exp]}`;
  }
  return `${count(n)} ${units[i]}`;
}
