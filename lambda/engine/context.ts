/** What one run shares across its targets: adapters, the request, timing and the redactor. */
import type { Clock, DatagridApi, EventSink, Log, SecretSource, StateStore } from '../types/index.ts';
import type { AuditResult, RotationResult, RunRequest } from '../types/results.ts';
import type { Redactor } from './redactor.ts';

export interface EngineTiming {
  /** Absolute ms (by `clock`) when the Lambda will be stopped. */
  deadlineAt: number;
  /** Per-request timeout of the Datagrid client: a target needs room for its PATCH and rollback too. */
  requestTimeoutMs: number;
  /** Kept free at the end of the run for writing state and emitting events. */
  reserveMs: number;
  pollIntervalMs: number;
  maxPollIntervalMs: number;
}

export const DEFAULT_TIMING: Omit<EngineTiming, 'deadlineAt' | 'requestTimeoutMs'> = {
  reserveMs: 5_000,
  pollIntervalMs: 1_000,
  maxPollIntervalMs: 5_000,
};

/** Called as each target finishes, for live progress (the operator CLI prints a line per target). */
export type ProgressListener = (result: RotationResult | AuditResult, finished: number, total: number) => void;

export interface RunContext {
  runId: string;
  request: RunRequest;
  api: DatagridApi;
  secrets: SecretSource;
  state: StateStore;
  events: EventSink;
  clock: Clock;
  log: Log;
  redactor: Redactor;
  timing: EngineTiming;
  onProgress?: ProgressListener;
}
