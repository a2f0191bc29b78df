/**
 * Taking a target's lease. A run that finds it held skips the target, except an incident run: an incident must never
 * be lost or undone, so it first marks the target (a lease holder reads the mark before any rollback and then does
 * not restore the previous credential), then waits for the lease while its deadline still allows a whole rotation.
 */
import type { RunContext } from './context.ts';

export type LeaseTaken =
  /** Held at once. */
  | 'taken'
  /** Held after another run released it: the server may have changed since the run read it. */
  | 'taken-after-wait'
  /** Another run holds it. */
  | 'held-elsewhere';

export async function takeLease(
  ctx: RunContext,
  pk: string,
  options: { expiresAt: number; waitUntil: number },
): Promise<LeaseTaken> {
  const { clock, state, lease, request } = ctx;
  const acquire = () => state.acquireLease(pk, lease, options.expiresAt, clock.now());
  if (request.incidentId === undefined) return (await acquire()) ? 'taken' : 'held-elsewhere';

  // Marked before the lease is tried: a holder that reads the mark after this cannot undo the incident.
  await state.markIncident(pk, request.incidentId, new Date(clock.now()).toISOString());
  if (await acquire()) return 'taken';
  while (clock.now() + ctx.timing.leaseRetryMs <= options.waitUntil) {
    await clock.sleep(ctx.timing.leaseRetryMs);
    if (await acquire()) return 'taken-after-wait';
  }
  return 'held-elsewhere';
}
