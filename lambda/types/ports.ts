/**
 * The engine's ports. The engine talks only to these; each AWS or HTTP client lives in one adapter
 * (lambda/adapters/*), and tests hand the engine in-memory versions.
 */
import type { DeliveryMode } from './config.ts';
import type { RotationOutcome } from './results.ts';

// ---------- Secrets Manager ----------

export interface SecretValue {
  /** The id exactly as the configuration names it (name or ARN). */
  secretId: string;
  arn: string;
  name: string;
  versionId: string;
  /** SecretString. Never logged, never put in a result or an error. */
  value: string;
  /** When this version was created, ms since epoch, when Secrets Manager says. */
  createdAt?: number;
}

export interface SecretSource {
  /**
   * The AWSCURRENT value of every id. Ids are deduplicated (a name and an ARN of the same secret are one secret).
   * The map is keyed by each requested id; a failed secret maps to a SecretError instead of a value.
   */
  getCurrent(secretIds: readonly string[]): Promise<Map<string, SecretValue | Error>>;
  /** One version by VersionId (used only by rollback). Throws SecretError. */
  getVersion(secretId: string, versionId: string): Promise<SecretValue>;
}

// ---------- Datagrid ----------

export interface McpServerMetadata {
  requires_oauth?: boolean;
  oauth_configured?: boolean;
  /** null: no tools yet. */
  tool_count?: number | null;
  /** null: never synced. */
  last_synced_at?: string | null;
  [key: string]: unknown;
}

/** Datagrid's `mcp_server` object (docs/architecture.md lists the Datagrid API facts relied on). */
export interface McpServer {
  object: 'mcp_server';
  id: string;
  name: string;
  base_url: string;
  transport: string | null;
  status: string;
  icon_url: string | null;
  protocol_version: string | null;
  authorization_secret_id: string | null;
  metadata: McpServerMetadata | null;
  created_at: string;
  updated_at: string;
}

/** A list entry that is not a valid `mcp_server`: only its id is known, and why the record is unusable. */
export interface InvalidServerRecord {
  id: string;
  invalid: string;
}

export type ListedServer = McpServer | InvalidServerRecord;

export interface RequestOptions {
  /** Absolute time (ms since epoch, by the injected clock) after which no retry is started. */
  deadlineAt?: number;
  /** Called once per HTTP attempt, retries included. */
  onAttempt?: () => void;
}

export interface DatagridApi {
  /**
   * Every MCP server of a teamspace (undefined: the API key's default teamspace), in one list call. An entry that is
   * not a valid record is listed by its id only, so it fails the target it is, and no other.
   */
  listServers(teamspaceId: string | undefined, options?: RequestOptions): Promise<ListedServer[]>;
  getServer(teamspaceId: string | undefined, serverId: string, options?: RequestOptions): Promise<McpServer>;
  /** PATCH with the body `{"authorization": value}` and nothing else. */
  updateAuthorization(
    teamspaceId: string | undefined,
    serverId: string,
    authorization: string,
    options?: RequestOptions,
  ): Promise<McpServer>;
  /** The secrets API; targets with delivery `secretReference` fail without it. */
  secrets?: DatagridSecretsApi;
}

/** A caller-managed Datagrid secret (`POST /secrets`); its value is never returned. */
export interface DatagridSecret {
  id: string;
  name: string;
  created_at: string;
}

/** Datagrid's secrets API, for delivery `secretReference`. */
export interface DatagridSecretsApi {
  create(
    teamspaceId: string | undefined,
    name: string,
    value: string,
    options?: RequestOptions,
  ): Promise<DatagridSecret>;
  /** Undefined when Datagrid has no such secret (404). */
  get(teamspaceId: string | undefined, secretId: string, options?: RequestOptions): Promise<DatagridSecret | undefined>;
  /** Every secret of the teamspace, all pages. */
  list(teamspaceId: string | undefined, options?: RequestOptions): Promise<DatagridSecret[]>;
  /** `missing`: it was already gone (404); `referenced`: Datagrid refused because a server uses it (409). */
  delete(
    teamspaceId: string | undefined,
    secretId: string,
    options?: RequestOptions,
  ): Promise<'deleted' | 'missing' | 'referenced'>;
  /** PATCH the server with the body `{"authorization_secret_id": secretId}` and nothing else. */
  reference(
    teamspaceId: string | undefined,
    serverId: string,
    secretId: string,
    options?: RequestOptions,
  ): Promise<McpServer>;
}

/** Builds a Datagrid client for one run's API key; the connection pool behind it is shared across runs. */
export type DatagridApiFactory = (apiKey: string) => DatagridApi;

// ---------- MCP servers (pre-flight) ----------

/** What an MCP server listed for a credential. */
export interface ToolListing {
  /** Tools over every page of `tools/list`. */
  toolCount: number;
  /** SHA-256 (hex) of the sorted tool names joined by newlines: Datagrid shows only a count, this shows the set. */
  toolNamesSha256: string;
}

export interface McpProbe {
  /**
   * Connects to `baseUrl` as an MCP client over Streamable HTTP with this Authorization value: `initialize`,
   * `notifications/initialized`, then every page of `tools/list`, all within `timeoutMs`. Sends the value to
   * `baseUrl`'s origin only and never follows a redirect. Throws PreflightError.
   */
  listTools(baseUrl: string, authorization: string, options: { timeoutMs: number }): Promise<ToolListing>;
}

// ---------- State (DynamoDB) ----------

export interface TargetState {
  pk: string;
  serverId: string;
  teamspaceId?: string;
  secretId?: string;
  /** The secret version last applied and verified healthy. */
  appliedVersionId?: string;
  /** ISO time of that application. */
  appliedAt?: string;
  /** The `authorization_secret_id` Datagrid reported after that application. */
  authorizationSecretId?: string | null;
  /** How that version was delivered; absent for records written before delivery modes (`authorization`). */
  appliedDelivery?: DeliveryMode;
  lastOutcome?: RotationOutcome;
  lastErrorCode?: string;
  lastRunId?: string;
  lastAttemptAt?: string;
  lastToolCount?: number;
  leaseOwner?: string;
  /** The attempt (run id) of `leaseOwner` that holds the lease now. */
  leaseAttempt?: string;
  /** ms since epoch. */
  leaseExpiresAt?: number;
  /**
   * The latest incident requested for this target that no incident run has yet rotated away. While it is set, no run
   * restores a previous credential of the target.
   */
  incidentPending?: string;
  /** Delivery `secretReference`: the last rotation's clean-up of rotator-created secrets did not finish. */
  cleanupPending?: boolean;
}

export interface StateUpdate {
  serverId: string;
  teamspaceId?: string;
  secretId: string;
  runId: string;
  at: string;
  outcome: RotationOutcome;
  errorCode?: string;
  toolCount?: number;
  /** Present only after a healthy verification: the version now applied. */
  applied?: { versionId: string; authorizationSecretId: string | null; delivery: DeliveryMode };
  /** An incident run rotated the target: no incident is pending any more. */
  resolvesIncident?: boolean;
  /** Delivery `secretReference`: true when rotator-created secrets may be left, false once none are; absent: as is. */
  cleanupPending?: boolean;
}

/**
 * Who holds a target's lease. `owner` is what a Lambda retry of the same invocation keeps (the EventBridge event id,
 * else the Lambda request id), so a retry takes over the lease its crashed attempt left at once; `attempt` (the run
 * id) tells that retry from the attempt it replaced, which must no longer act on the target.
 */
export interface LeaseHolder {
  owner: string;
  attempt: string;
}

/** What `confirmLease` found. */
export interface LeaseCheck {
  /** This attempt still holds the lease (it was extended). */
  held: boolean;
  /** An incident requested for the target and not yet rotated away by an incident run. */
  incidentPending?: string;
}

/**
 * How a run spread over many invocations (the state machine's shards) stands against `haltAfterFailures`: its first
 * targets to finish, counted up to that limit across every shard.
 */
export interface RunTally {
  /** Targets counted (never more than the limit they were counted against). */
  finished: number;
  /** Of those, the ones that ended `failed`. */
  failed: number;
}

export interface StateStore {
  /** Batch read; missing keys are absent from the map. */
  getMany(pks: readonly string[]): Promise<Map<string, TargetState>>;
  /**
   * Conditional write: true when this holder now holds the lease (none held, the holder's expired, or held by an
   * earlier attempt of the same owner).
   */
  acquireLease(pk: string, holder: LeaseHolder, expiresAt: number, now: number): Promise<boolean>;
  /**
   * Conditional write: when this attempt still holds the lease, extends it to `expiresAt`; either way reports an
   * incident pending on the target. Called before a rollback.
   */
  confirmLease(pk: string, holder: LeaseHolder, expiresAt: number): Promise<LeaseCheck>;
  /** Marks the target as having an incident pending (unconditional: it must never be lost). */
  markIncident(pk: string, incidentId: string, at: string): Promise<void>;
  /** Record the outcome and release the lease held by this attempt; throws LeaseLostError when it holds none. */
  complete(pk: string, holder: LeaseHolder, update: StateUpdate): Promise<void>;
  /** Release without recording (nothing was sent). */
  releaseLease(pk: string, holder: LeaseHolder): Promise<void>;
  /**
   * Atomically counts one finished target of the run while fewer than `limit` are counted, and returns the run's
   * tally after it (unchanged once the limit is reached). The run's record expires at `expiresAt` (s since epoch).
   */
  countRunOutcome(runId: string, failed: boolean, limit: number, expiresAt: number): Promise<RunTally>;
  /** The run's tally so far (zero counts before any target finished). */
  getRunTally(runId: string): Promise<RunTally>;
}

// ---------- Events ----------

export interface OutgoingEvent {
  detailType: string;
  detail: Record<string, unknown>;
}

export interface EmitReport {
  sent: number;
  failed: number;
  calls: number;
}

export interface EventSink {
  /** PutEvents in batches (10 entries, 256 KB), failed entries retried; never throws for per-entry failures. */
  emit(events: readonly OutgoingEvent[]): Promise<EmitReport>;
}

// ---------- Runtime ----------

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or as soon as `wake` aborts (never rejects). */
  sleep(ms: number, wake?: AbortSignal): Promise<void>;
}

export interface Log {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}
