// Turns whatever a host call threw into the protocol's {code, message, field?}, so every front end shows the
// same one-line message and the UI can put a settings error beside the field it concerns.
import type { ControlError } from '../../protocol/control.js';

const IMPORT_ERRORS = new Set([
  'VoiceFormatError', 'OnnxFormatError', 'ContractError', 'ModelLoadError', 'ModelInputError', 'IndexFormatError', 'CheckpointError', 'RvcGraphError',
]);

export class RequestError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

export function toControlError(e: unknown, context?: ControlError['code']): ControlError {
  if (!(e instanceof Error)) return { code: 'engine', message: String(e) };
  const field = (e as { key?: unknown }).key;
  switch (e.name) {
    case 'SettingError':
      return { code: 'setting', message: e.message, ...(typeof field === 'string' ? { field } : {}) };
    case 'RequestError': {
      const f = (e as RequestError).field;
      return { code: 'request', message: e.message, ...(f ? { field: f } : {}) };
    }
    case 'VoiceNotFoundError':
      return { code: 'voice', message: e.message };
    case 'DeviceError':
    case 'PulseError':
    case 'AudioWorkerError':
      return { code: 'device', message: e.message };
    case 'ModelMissingError':
      return { code: 'voice', message: e.message };
  }
  if (IMPORT_ERRORS.has(e.name)) return { code: context === 'import' ? 'import' : 'voice', message: e.message };
  return { code: context ?? 'engine', message: e.message };
}
