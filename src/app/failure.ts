// Turns anything thrown by a run into what the page can show: an InputError keeps its field (the
// page puts the message beside it), anything else becomes a plain message.

import { InputError } from '../model/errors.js';
import type { RunFailure } from './protocol.js';
import { messageOf } from './settings.js';

export function describeFailure(err: unknown): RunFailure {
  if (err instanceof InputError) return { field: err.field, message: messageOf(err) };
  if (err instanceof Error) return { field: null, message: err.message || err.name };
  return { field: null, message: String(err) };
}
