/** Exit codes the operator CLI promises (docs/cli.md), and the error that means "the caller asked wrongly". */
import type { RunSummary } from '../lambda/types/results.ts';
import { failedRotations } from '../lambda/engine/summary.ts';
import { RotatorBaseError } from '../lambda/errors.ts';
import { isAudit } from './render.ts';

export const EXIT = {
  ok: 0,
  /** A target failed (or would fail), is non-compliant, or the run could not complete. */
  failed: 1,
  /** Bad arguments, an invalid configuration file or a request naming unknown targets. Nothing was changed. */
  usage: 2,
} as const;

/** A usage problem the CLI itself found (missing table name, bad option combination). */
export class UsageError extends RotatorBaseError {
  override name = 'UsageError';
}

/**
 * 1 when a rotation target failed (in an incident run: was not rotated, e.g. LOCKED by a run that held its lease to
 * the end) or an audited target is non-compliant; 0 otherwise.
 */
export function exitCodeOf(summary: RunSummary): number {
  const bad = failedRotations(summary).length > 0 || summary.results.some((r) => isAudit(r) && !r.compliant);
  return bad ? EXIT.failed : EXIT.ok;
}
