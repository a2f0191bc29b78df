/**
 * The handler end to end over mocked AWS clients (aws-sdk-client-mock) and a mocked Datagrid (undici MockAgent):
 * event parsing, config loading, the adapters' wiring, events, the throw-after-emit rule and secret hygiene of what
 * the Powertools logger prints.
 */
import { DynamoDBClient, BatchGetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { BatchGetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHandler } from '../../lambda/handler.ts';
import { ConfigError, RequestError, RotationFailedError } from '../../lambda/errors.ts';
import type { McpServer } from '../../lambda/types/index.ts';
import type { RotationResult } from '../../lambda/types/results.ts';
import { mcpServerFixture } from '../support/mcp-server-fixture.ts';

const ORIGIN = 'http://127.0.0.1:9999';
const API_KEY = 'CANARY-dg-key-5e6f7a8b';
const TOKENS: Record<string, string> = { 'mcp/one': 'CANARY-token-one-1a2b', 'mcp/two': 'CANARY-token-two-3c4d' };

const sm = mockClient(SecretsManagerClient);
const ddb = mockClient(DynamoDBClient);
const eb = mockClient(EventBridgeClient);

const server = (id: string, fields: Partial<McpServer> = {}) => mcpServerFixture(id, fields, 4);

let dir: string;
let stdout: string[];
let agent: MockAgent;

function writeConfig(config: unknown): void {
  const file = join(dir, 'rotation.config.json');
  writeFileSync(file, JSON.stringify(config));
  process.env.ROTATION_CONFIG_FILE = file;
}

const validConfig = {
  datagrid: { baseUrl: `${ORIGIN}/v1`, apiKeySecretId: 'datagrid/api-key', maxAttempts: 1 },
  targets: [
    { serverId: 'srv_1', teamspaceId: 'ts_1', secretId: 'mcp/one' },
    { serverId: 'srv_2', teamspaceId: 'ts_1', secretId: 'mcp/two' },
  ],
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rotator-handler-'));
  process.env.STATE_TABLE_NAME = 'rotator-state';
  process.env.EVENT_BUS_NAME = 'rotator-bus';
  writeConfig(validConfig);
  sm.reset();
  ddb.reset();
  eb.reset();
  sm.on(BatchGetSecretValueCommand).callsFake((input: { SecretIdList: string[] }) => ({
    SecretValues: input.SecretIdList.map((id) => ({
      ARN: `arn:aws:secretsmanager:us-east-1:111122223333:secret:${id}-AbCdEf`,
      Name: id,
      VersionId: `ver-${id}`,
      SecretString: id === 'datagrid/api-key' ? API_KEY : TOKENS[id],
      CreatedDate: new Date('2026-11-20T00:00:00Z'),
    })),
    Errors: [],
  }));
  ddb.on(BatchGetItemCommand).resolves({ Responses: { 'rotator-state': [] } });
  ddb.on(UpdateItemCommand).resolves({});
  eb.on(PutEventsCommand).callsFake((input: { Entries: unknown[] }) => ({
    FailedEntryCount: 0,
    Entries: input.Entries.map((_, i) => ({ EventId: `e${i}` })),
  }));
  agent = new MockAgent();
  agent.disableNetConnect();
  stdout = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout.push(String(chunk));
      return true;
    });
  }
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void stdout.push(args.map(String).join(' ')));
  vi.spyOn(console, 'info').mockImplementation((...args: unknown[]) => void stdout.push(args.map(String).join(' ')));
  vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void stdout.push(args.map(String).join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void stdout.push(args.map(String).join(' ')));
});

afterEach(async () => {
  vi.restoreAllMocks();
  await agent.close();
});

function makeHandler() {
  return createHandler({
    secretsClient: new SecretsManagerClient({ region: 'us-east-1' }),
    dynamoClient: new DynamoDBClient({ region: 'us-east-1' }),
    eventsClient: new EventBridgeClient({ region: 'us-east-1' }),
    dispatcher: agent,
  });
}

function interceptList(servers: unknown[]) {
  agent
    .get(ORIGIN)
    .intercept({ path: '/v1/organization/mcp-servers', method: 'GET' })
    .reply(200, { object: 'list', data: servers });
}

function interceptPatch(id: string, status = 'active', tools = 4) {
  let body: unknown;
  agent
    .get(ORIGIN)
    .intercept({ path: `/v1/organization/mcp-servers/${id}`, method: 'PATCH' })
    .reply(200, (opts) => {
      body = JSON.parse(opts.body as string);
      return server(id, { status, metadata: { tool_count: tools, last_synced_at: '2026-11-24T12:00:00.000Z' } });
    });
  return () => body;
}

const putEntries = () => eb.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);

describe('handler', () => {
  it('rotates every target of a scheduled run and emits one event per target plus the run summary', async () => {
    interceptList([server('srv_1'), server('srv_2')]);
    const body1 = interceptPatch('srv_1');
    interceptPatch('srv_2');
    const summary = await makeHandler()(
      { action: 'rotate', trigger: 'schedule' },
      { getRemainingTimeInMillis: () => 300_000 },
    );
    expect(summary.counts).toMatchObject({ rotated: 2, failed: 0 });
    expect(body1()).toEqual({ authorization: `Bearer ${TOKENS['mcp/one']}` });
    expect(sm.commandCalls(BatchGetSecretValueCommand)).toHaveLength(1);
    expect(ddb.commandCalls(UpdateItemCommand).length).toBe(4); // a lease and a completion per target
    const entries = putEntries();
    expect(entries.map((e) => e.DetailType)).toEqual([
      'MCP Credential Rotation Result',
      'MCP Credential Rotation Result',
      'MCP Rotation Run Completed',
    ]);
    expect(entries.every((e) => e.EventBusName === 'rotator-bus' && e.Source === 'datagrid.mcp-rotator')).toBe(true);
    const logs = stdout.join('');
    expect(logs).toContain(summary.runId);
    expect(logs).toContain('RotationsSucceeded');
    for (const secret of [API_KEY, ...Object.values(TOKENS)]) {
      expect(logs).not.toContain(secret);
      expect(JSON.stringify(entries)).not.toContain(secret);
      expect(JSON.stringify(summary)).not.toContain(secret);
    }
  });

  it('throws after emitting every event when a rotation target failed', async () => {
    interceptList([server('srv_1'), server('srv_2')]);
    interceptPatch('srv_1', 'error', 0);
    interceptPatch('srv_2');
    const error = await makeHandler()({ action: 'rotate' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RotationFailedError);
    expect((error as Error).message).toMatch(/1 rotation target\(s\) failed: ts_1\/srv_1 VERIFY_UNHEALTHY/);
    expect(putEntries()).toHaveLength(3);
    // Results go out in the order their targets finished; the run summary is last.
    const details = putEntries().map((e) => JSON.parse(e.Detail!) as RotationResult);
    expect(details.find((d) => d.serverId === 'srv_1')).toMatchObject({
      outcome: 'failed',
      error: { code: 'VERIFY_UNHEALTHY' },
    });
    expect(putEntries().at(-1)!.DetailType).toBe('MCP Rotation Run Completed');
    const logs = stdout.join('');
    expect(logs).toContain('"run failed"');
    for (const secret of [API_KEY, ...Object.values(TOKENS)]) expect(logs + String(error)).not.toContain(secret);
  });

  it('does not throw for audit findings', async () => {
    interceptList([server('srv_1', { status: 'error' }), server('srv_2')]);
    const summary = await makeHandler()({ action: 'audit' });
    expect(summary.counts).toMatchObject({ compliant: 0, noncompliant: 2 });
    expect(putEntries().map((e) => e.DetailType)).toContain('MCP Credential Audit Result');
  });

  it('rejects an unknown event before reading or writing anything', async () => {
    await expect(makeHandler()({ hello: 'world' })).rejects.toThrow(RequestError);
    await expect(makeHandler()({ action: 'rotate', targets: ['srv_9'] })).rejects.toThrow(
      /"srv_9" is not a configured target/,
    );
    expect(sm.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
    expect(eb.calls()).toHaveLength(0);
  });

  it('fails on an invalid config file with a message naming the field, before any call', async () => {
    writeConfig({ ...validConfig, targets: [{ serverId: 'srv_1', secretID: 'x' }] });
    const error = await makeHandler()({ action: 'rotate' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/targets\[0\]\.secretID/);
    expect(sm.calls()).toHaveLength(0);
  });

  it.each([
    ['a wildcard secretId', { secretId: 'mcp/*' }, {}, 'targets[0].secretId'],
    ['a "#" in a server id', { serverId: 'srv#1' }, {}, 'targets[0].serverId'],
    ['user info in baseUrl', {}, { baseUrl: 'https://u:p4ss@api.datagrid.test/v1' }, 'datagrid.baseUrl'],
  ])('refuses configuration that widens access (%s), naming the field, before any call', async (_, t, d, field) => {
    writeConfig({
      datagrid: { ...validConfig.datagrid, ...d },
      targets: [{ serverId: 'srv_1', secretId: 'mcp/one', ...t }],
    });
    const error = await makeHandler()({ action: 'rotate' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((issue) => issue.split(':')[0])).toEqual([field]);
    expect(sm.calls()).toHaveLength(0);
  });

  it('scrubs the stack of an error it rethrows, not only its message', async () => {
    interceptList([server('srv_1'), server('srv_2')]);
    // A library whose error echoes what it was sent: here the state read fails quoting a credential.
    const echoing = new Error(`ValidationException near ${TOKENS['mcp/one']}`);
    // V8 writes the stack text at its first read: once anything has read it (a logger, source-map support), it
    // holds the message as it was then, and scrubbing the message alone no longer reaches it.
    expect(echoing.stack).toContain(TOKENS['mcp/one']);
    ddb.on(BatchGetItemCommand).rejects(echoing);
    const error = (await makeHandler()({ action: 'rotate' }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain('[REDACTED]');
    expect(error.stack).toContain('[REDACTED]');
    expect(JSON.stringify([error.message, error.stack, stdout])).not.toContain(TOKENS['mcp/one']);
  });

  it('requires STATE_TABLE_NAME', async () => {
    delete process.env.STATE_TABLE_NAME;
    await expect(makeHandler()({ action: 'audit' })).rejects.toThrow(/STATE_TABLE_NAME is required/);
    expect(sm.calls()).toHaveLength(0);
  });

  it('routes a Secrets Manager change to the targets that use the secret', async () => {
    interceptList([server('srv_1'), server('srv_2')]);
    interceptPatch('srv_2');
    const summary = await makeHandler()({
      source: 'aws.secretsmanager',
      'detail-type': 'Secret Label Updated',
      detail: { name: 'mcp/two', labelUpdated: 'AWSCURRENT', versionId: 'ver-mcp/two' },
    });
    expect(summary.trigger).toBe('secret-changed');
    expect(summary.results.map((r) => r.serverId)).toEqual(['srv_2']);
  });
});
