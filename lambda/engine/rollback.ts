/**
 * Restoring the previously applied credential after a failed verification (delivery `authorization`), and the guards
 * every rollback passes first: never for incidents, only under this attempt's lease, only when it can finish in time.
 */
import { DatagridError, RotatorError, describeCause } from '../errors.ts';
import type { RequestOptions } from '../types/index.ts';
import type { McpServer } from '../types/index.ts';
import type { RunContext } from './context.ts';
import { authorizationFor, credentialForms } from './credential.ts';
import type { TargetInputs } from './rotate-target.ts';
import { verifyResync, type Verification } from './verify.ts';
import type { SecretValue } from '../types/index.ts';

export interface RollbackOutcome {
  ok: boolean;
  note: string;
  server?: McpServer;
}

/** Put the previously applied credential back and verify it. Never for incidents. */
export async function rollBack(
  ctx: RunContext,
  inputs: TargetInputs & { secret: SecretValue },
  failed: Extract<Verification, { ok: false }>,
  options: {
    pk: string;
    leaseUntil: number;
    requestOptions: RequestOptions & { deadlineAt: number };
    verifyOptions: Parameters<typeof verifyResync>[4];
  },
): Promise<RollbackOutcome> {
  const { target, secret, state } = inputs;
  if (ctx.request.incidentId !== undefined)
    return { ok: false, note: 'no rollback: incident runs never restore the previous credential' };
  if (!target.rollbackOnFailure) return { ok: false, note: 'no rollback: rollbackOnFailure is off' };
  const previous = state?.appliedVersionId;
  if (previous === undefined) return { ok: false, note: 'no rollback: no previously applied version is known' };
  if (previous === secret.versionId) return { ok: false, note: 'no rollback: the previous version is the current one' };
  const refused = await rollbackRefusal(ctx, options);
  if (refused !== undefined) return { ok: false, note: `no rollback: ${refused}` };
  try {
    const old = await ctx.secrets.getVersion(target.secretId, previous);
    for (const form of credentialForms(old, target)) ctx.redactor.add(form);
    const authorization = authorizationFor(old, target);
    const restored = await ctx.api.updateAuthorization(
      target.teamspaceId,
      target.serverId,
      authorization,
      options.requestOptions,
    );
    const check = await verifyResync(ctx.api, target, restored, failed.server, options.verifyOptions);
    if (check.ok) return { ok: true, note: `rolled back to version ${previous}`, server: check.server };
    return {
      ok: false,
      note: `rollback failed: version ${previous} did not verify either (${check.code}: ${check.message})`,
      server: check.server,
    };
  } catch (error) {
    const reason =
      error instanceof DatagridError || error instanceof RotatorError
        ? `${error.code}: ${error.message}`
        : describeCause(error);
    return { ok: false, note: `rollback failed: ${reason}` };
  }
}

/**
 * Why the previous credential must not be restored now, if so: an incident for the target was requested (restoring
 * would undo it), the lease is no longer this attempt's (another run or a retry owns the target), or the rollback
 * could not finish before the deadline. The lease check also extends the lease.
 */
export async function rollbackRefusal(
  ctx: RunContext,
  options: { pk: string; leaseUntil: number; requestOptions: { deadlineAt: number } },
): Promise<string | undefined> {
  let check;
  try {
    check = await ctx.state.confirmLease(options.pk, ctx.lease, options.leaseUntil);
  } catch (error) {
    return `the target's lease could not be confirmed (${describeCause(error)})`;
  }
  if (check.incidentPending !== undefined) {
    return (
      `incident ${check.incidentPending} was requested for this target, so the previous credential stays ` +
      'revoked; the incident run rotates it'
    );
  }
  if (!check.held) return "this run no longer holds the target's lease (another run or a retry took it over)";
  if (ctx.clock.now() + ctx.timing.requestTimeoutMs > options.requestOptions.deadlineAt) {
    return "no time is left before the run's deadline";
  }
  return undefined;
}

/** Whether this attempt still holds the target's lease (and extends it): clean-up deletes only under the lease. */
export async function leaseStillHeld(ctx: RunContext, pk: string, leaseUntil: number): Promise<boolean> {
  try {
    return (await ctx.state.confirmLease(pk, ctx.lease, leaseUntil)).held;
  } catch {
    return false;
  }
}
