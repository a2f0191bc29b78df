/** How an error becomes a result's `error`: with its code, its message scrubbed of every credential form. */
import { RotatorError, describeCause } from '../errors.ts';
import type { ResultError } from '../types/results.ts';
import type { Redactor } from './redactor.ts';

/** A result's error; anything but a RotatorError is a fault of the rotator or its state store, not of Datagrid. */
export function errorOf(error: unknown, redactor: Redactor): ResultError {
  if (error instanceof RotatorError) return { code: error.code, message: redactor.scrub(error.message) };
  return { code: 'INTERNAL', message: `unexpected error: ${describeCause(error)}` };
}
