/** The configuration after validation and resolution (target value, else `defaults`, else built-in default). */

export interface DatagridSettings {
  baseUrl: string;
  apiKeySecretId: string;
  apiKeyJsonKey: string | undefined;
  requestTimeoutMs: number;
  maxAttempts: number;
}

export interface ConcurrencySettings {
  global: number;
  perTeamspace: number;
  /** 0 turns halting off. */
  haltAfterFailures: number;
}

export interface ResolvedTarget {
  /** Unique key of the target: `serverId`, or `teamspaceId/serverId`. */
  key: string;
  serverId: string;
  teamspaceId: string | undefined;
  secretId: string;
  jsonKey: string | undefined;
  headerTemplate: string;
  healthyStatuses: string[];
  pendingStatuses: string[];
  minToolCount: number;
  verifyTimeoutSeconds: number;
  rollbackOnFailure: boolean;
  maxCredentialAgeDays: number;
}

export interface RotatorConfig {
  datagrid: DatagridSettings;
  concurrency: ConcurrencySettings;
  targets: ResolvedTarget[];
}
