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

/** How a target's credential reaches Datagrid: the raw `authorization` field, or a Datagrid secret it references. */
export type DeliveryMode = 'authorization' | 'secretReference';

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
  /** `authorization`: PATCH the value; `secretReference`: create a Datagrid secret and PATCH its id (blue/green). */
  delivery: DeliveryMode;
  /** Names of the Datagrid secrets the rotator creates start with this; only such secrets are ever deleted. */
  secretNamePrefix: string;
  /** Check the new credential at the MCP server itself before anything is sent to Datagrid. */
  preflight: boolean;
  preflightTimeoutSeconds: number;
}

export interface RotatorConfig {
  datagrid: DatagridSettings;
  concurrency: ConcurrencySettings;
  targets: ResolvedTarget[];
}
