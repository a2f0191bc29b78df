/**
 * Memory and timeout for the configured targets. A run works through its targets `concurrency.global` at a time;
 * the worst a target can take is the engine's own budget (lambda/engine/budget.ts): its pre-flight, a PATCH and a
 * verification, then a rollback PATCH and a second verification, each request with all its retries. Lambda caps the
 * timeout at 15 minutes; the engine skips the targets it cannot finish in time (`DEADLINE`).
 */
import { LAMBDA_MAX_TIMEOUT_SECONDS } from '../lambda/constants.ts';
import { preflightBudgetMs, worstCaseTargetMs } from '../lambda/engine/budget.ts';
import type { RotatorConfig } from '../lambda/types/config.ts';

/** Cold start, configuration, the secret batch read, the state read and the event emission. */
export const RUN_OVERHEAD_SECONDS = 60;

export interface FunctionSize {
  memoryMb: number;
  timeoutSeconds: number;
}

export function sizeForTargets(config: RotatorConfig): FunctionSize {
  const targetCount = config.targets.length;
  const waves = Math.ceil(targetCount / Math.max(1, config.concurrency.global));
  const worstTargetSeconds = Math.max(
    0,
    ...config.targets.map((t) => (preflightBudgetMs(t) + worstCaseTargetMs(t, config.datagrid)) / 1000),
  );
  const timeoutSeconds = Math.min(
    LAMBDA_MAX_TIMEOUT_SECONDS,
    Math.ceil(RUN_OVERHEAD_SECONDS + waves * worstTargetSeconds),
  );
  // Memory also buys CPU: many targets mean many concurrent TLS sessions and larger result batches.
  const memoryMb = targetCount <= 25 ? 256 : targetCount <= 100 ? 512 : 1024;
  return { memoryMb, timeoutSeconds };
}
