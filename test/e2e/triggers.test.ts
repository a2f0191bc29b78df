/**
 * What starts a run: the Secrets Manager change events in both forms, and everything the handler
 * must refuse (bad events, bad configuration, a missing environment) without reading or writing anything.
 */
import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { StackServer } from '../../local/stack.ts';
import { leakedCanaries } from './support/canaries.ts';
import { canary, newStack, requests, rotationOf, run, useLocalAws } from './support/harness.ts';
import type { LocalStack } from './support/harness.ts';

useLocalAws();

const SCHEDULE = { action: 'rotate', trigger: 'schedule' };

function secretsManagerEvent(detailType: string, detail: Record<string, unknown>): Record<string, unknown> {
  return {
    version: '0',
    id: '7bf73129-1428-4cd3-a780-95db273d1602',
    'detail-type': detailType,
    source: 'aws.secretsmanager',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

function cloudTrailEvent(detailType: string, eventName: string, fields: Record<string, unknown>) {
  return secretsManagerEvent(detailType, {
    eventVersion: '1.08',
    eventSource: 'secretsmanager.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    requestParameters: null,
    responseElements: null,
    ...fields,
  });
}

/** Two targets sharing one secret (one of them naming it by ARN) and a third with its own secret. */
async function sharedSecretWorld(
  stack: LocalStack,
): Promise<{ eng: StackServer; sales: StackServer; other: StackServer }> {
  const v1 = canary('shared-v1');
  const eng = await stack.addServer({ name: 'github-eng', teamspaceId: 'ts_eng', token: v1 });
  const sales = await stack.addServer({
    name: 'github-sales',
    teamspaceId: 'ts_sales',
    token: v1,
    secretId: eng.secretId,
  });
  const other = await stack.addServer({ name: 'linear', teamspaceId: 'ts_eng', token: canary('linear-v1') });
  await stack.writeConfig({ targets: [eng.target, { ...sales.target, secretId: eng.secretArn }, other.target] });
  return { eng, sales, other };
}

describe('secret-changed events', () => {
  it('native "Secret Label Updated" (AWSCURRENT): rotates the targets using that secret to its new version', async () => {
    const stack = await newStack();
    const { eng, sales, other } = await sharedSecretWorld(stack);
    await run(stack, SCHEDULE);
    const v2 = canary('shared-v2');
    sales.mcp.setTokens([v2]);
    const v2Version = await stack.rotateUpstream(eng, v2);
    stack.datagrid.requestLog.length = 0;

    const result = await run(
      stack,
      secretsManagerEvent('Secret Label Updated', {
        name: eng.secretId,
        labelUpdated: 'AWSCURRENT',
        versionId: v2Version,
      }),
    );

    expect(result.ok).toBe(true);
    expect(result.summary).toMatchObject({ action: 'rotate', trigger: 'secret-changed' });
    expect(result.rotations.map((r) => r.serverId).sort()).toEqual([eng.serverId, sales.serverId].sort());
    for (const server of [eng, sales]) {
      expect(rotationOf(result, server)).toMatchObject({ outcome: 'rotated', secretVersionId: v2Version });
      expect(stack.authorizationOf(server)).toBe(`Bearer ${v2}`);
    }
    expect(requests(stack, 'PATCH')).not.toContain(`PATCH /organization/mcp-servers/${other.serverId}`);
  });

  it.each([
    {
      form: 'CloudTrail PutSecretValue naming the secret by ARN',
      event: (s: StackServer) =>
        cloudTrailEvent('AWS API Call via CloudTrail', 'PutSecretValue', {
          requestParameters: { secretId: s.secretArn },
          responseElements: { arn: s.secretArn },
        }),
    },
    {
      form: 'CloudTrail RotationSucceeded (service event, additionalEventData.SecretId)',
      event: (s: StackServer) =>
        cloudTrailEvent('AWS Service Event via CloudTrail', 'RotationSucceeded', {
          additionalEventData: { SecretId: s.secretArn },
        }),
    },
    {
      form: 'CloudTrail UpdateSecretVersionStage naming the secret by name',
      event: (s: StackServer) =>
        cloudTrailEvent('AWS API Call via CloudTrail', 'UpdateSecretVersionStage', {
          requestParameters: { secretId: s.secretId, versionStage: 'AWSCURRENT' },
        }),
    },
    {
      form: 'CloudTrail record with the secret only in responseElements.arn',
      event: (s: StackServer) =>
        cloudTrailEvent('AWS API Call via CloudTrail', 'PutSecretValue', { responseElements: { arn: s.secretArn } }),
    },
  ])('$form: rotates the targets using that secret, matched by name or ARN', async ({ event }) => {
    const stack = await newStack();
    const { eng, sales } = await sharedSecretWorld(stack);

    const result = await run(stack, event(eng));

    expect(result.ok).toBe(true);
    expect(result.summary?.trigger).toBe('secret-changed');
    expect(result.rotations.map((r) => [r.serverId, r.outcome]).sort()).toEqual(
      [
        [eng.serverId, 'rotated'],
        [sales.serverId, 'rotated'],
      ].sort(),
    );
  });

  it('a change of a secret no target uses: an empty run, reported, nothing sent', async () => {
    const stack = await newStack();
    await sharedSecretWorld(stack);

    const result = await run(
      stack,
      secretsManagerEvent('Secret Label Updated', { name: `${stack.name}/unrelated`, labelUpdated: 'AWSCURRENT' }),
    );

    expect(result.ok).toBe(true);
    expect(result.summary?.results).toEqual([]);
    expect(result.counts).toEqual({ rotated: 0, unchanged: 0, failed: 0, skipped: 0, compliant: 0, noncompliant: 0 });
    expect(result.completed).toMatchObject({ trigger: 'secret-changed' });
    expect(requests(stack)).toEqual([]);
  });
});

/** The handler refused the run before reading or writing anything. */
async function expectNothingDone(stack: LocalStack, result: Awaited<ReturnType<typeof run>>): Promise<void> {
  expect(result.ok).toBe(false);
  expect(result.exitCode).toBe(1);
  expect(result.events).toEqual([]);
  expect(requests(stack)).toEqual([]);
  expect(await stack.stateItems()).toEqual([]);
}

describe('rejected events', () => {
  it.each([
    { name: 'not an object', event: 'rotate', says: /not a JSON object/ },
    { name: 'no action', event: {}, says: /action/ },
    { name: 'an unknown action', event: { action: 'rotat' }, says: /action/ },
    { name: 'an unknown field', event: { action: 'rotate', dryrun: true }, says: /dryrun/ },
    {
      name: 'an unknown target',
      event: { action: 'rotate', targets: ['mcp_nope'] },
      says: /"mcp_nope" is not a configured target/,
    },
    {
      name: 'a foreign EventBridge event',
      event: { source: 'aws.s3', 'detail-type': 'Object Created', detail: {} },
      says: /Object Created/,
    },
    {
      name: 'a bad "MCP Rotation Requested" detail',
      event: { source: 'acme.ops', 'detail-type': 'MCP Rotation Requested', detail: { force: 'yes' } },
      says: /detail\.force/,
    },
    {
      name: 'a label update that is not AWSCURRENT',
      event: secretsManagerEvent('Secret Label Updated', { name: 'x', labelUpdated: 'AWSPENDING' }),
      says: /current value changed/,
    },
    {
      name: 'a CloudTrail record of a read',
      event: cloudTrailEvent('AWS API Call via CloudTrail', 'GetSecretValue', { requestParameters: { secretId: 'x' } }),
      says: /current value changed/,
    },
  ])('$name: fails with a message saying what was expected, and does nothing', async ({ event, says }) => {
    const stack = await newStack();
    const server = await stack.addServer({ name: 'github', token: canary('github-v1') });
    await stack.writeConfig({ targets: [server.target] });

    const result = await run(stack, event);

    expect(result.error?.name).toBe('RequestError');
    expect(result.error?.message).toMatch(says);
    await expectNothingDone(stack, result);
  });

  it('a 5 MB detail-type, or a targets entry with "#": a short message, not the input echoed back', async () => {
    const stack = await newStack();
    const server = await stack.addServer({ name: 'github', token: canary('github-v1') });
    await stack.writeConfig({ targets: [server.target] });
    const huge = 'x'.repeat(5 * 1024 * 1024);

    const result = await run(stack, { source: 'acme.ops', 'detail-type': huge, detail: {} });

    expect(result.error?.name).toBe('RequestError');
    expect(result.error?.message).toContain(`Rejected EventBridge event (a string of ${huge.length} characters)`);
    expect(result.error!.message.length).toBeLessThan(2_000);
    expect(result.stdout.length + result.stderr.length).toBeLessThan(20_000);
    await expectNothingDone(stack, result);

    const hashed = await run(stack, { action: 'rotate', targets: [`ts#1/${server.serverId}`] });
    expect(hashed.error?.message).toMatch(/targets\.0: expected "serverId" or "teamspaceId\/serverId"/);
    await expectNothingDone(stack, hashed);
  });
});

describe('rejected configuration and environment', () => {
  it.each([
    { name: 'no targets', config: { targets: [] }, says: /targets: expected at least one target/ },
    {
      name: 'plain http to a remote host',
      config: { datagrid: { baseUrl: 'http://api.datagrid.example/v1' } },
      says: /datagrid\.baseUrl: https required/,
    },
    {
      name: 'a template without {{secret}}',
      config: { defaults: { headerTemplate: 'Bearer token' } },
      says: /defaults\.headerTemplate: must contain \{\{secret\}\}/,
    },
    {
      name: 'a misspelt setting',
      config: { defaults: { verifyTimeoutSecond: 5 } },
      says: /defaults\.verifyTimeoutSecond: unknown key/,
    },
    { name: 'a zero concurrency', config: { concurrency: { global: 0 } }, says: /concurrency\.global/ },
    {
      name: 'user info in baseUrl',
      config: { datagrid: { baseUrl: 'https://ops:hunter22@api.datagrid.example/v1' } },
      says: /datagrid\.baseUrl: must not contain user info/,
    },
    {
      name: 'a wildcard API key secret',
      config: { datagrid: { apiKeySecretId: 'datagrid/*' } },
      says: /datagrid\.apiKeySecretId: expected a Secrets Manager secret name .*wildcards/,
    },
  ])('$name: fails naming the bad field, and does nothing', async ({ config, says }) => {
    const stack = await newStack();
    const server = await stack.addServer({ name: 'github', token: canary('github-v1') });
    await stack.writeConfig({ targets: [server.target], ...config });

    const result = await run(stack, SCHEDULE);

    expect(result.error?.name).toBe('ConfigError');
    expect(result.error?.message).toContain(stack.configFile);
    expect(result.error?.message).toMatch(says);
    await expectNothingDone(stack, result);
  });

  it('a file that is not JSON, or not there', async () => {
    const stack = await newStack();
    await writeFile(stack.configFile, '{ "targets": [ }');

    const broken = await run(stack, SCHEDULE);
    expect(broken.error).toMatchObject({ name: 'ConfigError', message: expect.stringMatching(/invalid JSON/) });
    await expectNothingDone(stack, broken);

    const missing = await run(stack, SCHEDULE, { env: { ROTATION_CONFIG_FILE: `${stack.workDir}/nope.json` } });
    expect(missing.error?.message).toMatch(/nope\.json:\s+file not found/);
    await expectNothingDone(stack, missing);
  });

  it('no STATE_TABLE_NAME', async () => {
    const stack = await newStack();
    const server = await stack.addServer({ name: 'github', token: canary('github-v1') });
    await stack.writeConfig({ targets: [server.target] });

    const result = await run(stack, SCHEDULE, { env: { STATE_TABLE_NAME: undefined } });

    expect(result.error?.message).toMatch(/STATE_TABLE_NAME is required/);
    await expectNothingDone(stack, result);
  });
});

describe('the event source and the leak canary', () => {
  it('emits with EVENT_SOURCE, which the rule routes on', async () => {
    const stack = await newStack({ eventSource: 'acme.credentials' });
    const server = await stack.addServer({ name: 'github', token: canary('github-v1') });
    await stack.writeConfig({ targets: [server.target] });

    const result = await run(stack, SCHEDULE);

    expect(result.events.map((e) => e.source)).toEqual(['acme.credentials', 'acme.credentials']);
  });

  it('would catch a leak: the check every run goes through finds a canary in any text', () => {
    const token = canary('detector-check');
    expect(leakedCanaries(`{"message":"Authorization: Bearer ${token}"}`)).toEqual(['detector-check']);
  });
});
