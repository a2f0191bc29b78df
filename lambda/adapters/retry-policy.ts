/**
 * When and how long to wait before retrying a Datagrid request. The rules follow the official client (datagrid-ai,
 * src/core.ts: shouldRetry, retryRequest), except that the default backoff uses full jitter so that concurrent
 * rotations do not retry in step, and that a server-requested wait is obeyed only when it is sane.
 */

import { BACKOFF_BASE_MS, BACKOFF_CAP_MS } from '../constants.ts';

/** A longer Retry-After than this would eat most of a run; backoff is used instead. */
const MAX_REQUESTED_WAIT_MS = 60_000;

/** 401 and 403 mean the API key is refused: retrying cannot help and repeats the failure once per request. */
export function isAuthFailure(status: number): boolean {
  return status === 401 || status === 403;
}

/**
 * Whether a response with this status may be retried. `shouldRetryHeader` is the `x-should-retry` header, which
 * overrides the status rule in both directions when it is `true` or `false`.
 */
export function isRetryableResponse(status: number, shouldRetryHeader: string | undefined): boolean {
  if (isAuthFailure(status)) return false;
  if (shouldRetryHeader === 'true') return true;
  if (shouldRetryHeader === 'false') return false;
  return isRetryableStatus(status);
}

/** Timeouts (408), lock conflicts (409), rate limits (429) and server errors (5xx) are transient. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * The wait the server asked for: `retry-after-ms` (milliseconds), else `Retry-After` (seconds or an HTTP date,
 * measured from `now`). Undefined when neither is given or the value is not in (0, 60 s].
 */
export function requestedWaitMs(
  retryAfterMsHeader: string | undefined,
  retryAfterHeader: string | undefined,
  now: number,
): number | undefined {
  const candidates = [parseMilliseconds(retryAfterMsHeader), parseRetryAfter(retryAfterHeader, now)];
  return candidates.find((ms) => ms !== undefined && ms > 0 && ms <= MAX_REQUESTED_WAIT_MS);
}

/** Full-jitter exponential backoff after the given (1-based) failed attempt: up to 0.5 s, 1 s, 2 s, ... 8 s. */
export function backoffMs(failedAttempt: number, random: () => number): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (failedAttempt - 1));
  return random() * ceiling;
}

const DECIMAL = /^\s*\d+(\.\d+)?\s*$/;

function parseMilliseconds(value: string | undefined): number | undefined {
  return value !== undefined && DECIMAL.test(value) ? Number(value) : undefined;
}

function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  if (DECIMAL.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : at - now;
}
