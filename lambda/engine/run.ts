/**
 * The engine's entry: one request in, one summary out. Pure of AWS and HTTP: it talks only to the ports it is given
 * (lambda/types/ports.ts), so tests run it with in-memory adapters and the handler with the real ones.
 */
import pLimit from 'p-limit';
import { RotatorError } from '../errors.ts';
import type {
  Clock,
  DatagridApi,
  DatagridApiFactory,
  EmitReport,
  EventSink,
  Log,
  McpProbe,
  RotatorConfig,
  SecretSource,
  StateStore,
} from '../types/index.ts';
import type { AuditResult, RotationResult, RunRequest, RunSummary } from '../types/results.ts';
import { auditTarget } from './audit.ts';
import { auditSecretReference } from './audit-secret-reference.ts';
import {
  DEFAULT_TIMING,
  type EngineTiming,
  type HaltScope,
  type ProgressListener,
  type RunContext,
} from './context.ts';
import type { Redactor } from './redactor.ts';
import { ResyncTiming } from './resync-timing.ts';
import { readRunInputs } from './run-inputs.ts';
import { runRotation } from './run-rotation.ts';
import { ResultEvents } from './result-events.ts';
import { countResults } from './summary.ts';
import { selectTargets, targetsUsingSecret } from './targets.ts';

export interface EngineDeps {
  secrets: SecretSource;
  datagrid: DatagridApiFactory;
  state: StateStore;
  events: EventSink;
  /** Pre-flight's MCP client (engine/preflight.ts). */
  mcpProbe?: McpProbe;
  clock: Clock;
  log: Log;
  redactor: Redactor;
  timing: Pick<EngineTiming, 'deadlineAt'> & Partial<EngineTiming>;
  /**
   * What a retry of this invocation keeps (the EventBridge event id, else the Lambda request id): the lease owner, so
   * a retry takes over the leases of its crashed attempt at once. @default the run id (a run that is never retried)
   */
  leaseOwner?: string;
  onProgress?: ProgressListener;
  /** A state machine shard counts `haltAfterFailures` over its whole run. @default 'invocation' */
  haltScope?: HaltScope;
}

export interface RunOutcome {
  summary: RunSummary;
  emitted: EmitReport;
}

/** Used when the API key could not be read: no target gets as far as a Datagrid call, this only guards that. */
const noApi: DatagridApi = {
  listServers: () => Promise.reject(new RotatorError('DATAGRID_AUTH_FAILED', 'no Datagrid API key')),
  getServer: () => Promise.reject(new RotatorError('DATAGRID_AUTH_FAILED', 'no Datagrid API key')),
  updateAuthorization: () => Promise.reject(new RotatorError('DATAGRID_AUTH_FAILED', 'no Datagrid API key')),
};

/** What the configuration names, by the result and log fields that carry it: not secret, never redacted whole. */
function configuredIdentifiers(config: RotatorConfig): Record<string, string[]> {
  const { targets } = config;
  return {
    serverId: targets.map((t) => t.serverId),
    teamspaceId: targets.flatMap((t) => (t.teamspaceId === undefined ? [] : [t.teamspaceId])),
    secretId: targets.map((t) => t.secretId),
    target: targets.map((t) => t.key),
    status: targets.flatMap((t) => [...t.healthyStatuses, ...t.pendingStatuses]),
  };
}

export async function executeRun(
  config: RotatorConfig,
  request: RunRequest,
  runId: string,
  deps: EngineDeps,
): Promise<RunOutcome> {
  // Target selection throws RequestError for unknown entries, before anything is read or written.
  const targets =
    request.secretRef !== undefined
      ? targetsUsingSecret(config, request.secretRef)
      : selectTargets(config, request.targets);
  const { clock, log } = deps;
  const startedAt = new Date(clock.now()).toISOString();
  const timing: EngineTiming = {
    ...DEFAULT_TIMING,
    requestTimeoutMs: config.datagrid.requestTimeoutMs,
    maxAttempts: config.datagrid.maxAttempts,
    ...deps.timing,
  };
  log.info('run started', {
    action: request.action,
    trigger: request.trigger,
    targets: targets.length,
    dryRun: request.dryRun,
    force: request.force,
    incidentId: request.incidentId,
    requestedBy: request.requestedBy,
  });

  deps.redactor.keepConfigured(configuredIdentifiers(config));
  // Each result is reported as its target finishes (result-events.ts), before the progress listener hears of it.
  const events = new ResultEvents(deps.events, deps.redactor, log, { runId, ...request });
  const onProgress: ProgressListener = (result, finished, total) => {
    events.add(result);
    // The listener prints (the CLI's progress lines): it gets the result as events and the summary do, scrubbed.
    deps.onProgress?.(deps.redactor.scrubDeep(result), finished, total);
  };

  let results: (RotationResult | AuditResult)[] = [];
  if (targets.length > 0) {
    const inputs = await readRunInputs({ ...deps, deadlineAt: timing.deadlineAt }, config, targets);
    const ctx: RunContext = {
      ...deps,
      onProgress,
      runId,
      lease: { owner: deps.leaseOwner ?? runId, attempt: runId },
      request,
      api: inputs.api ?? noApi,
      timing,
      resyncTiming: new ResyncTiming(),
    };
    let audited = 0;
    const auditLimit = pLimit(config.concurrency.global);
    results =
      request.action === 'audit'
        ? await Promise.all(
            targets.map((t) =>
              auditLimit(async () => {
                const result = auditTarget(inputs.of(t), clock.now());
                // Delivery hook: a secretReference target's reference is read (engine/audit-secret-reference.ts).
                await auditSecretReference(ctx.api, inputs.of(t), result, { deadlineAt: timing.deadlineAt });
                onProgress(result, (audited += 1), targets.length);
                return result;
              }),
            ),
          )
        : await runRotation(ctx, config, targets, inputs);
  } else {
    // The change rules match the configured secrets' common name prefixes, so a change of another secret under a
    // prefix arrives here: an expected, empty run, not a warning.
    log.info('no configured target uses the changed secret: nothing to rotate', { secretRef: request.secretRef });
  }

  const summary: RunSummary = deps.redactor.scrubDeep({
    runId,
    action: request.action,
    trigger: request.trigger,
    dryRun: request.dryRun,
    ...(request.incidentId !== undefined && { incidentId: request.incidentId }),
    ...(request.reason !== undefined && { reason: request.reason }),
    ...(request.requestedBy !== undefined && { requestedBy: request.requestedBy }),
    startedAt,
    finishedAt: new Date(clock.now()).toISOString(),
    counts: countResults(results),
    results,
  });
  const { results: _reported, ...runDetail } = summary;
  const emitted = await events.finish(runDetail);
  if (emitted.failed > 0) log.error('some result events could not be delivered', { ...emitted });
  log.info('run finished', { counts: summary.counts, events: emitted });
  return { summary, emitted };
}
