/**
 * Lambda entry: parse the event, build adapters once per container, run the engine, publish metrics, return the
 * summary, and throw (after every event is emitted) when a rotation target failed so retries and alarms see it.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Dispatcher } from 'undici';
import { createEventSink } from './adapters/events-eventbridge.ts';
import { preloadUndici } from './adapters/http-transport.ts';
import { loadConfigFile } from './config.ts';
import { targetKey } from './config/resolve.ts';
import { DEFAULT_CONFIG_FILE, DETAIL_TYPE, ROTATOR_NAME } from './constants.ts';
import { failedRotations } from './engine/summary.ts';
import { RotationFailedError, describeCause } from './errors.ts';
import { parseFleetStep, planRun, runTotals, shardConfig, shardReport, shardRequest } from './fleet-steps.ts';
import type { FleetStep, RunPlan, RunTotals, ShardReport } from './fleet-steps.ts';
import { invocationKeyOf, parseInvocation } from './invocation.ts';
import { createRotatorMetrics, publishRunMetrics } from './metrics.ts';
import { runOnAws } from './run-on-aws.ts';
import { scrubbingLog, systemClock } from './runtime.ts';
import { traceAwsClients } from './tracing.ts';
import type { Clock, DatagridApiFactory, EventSink, RotatorConfig } from './types/index.ts';
import type { RunSummary } from './types/results.ts';
import { createDatagridFactory, deploymentSettingsFromEnv, type DeploymentSettings } from './wiring.ts';

const logger = new Logger({ serviceName: ROTATOR_NAME });
const metrics = createRotatorMetrics(process.env);

export interface HandlerOptions {
  secretsClient?: SecretsManagerClient;
  dynamoClient?: DynamoDBClient;
  eventsClient?: EventBridgeClient;
  /** undici dispatcher for Datagrid; default: the keep-alive undici Pool of each origin. Tests pass a MockAgent. */
  dispatcher?: Dispatcher;
  clock?: Clock;
}

type LambdaContext = { getRemainingTimeInMillis?: () => number; awsRequestId?: string } | undefined;

function configFile(): string {
  return process.env.ROTATION_CONFIG_FILE ?? fileURLToPath(new URL(DEFAULT_CONFIG_FILE, import.meta.url));
}

function requiredSettings(): DeploymentSettings {
  const { tableName, ...settings } = deploymentSettingsFromEnv(process.env);
  if (tableName === undefined) throw new Error('Environment variable STATE_TABLE_NAME is required');
  return { tableName, ...settings };
}

function failureOf(summary: RunSummary): RotationFailedError | undefined {
  const failed = failedRotations(summary);
  if (failed.length === 0) return undefined;
  const detail = failed.map((r) => `${targetKey(r.teamspaceId, r.serverId)} ${r.error?.code ?? ''}`).join(', ');
  return new RotationFailedError(summary.runId, failed.length, detail);
}

/** Builds the Lambda handler; clients are created once and reused by every (warm) invocation. */
export function createHandler(options: HandlerOptions = {}) {
  // Endpoints come from the standard AWS_ENDPOINT_URL(_<SERVICE>) variables, which the SDK reads itself.
  const secretsClient = options.secretsClient ?? new SecretsManagerClient({});
  const dynamoClient = options.dynamoClient ?? new DynamoDBClient({});
  const eventsClient = options.eventsClient ?? new EventBridgeClient({});
  const clock = options.clock ?? systemClock;
  const tracing = traceAwsClients(process.env, [secretsClient, dynamoClient, eventsClient]);
  // Awaited by every invocation; handled here so a failed load is not an unhandled rejection before the first one.
  tracing.catch(() => undefined);
  const configs = new Map<string, Promise<RotatorConfig>>();
  const datagridFactories = new Map<string, DatagridApiFactory>();
  // Shared across runs, so not a run's scrubbing log: what it logs carries no values.
  const containerLog = scrubbingLog(logger);

  const loadConfig = (path: string): Promise<RotatorConfig> => {
    let config = configs.get(path);
    if (!config) {
      config = loadConfigFile(path);
      // A failed load is not cached: a fixed file is picked up by the next invocation.
      config.catch(() => configs.delete(path));
      configs.set(path, config);
    }
    return config;
  };

  const datagridFactory = (config: RotatorConfig): DatagridApiFactory => {
    const { baseUrl, requestTimeoutMs, maxAttempts } = config.datagrid;
    const key = JSON.stringify([baseUrl, requestTimeoutMs, maxAttempts]);
    let factory = datagridFactories.get(key);
    if (!factory) {
      factory = createDatagridFactory(config, {
        clock,
        // The adapter's retry warnings carry no values.
        log: containerLog,
        ...(options.dispatcher && { dispatcher: options.dispatcher }),
      });
      datagridFactories.set(key, factory);
    }
    return factory;
  };

  async function handler(
    event: unknown,
    context?: LambdaContext,
  ): Promise<RunSummary | RunPlan | ShardReport | RunTotals> {
    // The HTTP client is loaded on demand (a chunk of the bundle): start now, so its import overlaps the AWS reads
    // that come before the first Datagrid request, instead of adding to the cold start.
    if (!options.dispatcher) preloadUndici();
    // Unique per attempt: each attempt reports its own results. Leases belong to the invocation, so a retry (same
    // event id or request id) takes over the leases of the attempt it replaces.
    let runId: string = randomUUID();
    const leaseOwner = invocationKeyOf(event, context?.awsRequestId) ?? runId;
    logger.appendKeys({ runId, leaseOwner });
    try {
      const step = parseFleetStep(event);
      // A state machine step carries its run's id: the shards and the completion belong to the planned run.
      if (step && step.action !== 'plan') runId = step.runId;
      if (step) logger.appendKeys({ runId, step: step.action });
      // Everything that can reject the invocation happens before the first AWS or Datagrid call.
      await tracing;
      const request = step ? undefined : parseInvocation(event);
      const settings = requiredSettings();
      const config = await loadConfig(configFile());
      if (step?.action === 'plan') return planRun(config, step.event, runId, new Date(clock.now()));
      if (step?.action === 'complete') {
        const events = createEventSink(eventsClient, {
          busName: settings.busName,
          source: settings.eventSource,
          clock,
          log: containerLog,
        });
        return await completeRun(step, events);
      }

      const { summary, emitted } = await runOnAws({
        clients: { secrets: secretsClient, dynamo: dynamoClient, events: eventsClient },
        config: step?.action === 'shard' ? shardConfig(config, step.request, step.teamspaces) : config,
        request: step?.action === 'shard' ? shardRequest(step.request) : request!,
        runId,
        settings,
        clock,
        log: (redactor) => scrubbingLog(logger, redactor),
        ...(context?.getRemainingTimeInMillis && { remainingMs: context.getRemainingTimeInMillis() }),
        datagrid: datagridFactory(config),
        leaseOwner,
        // A shard's summary is not the run's: `complete` sends the one MCP Rotation Run Completed event.
        ...(step?.action === 'shard' && { events: withoutRunCompleted }),
        // haltAfterFailures holds for the run: every shard counts in, and heeds, the run's record in the table.
        ...(step?.action === 'shard' && { haltScope: 'run' as const }),
      });
      publishRunMetrics(metrics, summary);
      if (emitted.failed > 0)
        throw new Error(`Run ${runId}: ${emitted.failed} result event(s) could not be delivered to EventBridge`);
      // A shard reports its failed targets in its counts (one failed target must not stop the other shards).
      if (step?.action === 'shard') return shardReport(summary);

      const failure = failureOf(summary);
      if (failure) throw failure;
      return summary;
    } catch (error) {
      // runOnAws scrubbed what the run read out of the error (its message and its stack, which Lambda reports with
      // it); nothing before the run reads a secret.
      containerLog.error('run failed', {
        error: error instanceof Error ? { name: error.name, message: error.message } : describeCause(error),
      });
      throw error;
    } finally {
      logger.removeKeys(['runId', 'leaseOwner', 'step']);
    }
  }
  return handler as RotatorHandler;
}

/** What each kind of event resolves with: a state machine step's output, or the run summary. */
export interface RotatorHandler {
  (event: Extract<FleetStep, { action: 'plan' }>, context?: LambdaContext): Promise<RunPlan>;
  (event: Extract<FleetStep, { action: 'shard' }>, context?: LambdaContext): Promise<ShardReport>;
  (event: Extract<FleetStep, { action: 'complete' }>, context?: LambdaContext): Promise<RunTotals>;
  (event: unknown, context?: LambdaContext): Promise<RunSummary>;
}

function withoutRunCompleted(sink: EventSink): EventSink {
  return { emit: (events) => sink.emit(events.filter((e) => e.detailType !== DETAIL_TYPE.runCompleted)) };
}

/** The run's one summary event over every shard; throws when a rotation target failed, so the execution fails. */
async function completeRun(step: Extract<FleetStep, { action: 'complete' }>, events: EventSink): Promise<RunTotals> {
  const totals = runTotals(step.runId, step.request, step.startedAt, step.reports, new Date());
  const emitted = await events.emit([{ detailType: DETAIL_TYPE.runCompleted, detail: totals }]);
  if (emitted.failed > 0) throw new Error(`Run ${step.runId}: the run summary event could not be delivered`);
  if (totals.counts.failed > 0) {
    throw new RotationFailedError(step.runId, totals.counts.failed, 'see the MCP Credential Rotation Result events');
  }
  return totals;
}

export const handler = createHandler();
