/**
 * Rotation of one target (docs/events-and-results.md): build the credential, skip when already applied, PATCH, verify, roll back,
 * record. Guards come first (as in AWS's rotation templates): nothing is sent until every check has passed.
 */
import { DatagridError, DatagridOutcomeUnknownError, RotatorError, describeCause } from '../errors.ts';
import type { McpServer, RequestOptions, ResolvedTarget, SecretValue, TargetState } from '../types/index.ts';
import type { ResultError, RotationResult } from '../types/results.ts';
import { worstCaseTargetMs } from './budget.ts';
import { workDeadlineOf, type ChangeOutcome, type DatagridTurn, type RunContext } from './context.ts';
import { authorizationFor, credentialForms } from './credential.ts';
import { takeLease } from './lease.ts';
import { signOfChange } from './lost-answer.ts';
import { isHealthy, lastSyncedAtOf, toolCountOf, verifyResync, type Verification } from './verify.ts';
import { statePkFor } from './state-key.ts';

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
  if (state.authorizationSecretId !== undefined && state.authorizationSecretId !== server.authorization_secret_id) {
    return 'server authorization reference changed outside the rotator';
  }
  return undefined;
}

/** A result's error; anything but a RotatorError is a fault of the rotator or its state store, not of Datagrid. */
export function errorOf(error: unknown, redactor: RunContext['redactor']): ResultError {
  if (error instanceof RotatorError) return { code: error.code, message: redactor.scrub(error.message) };
  return { code: 'INTERNAL', message: `unexpected error: ${describeCause(error)}` };
}

/** The latest time a target's PATCH may start so that its worst case still ends before the run's Datagrid work must. */
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
  const leaseUntil = ctx.timing.deadlineAt + LEASE_MARGIN_MS;
  const incidentId = request.incidentId;
  const lease = await takeLease(ctx, pk, { expiresAt: leaseUntil, waitUntil: latestStartOf(ctx, target) });
  if (lease === 'held-elsewhere') {
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
  const record = async (result: RotationResult, applied?: McpServer): Promise<RotationResult> => {
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
          applied: { versionId: secret.versionId, authorizationSecretId: applied.authorization_secret_id },
        }),
        ...(incidentId !== undefined && result.outcome === 'rotated' && { resolvesIncident: true }),
      });
    } catch (error) {
      // The server is already on the new credential; an unrecorded version only costs a redundant rotation next run.
      ctx.log.error('could not record target state', { target: target.key, cause: describeCause(error) });
    }
    return result;
  };

  // PATCH, verification and rollback: the part that loads Datagrid, run when the run's concurrency allows it.
  const changeCredential = async (): Promise<ChangeOutcome> => {
    let before = server;
    if (lease === 'taken-after-wait') {
      // The run that held the lease may have changed the server: verify against what it shows now.
      try {
        before = await ctx.api.getServer(target.teamspaceId, target.serverId, requestOptions);
      } catch (error) {
        return { result: finish({ error: errorOf(error, redactor) }) };
      }
    }
    const sent = await sendPatch(ctx, target, authorization, before, requestOptions);
    if ('failed' in sent) return { result: finish({ error: sent.failed }) };
    const { updated, lostAnswer } = sent;
    const verification = await verifyResync(ctx.api, target, updated, before, verifyOptions);
    if (verification.ok) {
      if (lostAnswer !== undefined)
        ctx.log.warn('PATCH answer lost, but it landed and verified', { target: target.key });
      return {
        result: finish({ outcome: 'rotated', ...observed(verification.server) }),
        applied: verification.server,
      };
    }
    const rollback = await rollBack(ctx, { ...inputs, secret }, verification, {
      pk,
      leaseUntil,
      requestOptions,
      verifyOptions,
    });
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
    return finish({ outcome: 'skipped', error: changed.refused });
  }
  return record(changed.result, changed.applied);
}

const runAtOnce: DatagridTurn = (work) => work();

type Sent = { updated: McpServer; lostAnswer?: string } | { failed: ResultError };

/**
 * The PATCH. When its answer was lost the change may have landed anyway: the server is read, and if it shows the
 * change, verification and rollback go on as if it had answered (`lostAnswer` then says so for the result).
 */
async function sendPatch(
  ctx: RunContext,
  target: ResolvedTarget,
  authorization: string,
  before: McpServer,
  requestOptions: RequestOptions,
): Promise<Sent> {
  const { api, redactor } = ctx;
  try {
    return {
      updated: await api.updateAuthorization(target.teamspaceId, target.serverId, authorization, requestOptions),
    };
  } catch (error) {
    if (!(error instanceof DatagridOutcomeUnknownError)) return { failed: errorOf(error, redactor) };
    const lost = redactor.scrub(error.message);
    let after: McpServer;
    try {
      after = await api.getServer(target.teamspaceId, target.serverId, requestOptions);
    } catch (readError) {
      return {
        failed: {
          code: error.code,
          message:
            `${lost}; the server could not be read afterwards (${errorOf(readError, redactor).message}): ` +
            'the credential may have changed, and it was neither verified nor rolled back',
        },
      };
    }
    const sign = signOfChange(before, after, target);
    if (sign === undefined) {
      return {
        failed: {
          code: error.code,
          message:
            `${lost}; the server read afterwards shows no sign of the change (authorization_secret_id, ` +
            'last_synced_at and updated_at unchanged), but the credential may still change if the request arrives late',
        },
      };
    }
    return {
      updated: after,
      lostAnswer: `the PATCH answer was lost (${lost}), but the server shows it landed (${sign}): the credential may have changed`,
    };
  }
}

interface RollbackOutcome {
  ok: boolean;
  note: string;
  server?: McpServer;
}

/** Put the previously applied credential back and verify it. Never for incidents. */
async function rollBack(
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
async function rollbackRefusal(
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
