/**
 * Delivery `secretReference` (blue/green): the new Authorization value goes into a Datagrid secret of its own, and
 * the server is PATCHed to reference it (`authorization_secret_id`, nothing else). The previous secret stays until
 * the new one verified, so a rollback is one PATCH of the previous id, on a first rotation too when the server used
 * a caller-managed secret. Datagrid may refuse that id (it deletes a Datagrid-managed secret once the server stops
 * using it); the rollback then restores the previously applied version's value, as delivery `authorization` does.
 *
 * Secrets are named `<secretNamePrefix><teamspaceId or ->/<serverId>/<secret version id>` and identified by id (a
 * forced re-run of one version makes a second secret of the same name). Whatever happened, the run ends by deleting
 * every secret under the target's name prefix that no server of the teamspace references, read just before: the
 * replaced secret, a rejected one, a duplicate from a retried POST, a leftover of a crashed run. It runs inside the
 * target's lease and before the state is recorded, so a run that crashes before it rotates the target again next
 * time and cleans up then. Secrets without the prefix (the caller's own, Datagrid-managed ones) are never deleted.
 */
import { DatagridError } from '../errors.ts';
import type { DatagridSecretsApi, McpServer, RequestOptions, ResolvedTarget, SecretValue } from '../types/index.ts';
import type { ResultError, RotationResult } from '../types/results.ts';
import type { ChangeOutcome, RunContext } from './context.ts';
import { errorOf } from './result-error.ts';
import type { RollbackOutcome } from './rollback.ts';
import { sendPatch } from './send-patch.ts';
import { verifyResync, type Verification, type VerifyOptions } from './verify.ts';

type FailedVerification = Extract<Verification, { ok: false }>;

export interface ReferenceDelivery {
  target: ResolvedTarget;
  /** The health rules of the first verification (pre-flight may have raised minToolCount). */
  verifyTarget: ResolvedTarget;
  secret: SecretValue;
  /** The server as read before the change. */
  server: McpServer;
  authorization: string;
  requestOptions: RequestOptions;
  verifyOptions: VerifyOptions;
  /** Restores the previously applied version's value (delivery `authorization`'s rollback). */
  rollBackByValue: (failed: FailedVerification) => Promise<RollbackOutcome>;
  /** Why no rollback may be sent now (an incident was marked, the lease is gone, no time is left), if so. */
  refusal: () => Promise<string | undefined>;
  /** Whether this attempt still holds the target's lease: secrets are deleted only under it. */
  leaseHeld: () => Promise<boolean>;
  finish: (fields: Partial<RotationResult>) => RotationResult;
  observed: (server: McpServer) => Partial<RotationResult>;
}

/** Every secret the rotator creates for a target starts with this. */
export function secretNamePrefixFor(target: Pick<ResolvedTarget, 'secretNamePrefix' | 'teamspaceId' | 'serverId'>) {
  return `${target.secretNamePrefix}${target.teamspaceId ?? '-'}/${target.serverId}/`;
}

/** The secret version id a rotator-created secret's name claims, or undefined for a name without the prefix. */
export function versionInSecretName(
  target: Pick<ResolvedTarget, 'secretNamePrefix' | 'teamspaceId' | 'serverId'>,
  name: string,
): string | undefined {
  const prefix = secretNamePrefixFor(target);
  return name.startsWith(prefix) && name.length > prefix.length ? name.slice(prefix.length) : undefined;
}

export async function deliverByReference(ctx: RunContext, delivery: ReferenceDelivery): Promise<ChangeOutcome> {
  const secrets = ctx.api.secrets;
  const { finish } = delivery;
  if (secrets === undefined) {
    return {
      result: finish({ error: { code: 'DATAGRID_REJECTED', message: 'the Datagrid client has no secrets API' } }),
    };
  }
  const changed = await change(ctx, secrets, delivery);
  const cleanup = await cleanUpSecrets(ctx, delivery.target, delivery.requestOptions, delivery.leaseHeld);
  const notes = [...changed.notes, ...cleanup.notes];
  const previousId = delivery.server.authorization_secret_id;
  if (ctx.request.incidentId !== undefined && previousId !== null && !cleanup.deleted.includes(previousId)) {
    notes.push(
      versionInSecretName(delivery.target, changed.previousName ?? '') === undefined
        ? `the previous secret ${previousId} was not created by the rotator and was not deleted: delete or rotate it yourself`
        : `the previous secret ${previousId} could not be deleted`,
    );
  }
  const result = changed.outcome.result;
  return {
    ...changed.outcome,
    result: { ...result, ...cleanupFields(ctx, cleanup.deleted, notes) },
    cleanupPending: !cleanup.complete,
  };
}

/** The result fields that report a clean-up: the deleted ids, and what else happened to the secrets. */
export function cleanupFields(ctx: RunContext, deleted: string[], notes: string[]): Partial<RotationResult> {
  return {
    ...(deleted.length > 0 && { deletedSecretIds: deleted }),
    ...(notes.length > 0 && { deliveryNote: ctx.redactor.scrub(notes.join('; ')) }),
  };
}

export interface Cleanup {
  deleted: string[];
  notes: string[];
  /** No rotator-created secret of the target is left unreferenced (as far as Datagrid's lists showed). */
  complete: boolean;
}

/**
 * The clean-up rule of delivery `secretReference`, under the target's lease only: deletes every secret under the
 * target's name prefix that no server of the teamspace references. Never throws.
 */
export async function cleanUpSecrets(
  ctx: RunContext,
  target: ResolvedTarget,
  requestOptions: RequestOptions,
  leaseHeld: () => Promise<boolean>,
): Promise<Cleanup> {
  if (ctx.api.secrets === undefined) {
    return { deleted: [], notes: ['the Datagrid client has no secrets API'], complete: false };
  }
  if (!(await leaseHeld())) {
    return {
      deleted: [],
      notes: ["clean-up of rotator-created secrets skipped: this run no longer holds the target's lease"],
      complete: false,
    };
  }
  return deleteUnreferenced(ctx, ctx.api.secrets, target, requestOptions);
}

interface Change {
  outcome: ChangeOutcome;
  notes: string[];
  /** The name of the secret the server referenced before, when it was read. */
  previousName?: string;
}

async function change(ctx: RunContext, secrets: DatagridSecretsApi, delivery: ReferenceDelivery): Promise<Change> {
  const { target, secret, server, finish, observed, requestOptions, verifyOptions } = delivery;
  const ts = target.teamspaceId;
  const previousId = server.authorization_secret_id;
  // Read only for an incident, whose result says whether the (compromised) previous secret was the rotator's.
  const previousName =
    previousId === null || ctx.request.incidentId === undefined
      ? undefined
      : (await secrets.get(ts, previousId, requestOptions).catch(() => undefined))?.name;
  const failed = (error: ResultError): Change => ({
    outcome: { result: finish({ error }) },
    notes: [],
    ...(previousName !== undefined && { previousName }),
  });

  let createdId: string;
  try {
    const name = `${secretNamePrefixFor(target)}${secret.versionId}`;
    createdId = (await secrets.create(ts, name, delivery.authorization, requestOptions)).id;
  } catch (error) {
    return failed(errorOf(error, ctx.redactor));
  }
  const sent = await sendPatch(ctx, target, server, requestOptions, () =>
    secrets.reference(ts, target.serverId, createdId, requestOptions),
  );
  if ('failed' in sent) return failed(sent.failed);
  const verification = await verifyResync(ctx.api, delivery.verifyTarget, sent.updated, server, verifyOptions);
  const lostAnswer = sent.lostAnswer !== undefined ? [sent.lostAnswer] : [];
  if (verification.ok) {
    if (sent.lostAnswer !== undefined)
      ctx.log.warn('PATCH answer lost, but it landed and verified', { target: target.key });
    return {
      outcome: {
        result: finish({ outcome: 'rotated', ...observed(verification.server), datagridSecretId: createdId }),
        applied: verification.server,
      },
      notes: [],
      ...(previousName !== undefined && { previousName }),
    };
  }
  const rollback = await rollBackByReference(ctx, secrets, delivery, verification);
  const final = rollback.server ?? verification.server;
  return {
    outcome: {
      result: finish({
        outcome: 'failed',
        rolledBack: rollback.ok,
        ...observed(final),
        ...(final.authorization_secret_id !== null && { datagridSecretId: final.authorization_secret_id }),
        error: {
          code: verification.code,
          message: ctx.redactor.scrub([verification.message, ...lostAnswer, rollback.note].join('; ')),
        },
      }),
    },
    notes: [],
    ...(previousName !== undefined && { previousName }),
  };
}

/** PATCH the previous reference back and verify it; by value when there was none or Datagrid refuses it. */
async function rollBackByReference(
  ctx: RunContext,
  secrets: DatagridSecretsApi,
  delivery: ReferenceDelivery,
  failed: FailedVerification,
): Promise<RollbackOutcome> {
  const { target, server, requestOptions, verifyOptions } = delivery;
  if (ctx.request.incidentId !== undefined) {
    return { ok: false, note: 'no rollback: incident runs never restore the previous credential' };
  }
  if (!target.rollbackOnFailure) return { ok: false, note: 'no rollback: rollbackOnFailure is off' };
  const previousId = server.authorization_secret_id;
  if (previousId === null) return delivery.rollBackByValue(failed);
  const refused = await delivery.refusal();
  if (refused !== undefined) return { ok: false, note: `no rollback: ${refused}` };
  let restored: McpServer;
  try {
    restored = await secrets.reference(target.teamspaceId, target.serverId, previousId, requestOptions);
  } catch (error) {
    if (error instanceof DatagridError && isRefusal(error)) {
      const byValue = await delivery.rollBackByValue(failed);
      return {
        ...byValue,
        note: `Datagrid refused the previous reference ${previousId} (${error.message}); ${byValue.note}`,
      };
    }
    return { ok: false, note: `rollback failed: ${errorOf(error, ctx.redactor).message}` };
  }
  const check = await verifyResync(ctx.api, target, restored, failed.server, verifyOptions);
  if (check.ok) return { ok: true, note: `rolled back to the previous secret ${previousId}`, server: check.server };
  return {
    ok: false,
    note: `rollback failed: the previous secret ${previousId} did not verify either (${check.code}: ${check.message})`,
    server: check.server,
  };
}

/** Datagrid answered that it will not take this id (422, 404, 400): not an outage, so another rollback is worth it. */
function isRefusal(error: DatagridError): boolean {
  return (
    error.status !== undefined &&
    error.status >= 400 &&
    error.status < 500 &&
    error.status !== 401 &&
    error.status !== 403 &&
    error.status !== 429
  );
}

/**
 * Deletes every secret under the target's name prefix that no server of the teamspace references, as read just
 * now; never throws (what could not be done is noted, and the next rotation of the target tries again).
 */
async function deleteUnreferenced(
  ctx: RunContext,
  secrets: DatagridSecretsApi,
  target: ResolvedTarget,
  requestOptions: RequestOptions,
): Promise<Cleanup> {
  const ts = target.teamspaceId;
  const prefix = secretNamePrefixFor(target);
  const deleted: string[] = [];
  const notes: string[] = [];
  try {
    const [servers, all] = await Promise.all([
      ctx.api.listServers(ts, requestOptions),
      secrets.list(ts, requestOptions),
    ]);
    // A record that could not be read may reference any secret: delete none until every record reads.
    const unreadable = servers.find((s) => 'invalid' in s);
    if (unreadable !== undefined) {
      notes.push(`clean-up of rotator-created secrets postponed: the record of server ${unreadable.id} is invalid`);
      return { deleted, notes, complete: false };
    }
    const referenced = new Set(servers.map((s) => ('invalid' in s ? null : s.authorization_secret_id)));
    for (const candidate of all) {
      if (!candidate.name.startsWith(prefix) || referenced.has(candidate.id)) continue;
      const outcome = await secrets.delete(ts, candidate.id, requestOptions);
      if (outcome === 'deleted') deleted.push(candidate.id);
      if (outcome === 'referenced') notes.push(`secret ${candidate.id} kept: Datagrid says a server references it`);
    }
  } catch (error) {
    ctx.log.warn('could not clean up the rotator-created secrets of a target', {
      target: target.key,
      code: error instanceof DatagridError ? error.code : 'INTERNAL',
    });
    notes.push(
      `clean-up of rotator-created secrets incomplete (${errorOf(error, ctx.redactor).message}); the next run retries`,
    );
    return { deleted, notes, complete: false };
  }
  return { deleted, notes, complete: true };
}
