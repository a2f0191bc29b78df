/** A valid configuration file resolved into the RotatorConfig the engine runs with. */
import { DEFAULT_CONCURRENCY, DEFAULT_DATAGRID, DEFAULT_TARGET_SETTINGS } from '../constants.ts';
import type { ResolvedTarget, RotatorConfig } from '../types/config.ts';
import type { RotationConfigFile } from './schema.ts';

/** A target's key and its name in requests: `teamspaceId/serverId`, or `serverId` when there is no teamspace. */
export function targetKey(teamspaceId: string | undefined, serverId: string): string {
  return teamspaceId ? `${teamspaceId}/${serverId}` : serverId;
}

type TargetSettings = NonNullable<RotationConfigFile['defaults']>;

function resolveTarget(target: RotationConfigFile['targets'][number], defaults: TargetSettings): ResolvedTarget {
  const builtIn = DEFAULT_TARGET_SETTINGS;
  return {
    key: targetKey(target.teamspaceId, target.serverId),
    serverId: target.serverId,
    teamspaceId: target.teamspaceId,
    secretId: target.secretId,
    jsonKey: target.jsonKey ?? defaults.jsonKey,
    headerTemplate: target.headerTemplate ?? defaults.headerTemplate ?? builtIn.headerTemplate,
    healthyStatuses: [...(target.healthyStatuses ?? defaults.healthyStatuses ?? builtIn.healthyStatuses)],
    pendingStatuses: [...(target.pendingStatuses ?? defaults.pendingStatuses ?? builtIn.pendingStatuses)],
    minToolCount: target.minToolCount ?? defaults.minToolCount ?? builtIn.minToolCount,
    verifyTimeoutSeconds: target.verifyTimeoutSeconds ?? defaults.verifyTimeoutSeconds ?? builtIn.verifyTimeoutSeconds,
    rollbackOnFailure: target.rollbackOnFailure ?? defaults.rollbackOnFailure ?? builtIn.rollbackOnFailure,
    maxCredentialAgeDays: target.maxCredentialAgeDays ?? defaults.maxCredentialAgeDays ?? builtIn.maxCredentialAgeDays,
    delivery: target.delivery ?? defaults.delivery ?? builtIn.delivery,
    secretNamePrefix: target.secretNamePrefix ?? defaults.secretNamePrefix ?? builtIn.secretNamePrefix,
    preflight: target.preflight ?? defaults.preflight ?? builtIn.preflight,
    preflightTimeoutSeconds:
      target.preflightTimeoutSeconds ?? defaults.preflightTimeoutSeconds ?? builtIn.preflightTimeoutSeconds,
  };
}

/** Every setting of a valid file: the target's value, else `defaults`, else the built-in default. */
export function resolveConfig(file: RotationConfigFile): RotatorConfig {
  const { datagrid, concurrency = {}, defaults = {} } = file;
  return {
    datagrid: {
      // new URL() also lower-cases the host; the trailing slash goes so request paths can be appended as `/...`.
      baseUrl: new URL(datagrid.baseUrl ?? DEFAULT_DATAGRID.baseUrl).href.replace(/\/+$/, ''),
      apiKeySecretId: datagrid.apiKeySecretId,
      apiKeyJsonKey: datagrid.apiKeyJsonKey ?? DEFAULT_DATAGRID.apiKeyJsonKey,
      requestTimeoutMs: datagrid.requestTimeoutMs ?? DEFAULT_DATAGRID.requestTimeoutMs,
      maxAttempts: datagrid.maxAttempts ?? DEFAULT_DATAGRID.maxAttempts,
    },
    concurrency: {
      global: concurrency.global ?? DEFAULT_CONCURRENCY.global,
      perTeamspace: concurrency.perTeamspace ?? DEFAULT_CONCURRENCY.perTeamspace,
      haltAfterFailures: concurrency.haltAfterFailures ?? DEFAULT_CONCURRENCY.haltAfterFailures,
    },
    targets: file.targets.map((target) => resolveTarget(target, defaults)),
  };
}
