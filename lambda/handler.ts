/**
 * Lambda entry: parse the event, build adapters once per container, run the engine, publish metrics, return the
 * summary, and throw (after every event is emitted) when a rotation target failed so retries and alarms see it.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Dispatcher } from 'undici';
import { preloadUndici } from './adapters/http-transport.ts';
import { loadConfigFile } from './config.ts';
import { DEFAULT_CONFIG_FILE, DEFAULT_METRICS_NAMESPACE, ROTATOR_METRIC, ROTATOR_NAME } from './constants.ts';
import { Redactor } from './engine/redactor.ts';
import { executeRun } from './engine/run.ts';
import { RotationFailedError, describeCause } from './errors.ts';
import { parseInvocation } from './invocation.ts';
import { scrubbingLog, systemClock } from './runtime.ts';
import type { Clock, DatagridApiFactory, RotatorConfig } from './types/index.ts';
import type { RotationResult, RunSummary } from './types/results.ts';
import { createDatagridFactory, createEngineAdapters, deploymentSettingsFromEnv } from './wiring.ts';

/** When invoked without a Lambda context (local runs), assume Lambda's maximum timeout. */
const DEFAULT_REMAINING_MS = 15 * 60_000;

const logger = new Logger({ serviceName: ROTATOR_NAME });
const metrics = new Metrics({
  namespace: process.env.METRICS_NAMESPACE ?? DEFAULT_METRICS_NAMESPACE,
  serviceName: ROTATOR_NAME,
});

export interface HandlerOptions {
  secretsClient?: SecretsManagerClient;
  dynamoClient?: DynamoDBClient;
  eventsClient?: EventBridgeClient;
  /** undici dispatcher for Datagrid; default: the keep-alive undici Pool of each origin. Tests pass a MockAgent. */
  dispatcher?: Dispatcher;
  clock?: Clock;
}

type LambdaContext = { getRemainingTimeInMillis?: () => number } | undefined;

function configFile(): string {
  return process.env.ROTATION_CONFIG_FILE ?? fileURLToPath(new URL(DEFAULT_CONFIG_FILE, import.meta.url));
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`Environment variable ${name} is required`);
  return value;
}

function publishMetrics(summary: RunSummary): void {
  const { counts } = summary;
  if (summary.action === 'rotate') {
    metrics.addMetric(ROTATOR_METRIC.rotationsSucceeded, MetricUnit.Count, counts.rotated);
    metrics.addMetric(ROTATOR_METRIC.rotationsUnchanged, MetricUnit.Count, counts.unchanged);
    metrics.addMetric(ROTATOR_METRIC.rotationsFailed, MetricUnit.Count, counts.failed);
    metrics.addMetric(ROTATOR_METRIC.rotationsSkipped, MetricUnit.Count, counts.skipped);
  } else {
    metrics.addMetric(ROTATOR_METRIC.auditCompliant, MetricUnit.Count, counts.compliant);
    metrics.addMetric(ROTATOR_METRIC.auditNoncompliant, MetricUnit.Count, counts.noncompliant);
  }
  metrics.addMetric(
    ROTATOR_METRIC.runDurationMs,
    MetricUnit.Milliseconds,
    Date.parse(summary.finishedAt) - Date.parse(summary.startedAt),
  );
  metrics.publishStoredMetrics();
}

function failureOf(summary: RunSummary): RotationFailedError | undefined {
  const failed = summary.results.filter((r): r is RotationResult => 'outcome' in r && r.outcome === 'failed');
  if (failed.length === 0) return undefined;
  const detail = failed
    .map((r) => `${r.teamspaceId ? `${r.teamspaceId}/` : ''}${r.serverId} ${r.error?.code ?? ''}`)
    .join(', ');
  return new RotationFailedError(summary.runId, failed.length, detail);
}

/** Builds the Lambda handler; clients are created once and reused by every (warm) invocation. */
export function createHandler(options: HandlerOptions = {}) {
  // Endpoints come from the standard AWS_ENDPOINT_URL(_<SERVICE>) variables, which the SDK reads itself.
  const secretsClient = options.secretsClient ?? new SecretsManagerClient({});
  const dynamoClient = options.dynamoClient ?? new DynamoDBClient({});
  const eventsClient = options.eventsClient ?? new EventBridgeClient({});
  const clock = options.clock ?? systemClock;
  const configs = new Map<string, Promise<RotatorConfig>>();
  const datagridFactories = new Map<string, DatagridApiFactory>();

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
        // Shared across runs, so not the per-run scrubbing log; the adapter's retry warnings carry no values.
        log: scrubbingLog(logger),
        ...(options.dispatcher && { dispatcher: options.dispatcher }),
      });
      datagridFactories.set(key, factory);
    }
    return factory;
  };

  return async function handler(event: unknown, context?: LambdaContext): Promise<RunSummary> {
    // The HTTP client is loaded on demand (a chunk of the bundle): start now, so its import overlaps the AWS reads
    // that come before the first Datagrid request, instead of adding to the cold start.
    if (!options.dispatcher) preloadUndici();
    const runId = randomUUID();
    logger.appendKeys({ runId });
    const redactor = new Redactor();
    const log = scrubbingLog(logger, redactor);
    try {
      // Everything that can reject the invocation happens before the first AWS or Datagrid call.
      const request = parseInvocation(event);
      const tableName = requiredEnv('STATE_TABLE_NAME');
      const config = await loadConfig(configFile());
      const remaining = context?.getRemainingTimeInMillis?.() ?? DEFAULT_REMAINING_MS;

      const { busName, eventSource } = deploymentSettingsFromEnv(process.env);
      const { summary, emitted } = await executeRun(config, request, runId, {
        ...createEngineAdapters({
          clients: { secrets: secretsClient, dynamo: dynamoClient, events: eventsClient },
          config,
          settings: { tableName, busName, eventSource },
          clock,
          log,
          datagrid: datagridFactory(config),
        }),
        clock,
        log,
        redactor,
        timing: { deadlineAt: clock.now() + remaining },
      });
      publishMetrics(summary);

      const failure = failureOf(summary);
      if (failure) throw failure;
      if (emitted.failed > 0)
        throw new Error(`Run ${runId}: ${emitted.failed} result event(s) could not be delivered to EventBridge`);
      return summary;
    } catch (error) {
      if (error instanceof Error) error.message = redactor.scrub(error.message);
      log.error('run failed', {
        error: error instanceof Error ? { name: error.name, message: error.message } : describeCause(error),
      });
      throw error;
    } finally {
      logger.removeKeys(['runId']);
    }
  };
}

export const handler = createHandler();
