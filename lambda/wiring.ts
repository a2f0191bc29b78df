/**
 * Builds the engine's adapters from AWS clients and deployment settings. The Lambda handler and the operator CLI
 * both use it, so a rotation run from a laptop reads, writes and emits exactly what the deployed Lambda does (the
 * audit trail must not depend on where a rotation ran).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Dispatcher } from 'undici';
import { createDatagridApiFactory } from './adapters/datagrid.ts';
import { createEventSink } from './adapters/events-eventbridge.ts';
import { createMcpProbe } from './adapters/mcp-probe.ts';
import { createSecretSource } from './adapters/secrets-manager.ts';
import { createStateStore } from './adapters/state-dynamodb.ts';
import { DEFAULT_EVENT_BUS, DEFAULT_EVENT_SOURCE } from './constants.ts';
import type { EngineDeps } from './engine/run.ts';
import type { Clock, DatagridApiFactory, Log, RotatorConfig } from './types/index.ts';

export interface AwsClients {
  secrets: SecretsManagerClient;
  dynamo: DynamoDBClient;
  events: EventBridgeClient;
}

/** Where state and events go. */
export interface DeploymentSettings {
  /** DynamoDB state table (partition key `pk`, String). */
  tableName: string;
  /** EventBridge bus for result events. */
  busName: string;
  /** `Source` of emitted events. */
  eventSource: string;
}

/** The settings the environment names; the table stays undefined when unset (callers decide how to report that). */
export function deploymentSettingsFromEnv(
  env: Record<string, string | undefined>,
): Omit<DeploymentSettings, 'tableName'> & { tableName: string | undefined } {
  return {
    tableName: env.STATE_TABLE_NAME === '' ? undefined : env.STATE_TABLE_NAME,
    busName: env.EVENT_BUS_NAME ?? DEFAULT_EVENT_BUS,
    eventSource: env.EVENT_SOURCE ?? DEFAULT_EVENT_SOURCE,
  };
}

export interface DatagridFactoryOptions {
  clock: Clock;
  /** Receives retry warnings, which carry no values. */
  log?: Log;
  /** undici dispatcher; default: the keep-alive undici Pool of each origin. Tests pass a MockAgent. */
  dispatcher?: Dispatcher;
}

/** The Datagrid client factory for a configuration's `datagrid` settings. */
export function createDatagridFactory(config: RotatorConfig, options: DatagridFactoryOptions): DatagridApiFactory {
  const { baseUrl, requestTimeoutMs, maxAttempts } = config.datagrid;
  return createDatagridApiFactory({
    baseUrl,
    requestTimeoutMs,
    maxAttempts,
    clock: options.clock,
    ...(options.log && { log: options.log }),
    ...(options.dispatcher && { dispatcher: options.dispatcher }),
  });
}

export interface EngineAdapterOptions {
  clients: AwsClients;
  config: RotatorConfig;
  settings: DeploymentSettings;
  clock: Clock;
  /** The run's log (scrubbing with the run's redactor). */
  log: Log;
  /** A Datagrid factory to reuse across runs; default: a new one for `config`, logging to `log`. */
  datagrid?: DatagridApiFactory;
}

const sharedMcpProbe = createMcpProbe();

export type EngineAdapters = Pick<EngineDeps, 'secrets' | 'datagrid' | 'state' | 'events' | 'mcpProbe'>;

/** The secrets, Datagrid, state and events adapters of one run. */
export function createEngineAdapters(options: EngineAdapterOptions): EngineAdapters {
  const { clients, config, settings, clock, log } = options;
  return {
    secrets: createSecretSource(clients.secrets, log),
    datagrid: options.datagrid ?? createDatagridFactory(config, { clock, log }),
    state: createStateStore(clients.dynamo, settings.tableName, { clock, log }),
    events: createEventSink(clients.events, {
      busName: settings.busName,
      source: settings.eventSource,
      clock,
      log,
    }),
    // Loads the MCP SDK (a chunk of its own) only when a target's pre-flight runs.
    mcpProbe: sharedMcpProbe,
  };
}
