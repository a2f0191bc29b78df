/**
 * The benchmark's local world: moto behind a counting proxy (Secrets Manager, DynamoDB, EventBridge), the Datagrid
 * emulator, a handful of real MCP servers shared by all targets, a secret per target, the state table, the event bus and the
 * rotator's configuration file. Everything listens on 127.0.0.1.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { startDatagridEmulator } from '../local/datagrid-emulator.ts';
import type { DatagridEmulator } from '../local/datagrid-emulator.ts';
import { startMcpServer } from '../local/mcp-server.ts';
import type { RunningMcpServer } from '../local/mcp-server.ts';
import { startMoto } from '../local/moto.ts';
import type { RunningMoto } from '../local/moto.ts';
import { startCountingProxy } from './aws-proxy.ts';
import type { CountingProxy } from './aws-proxy.ts';
import type { Setting } from './bounds.ts';

export interface WorldShape {
  teamspaces: number;
  serversPerTeamspace: number;
  /** Distinct MCP server processes the Datagrid servers point at. */
  mcpServers: number;
}

export interface BenchTarget {
  serverId: string;
  teamspaceId: string;
  secretId: string;
  /** What the rotator will send (the baseline loops send the same). */
  authorization: string;
}

export interface Concurrency {
  global: number;
  perTeamspace: number;
  haltAfterFailures: number;
}

export interface World {
  moto: RunningMoto;
  proxy: CountingProxy;
  datagrid: DatagridEmulator;
  mcp: RunningMcpServer[];
  targets: BenchTarget[];
  apiKey: string;
  tableName: string;
  busName: string;
  configFile: string;
  /** The handler's environment, AWS endpoint pointing at the counting proxy. */
  handlerEnv: Record<string, string>;
  /**
   * `defaults` is the configuration's `defaults` block (e.g. `{ preflight: true }`); `datagrid` adds to its
   * `datagrid` block (e.g. `{ requestTimeoutMs: 2000 }`).
   */
  writeConfig(
    concurrency: Concurrency,
    defaults?: Record<string, unknown>,
    datagrid?: Record<string, unknown>,
  ): Promise<void>;
  close(): Promise<void>;
}

const SEED_CONCURRENCY = 16;

export async function startWorld(shape: WorldShape): Promise<World> {
  const name = `bench-${randomBytes(3).toString('hex')}`;
  const apiKey = `dg-bench-${randomBytes(8).toString('hex')}`;
  const [moto, datagrid, workDir, mcp] = await Promise.all([
    startMoto(),
    // Any teamspace may be named with the key; 30 servers per teamspace is Datagrid's documented limit.
    startDatagridEmulator({ apiKeys: [{ key: apiKey, teamspace: 'ts_00' }], syncMode: 'sync' }),
    mkdtemp(join(tmpdir(), `${name}-`)),
    Promise.all(Array.from({ length: shape.mcpServers }, () => startMcpServer({ tools: 3, tokens: [] }))),
  ]);
  const proxy = await startCountingProxy(moto.endpoint);
  const aws = {
    endpoint: moto.endpoint,
    region: moto.region,
    credentials: { accessKeyId: moto.env.AWS_ACCESS_KEY_ID!, secretAccessKey: moto.env.AWS_SECRET_ACCESS_KEY! },
    // moto's server answers an occasional 500 under concurrent CreateSecret calls (measured while seeding 9,000).
    maxAttempts: 10,
  };
  const secrets = new SecretsManagerClient(aws);
  const dynamo = new DynamoDBClient(aws);
  const events = new EventBridgeClient(aws);
  const tableName = `${name}-state`;
  const busName = `${name}-bus`;
  const apiKeySecretId = `${name}/datagrid/api-key`;
  await Promise.all([
    dynamo.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    ),
    events.send(new CreateEventBusCommand({ Name: busName })),
    secrets.send(new CreateSecretCommand({ Name: apiKeySecretId, SecretString: apiKey })),
  ]);

  // Each MCP server accepts the tokens of the Datagrid servers pointing at it.
  const plan = Array.from({ length: shape.teamspaces * shape.serversPerTeamspace }, (_, i) => {
    const teamspaceId = `ts_${String(Math.floor(i / shape.serversPerTeamspace) + 1).padStart(2, '0')}`;
    return { i, teamspaceId, token: `tok-${i}-${randomBytes(12).toString('hex')}`, mcp: mcp[i % mcp.length]! };
  });
  for (const server of mcp) {
    server.setTokens(plan.filter((p) => p.mcp === server).map((p) => p.token));
  }
  const limit = pLimit(SEED_CONCURRENCY);
  const targets = await Promise.all(
    plan.map((p) =>
      limit(async (): Promise<BenchTarget> => {
        const secretId = `${name}/mcp/${p.teamspaceId}/server-${p.i}`;
        const authorization = `Bearer ${p.token}`;
        await secrets.send(new CreateSecretCommand({ Name: secretId, SecretString: p.token }));
        const created = await datagrid.servers.create(
          { name: `server-${p.i}`, base_url: p.mcp.url, authorization },
          p.teamspaceId,
        );
        return { serverId: created.id, teamspaceId: p.teamspaceId, secretId, authorization };
      }),
    ),
  );
  for (const client of [secrets, dynamo, events]) client.destroy();

  const configFile = join(workDir, 'rotation.config.json');
  const world: World = {
    moto,
    proxy,
    datagrid,
    mcp,
    targets,
    apiKey,
    tableName,
    busName,
    configFile,
    handlerEnv: {
      ...(process.env.PATH !== undefined && { PATH: process.env.PATH }),
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_REGION: moto.region,
      AWS_ACCESS_KEY_ID: moto.env.AWS_ACCESS_KEY_ID!,
      AWS_SECRET_ACCESS_KEY: moto.env.AWS_SECRET_ACCESS_KEY!,
      AWS_EC2_METADATA_DISABLED: 'true',
      STATE_TABLE_NAME: tableName,
      ROTATION_CONFIG_FILE: configFile,
      EVENT_BUS_NAME: busName,
      EVENT_SOURCE: 'datagrid.mcp-rotator.bench',
    },
    async writeConfig(concurrency, defaults, datagridSettings) {
      const config = {
        datagrid: { baseUrl: datagrid.url, apiKeySecretId, ...datagridSettings },
        concurrency,
        ...(defaults && { defaults }),
        targets: targets.map((t) => ({ serverId: t.serverId, teamspaceId: t.teamspaceId, secretId: t.secretId })),
      };
      await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);
    },
    async close() {
      await Promise.all([datagrid.close(), ...mcp.map((m) => m.close()), proxy.close()]);
      await moto.close();
      await rm(workDir, { recursive: true, force: true });
    },
  };
  return world;
}

/** Waits for Datagrid's pending re-syncs, then empties the request log, the AWS call counts and the in-flight peak. */
export async function settle(world: World): Promise<void> {
  await world.datagrid.idle();
  world.datagrid.requestLog.length = 0;
  world.proxy.reset();
  world.datagrid.inFlight.resetPeak();
}

/** The setting's PATCH latency, re-sync mode and, when it has one, a fresh token bucket (its full burst). */
export function applySetting(world: World, setting: Setting): void {
  const { datagrid } = world;
  datagrid.faults.clear();
  datagrid.faults.add({ fault: { type: 'latency', ms: setting.patchLatencyMs }, method: 'PATCH' });
  datagrid.configure({ mode: setting.resync, asyncDelayMs: setting.asyncDelayMs });
  // A fresh bucket for every measured run, so each starts from the same allowance.
  if (setting.rateLimit) datagrid.faults.setRateLimit(setting.rateLimit);
}
