// The names window.resona exposes, and nothing else: one method per control command plus onEvent. The
// preload builds its object from this list, and a test compares the object it really exposes against it.
import { COMMAND_NAMES } from '../protocol/control.js';

export const IPC_CALL = 'resona:call';
export const IPC_EVENT = 'resona:event';

export const PRELOAD_METHODS: readonly string[] = [...COMMAND_NAMES, 'onEvent'];
