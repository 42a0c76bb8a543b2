import { UserError } from '../../protocol/errors.js';

/** A file that cannot be read as audio; the message says what was wrong and what to do. */
export class AudioFileError extends UserError {
  override name = 'AudioFileError';
  constructor(message: string) {
    super(message, 'file');
  }
}
