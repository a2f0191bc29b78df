/** Run requests, results and the run summary, exactly as docs/events-and-results.md names them. */
import type { ErrorCode } from '../errors.ts';

export type Action = 'rotate' | 'audit';
export type Trigger = 'schedule' | 'manual' | 'incident' | 'secret-changed';
export type RotationOutcome = 'rotated' | 'unchanged' | 'failed' | 'skipped';

export interface RunRequest {
  action: Action;
  trigger: Trigger;
  /** `serverId` or `teamspaceId/serverId` entries; undefined: every configured target. */
  targets?: string[];
  force: boolean;
  dryRun: boolean;
  reason?: string;
  incidentId?: string;
  requestedBy?: string;
  /** secret-changed runs: the secret name or ARN the event named. */
  secretRef?: string;
}

export interface ResultError {
  code: ErrorCode;
  message: string;
}

/** `skipped`: the server uses OAuth, so the credential cannot be checked at the MCP server. */
export type PreflightStatus = 'passed' | 'failed' | 'skipped';

export interface RotationResult {
  serverId: string;
  teamspaceId?: string;
  serverName?: string;
  secretId: string;
  secretArn?: string;
  secretVersionId?: string;
  previousVersionId?: string;
  outcome: RotationOutcome;
  rolledBack: boolean;
  status?: string;
  toolCount?: number;
  previousToolCount?: number;
  lastSyncedAt?: string;
  /** Set when the target's `preflight` setting is on. */
  preflight?: PreflightStatus;
  /** Tools the MCP server listed for the new credential; verification requires Datagrid to see at least as many. */
  preflightToolCount?: number;
  /** SHA-256 of the sorted tool names the MCP server listed: a changed tool set shows here, not in a count. */
  preflightToolNamesSha256?: string;
  /** Delivery `secretReference`: the Datagrid secret the server references after this rotation. */
  datagridSecretId?: string;
  /** Delivery `secretReference`: rotator-created secrets this run deleted (replaced, rejected or left over). */
  deletedSecretIds?: string[];
  /** Delivery `secretReference`: what happened to the secrets beyond the outcome (e.g. an incident's old secret). */
  deliveryNote?: string;
  attempts: number;
  durationMs: number;
  /** Dry runs only: why the real run would rotate this target (`forced`, `never rotated by this rotator`, ...). */
  planReason?: string;
  error?: ResultError;
}

export interface AuditFinding {
  code: string;
  message: string;
}

export interface AuditResult {
  serverId: string;
  teamspaceId?: string;
  serverName?: string;
  secretId: string;
  compliant: boolean;
  findings: AuditFinding[];
  status?: string;
  toolCount?: number;
  appliedVersionId?: string;
  currentVersionId?: string;
  lastRotatedAt?: string;
  credentialAgeDays?: number;
}

export interface RunCounts {
  rotated: number;
  unchanged: number;
  failed: number;
  skipped: number;
  compliant: number;
  noncompliant: number;
}

export interface RunSummary {
  runId: string;
  action: Action;
  trigger: Trigger;
  dryRun: boolean;
  incidentId?: string;
  reason?: string;
  requestedBy?: string;
  startedAt: string;
  finishedAt: string;
  counts: RunCounts;
  results: (RotationResult | AuditResult)[];
}
