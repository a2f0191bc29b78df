/**
 * One run of the engine against the real adapters (lambda/wiring.ts): the Lambda handler and the operator CLI both
 * call it, so a run from a laptop reads, writes, emits and scrubs exactly what the deployed Lambda does.
 */
import { LAMBDA_MAX_TIMEOUT_MS } from './constants.ts';
import type { HaltScope, ProgressListener } from './engine/context.ts';
import { Redactor } from './engine/redactor.ts';
import { executeRun, type RunOutcome } from './engine/run.ts';
import type { Clock, DatagridApiFactory, EventSink, Log, RotatorConfig } from './types/index.ts';
import type { RunRequest } from './types/results.ts';
import { createEngineAdapters, type AwsClients, type DeploymentSettings } from './wiring.ts';

export interface AwsRunOptions {
  clients: AwsClients;
  config: RotatorConfig;
  request: RunRequest;
  runId: string;
  settings: DeploymentSettings;
  clock: Clock;
  /** The run's log, scrubbing every line with the run's redactor (which knows every value the run read). */
  log: (redactor: Redactor) => Log;
  /**
   * Time left before the run is stopped. @default Lambda's maximum timeout: a run without a Lambda context (the
   * CLI) budgets its targets (and their leases) like an invocation given the most Lambda allows.
   */
  remainingMs?: number;
  /** A Datagrid factory reused across runs; default: a new one for `config`, logging to the run's log. */
  datagrid?: DatagridApiFactory;
  /** See EngineDeps.leaseOwner. @default the run id */
  leaseOwner?: string;
  onProgress?: ProgressListener;
  /** Filters what the run emits (a state machine shard leaves the run's summary event to the last step). */
  events?: (sink: EventSink) => EventSink;
  /** See EngineDeps.haltScope. @default 'invocation' */
  haltScope?: HaltScope;
}

/** Runs `request`; an error leaves scrubbed, since a library error may echo what it was sent. */
export async function runOnAws(options: AwsRunOptions): Promise<RunOutcome> {
  const { clients, config, request, runId, settings, clock } = options;
  const redactor = new Redactor();
  const log = options.log(redactor);
  try {
    const adapters = createEngineAdapters({
      clients,
      config,
      settings,
      clock,
      log,
      ...(options.datagrid && { datagrid: options.datagrid }),
    });
    return await executeRun(config, request, runId, {
      ...adapters,
      ...(options.events && { events: options.events(adapters.events) }),
      clock,
      log,
      redactor,
      timing: { deadlineAt: clock.now() + (options.remainingMs ?? LAMBDA_MAX_TIMEOUT_MS) },
      ...(options.leaseOwner !== undefined && { leaseOwner: options.leaseOwner }),
      ...(options.onProgress && { onProgress: options.onProgress }),
      ...(options.haltScope && { haltScope: options.haltScope }),
    });
  } catch (error) {
    redactor.scrubError(error);
    throw error;
  }
}
