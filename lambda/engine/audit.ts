/**
 * Compliance audit: is each server on the current, healthy credential that the rotator applied?
 * Reads only; never writes to Datagrid, Secrets Manager or the state table.
 */
import { RotatorError } from '../errors.ts';
import type { AuditFinding, AuditResult } from '../types/results.ts';
import type { TargetInputs } from './rotate-target.ts';
import { toolCountOf } from './verify.ts';

const DAY_MS = 86_400_000;

export function auditTarget(inputs: TargetInputs, now: number): AuditResult {
  const { target, secret, state, server } = inputs;
  const findings: AuditFinding[] = [];
  const result: AuditResult = {
    serverId: target.serverId,
    ...(target.teamspaceId !== undefined && { teamspaceId: target.teamspaceId }),
    secretId: target.secretId,
    compliant: false,
    findings,
  };
  const add = (code: string, message: string) => findings.push({ code, message });

  if (server instanceof Error) {
    add(server instanceof RotatorError ? server.code : 'DATAGRID_UNAVAILABLE', server.message);
  } else {
    result.serverName = server.name;
    result.status = server.status;
    const tools = toolCountOf(server);
    if (tools !== undefined) result.toolCount = tools;
    if (!target.healthyStatuses.includes(server.status)) {
      add('STATUS_UNHEALTHY', `status "${server.status}" is not one of ${target.healthyStatuses.join(', ')}`);
    }
    if ((tools ?? 0) < target.minToolCount) {
      add('TOOL_COUNT_BELOW_MIN', `${tools ?? 0} tools, below the minimum of ${target.minToolCount}`);
    }
    if (state?.authorizationSecretId !== undefined && state.authorizationSecretId !== server.authorization_secret_id) {
      add(
        'AUTH_REFERENCE_CHANGED',
        `authorization_secret_id is ${server.authorization_secret_id ?? 'null'}, the last rotation left ${state.authorizationSecretId ?? 'null'}`,
      );
    }
  }

  if (secret instanceof Error) {
    add(secret instanceof RotatorError ? secret.code : 'SECRET_ACCESS_DENIED', secret.message);
  } else {
    result.currentVersionId = secret.versionId;
  }

  if (state?.appliedVersionId === undefined) {
    add('NEVER_ROTATED', 'the rotator has never applied a credential to this server');
  } else {
    result.appliedVersionId = state.appliedVersionId;
    if (state.appliedAt !== undefined) result.lastRotatedAt = state.appliedAt;
    if (!(secret instanceof Error) && secret.versionId !== state.appliedVersionId) {
      add(
        'CREDENTIAL_DRIFT',
        `secret version ${secret.versionId} is current, but ${state.appliedVersionId} is applied`,
      );
    }
    // A credential is as old as its secret version when that version is still current; else as its application.
    const createdAt =
      !(secret instanceof Error) && secret.versionId === state.appliedVersionId ? secret.createdAt : undefined;
    const appliedAt = state.appliedAt !== undefined ? Date.parse(state.appliedAt) : Number.NaN;
    const since = createdAt ?? (Number.isNaN(appliedAt) ? undefined : appliedAt);
    if (since !== undefined) {
      const ageDays = Math.max(0, Math.floor((now - since) / DAY_MS));
      result.credentialAgeDays = ageDays;
      if (ageDays > target.maxCredentialAgeDays) {
        add('CREDENTIAL_TOO_OLD', `credential is ${ageDays} days old, more than ${target.maxCredentialAgeDays}`);
      }
    }
  }
  if (state?.lastOutcome === 'failed') {
    add(
      'LAST_ROTATION_FAILED',
      `the last rotation (run ${state.lastRunId ?? 'unknown'}) failed with ${state.lastErrorCode ?? 'an error'}`,
    );
  }

  result.compliant = findings.length === 0;
  return result;
}
