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

/**
 * PATCH, read-back, verification (its last poll included); twice: once for the change, once for its rollback.
 * Delivery `secretReference` adds `POST /secrets`, a refused reference rollback before the rollback by value, and
 * the clean-up (the teamspace list, the secrets list, a delete) at the end.
 */
export function worstCaseTargetMs(
  target: { verifyTimeoutSeconds: number; delivery?: 'authorization' | 'secretReference' },
  limits: RequestLimits,
): number {
  const request = requestBudgetMs(limits);
  const phase = target.verifyTimeoutSeconds * 1000 + 3 * request;
  return 2 * phase + (target.delivery === 'secretReference' ? 5 * request : 0);
}

/** What a target can take before its PATCH starts: the pre-flight at the MCP server, when it is on. */
export function preflightBudgetMs(target: { preflight?: boolean; preflightTimeoutSeconds?: number }): number {
  return target.preflight === true ? (target.preflightTimeoutSeconds ?? 0) * 1000 : 0;
}
