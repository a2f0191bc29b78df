/** What one run shares across its targets: adapters, the request, timing and the redactor. */
import type {
  Clock,
  DatagridApi,
  EventSink,
  LeaseHolder,
  Log,
  McpProbe,
  McpServer,
  SecretSource,
  StateStore,
} from '../types/index.ts';
import type { AuditResult, RotationResult, RunRequest } from '../types/results.ts';
import type { Redactor } from './redactor.ts';
import type { ResyncTiming } from './resync-timing.ts';

export interface EngineTiming {
  /** Absolute ms (by `clock`) when the Lambda will be stopped. */
  deadlineAt: number;
  /** Per-attempt timeout of the Datagrid client: a target needs room for its PATCH and rollback too. */
  requestTimeoutMs: number;
  /** Attempts per Datagrid request, retries included. */
  maxAttempts: number;
  /** Kept free at the end of the run for writing state and emitting events: Datagrid work ends before it. */
  reserveMs: number;
  pollIntervalMs: number;
  maxPollIntervalMs: number;
  /** How often an incident run tries again for a lease another run holds. */
  leaseRetryMs: number;
}

export const DEFAULT_TIMING: Omit<EngineTiming, 'deadlineAt' | 'requestTimeoutMs' | 'maxAttempts'> = {
  reserveMs: 5_000,
  pollIntervalMs: 1_000,
  maxPollIntervalMs: 5_000,
  leaseRetryMs: 1_000,
};

/** Datagrid work of a run ends here: the rest is kept for recording state and emitting events. */
export const workDeadlineOf = (timing: EngineTiming): number => timing.deadlineAt - timing.reserveMs;

/** What a target's PATCH, verification and rollback came to, before it is recorded. */
export interface ChangeOutcome {
  result: RotationResult;
  /** The verified server when the new credential was applied. */
  applied?: McpServer;
  /** Delivery `secretReference`: whether rotator-created secrets may be left for a later run to delete. */
  cleanupPending?: boolean;
}

/**
 * Runs a target's Datagrid work (PATCH, verification, rollback) when the run's global concurrency allows, or says
 * why it may no longer start (the run halted, or the deadline is too near). The lease before it and the state record
 * after it do not hold a turn: they load DynamoDB, not Datagrid.
 */
export type DatagridTurn = (
  work: () => Promise<ChangeOutcome>,
) => Promise<ChangeOutcome | { refused: { code: 'HALTED' | 'DEADLINE'; message: string } }>;

export type HaltScope = 'invocation' | 'run';

/** Called as each target finishes, for live progress (the operator CLI prints a line per target). */
export type ProgressListener = (result: RotationResult | AuditResult, finished: number, total: number) => void;

export interface RunContext {
  runId: string;
  /** Whose lease this run takes: the invocation (kept by a Lambda retry) and this attempt of it. */
  lease: LeaseHolder;
  request: RunRequest;
  api: DatagridApi;
  secrets: SecretSource;
  state: StateStore;
  events: EventSink;
  clock: Clock;
  log: Log;
  redactor: Redactor;
  timing: EngineTiming;
  /** How long this run's re-syncs take, for timing polls (resync-timing.ts). */
  resyncTiming?: ResyncTiming;
  /** The MCP client for pre-flight; targets with `preflight` on fail with PREFLIGHT_FAILED without one. */
  mcpProbe?: McpProbe;
  /**
   * Where `haltAfterFailures` counts: this invocation's targets, or the whole run's across the state machine's
   * shards (the state table's run record). @default 'invocation'
   */
  haltScope?: HaltScope;
  /** @default the work runs at once (no concurrency limit, never refused) */
  datagridTurn?: DatagridTurn;
  onProgress?: ProgressListener;
}
