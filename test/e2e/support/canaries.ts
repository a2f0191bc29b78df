/**
 * Leak canaries: every secret value, upstream token and API key a suite uses is made here, so each can be looked
 * for (and must be missing) in everything the rotator writes out: logs, results, errors, events and state.
 */
import { randomBytes } from 'node:crypto';

const canaries = new Map<string, string>();

/** A recognisable, unique credential (letters, digits and dashes only, so JSON escaping cannot hide it). */
export function canary(label: string): string {
  const value = `canary-${label}-${randomBytes(6).toString('hex')}`;
  canaries.set(value, label);
  return value;
}

/** Registers a value made elsewhere (e.g. one with CR/LF in it) so it is looked for too. */
export function registerCanary(value: string, label: string): string {
  canaries.set(value, label);
  return value;
}

/** The labels of every canary found in `text`; empty when nothing leaked. */
export function leakedCanaries(text: string): string[] {
  const found: string[] = [];
  for (const [value, label] of canaries) if (text.includes(value)) found.push(label);
  return found;
}
