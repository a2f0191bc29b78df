/**
 * The compliance audit: each finding produced by a real change in the world (an
 * upstream rotation, a lost tool, a secret version nobody applied, a reference changed in Datagrid), and an audit
 * that reads only.
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { auditOf, canary, findingCodes, newStack, requests, rotationOf, run, useLocalAws } from './support/harness.ts';
import type { LocalStack, StackServer } from './support/harness.ts';

useLocalAws();

const SCHEDULE = { action: 'rotate', trigger: 'schedule' };
const AUDIT = { action: 'audit' };
const DAY_MS = 86_400_000;

async function rotateAll(stack: LocalStack, servers: StackServer[]): Promise<void> {
  const result = await run(stack, SCHEDULE);
  for (const server of servers) expect(rotationOf(result, server).outcome).toBe('rotated');
  stack.datagrid.requestLog.length = 0;
}

/** Makes Datagrid re-sync the server now, as a change of its base_url by an operator would. */
async function resync(stack: LocalStack, server: StackServer): Promise<void> {
  await stack.callDatagrid(
    'PATCH',
    `/organization/mcp-servers/${server.serverId}`,
    { base_url: server.mcp.url },
    server.teamspaceId,
  );
}

/** Rewrites when the state table says the version was applied (a rotation that happened `days` ago). */
async function appliedDaysAgo(stack: LocalStack, server: StackServer, days: number): Promise<void> {
  const item = await stack.stateOf(server);
  await stack.aws.dynamo.send(
    new UpdateItemCommand({
      TableName: stack.tableName,
      Key: { pk: { S: item!.pk as string } },
      UpdateExpression: 'SET appliedAt = :at',
      ExpressionAttributeValues: { ':at': { S: new Date(Date.now() - days * DAY_MS).toISOString() } },
    }),
  );
}

describe('audit', () => {
  it('finds a freshly rotated server compliant, and reads only', async () => {
    const stack = await newStack();
    const github = await stack.addServer({ name: 'github', teamspaceId: 'ts_eng', token: canary('github-v1') });
    await stack.writeConfig({ targets: [github.target] });
    await rotateAll(stack, [github]);
    const stateBefore = await stack.stateItems();

    const result = await run(stack, AUDIT);

    expect(result.ok).toBe(true);
    expect(result.summary).toMatchObject({ action: 'audit', trigger: 'manual' });
    expect(result.counts).toEqual({ rotated: 0, unchanged: 0, failed: 0, skipped: 0, compliant: 1, noncompliant: 0 });
    const audit = auditOf(result, github);
    expect(audit).toMatchObject({
      serverId: github.serverId,
      teamspaceId: 'ts_eng',
      serverName: 'github',
      secretId: github.secretId,
      compliant: true,
      findings: [],
      status: 'active',
      toolCount: 3,
      appliedVersionId: github.initialVersionId,
      currentVersionId: github.initialVersionId,
      credentialAgeDays: 0,
    });
    expect(Date.parse(audit.lastRotatedAt!)).toBeGreaterThan(0);
    expect(result.events.map((e) => e['detail-type']).sort()).toEqual([
      'MCP Credential Audit Result',
      'MCP Rotation Run Completed',
    ]);
    expect(requests(stack).every((r) => r.startsWith('GET '))).toBe(true);
    expect(await stack.stateItems()).toEqual(stateBefore);
  });

  it('flags servers never rotated, and configured servers Datagrid does not know', async () => {
    const stack = await newStack();
    const github = await stack.addServer({ name: 'github', token: canary('github-v1') });
    await stack.writeConfig({ targets: [github.target, { serverId: 'mcp_gone', secretId: github.secretId }] });

    const result = await run(stack, AUDIT);

    expect(result.ok).toBe(true);
    expect(result.counts).toMatchObject({ compliant: 0, noncompliant: 2 });
    expect(findingCodes(auditOf(result, github))).toEqual(['NEVER_ROTATED']);
    const gone = result.audits.find((a) => a.serverId === 'mcp_gone');
    expect(gone?.compliant).toBe(false);
    expect(gone?.findings.map((f) => f.code)).toContain('SERVER_NOT_FOUND');
  });

  it('flags an unhealthy server and one that lost its tools after a re-sync', async () => {
    const stack = await newStack();
    const github = await stack.addServer({ name: 'github', token: canary('github-v1') });
    const linear = await stack.addServer({ name: 'linear', token: canary('linear-v1'), settings: { minToolCount: 3 } });
    await stack.writeConfig({ targets: [github.target, linear.target] });
    await rotateAll(stack, [github, linear]);
    // github's upstream rotated the token behind Datagrid's back; linear's server dropped one of its three tools.
    github.mcp.setTokens([canary('github-upstream-only')]);
    linear.mcp.setToolCount(2);
    await resync(stack, github);
    await resync(stack, linear);

    const result = await run(stack, AUDIT);

    expect(result.ok).toBe(true);
    expect(auditOf(result, github)).toMatchObject({ compliant: false, status: 'error' });
    expect(findingCodes(auditOf(result, github))).toEqual(['STATUS_UNHEALTHY']);
    expect(auditOf(result, linear)).toMatchObject({ compliant: false, status: 'active', toolCount: 2 });
    expect(findingCodes(auditOf(result, linear))).toEqual(['TOOL_COUNT_BELOW_MIN']);
  });

  it('flags drift, and credentials older than maxCredentialAgeDays (target setting, else defaults)', async () => {
    const stack = await newStack();
    const fresh = await stack.addServer({ name: 'fresh', token: canary('fresh-v1') });
    const stale = await stack.addServer({ name: 'stale', token: canary('stale-v1') });
    const strict = await stack.addServer({
      name: 'strict',
      token: canary('strict-v1'),
      settings: { maxCredentialAgeDays: 10 },
    });
    await stack.writeConfig({
      defaults: { maxCredentialAgeDays: 30 },
      targets: [fresh.target, stale.target, strict.target],
    });
    await rotateAll(stack, [fresh, stale, strict]);
    // Each secret has a newer version nobody applied; stale's and strict's were applied 20 days ago.
    for (const server of [fresh, stale, strict])
      await stack.putSecretValue(server.secretId, canary(`${server.name}-v2`));
    await appliedDaysAgo(stack, stale, 20);
    await appliedDaysAgo(stack, strict, 20);

    const result = await run(stack, AUDIT);

    expect(findingCodes(auditOf(result, fresh))).toEqual(['CREDENTIAL_DRIFT']);
    expect(auditOf(result, fresh).appliedVersionId).toBe(fresh.initialVersionId);
    expect(auditOf(result, fresh).currentVersionId).not.toBe(fresh.initialVersionId);
    expect(findingCodes(auditOf(result, stale))).toEqual(['CREDENTIAL_DRIFT']);
    expect(auditOf(result, stale).credentialAgeDays).toBe(20);
    expect(findingCodes(auditOf(result, strict))).toEqual(['CREDENTIAL_DRIFT', 'CREDENTIAL_TOO_OLD']);
    expect(auditOf(result, strict).credentialAgeDays).toBe(20);
  });

  it('flags a server whose authorization_secret_id was changed outside the rotator', async () => {
    const stack = await newStack();
    const token = canary('github-v1');
    const github = await stack.addServer({ name: 'github', teamspaceId: 'ts_eng', token });
    await stack.writeConfig({ targets: [github.target] });
    await rotateAll(stack, [github]);
    // Someone points the server at a caller-managed secret holding a working credential.
    const secret = (await stack.callDatagrid(
      'POST',
      '/secrets',
      { name: 'hand-made', value: `Bearer ${token}` },
      'ts_eng',
    )) as { id: string };
    await stack.callDatagrid(
      'PATCH',
      `/organization/mcp-servers/${github.serverId}`,
      { authorization_secret_id: secret.id },
      'ts_eng',
    );

    const result = await run(stack, AUDIT);

    expect(auditOf(result, github)).toMatchObject({ compliant: false, status: 'active' });
    expect(findingCodes(auditOf(result, github))).toEqual(['AUTH_REFERENCE_CHANGED']);
    expect(auditOf(result, github).findings[0]?.message).toContain(secret.id);
  });

  it('flags a reference changed by Datagrid itself when it replaces managed secrets on every write', async () => {
    const stack = await newStack({ emulator: { managedSecretIds: 'new-per-rotation' } });
    const token = canary('github-v1');
    const github = await stack.addServer({ name: 'github', token });
    await stack.writeConfig({ targets: [github.target] });
    await rotateAll(stack, [github]);
    // An operator re-enters the same credential in Datagrid's UI: a new managed secret id.
    await stack.callDatagrid('PATCH', `/organization/mcp-servers/${github.serverId}`, {
      authorization: `Bearer ${token}`,
    });

    const result = await run(stack, AUDIT);

    expect(findingCodes(auditOf(result, github))).toEqual(['AUTH_REFERENCE_CHANGED']);
  });

  it('flags a target whose last rotation failed', async () => {
    const stack = await newStack();
    const github = await stack.addServer({ name: 'github', token: canary('github-v1') });
    await stack.writeConfig({ targets: [github.target] });
    await rotateAll(stack, [github]);
    await stack.putSecretValue(github.secretId, canary('github-v2-not-issued'));
    expect((await run(stack, SCHEDULE)).ok).toBe(false);

    const result = await run(stack, { action: 'audit', targets: [github.serverId] });

    expect(result.ok).toBe(true);
    expect(findingCodes(auditOf(result, github))).toEqual(['CREDENTIAL_DRIFT', 'LAST_ROTATION_FAILED']);
  });
});
