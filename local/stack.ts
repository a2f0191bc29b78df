/**
 * One local world for the rotator: moto (Secrets Manager, DynamoDB, EventBridge, SQS), the Datagrid emulator and
 * real MCP servers, wired the way a deployment is: a state table, an event bus whose rule delivers the rotator's
 * events to an SQS queue, the Datagrid API key in Secrets Manager, and a configuration file. The end-to-end tests
 * and `npm run demo` both drive the built handler through it.
 *
 * Every resource is named after the stack's prefix, so many stacks can share one moto.
 */
import { CreateTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RotationConfigFile } from '../lambda/config/schema.ts';
import { startDatagridEmulator } from './datagrid-emulator.ts';
import type { DatagridEmulator, DatagridEmulatorOptions } from './datagrid-emulator.ts';
import { invokeHandler } from './invoke-handler.ts';
import type { Invocation } from './invoke-handler.ts';
import { startMcpServer } from './mcp-server.ts';
import type { RunningMcpServer } from './mcp-server.ts';
import { startMoto } from './moto.ts';
import type { RunningMoto } from './moto.ts';

export type TargetConfig = RotationConfigFile['targets'][number];
export type ConfigFile = RotationConfigFile;

export const DEFAULT_EVENT_SOURCE = 'datagrid.mcp-rotator';
const SENTINEL_DETAIL_TYPE = 'Local Stack Sentinel';

export interface LocalStackOptions {
  /** A running moto to share (the caller closes it); else one is started and closed with the stack. */
  moto?: RunningMoto;
  /** The Datagrid API key: accepted by the emulator and stored in Secrets Manager. */
  apiKey: string;
  /** Store the API key as JSON `{ [apiKeyJsonKey]: apiKey }` (config `datagrid.apiKeyJsonKey`). */
  apiKeyJsonKey?: string;
  emulator?: Omit<DatagridEmulatorOptions, 'apiKeys'>;
  /** `EVENT_SOURCE` of the handler, and what the rule delivers to the queue. @default DEFAULT_EVENT_SOURCE */
  eventSource?: string;
  /** Prefix of every resource name. @default a random one */
  name?: string;
}

export interface ServerSpec {
  /** The server's name in Datagrid; also names its secret. */
  name: string;
  teamspaceId?: string;
  /** @default 3 */
  tools?: number;
  /** The credential the secret holds: what the rotator will apply. */
  token: string;
  /** The credential Datagrid holds before the rotator's first run. The MCP server accepts both. @default token */
  initialToken?: string;
  /** Use this existing secret instead of creating one (two targets sharing a credential). */
  secretId?: string;
  /** Store the secret as JSON `{ [jsonKey]: token, ... }` and set `jsonKey` on the target. */
  jsonKey?: string;
  /** Further target settings for the configuration file. */
  settings?: Omit<TargetConfig, 'serverId' | 'teamspaceId' | 'secretId'>;
}

export interface StackServer {
  name: string;
  serverId: string;
  teamspaceId: string | undefined;
  secretId: string;
  secretArn: string;
  /** The version the secret had when it was created (undefined for a shared secret). */
  initialVersionId: string | undefined;
  mcp: RunningMcpServer;
  /** The entry for the configuration file's `targets`. */
  target: TargetConfig;
}

export interface ReceivedEvent {
  id: string;
  source: string;
  'detail-type': string;
  detail: Record<string, unknown>;
  /** The SQS message body as received. */
  raw: string;
}

export interface StackInvokeOptions {
  /** What `context.getRemainingTimeInMillis()` starts from. */
  remainingMs?: number;
  /** Added to (or, with undefined, removed from) the handler's environment. */
  env?: Record<string, string | undefined>;
  bundle?: string;
  /** Kills the process (SIGKILL, as a Lambda timeout or crash would) when it aborts. */
  kill?: AbortSignal;
  /** `context.awsRequestId`; the one of an earlier invocation stages Lambda's retry of it. @default a new UUID */
  awsRequestId?: string;
}

export interface AwsClients {
  secrets: SecretsManagerClient;
  dynamo: DynamoDBClient;
  events: EventBridgeClient;
  sqs: SQSClient;
}

export function awsClients(moto: RunningMoto): AwsClients {
  const config = {
    endpoint: moto.endpoint,
    region: moto.region,
    credentials: { accessKeyId: moto.env.AWS_ACCESS_KEY_ID!, secretAccessKey: moto.env.AWS_SECRET_ACCESS_KEY! },
  };
  return {
    secrets: new SecretsManagerClient(config),
    dynamo: new DynamoDBClient(config),
    events: new EventBridgeClient(config),
    sqs: new SQSClient(config),
  };
}

export class LocalStack {
  readonly moto: RunningMoto;
  readonly aws: AwsClients;
  readonly datagrid: DatagridEmulator;
  readonly name: string;
  readonly tableName: string;
  readonly busName: string;
  readonly queueUrl: string;
  readonly eventSource: string;
  readonly apiKeySecretId: string;
  readonly apiKeyJsonKey: string | undefined;
  readonly workDir: string;
  readonly configFile: string;
  readonly servers: StackServer[] = [];
  readonly #ownsMoto: boolean;

  private constructor(fields: {
    moto: RunningMoto;
    ownsMoto: boolean;
    aws: AwsClients;
    datagrid: DatagridEmulator;
    name: string;
    queueUrl: string;
    eventSource: string;
    apiKeyJsonKey: string | undefined;
    workDir: string;
  }) {
    this.moto = fields.moto;
    this.#ownsMoto = fields.ownsMoto;
    this.aws = fields.aws;
    this.datagrid = fields.datagrid;
    this.name = fields.name;
    this.tableName = `${fields.name}-state`;
    this.busName = `${fields.name}-bus`;
    this.queueUrl = fields.queueUrl;
    this.eventSource = fields.eventSource;
    this.apiKeySecretId = `${fields.name}/datagrid/api-key`;
    this.apiKeyJsonKey = fields.apiKeyJsonKey;
    this.workDir = fields.workDir;
    this.configFile = join(fields.workDir, 'rotation.config.json');
  }

  static async start(options: LocalStackOptions): Promise<LocalStack> {
    const name = options.name ?? `rotator-${randomBytes(4).toString('hex')}`;
    const ownsMoto = options.moto === undefined;
    const [moto, datagrid, workDir] = await Promise.all([
      options.moto ?? startMoto(),
      startDatagridEmulator({ ...options.emulator, apiKeys: [options.apiKey] }),
      mkdtemp(join(tmpdir(), `${name}-`)),
    ]);
    const aws = awsClients(moto);
    const eventSource = options.eventSource ?? DEFAULT_EVENT_SOURCE;
    const apiKeyValue =
      options.apiKeyJsonKey === undefined
        ? options.apiKey
        : JSON.stringify({ [options.apiKeyJsonKey]: options.apiKey });
    const [queueUrl] = await Promise.all([
      createEventQueue(aws, name, eventSource),
      aws.dynamo.send(
        new CreateTableCommand({
          TableName: `${name}-state`,
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      ),
      aws.secrets.send(new CreateSecretCommand({ Name: `${name}/datagrid/api-key`, SecretString: apiKeyValue })),
    ]);
    return new LocalStack({
      moto,
      ownsMoto,
      aws,
      datagrid,
      name,
      queueUrl,
      eventSource,
      apiKeyJsonKey: options.apiKeyJsonKey,
      workDir,
    });
  }

  /** The secret's name for a server name: under the stack's prefix. */
  secretName(serverName: string): string {
    return `${this.name}/mcp/${serverName}`;
  }

  /**
   * Starts a real MCP server accepting the spec's tokens, stores the credential in Secrets Manager and registers the
   * server in the emulator with its initial Authorization, as an operator would have before installing the rotator.
   */
  async addServer(spec: ServerSpec): Promise<StackServer> {
    const initial = spec.initialToken ?? spec.token;
    const mcp = await startMcpServer({ tools: spec.tools ?? 3, tokens: [...new Set([initial, spec.token])] });
    let secretId = spec.secretId;
    let secretArn: string;
    let initialVersionId: string | undefined;
    if (secretId === undefined) {
      secretId = this.secretName(spec.name);
      const created = await this.aws.secrets.send(
        new CreateSecretCommand({ Name: secretId, SecretString: secretValue(spec.token, spec.jsonKey) }),
      );
      secretArn = created.ARN!;
      initialVersionId = created.VersionId;
    } else {
      const shared = this.servers.find((s) => s.secretId === secretId);
      if (!shared) throw new Error(`addServer: secretId ${secretId} is not the secret of a server of this stack`);
      secretArn = shared.secretArn;
    }
    const server = await this.datagrid.servers.create(
      { name: spec.name, base_url: mcp.url, authorization: `Bearer ${initial}` },
      spec.teamspaceId,
    );
    const added: StackServer = {
      name: spec.name,
      serverId: server.id,
      teamspaceId: spec.teamspaceId,
      secretId,
      secretArn,
      initialVersionId,
      mcp,
      target: {
        serverId: server.id,
        ...(spec.teamspaceId !== undefined && { teamspaceId: spec.teamspaceId }),
        secretId,
        ...(spec.jsonKey !== undefined && { jsonKey: spec.jsonKey }),
        ...spec.settings,
      },
    };
    this.servers.push(added);
    return added;
  }

  /** A new AWSCURRENT version of the secret; resolves with its VersionId. */
  async putSecretValue(secretId: string, value: string): Promise<string> {
    const put = await this.aws.secrets.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value }));
    return put.VersionId!;
  }

  /**
   * An upstream rotation: the MCP server accepts `token` (and `alsoAccept`, e.g. the old token during an overlap
   * window) and the secret gets a new version holding it. Resolves with the new VersionId.
   */
  async rotateUpstream(server: StackServer, token: string, options: { alsoAccept?: string[] } = {}): Promise<string> {
    server.mcp.setTokens([token, ...(options.alsoAccept ?? [])]);
    return this.putSecretValue(server.secretId, secretValue(token, server.target.jsonKey));
  }

  /** Writes the configuration file (Datagrid base URL and API key secret filled in) and returns its path. */
  async writeConfig(
    config: Omit<ConfigFile, 'datagrid'> & { datagrid?: Partial<ConfigFile['datagrid']> },
    path = this.configFile,
  ): Promise<string> {
    const file: ConfigFile = {
      ...config,
      datagrid: {
        baseUrl: this.datagrid.url,
        apiKeySecretId: this.apiKeySecretId,
        ...(this.apiKeyJsonKey !== undefined && { apiKeyJsonKey: this.apiKeyJsonKey }),
        ...config.datagrid,
      },
    };
    await writeFile(path, `${JSON.stringify(file, null, 2)}\n`);
    return path;
  }

  /** The environment the handler runs with, as the CDK stack would set it. */
  handlerEnv(): Record<string, string> {
    return {
      ...this.moto.env,
      // No instance metadata lookups: credentials come from the environment, as in Lambda.
      AWS_EC2_METADATA_DISABLED: 'true',
      STATE_TABLE_NAME: this.tableName,
      ROTATION_CONFIG_FILE: this.configFile,
      EVENT_BUS_NAME: this.busName,
      EVENT_SOURCE: this.eventSource,
    };
  }

  /** One handler process with the stack's environment. */
  invoke<Summary = unknown>(event: unknown, options: StackInvokeOptions = {}): Promise<Invocation<Summary>> {
    const env: Record<string, string> = this.handlerEnv();
    for (const [key, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
    return invokeHandler<Summary>({
      event,
      env,
      ...(options.bundle !== undefined && { bundle: options.bundle }),
      ...(options.remainingMs !== undefined && { remainingMs: options.remainingMs }),
      ...(options.kill !== undefined && { kill: options.kill }),
      ...(options.awsRequestId !== undefined && { awsRequestId: options.awsRequestId }),
    });
  }

  /**
   * Every event the rule delivered since the last call. A sentinel event is put on the bus after the runs being
   * observed have ended; once it has arrived, everything they emitted before it has too, so "no events" is
   * decided without a fixed sleep.
   */
  async receiveEvents(timeoutMs = 10_000): Promise<ReceivedEvent[]> {
    const sentinel = randomUUID();
    const put = await this.aws.events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.busName,
            Source: this.eventSource,
            DetailType: SENTINEL_DETAIL_TYPE,
            Detail: JSON.stringify({ sentinel }),
          },
        ],
      }),
    );
    if (put.FailedEntryCount) throw new Error('receiveEvents: EventBridge refused the sentinel event');
    const received: ReceivedEvent[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new Error(`receiveEvents: the sentinel event did not reach ${this.queueUrl} within ${timeoutMs} ms`);
      }
      const { Messages = [] } = await this.aws.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: Math.min(5, Math.ceil(remaining / 1000)),
        }),
      );
      if (Messages.length > 0) {
        await this.aws.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      }
      let sawSentinel = false;
      for (const message of Messages) {
        const event = JSON.parse(message.Body!) as ReceivedEvent;
        if (event['detail-type'] === SENTINEL_DETAIL_TYPE) {
          sawSentinel ||= event.detail.sentinel === sentinel;
          continue;
        }
        received.push({ ...event, raw: message.Body! });
      }
      if (sawSentinel) return received;
    }
  }

  /** Every item of the state table, with string, number and null attributes unmarshalled. */
  async stateItems(): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.aws.dynamo.send(
        new ScanCommand({ TableName: this.tableName, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) items.push(unmarshal(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  }

  /** The state item of a server, if any. */
  async stateOf(server: StackServer): Promise<Record<string, unknown> | undefined> {
    return (await this.stateItems()).find(
      (item) => item.serverId === server.serverId && item.teamspaceId === server.teamspaceId,
    );
  }

  /** The Authorization value the emulator would send to the server's MCP endpoint now. */
  authorizationOf(server: StackServer): string | null | undefined {
    return this.datagrid.servers.get(server.serverId)?.authorization;
  }

  /** A request to the emulator's public API with the stack's API key (changes made outside the rotator). */
  async callDatagrid(method: string, path: string, body?: unknown, teamspaceId?: string): Promise<unknown> {
    const response = await fetch(`${this.datagrid.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.datagrid.apiKey}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...(teamspaceId !== undefined && { 'datagrid-teamspace': teamspaceId }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
    return text === '' ? undefined : JSON.parse(text);
  }

  async close(): Promise<void> {
    await Promise.all([
      this.datagrid.close(),
      ...this.servers.map((s) => s.mcp.close()),
      rm(this.workDir, { recursive: true, force: true }),
    ]);
    for (const client of Object.values(this.aws)) client.destroy();
    if (this.#ownsMoto) await this.moto.close();
  }
}

/** The secret string for a token: the token itself, or a JSON object holding it under `jsonKey`. */
export function secretValue(token: string, jsonKey: string | undefined): string {
  return jsonKey === undefined ? token : JSON.stringify({ [jsonKey]: token, note: 'rotated by the local stack' });
}

/** A queue that receives every event of `source` on the stack's bus, through an EventBridge rule. */
async function createEventQueue(aws: AwsClients, name: string, source: string): Promise<string> {
  const busName = `${name}-bus`;
  const [{ QueueUrl }] = await Promise.all([
    aws.sqs.send(new CreateQueueCommand({ QueueName: `${name}-events` })),
    aws.events.send(new CreateEventBusCommand({ Name: busName })),
  ]);
  const attributes = await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await aws.events.send(
    new PutRuleCommand({
      Name: `${name}-to-queue`,
      EventBusName: busName,
      EventPattern: JSON.stringify({ source: [source] }),
    }),
  );
  await aws.events.send(
    new PutTargetsCommand({
      Rule: `${name}-to-queue`,
      EventBusName: busName,
      Targets: [{ Id: 'queue', Arn: attributes.Attributes!.QueueArn! }],
    }),
  );
  return QueueUrl!;
}

function unmarshal(item: Record<string, AttributeValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) {
    if (value.S !== undefined) out[key] = value.S;
    else if (value.N !== undefined) out[key] = Number(value.N);
    else if (value.NULL === true) out[key] = null;
    else if (value.BOOL !== undefined) out[key] = value.BOOL;
    else out[key] = value;
  }
  return out;
}
