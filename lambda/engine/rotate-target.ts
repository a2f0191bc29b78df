/**
 * Rotation of one target (docs/events-and-results.md): build the credential, skip when already applied, pre-flight it
 * at the MCP server, PATCH (engine/send-patch.ts) or deliver by reference (engine/deliver-by-reference.ts), verify,
 * roll back (engine/rollback.ts), record. Guards come first (as in AWS's rotation templates): nothing is sent until
 * every check has passed.
 */
import { describeCause } from '../errors.ts';
import type { McpServer, RequestOptions, ResolvedTarget, SecretValue, TargetState } from '../types/index.ts';
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
import { isHealthy, lastSyncedAtOf, toolCountOf, verifyResync, type VerifyOptions } from './verify.ts';

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

/** Rotate one target. Never throws: every failure becomes a result with an error code (docs/events-and-results.md). */
export async function rotateTarget(ctx: RunContext, inputs: TargetInputs): Promise<RotationResult> {
  const { target, state } = inputs;
  const { request } = ctx;
  const tally = startTally(ctx, inputs);
  const ready = readyInputs(ctx, inputs, tally);
  if ('result' in ready) return ready.result;
  const { secret, server, authorization } = ready;

  const reason = rotationReason({ target, secret, state, server }, request.force);
  const unchanged = () => tally.finish({ outcome: 'unchanged', ...observed(server) });
  // An unchanged target by reference may still have secrets an earlier run left: it is cleaned up, not rotated.
  const cleanupOnly = reason === undefined && !request.dryRun && cleanupDue(target, state);
  if (reason === undefined && !cleanupOnly) return unchanged();

  /** The first verification's health rules: Datagrid must see at least the tools the MCP server listed. */
  let verifyTarget = target;
  if (reason !== undefined) {
    const checked = await preflightAndPlan(ctx, { target, server, authorization, reason }, tally);
    if ('result' in checked) return checked.result;
    verifyTarget = checked.verifyTarget;
  }

  const pk = statePkFor(target);
  const leaseUntil = ctx.timing.deadlineAt + LEASE_MARGIN_MS;
  const lease = await takeLease(ctx, pk, { expiresAt: leaseUntil, waitUntil: latestStartOf(ctx, target) });
  if (lease === 'held-elsewhere') return cleanupOnly ? unchanged() : lockedResult(request.incidentId, tally);

  const work: TargetWork = {
    inputs: { ...inputs, secret, server },
    authorization,
    verifyTarget,
    pk,
    leaseUntil,
    takenAfterWait: lease === 'taken-after-wait',
    tally,
    ...workOptions(ctx, tally),
  };
  // PATCH, verification and rollback: the part that loads Datagrid, run when the run's concurrency allows it.
  const changed = await inDatagridTurn(ctx, tally, () =>
    cleanupOnly ? cleanUp(ctx, work, unchanged) : changeCredential(ctx, work),
  );
  if ('refused' in changed) {
    await releaseLease(ctx, pk, target);
    if (cleanupOnly) return { ...unchanged(), deliveryNote: `clean-up postponed: ${changed.refused.message}` };
    return tally.finish({ outcome: 'skipped', error: changed.refused });
  }
  return record(ctx, work, changed);
}

/** The result under construction: its fields so far, the Datagrid attempts, and the time spent waiting for a turn. */
interface Tally {
  /** Fields every result of this target carries (filled in as the target's inputs are read). */
  base: RotationResult;
  countAttempt: () => void;
  /** Waiting for a Datagrid turn is queueing, not work on this target: not part of its duration. */
  setWaited: (ms: number) => void;
  finish: (fields: Partial<RotationResult>) => RotationResult;
}

function startTally(ctx: RunContext, { target, state }: TargetInputs): Tally {
  const { clock } = ctx;
  const started = clock.now();
  let waitedMs = 0;
  let attempts = 0;
  const base = targetResult(
    target,
    state?.appliedVersionId !== undefined ? { previousVersionId: state.appliedVersionId } : {},
  );
  return {
    base,
    countAttempt: () => {
      attempts += 1;
    },
    setWaited: (ms) => {
      waitedMs = ms;
    },
    finish: (fields) => ({ ...base, ...fields, attempts, durationMs: clock.now() - started - waitedMs }),
  };
}

/** What the server showed: its status, tool count and last sync. */
function observed(server: McpServer): Partial<RotationResult> {
  const fields: Partial<RotationResult> = { status: server.status };
  const tools = toolCountOf(server);
  const synced = lastSyncedAtOf(server);
  if (tools !== undefined) fields.toolCount = tools;
  if (synced !== undefined) fields.lastSyncedAt = synced;
  return fields;
}

/** The secret, the server and the Authorization value, or the failed result saying which could not be had. */
function readyInputs(
  ctx: RunContext,
  { target, secret, server }: TargetInputs,
  tally: Tally,
): { secret: SecretValue; server: McpServer; authorization: string } | { result: RotationResult } {
  const { redactor } = ctx;
  const { base } = tally;
  if (!(server instanceof Error)) {
    base.serverName = server.name;
    const tools = toolCountOf(server);
    if (tools !== undefined) base.previousToolCount = tools;
  }
  if (secret instanceof Error) return { result: tally.finish({ error: errorOf(secret, redactor) }) };
  base.secretArn = secret.arn;
  base.secretVersionId = secret.versionId;

  let authorization: string;
  try {
    authorization = authorizationFor(secret, target);
    redactor.add(authorization);
  } catch (error) {
    return { result: tally.finish({ error: errorOf(error, redactor) }) };
  }
  if (server instanceof Error) return { result: tally.finish({ error: errorOf(server, redactor) }) };
  return { secret, server, authorization };
}

/**
 * Pre-flight at the MCP server, then a dry run's answer: both before the lease, so a rejected credential and a plan
 * write nothing. Gives the first verification's health rules when the rotation goes on.
 */
async function preflightAndPlan(
  ctx: RunContext,
  {
    target,
    server,
    authorization,
    reason,
  }: { target: ResolvedTarget; server: McpServer; authorization: string; reason: string },
  tally: Tally,
): Promise<{ verifyTarget: ResolvedTarget } | { result: RotationResult }> {
  const { clock, redactor } = ctx;
  const preflightBy = latestStartOf(ctx, target);
  if (target.preflight && clock.now() >= preflightBy) {
    return { result: tally.finish({ outcome: 'skipped', error: { code: 'DEADLINE', message: DEADLINE_MESSAGE } }) };
  }
  const preflight = await preflightTarget(ctx.mcpProbe, target, server, authorization, redactor, {
    deadlineAt: preflightBy,
    now: () => clock.now(),
  });
  Object.assign(tally.base, preflightFields(preflight));
  if (preflight?.status === 'failed') return { result: tally.finish({ ...observed(server), error: preflight.error }) };

  if (ctx.request.dryRun) {
    return {
      result: tally.finish({
        outcome: 'skipped',
        ...observed(server),
        planReason: reason,
        error: { code: 'DRY_RUN', message: `dry run: would rotate (${reason})` },
      }),
    };
  }
  return { verifyTarget: withPreflightMinimum(target, tally.base.preflightToolCount) };
}

/** Another run holds the lease: skipped, or failed for an incident (so the run throws and Lambda retries it). */
function lockedResult(incidentId: string | undefined, tally: Tally): RotationResult {
  if (incidentId === undefined) {
    return tally.finish({
      outcome: 'skipped',
      error: { code: 'LOCKED', message: 'another run holds the lease on this target' },
    });
  }
  // The mark keeps the holder from undoing the incident's rotation meanwhile.
  return tally.finish({
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

/** A target's Datagrid work under its lease. */
interface TargetWork {
  inputs: TargetInputs & { secret: SecretValue; server: McpServer };
  authorization: string;
  verifyTarget: ResolvedTarget;
  pk: string;
  leaseUntil: number;
  /** The lease was taken after waiting for another run, which may have changed the server. */
  takenAfterWait: boolean;
  tally: Tally;
  requestOptions: RequestOptions & { deadlineAt: number };
  verifyOptions: VerifyOptions;
}

/** Datagrid requests end before the run's reserve; verification polls only while a request still fits. */
function workOptions(ctx: RunContext, tally: Tally): Pick<TargetWork, 'requestOptions' | 'verifyOptions'> {
  const workDeadline = workDeadlineOf(ctx.timing);
  const requestOptions = { deadlineAt: workDeadline, onAttempt: tally.countAttempt };
  return {
    requestOptions,
    verifyOptions: {
      clock: ctx.clock,
      pollIntervalMs: ctx.timing.pollIntervalMs,
      maxPollIntervalMs: ctx.timing.maxPollIntervalMs,
      request: requestOptions,
      lastPollAt: workDeadline - ctx.timing.requestTimeoutMs,
      ...(ctx.resyncTiming && { resyncTiming: ctx.resyncTiming }),
    },
  };
}

/** Runs `work` when the run's Datagrid concurrency allows; the wait for the turn is kept out of the duration. */
async function inDatagridTurn(
  ctx: RunContext,
  tally: Tally,
  work: () => Promise<ChangeOutcome>,
): ReturnType<DatagridTurn> {
  const { clock } = ctx;
  const waitFrom = clock.now();
  const changed = await (ctx.datagridTurn ?? runAtOnce)(() => {
    tally.setWaited(clock.now() - waitFrom);
    return work();
  });
  if ('refused' in changed) tally.setWaited(clock.now() - waitFrom);
  return changed;
}

/** An unchanged target by reference: delete the secrets earlier runs left, under the lease. */
async function cleanUp(ctx: RunContext, work: TargetWork, unchanged: () => RotationResult): Promise<ChangeOutcome> {
  const { pk, leaseUntil } = work;
  const cleanup = await cleanUpSecrets(ctx, work.inputs.target, work.requestOptions, () =>
    leaseStillHeld(ctx, pk, leaseUntil),
  );
  return {
    result: { ...unchanged(), ...cleanupFields(ctx, cleanup.deleted, cleanup.notes) },
    cleanupPending: !cleanup.complete,
  };
}

/** Deliver the new credential (by value or by reference), verify the re-sync, roll back when it fails. */
async function changeCredential(ctx: RunContext, work: TargetWork): Promise<ChangeOutcome> {
  const { inputs, tally, requestOptions, verifyOptions, pk, leaseUntil } = work;
  const { target, secret } = inputs;
  let before = inputs.server;
  if (work.takenAfterWait) {
    // The run that held the lease may have changed the server: verify against what it shows now.
    try {
      before = await ctx.api.getServer(target.teamspaceId, target.serverId, requestOptions);
    } catch (error) {
      return { result: tally.finish({ error: errorOf(error, ctx.redactor) }) };
    }
  }
  const rollbackOptions = { pk, leaseUntil, requestOptions, verifyOptions };
  if (target.delivery === 'secretReference') {
    return deliverByReference(ctx, {
      target,
      verifyTarget: work.verifyTarget,
      secret,
      server: before,
      authorization: work.authorization,
      requestOptions,
      verifyOptions,
      finish: tally.finish,
      observed,
      refusal: () => rollbackRefusal(ctx, rollbackOptions),
      leaseHeld: () => leaseStillHeld(ctx, pk, leaseUntil),
      rollBackByValue: (failed) => rollBack(ctx, inputs, failed, rollbackOptions),
    });
  }
  return changeByValue(ctx, work, before, rollbackOptions);
}

/** Delivery `authorization`: PATCH the value, verify, and restore the previous value when verification fails. */
async function changeByValue(
  ctx: RunContext,
  work: TargetWork,
  before: McpServer,
  rollbackOptions: Parameters<typeof rollBack>[3],
): Promise<ChangeOutcome> {
  const { inputs, tally, requestOptions } = work;
  const { target } = inputs;
  const sent = await sendPatch(ctx, target, before, requestOptions, () =>
    ctx.api.updateAuthorization(target.teamspaceId, target.serverId, work.authorization, requestOptions),
  );
  if ('failed' in sent) return { result: tally.finish({ error: sent.failed }) };
  const { updated, lostAnswer } = sent;
  const verification = await verifyResync(ctx.api, work.verifyTarget, updated, before, work.verifyOptions);
  if (verification.ok) {
    if (lostAnswer !== undefined) ctx.log.warn('PATCH answer lost, but it landed and verified', { target: target.key });
    return {
      result: tally.finish({ outcome: 'rotated', ...observed(verification.server) }),
      applied: verification.server,
    };
  }
  const rollback = await rollBack(ctx, inputs, verification, rollbackOptions);
  const final = rollback.server ?? verification.server;
  const notes = [verification.message, ...(lostAnswer !== undefined ? [lostAnswer] : []), rollback.note];
  return {
    result: tally.finish({
      outcome: 'failed',
      rolledBack: rollback.ok,
      ...observed(final),
      error: { code: verification.code, message: ctx.redactor.scrub(notes.join('; ')) },
    }),
  };
}

/** The target's state after the change (and the lease released with it); a failed write is logged, not fatal. */
async function record(
  ctx: RunContext,
  work: TargetWork,
  { result, applied, cleanupPending }: ChangeOutcome,
): Promise<RotationResult> {
  const { target, secret } = work.inputs;
  const { incidentId } = ctx.request;
  try {
    await ctx.state.complete(work.pk, ctx.lease, {
      serverId: target.serverId,
      ...(target.teamspaceId !== undefined && { teamspaceId: target.teamspaceId }),
      secretId: target.secretId,
      runId: ctx.runId,
      at: new Date(ctx.clock.now()).toISOString(),
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
}

/** After a refused turn; the lease expires on its own if this fails, and the next run only waits for that. */
async function releaseLease(ctx: RunContext, pk: string, target: ResolvedTarget): Promise<void> {
  try {
    await ctx.state.releaseLease(pk, ctx.lease);
  } catch (error) {
    ctx.log.error('could not release the lease', { target: target.key, cause: describeCause(error) });
  }
}

/**
 * Whether rotator-created secrets of a target by reference may be left unreferenced: the last clean-up did not finish,
 * or a run ended without releasing the lease (it crashed, perhaps between `POST /secrets` and the PATCH).
 */
function cleanupDue(target: ResolvedTarget, state: TargetState | undefined): boolean {
  return target.delivery === 'secretReference' && (state?.cleanupPending === true || state?.leaseOwner !== undefined);
}

const runAtOnce: DatagridTurn = (work) => work();
