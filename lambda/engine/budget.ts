/**
 * How long one target can take once its PATCH has started, at worst: the PATCH (every attempt timing out, with
 * backoff between), a read of the server when its answer was lost, a verification whose last poll times out the same
 * way, then the same again for the rollback. A run starts a target only when this much time is left, and the
 * deployed timeout (infra/sizing.ts) is sized from it, so neither can assume the common case.
 */
import { BACKOFF_BASE_MS, BACKOFF_CAP_MS } from '../constants.ts';

export interface RequestLimits {
  /** Per HTTP attempt. */
  requestTimeoutMs: number;
  /** Per logical request, retries included. */
  maxAttempts: number;
}

/** One logical Datagrid request at worst: every attempt times out, with the longest backoff between attempts. */
export function requestBudgetMs(limits: RequestLimits): number {
  let backoff = 0;
  for (let failed = 1; failed < limits.maxAttempts; failed += 1) {
    backoff += Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (failed - 1));
  }
  return limits.maxAttempts * limits.requestTimeoutMs + backoff;
}

/** PATCH, read-back, verification (its last poll included); twice: once for the change, once for its rollback. */
export function worstCaseTargetMs(target: { verifyTimeoutSeconds: number }, limits: RequestLimits): number {
  const phase = target.verifyTimeoutSeconds * 1000 + 3 * requestBudgetMs(limits);
  return 2 * phase;
}
