/**
 * Contract section 5 for one target: build the credential, skip when already applied, PATCH, verify, roll back,
 * record. Guards come first (as in AWS's rotation templates): nothing is sent until every check has passed.
 */
import { DatagridError, RotatorError, describeCause } from '../errors.ts';
import type { McpServer, ResolvedTarget, SecretValue, TargetState } from '../types/index.ts';
import type { RotationResult } from '../types/results.ts';
import type { ChangeOutcome, DatagridTurn, RunContext } from './context.ts';
import { authorizationFor } from './credential.ts';
import { isHealthy, lastSyncedAtOf, toolCountOf, verifyResync, type Verification } from './verify.ts';
import { statePkFor } from './state-key.ts';

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
  if (state.authorizationSecretId !== undefined && state.authorizationSecretId !== server.authorization_secret_id) {
    return 'server authorization reference changed outside the rotator';
  }
  return undefined;
}

export function errorOf(error: unknown, redactor: RunContext['redactor']): { code: string; message: string } {
  if (error instanceof RotatorError) return { code: error.code, message: redactor.scrub(error.message) };
  return { code: 'DATAGRID_UNAVAILABLE', message: `unexpected error: ${describeCause(error)}` };
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
  const base: RotationResult = {
    serverId: target.serverId,
    ...(target.teamspaceId !== undefined && { teamspaceId: target.teamspaceId }),
    secretId: target.secretId,
    outcome: 'failed',
    rolledBack: false,
    attempts: 0,
    durationMs: 0,
    ...(state?.appliedVersionId !== undefined && { previousVersionId: state.appliedVersionId }),
  };
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
  if (reason === undefined) return finish({ outcome: 'unchanged', ...observed(server) });
  if (request.dryRun) {
    return finish({
      outcome: 'skipped',
      ...observed(server),
      planReason: reason,
      error: { code: 'DRY_RUN', message: `dry run: would rotate (${reason})` },
    });
  }

  const pk = statePkFor(target);
  // The lease outlives the Lambda by a margin, so a crashed run cannot block the next one for long.
  const leaseUntil = ctx.timing.deadlineAt + 60_000;
  if (!(await ctx.state.acquireLease(pk, ctx.runId, leaseUntil, clock.now()))) {
    return finish({
      outcome: 'skipped',
      error: { code: 'LOCKED', message: 'another run holds the lease on this target' },
    });
  }

  const requestOptions = { deadlineAt: ctx.timing.deadlineAt, onAttempt: countAttempt };
  const verifyOptions = {
    clock,
    pollIntervalMs: ctx.timing.pollIntervalMs,
    maxPollIntervalMs: ctx.timing.maxPollIntervalMs,
    request: requestOptions,
    ...(ctx.resyncTiming && { resyncTiming: ctx.resyncTiming }),
  };
  const record = async (result: RotationResult, applied?: McpServer): Promise<RotationResult> => {
    try {
      await ctx.state.complete(pk, ctx.runId, {
        serverId: target.serverId,
        ...(target.teamspaceId !== undefined && { teamspaceId: target.teamspaceId }),
        secretId: target.secretId,
        runId: ctx.runId,
        at: new Date(clock.now()).toISOString(),
        outcome: result.outcome,
        ...(result.error && { errorCode: result.error.code }),
        ...(result.toolCount !== undefined && { toolCount: result.toolCount }),
        ...(applied && {
          applied: { versionId: secret.versionId, authorizationSecretId: applied.authorization_secret_id },
        }),
      });
    } catch (error) {
      // The server is already on the new credential; an unrecorded version only costs a redundant rotation next run.
      ctx.log.error('could not record target state', { target: target.key, cause: describeCause(error) });
    }
    return result;
  };

  // PATCH, verification and rollback: the part that loads Datagrid, run when the run's concurrency allows it.
  const changeCredential = async (): Promise<ChangeOutcome> => {
    let updated: McpServer;
    try {
      updated = await ctx.api.updateAuthorization(target.teamspaceId, target.serverId, authorization, requestOptions);
    } catch (error) {
      return { result: finish({ error: errorOf(error, redactor) }) };
    }
    const verification = await verifyResync(ctx.api, target, updated, server, verifyOptions);
    if (verification.ok) {
      return {
        result: finish({ outcome: 'rotated', ...observed(verification.server) }),
        applied: verification.server,
      };
    }
    const rollback = await rollBack(ctx, { ...inputs, secret }, verification, { requestOptions, verifyOptions });
    const final = rollback.server ?? verification.server;
    return {
      result: finish({
        outcome: 'failed',
        rolledBack: rollback.ok,
        ...observed(final),
        error: { code: verification.code, message: redactor.scrub(`${verification.message}; ${rollback.note}`) },
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
      await ctx.state.releaseLease(pk, ctx.runId);
    } catch (error) {
      // The lease expires on its own; the next run only waits for that.
      ctx.log.error('could not release the lease', { target: target.key, cause: describeCause(error) });
    }
    return finish({ outcome: 'skipped', error: changed.refused });
  }
  return record(changed.result, changed.applied);
}

const runAtOnce: DatagridTurn = (work) => work();

interface RollbackOutcome {
  ok: boolean;
  note: string;
  server?: McpServer;
}

/** Put the previously applied credential back and verify it (contract 5.5). Never for incidents. */
async function rollBack(
  ctx: RunContext,
  inputs: TargetInputs & { secret: SecretValue },
  failed: Extract<Verification, { ok: false }>,
  options: {
    requestOptions: { deadlineAt: number; onAttempt: () => void };
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
  try {
    const old = await ctx.secrets.getVersion(target.secretId, previous);
    const authorization = authorizationFor(old, target);
    ctx.redactor.add(old.value);
    ctx.redactor.add(authorization);
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
