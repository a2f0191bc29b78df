/**
 * Rotation of one target (docs/events-and-results.md): build the credential, skip when already applied, pre-flight it
 * at the MCP server, PATCH (engine/send-patch.ts) or deliver by reference (engine/deliver-by-reference.ts), verify,
 * roll back (engine/rollback.ts), record. Guards come first (as in AWS's rotation templates): nothing is sent until
 * every check has passed.
 */
import { describeCause } from '../errors.ts';
import type { McpServer, ResolvedTarget, SecretValue, TargetState } from '../types/index.ts';
import type { RotationResult } from '../types/results.ts';
import { worstCaseTargetMs } from './budget.ts';
import { workDeadlineOf, type ChangeOutcome, type DatagridTurn, type RunContext } from './context.ts';
import { authorizationFor } from './credential.ts';
import { cleanUpSecrets, cleanupFields, deliverByReference } from './deliver-by-reference.ts';
import { takeLease } from './lease.ts';
import { preflightFields, preflightTarget, withPreflightMinimum } from './preflight.ts';
import { errorOf } from './result-error.ts';
import { leaseStillHeld, rollBack, rollbackRefusal } from './rollback.ts';
import { sendPatch } from './send-patch.ts';
import { statePkFor } from './state-key.ts';
import { targetResult } from './target-result.ts';
import { isHealthy, lastSyncedAtOf, toolCountOf, verifyResync } from './verify.ts';

/** Why a target whose worst case no longer fits before the deadline is not started. */
export const DEADLINE_MESSAGE =
  "not started: the Lambda's remaining time cannot cover the target's worst case (PATCH, verification and " +
  'rollback, with their retries)';

/** A lease outlives the Lambda by this margin, so a crashed run that is never retried blocks the next one briefly. */
const LEASE_MARGIN_MS = 60_000;

export interface TargetInputs {
  target: ResolvedTarget;
  secret: SecretValue | Error;
  state: TargetState | undefined;
  /** The server as the teamspace list showed it before this run touched it, or why it could not be read. */
  server: McpServer | Error;
}

/** Why a target would be rotated, or undefined when it is already on the current credential and healthy. */
export function rotationReason(
  inputs: TargetInputs & { secret: SecretValue; server: McpServer },
  force: boolean,
): string | undefined {
  const { target, secret, state, server } = inputs;
  if (force) return 'forced';
  if (state?.appliedVersionId === undefined) return 'never rotated by this rotator';
  if (state.appliedVersionId !== secret.versionId)
    return `secret version changed (${state.appliedVersionId} -> ${secret.versionId})`;
  if (!isHealthy(server, target))
    return `server unhealthy (status "${server.status}", ${toolCountOf(server) ?? 0} tools)`;
  const appliedDelivery = state.appliedDelivery ?? 'authorization';
  if (appliedDelivery !== target.delivery) return `delivery changed (${appliedDelivery} -> ${target.delivery})`;
  if (state.authorizationSecretId !== undefined && state.authorizationSecretId !== server.authorization_secret_id) {
    // A rotator-created secret is also possible here (a run that crashed before recording): rotating again cleans up.
    return target.delivery === 'secretReference'
      ? 'server references another secret than the one recorded (changed outside the rotator, or a run ended early)'
      : 'server authorization reference changed outside the rotator';
  }
  return undefined;
}

export function latestStartOf(ctx: RunContext, target: ResolvedTarget): number {
  return workDeadlineOf(ctx.timing) - worstCaseTargetMs(target, ctx.timing);
}

/** Rotate one target. Never throws: every failure becomes a `failed` result with a contract code. */
export async function rotateTarget(ctx: RunContext, inputs: TargetInputs): Promise<RotationResult> {
  const { target, secret, state, server } = inputs;
  const { clock, redactor, request } = ctx;
  const started = clock.now();
  /** Time spent waiting for a Datagrid turn: queueing, not work on this target, so not part of its duration. */
  let waitedMs = 0;
  let attempts = 0;
  const countAttempt = () => {
    attempts += 1;
  };
  const base = targetResult(
    target,
    state?.appliedVersionId !== undefined ? { previousVersionId: state.appliedVersionId } : {},
  );
  const finish = (fields: Partial<RotationResult>): RotationResult => ({
    ...base,
    ...fields,
    attempts,
    durationMs: clock.now() - started - waitedMs,
  });

  if (!(server instanceof Error)) {
    base.serverName = server.name;
    const tools = toolCountOf(server);
    if (tools !== undefined) base.previousToolCount = tools;
  }
  if (secret instanceof Error) return finish({ error: errorOf(secret, redactor) });
  base.secretArn = secret.arn;
  base.secretVersionId = secret.versionId;

  let authorization: string;
  try {
    authorization = authorizationFor(secret, target);
    redactor.add(authorization);
  } catch (error) {
    return finish({ error: errorOf(error, redactor) });
  }
  if (server instanceof Error) return finish({ error: errorOf(server, redactor) });

  const reason = rotationReason({ target, secret, state, server }, request.force);
  const observed = (s: McpServer): Partial<RotationResult> => {
    const fields: Partial<RotationResult> = { status: s.status };
    const tools = toolCountOf(s);
    const synced = lastSyncedAtOf(s);
    if (tools !== undefined) fields.toolCount = tools;
    if (synced !== undefined) fields.lastSyncedAt = synced;
    return fields;
  };
  const unchanged = () => finish({ outcome: 'unchanged', ...observed(server) });
  // An unchanged target by reference may still have secrets an earlier run left: it is cleaned up, not rotated.
  const cleanupOnly = reason === undefined && !request.dryRun && cleanupDue(target, state);
  if (reason === undefined && !cleanupOnly) return unchanged();

  /** The first verification's health rules: Datagrid must see at least the tools the MCP server listed. */
  let verifyTarget = target;
  if (reason !== undefined) {
    // Pre-flight at the MCP server: before the dry-run answer and the lease, so a rejected credential writes nothing.
    const preflightBy = latestStartOf(ctx, target);
    if (target.preflight && clock.now() >= preflightBy) {
      return finish({ outcome: 'skipped', error: { code: 'DEADLINE', message: DEADLINE_MESSAGE } });
    }
    const preflight = await preflightTarget(ctx.mcpProbe, target, server, authorization, redactor, {
      deadlineAt: preflightBy,
      now: () => clock.now(),
    });
    Object.assign(base, preflightFields(preflight));
    if (preflight?.status === 'failed') return finish({ ...observed(server), error: preflight.error });
    verifyTarget = withPreflightMinimum(target, base.preflightToolCount);

    if (request.dryRun) {
      return finish({
        outcome: 'skipped',
        ...observed(server),
        planReason: reason,
        error: { code: 'DRY_RUN', message: `dry run: would rotate (${reason})` },
      });
    }
  }

  const pk = statePkFor(target);
  const leaseUntil = ctx.timing.deadlineAt + LEASE_MARGIN_MS;
  const incidentId = request.incidentId;
  const lease = await takeLease(ctx, pk, { expiresAt: leaseUntil, waitUntil: latestStartOf(ctx, target) });
  if (lease === 'held-elsewhere') {
    if (cleanupOnly) return unchanged();
    if (incidentId === undefined) {
      return finish({
        outcome: 'skipped',
        error: { code: 'LOCKED', message: 'another run holds the lease on this target' },
      });
    }
    // Failed, so the run throws and Lambda retries the incident; the mark keeps the holder from undoing it meanwhile.
    return finish({
      outcome: 'failed',
      error: {
        code: 'LOCKED',
        message:
          `another run held the lease on this target for as long as this run could wait; incident ${incidentId} ` +
          'is marked on the target, so that run will not restore the previous credential; rotate again (a Lambda ' +
          'retry does)',
      },
    });
  }

  const workDeadline = workDeadlineOf(ctx.timing);
  const requestOptions = { deadlineAt: workDeadline, onAttempt: countAttempt };
  const verifyOptions = {
    clock,
    pollIntervalMs: ctx.timing.pollIntervalMs,
    maxPollIntervalMs: ctx.timing.maxPollIntervalMs,
    request: requestOptions,
    lastPollAt: workDeadline - ctx.timing.requestTimeoutMs,
    ...(ctx.resyncTiming && { resyncTiming: ctx.resyncTiming }),
  };
  const record = async ({ result, applied, cleanupPending }: ChangeOutcome): Promise<RotationResult> => {
    try {
      await ctx.state.complete(pk, ctx.lease, {
        serverId: target.serverId,
        ...(target.teamspaceId !== undefined && { teamspaceId: target.teamspaceId }),
        secretId: target.secretId,
        runId: ctx.runId,
        at: new Date(clock.now()).toISOString(),
        outcome: result.outcome,
        ...(result.error && { errorCode: result.error.code }),
        ...(result.toolCount !== undefined && { toolCount: result.toolCount }),
        ...(applied && {
          applied: {
            versionId: secret.versionId,
            authorizationSecretId: applied.authorization_secret_id,
            delivery: target.delivery,
          },
        }),
        ...(incidentId !== undefined && result.outcome === 'rotated' && { resolvesIncident: true }),
        ...(cleanupPending !== undefined && { cleanupPending }),
      });
    } catch (error) {
      // The server is already on the new credential; an unrecorded version only costs a redundant rotation next run.
      ctx.log.error('could not record target state', { target: target.key, cause: describeCause(error) });
    }
    return result;
  };

  // PATCH, verification and rollback: the part that loads Datagrid, run when the run's concurrency allows it.
  const changeCredential = async (): Promise<ChangeOutcome> => {
    if (cleanupOnly) {
      const cleanup = await cleanUpSecrets(ctx, target, requestOptions, () => leaseStillHeld(ctx, pk, leaseUntil));
      return {
        result: { ...unchanged(), ...cleanupFields(ctx, cleanup.deleted, cleanup.notes) },
        cleanupPending: !cleanup.complete,
      };
    }
    let before = server;
    if (lease === 'taken-after-wait') {
      // The run that held the lease may have changed the server: verify against what it shows now.
      try {
        before = await ctx.api.getServer(target.teamspaceId, target.serverId, requestOptions);
      } catch (error) {
        return { result: finish({ error: errorOf(error, redactor) }) };
      }
    }
    const rollbackOptions = { pk, leaseUntil, requestOptions, verifyOptions };
    if (target.delivery === 'secretReference') {
      return deliverByReference(ctx, {
        target,
        verifyTarget,
        secret,
        server: before,
        authorization,
        requestOptions,
        verifyOptions,
        finish,
        observed,
        refusal: () => rollbackRefusal(ctx, rollbackOptions),
        leaseHeld: () => leaseStillHeld(ctx, pk, leaseUntil),
        rollBackByValue: (failed) => rollBack(ctx, { ...inputs, secret }, failed, rollbackOptions),
      });
    }
    const sent = await sendPatch(ctx, target, before, requestOptions, () =>
      ctx.api.updateAuthorization(target.teamspaceId, target.serverId, authorization, requestOptions),
    );
    if ('failed' in sent) return { result: finish({ error: sent.failed }) };
    const { updated, lostAnswer } = sent;
    const verification = await verifyResync(ctx.api, verifyTarget, updated, before, verifyOptions);
    if (verification.ok) {
      if (lostAnswer !== undefined)
        ctx.log.warn('PATCH answer lost, but it landed and verified', { target: target.key });
      return {
        result: finish({ outcome: 'rotated', ...observed(verification.server) }),
        applied: verification.server,
      };
    }
    const rollback = await rollBack(ctx, { ...inputs, secret }, verification, rollbackOptions);
    const final = rollback.server ?? verification.server;
    const notes = [verification.message, ...(lostAnswer !== undefined ? [lostAnswer] : []), rollback.note];
    return {
      result: finish({
        outcome: 'failed',
        rolledBack: rollback.ok,
        ...observed(final),
        error: { code: verification.code, message: redactor.scrub(notes.join('; ')) },
      }),
    };
  };

  const waitFrom = clock.now();
  const changed = await (ctx.datagridTurn ?? runAtOnce)(() => {
    waitedMs = clock.now() - waitFrom;
    return changeCredential();
  });
  if ('refused' in changed) {
    waitedMs = clock.now() - waitFrom;
    try {
      await ctx.state.releaseLease(pk, ctx.lease);
    } catch (error) {
      // The lease expires on its own; the next run only waits for that.
      ctx.log.error('could not release the lease', { target: target.key, cause: describeCause(error) });
    }
    if (cleanupOnly) return { ...unchanged(), deliveryNote: `clean-up postponed: ${changed.refused.message}` };
    return finish({ outcome: 'skipped', error: changed.refused });
  }
  return record(changed);
}

/**
 * Whether rotator-created secrets of a target by reference may be left unreferenced: the last clean-up did not finish,
 * or a run ended without releasing the lease (it crashed, perhaps between `POST /secrets` and the PATCH).
 */
function cleanupDue(target: ResolvedTarget, state: TargetState | undefined): boolean {
  return target.delivery === 'secretReference' && (state?.cleanupPending === true || state?.leaseOwner !== undefined);
}

const runAtOnce: DatagridTurn = (work) => work();
