/**
 * Audit of a target with delivery `secretReference`: the server must reference a Datagrid secret that exists
 * (`SECRET_MISSING` otherwise), and the secret version in that secret's name must be the current one
 * (`CREDENTIAL_DRIFT` otherwise, whatever the state table says). The name is only a claim, so the reference's id is
 * also compared with the recorded one (`AUTH_REFERENCE_CHANGED`, in audit.ts). Reads only.
 */
import { RotatorError } from '../errors.ts';
import type { DatagridApi, RequestOptions } from '../types/index.ts';
import type { AuditResult } from '../types/results.ts';
import { versionInSecretName } from './deliver-by-reference.ts';
import type { TargetInputs } from './rotate-target.ts';

/** Adds the findings of the server's secret reference to `result` (and recomputes `compliant`). */
export async function auditSecretReference(
  api: DatagridApi,
  inputs: TargetInputs,
  result: AuditResult,
  options: RequestOptions,
): Promise<void> {
  const { target, server, secret } = inputs;
  if (target.delivery !== 'secretReference' || server instanceof Error) return;
  const add = (code: string, message: string) => result.findings.push({ code, message });
  const hasDrift = () => result.findings.some((f) => f.code === 'CREDENTIAL_DRIFT');
  const referenced = server.authorization_secret_id;
  if (referenced === null) {
    add('SECRET_MISSING', 'the server references no Datagrid secret');
  } else if (api.secrets === undefined) {
    add('DATAGRID_REJECTED', 'the Datagrid client has no secrets API');
  } else {
    try {
      const found = await api.secrets.get(target.teamspaceId, referenced, options);
      if (found === undefined) {
        add('SECRET_MISSING', `the referenced Datagrid secret ${referenced} does not exist`);
      } else {
        const version = versionInSecretName(target, found.name);
        if (version === undefined && !hasDrift()) {
          add('CREDENTIAL_DRIFT', `the referenced secret ${referenced} was not created by the rotator`);
        } else if (version !== undefined && !(secret instanceof Error) && version !== secret.versionId && !hasDrift()) {
          add(
            'CREDENTIAL_DRIFT',
            `the referenced secret ${referenced} holds version ${version}, but ${secret.versionId} is current`,
          );
        }
      }
    } catch (error) {
      add(error instanceof RotatorError ? error.code : 'DATAGRID_UNAVAILABLE', 'could not read the referenced secret');
    }
  }
  result.compliant = result.findings.length === 0;
}
