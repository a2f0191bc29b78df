/** Names and built-in defaults of the public contract (docs/configuration.md, docs/events-and-results.md). */

export const ROTATOR_NAME = 'datagrid-mcp-rotator';

export const DEFAULT_BASE_URL = 'https://api.datagrid.com/v1';
export const DEFAULT_EVENT_SOURCE = 'datagrid.mcp-rotator';
export const DEFAULT_EVENT_BUS = 'default';
export const DEFAULT_CONFIG_FILE = 'rotation.config.json';

/** CloudWatch namespace of the handler's EMF metrics; the CDK alarms watch the same names. */
export const DEFAULT_METRICS_NAMESPACE = 'DatagridMcpRotator';

/**
 * Environment variable naming this deployment; when set, every metric also carries the dimension
 * `deployment` = its value, so two rotators in one account and region never share a metric (or an alarm).
 */
export const METRICS_DEPLOYMENT_ENV = 'METRICS_DEPLOYMENT';
export const METRIC_DIMENSION = { service: 'service', deployment: 'deployment' } as const;

/** `Source` the deployed `MCP Rotation Requested` rule accepts by default (the CLI's `trigger` sends it). */
export const DEFAULT_REQUEST_SOURCE = 'datagrid.mcp-rotator.requests';

/** Metric names the handler publishes (dimension `service` = `datagrid-mcp-rotator`, plus `deployment` when set). */
export const ROTATOR_METRIC = {
  rotationsFailed: 'RotationsFailed',
  rotationsSucceeded: 'RotationsSucceeded',
  rotationsUnchanged: 'RotationsUnchanged',
  rotationsSkipped: 'RotationsSkipped',
  rotationsPlanned: 'RotationsPlanned',
  auditCompliant: 'AuditCompliant',
  auditNoncompliant: 'AuditNoncompliant',
  runDurationMs: 'RunDurationMs',
} as const;

export const DETAIL_TYPE = {
  rotationResult: 'MCP Credential Rotation Result',
  auditResult: 'MCP Credential Audit Result',
  runCompleted: 'MCP Rotation Run Completed',
  rotationRequested: 'MCP Rotation Requested',
} as const;

export const DEFAULT_DATAGRID = {
  baseUrl: DEFAULT_BASE_URL,
  apiKeyJsonKey: undefined,
  requestTimeoutMs: 10_000,
  maxAttempts: 4,
} as const;

export const DEFAULT_CONCURRENCY = { global: 8, perTeamspace: 4, haltAfterFailures: 3 } as const;

export const DEFAULT_TARGET_SETTINGS = {
  headerTemplate: 'Bearer {{secret}}',
  healthyStatuses: ['active'],
  pendingStatuses: ['pending', 'syncing'],
  minToolCount: 1,
  verifyTimeoutSeconds: 60,
  rollbackOnFailure: true,
  maxCredentialAgeDays: 90,
  delivery: 'authorization',
  secretNamePrefix: 'mcp-rotator/',
  preflight: false,
  preflightTimeoutSeconds: 10,
} as const;

/** How a target's credential reaches Datagrid: the raw `authorization` field, or a Datagrid secret it references. */
export const DELIVERY_MODES = ['authorization', 'secretReference'] as const;
/** Lambda's maximum timeout: the budget of a run that has no Lambda context (local runs, the operator CLI). */
export const LAMBDA_MAX_TIMEOUT_SECONDS = 900;
export const LAMBDA_MAX_TIMEOUT_MS = LAMBDA_MAX_TIMEOUT_SECONDS * 1000;

/** Datagrid request retries: the backoff ceiling starts here and doubles per failed attempt, up to the cap. */
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 8_000;

/** Datagrid's documented limit on the `authorization` field of PATCH /organization/mcp-servers/{id}. */
export const MAX_AUTHORIZATION_LENGTH = 64_000;
/** BatchGetSecretValue accepts at most 20 ids per call. */
export const SECRETS_BATCH_SIZE = 20;
/** PutEvents accepts at most 10 entries and 256 KB per call. */
export const PUT_EVENTS_MAX_ENTRIES = 10;
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;
/** The state table's TTL attribute (s since epoch): only the run records of state machine runs carry it. */
export const RUN_RECORD_EXPIRES_AT = 'expiresAt';

/** BatchGetItem reads at most 100 keys per call. */
export const STATE_BATCH_SIZE = 100;
/**
 * Batched AWS calls of one kind (BatchGetItem chunks, PutEvents batches) in flight at once: one after another, a
 * 600-target run spent most of a second on round trips, while far below any quota.
 */
export const AWS_BATCH_CONCURRENCY = 8;
