/**
 * Rotations that work, driven through the built bundle in a process per run, against
 * moto, the Datagrid emulator and real MCP servers.
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { copyFile, cp } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { statePk } from '../../lambda/adapters/state-dynamodb.ts';
import { DEFAULT_BUNDLE } from '../../local/invoke-handler.ts';
import { CHUNKS_DIR_NAME } from '../../scripts/esbuild-options.ts';
import { canary, newStack, requests, rotationOf, run, runTogether, useLocalAws } from './support/harness.ts';

useLocalAws();

const SCHEDULE = { action: 'rotate', trigger: 'schedule' };

describe('a scheduled rotation', () => {
  it('applies each secret to its server, verifies the re-sync and records the version', async () => {
    const stack = await newStack({ apiKeyJsonKey: 'apiKey' });
    const githubToken = canary('github-v1');
    const linearToken = canary('linear-v1');
    const github = await stack.addServer({
      name: 'github',
      teamspaceId: 'ts_eng',
      token: githubToken,
      initialToken: canary('github-bootstrap'),
      jsonKey: 'token',
    });
    const linear = await stack.addServer({
      name: 'linear',
      teamspaceId: 'ts_ops',
      tools: 5,
      token: linearToken,
      initialToken: canary('linear-bootstrap'),
      settings: { minToolCount: 5 },
    });
    await stack.writeConfig({ targets: [github.target, linear.target] });

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(true);
    expect(result.summary).toMatchObject({ action: 'rotate', trigger: 'schedule', dryRun: false });
    expect(result.counts).toEqual({ rotated: 2, unchanged: 0, failed: 0, skipped: 0, compliant: 0, noncompliant: 0 });
    expect(rotationOf(result, github)).toMatchObject({
      serverId: github.serverId,
      teamspaceId: 'ts_eng',
      serverName: 'github',
      secretId: github.secretId,
      secretArn: github.secretArn,
      secretVersionId: github.initialVersionId,
      outcome: 'rotated',
      rolledBack: false,
      status: 'active',
      toolCount: 3,
      previousToolCount: 3,
      attempts: 1,
    });
    expect(rotationOf(result, github).error).toBeUndefined();
    expect(rotationOf(result, linear)).toMatchObject({ outcome: 'rotated', toolCount: 5, status: 'active' });
    expect(stack.authorizationOf(github)).toBe(`Bearer ${githubToken}`);
    expect(stack.authorizationOf(linear)).toBe(`Bearer ${linearToken}`);

    // One list per teamspace, one PATCH per server carrying only `authorization`, in the target's teamspace.
    expect(requests(stack).sort()).toEqual(
      [
        'GET /organization/mcp-servers',
        'GET /organization/mcp-servers',
        `PATCH /organization/mcp-servers/${github.serverId}`,
        `PATCH /organization/mcp-servers/${linear.serverId}`,
      ].sort(),
    );
    for (const entry of stack.datagrid.requestLog.filter((r) => r.method === 'PATCH')) {
      expect(entry.bodyKeys).toEqual(['authorization']);
      expect(entry.teamspace).toBe(entry.path.endsWith(github.serverId) ? 'ts_eng' : 'ts_ops');
    }
    expect(await stack.stateOf(github)).toMatchObject({ appliedVersionId: github.initialVersionId });
    expect(await stack.stateOf(linear)).toMatchObject({ appliedVersionId: linear.initialVersionId });
  });

  it('delivers every result of a 25-target run to the bus, sent in calls of ten as targets finish', async () => {
    const stack = await newStack();
    const servers = [];
    for (let i = 0; i < 25; i += 1) {
      servers.push(await stack.addServer({ name: `mcp-${i}`, teamspaceId: `ts_${i % 3}`, token: canary(`t-${i}`) }));
    }
    await stack.writeConfig({ targets: servers.map((s) => s.target), concurrency: { global: 4, perTeamspace: 2 } });

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(true);
    expect(result.counts).toMatchObject({ rotated: 25, failed: 0 });
    // run() has matched each delivered event to the summary's results; here, that all 26 arrived.
    expect(result.events.filter((e) => e['detail-type'] === 'MCP Credential Rotation Result')).toHaveLength(25);
    expect(result.completed).toMatchObject({ counts: { rotated: 25 } });
    const logs = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { message: string; events?: { calls: number; sent: number } });
    expect(logs.find((l) => l.message === 'run finished')?.events).toEqual({ sent: 26, failed: 0, calls: 4 });
  });

  it('is idempotent: a second run finds every server on its current version and sends nothing', async () => {
    const stack = await newStack();
    const github = await stack.addServer({ name: 'github', teamspaceId: 'ts_eng', token: canary('github-v1') });
    const linear = await stack.addServer({ name: 'linear', teamspaceId: 'ts_eng', token: canary('linear-v1') });
    await stack.writeConfig({ targets: [github.target, linear.target] });
    expect((await run(stack, SCHEDULE)).counts?.rotated).toBe(2);
    const stateAfterFirst = await stack.stateItems();
    stack.datagrid.requestLog.length = 0;

    const second = await run(stack, SCHEDULE);

    expect(second.ok).toBe(true);
    expect(second.counts).toMatchObject({ rotated: 0, unchanged: 2, failed: 0, skipped: 0 });
    expect(rotationOf(second, github)).toMatchObject({
      outcome: 'unchanged',
      rolledBack: false,
      secretVersionId: github.initialVersionId,
      previousVersionId: github.initialVersionId,
      status: 'active',
    });
    expect(requests(stack, 'PATCH')).toEqual([]);
    expect(await stack.stateItems()).toEqual(stateAfterFirst);
  });

  it('rotates every target of a shared secret after it changed, and leaves the others alone', async () => {
    const stack = await newStack();
    const v1 = canary('shared-v1');
    const eng = await stack.addServer({ name: 'github-eng', teamspaceId: 'ts_eng', token: v1 });
    const sales = await stack.addServer({
      name: 'github-sales',
      teamspaceId: 'ts_sales',
      token: v1,
      secretId: eng.secretId,
    });
    const other = await stack.addServer({ name: 'linear', teamspaceId: 'ts_eng', token: canary('linear-v1') });
    await stack.writeConfig({ targets: [eng.target, sales.target, other.target] });
    expect((await run(stack, SCHEDULE)).counts?.rotated).toBe(3);

    // The upstream issues v2 and revokes v1 on both MCP servers; the secret gets the new version.
    const v2 = canary('shared-v2');
    sales.mcp.setTokens([v2]);
    const v2Version = await stack.rotateUpstream(eng, v2);
    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(true);
    expect(result.counts).toMatchObject({ rotated: 2, unchanged: 1, failed: 0 });
    for (const server of [eng, sales]) {
      expect(rotationOf(result, server)).toMatchObject({
        outcome: 'rotated',
        secretVersionId: v2Version,
        previousVersionId: eng.initialVersionId,
        status: 'active',
      });
      expect(stack.authorizationOf(server)).toBe(`Bearer ${v2}`);
      expect(await stack.stateOf(server)).toMatchObject({ appliedVersionId: v2Version });
    }
    expect(rotationOf(result, other).outcome).toBe('unchanged');
  });

  it('polls while Datagrid re-syncs in the background, with the status names the configuration gives', async () => {
    const stack = await newStack();
    const github = await stack.addServer({ name: 'github', token: canary('github-v1') });
    stack.datagrid.configure({ mode: 'async', asyncDelayMs: 300, statuses: { pending: 'pending', healthy: 'ready' } });
    // healthyStatuses comes from defaults; the built-in pendingStatuses already include "pending".
    await stack.writeConfig({
      defaults: { healthyStatuses: ['ready'], verifyTimeoutSeconds: 20 },
      targets: [github.target],
    });

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(true);
    const rotation = rotationOf(result, github);
    expect(rotation).toMatchObject({ outcome: 'rotated', status: 'ready', toolCount: 3 });
    // The PATCH answered "pending"; the rotator had to GET the server until it was ready.
    expect(rotation.attempts).toBeGreaterThanOrEqual(2);
    expect(requests(stack).slice(0, 3)).toEqual([
      'GET /organization/mcp-servers',
      `PATCH /organization/mcp-servers/${github.serverId}`,
      `GET /organization/mcp-servers/${github.serverId}`,
    ]);
    expect(Date.parse(rotation.lastSyncedAt!)).toBeGreaterThan(0);
  });

  it('accepts a secret holding the whole header value with headerTemplate "{{secret}}"', async () => {
    const stack = await newStack();
    const token = canary('raw-header');
    const server = await stack.addServer({ name: 'salesforce', token, settings: { headerTemplate: '{{secret}}' } });
    await stack.putSecretValue(server.secretId, `Bearer ${token}`);
    await stack.writeConfig({ targets: [server.target] });

    const result = await run(stack, SCHEDULE);

    expect(rotationOf(result, server)).toMatchObject({ outcome: 'rotated', status: 'active' });
    expect(stack.authorizationOf(server)).toBe(`Bearer ${token}`);
  });

  it('reads rotation.config.json beside the bundle when ROTATION_CONFIG_FILE is not set', async () => {
    const stack = await newStack();
    const server = await stack.addServer({ name: 'github', token: canary('github-v1') });
    const bundle = join(stack.workDir, 'handler.mjs');
    await copyFile(DEFAULT_BUNDLE, bundle);
    await cp(join(dirname(DEFAULT_BUNDLE), CHUNKS_DIR_NAME), join(stack.workDir, CHUNKS_DIR_NAME), { recursive: true });
    await stack.writeConfig({ targets: [server.target] }, join(stack.workDir, 'rotation.config.json'));

    const result = await run(stack, SCHEDULE, { bundle, env: { ROTATION_CONFIG_FILE: undefined } });

    expect(result.ok).toBe(true);
    expect(rotationOf(result, server).outcome).toBe('rotated');
  });
});

describe('requested rotations', () => {
  it('dry run: says what would rotate and why, and sends and writes nothing', async () => {
    const stack = await newStack();
    const bootstrap = canary('github-bootstrap');
    const github = await stack.addServer({ name: 'github', token: canary('github-v1'), initialToken: bootstrap });
    await stack.writeConfig({ targets: [github.target] });

    const result = await run(stack, { action: 'rotate', dryRun: true });

    expect(result.ok).toBe(true);
    expect(result.summary).toMatchObject({ dryRun: true, trigger: 'manual' });
    expect(result.counts).toMatchObject({ rotated: 0, skipped: 1, failed: 0 });
    const rotation = rotationOf(result, github);
    expect(rotation).toMatchObject({ outcome: 'skipped', rolledBack: false, error: { code: 'DRY_RUN' } });
    expect(rotation.error?.message).toMatch(/would rotate.*never rotated/);
    expect(rotation.planReason).toBe('never rotated by this rotator');
    expect(requests(stack, 'PATCH')).toEqual([]);
    expect(stack.authorizationOf(github)).toBe(`Bearer ${bootstrap}`);
    expect(await stack.stateItems()).toEqual([]);
  });

  it('forces the named targets only, even when their version is already applied', async () => {
    const stack = await newStack();
    const github = await stack.addServer({ name: 'github', teamspaceId: 'ts_eng', token: canary('github-v1') });
    const linear = await stack.addServer({ name: 'linear', teamspaceId: 'ts_eng', token: canary('linear-v1') });
    await stack.writeConfig({ targets: [github.target, linear.target] });
    await run(stack, SCHEDULE);
    stack.datagrid.requestLog.length = 0;

    const result = await run(stack, { action: 'rotate', force: true, targets: [`ts_eng/${github.serverId}`] });

    expect(result.summary?.trigger).toBe('manual');
    expect(result.rotations).toHaveLength(1);
    expect(rotationOf(result, github)).toMatchObject({
      outcome: 'rotated',
      previousVersionId: github.initialVersionId,
    });
    expect(requests(stack, 'PATCH')).toEqual([`PATCH /organization/mcp-servers/${github.serverId}`]);
  });

  it('incident: rotates at once though the version is applied, and reports the incident', async () => {
    const stack = await newStack();
    const github = await stack.addServer({ name: 'github', token: canary('github-v1') });
    await stack.writeConfig({ targets: [github.target] });
    await run(stack, SCHEDULE);
    stack.datagrid.requestLog.length = 0;

    const result = await run(stack, { action: 'rotate', incidentId: 'INC-42', reason: 'token seen in a public gist' });

    expect(result.summary).toMatchObject({
      trigger: 'incident',
      incidentId: 'INC-42',
      reason: 'token seen in a public gist',
    });
    expect(rotationOf(result, github)).toMatchObject({ outcome: 'rotated', rolledBack: false });
    expect(requests(stack, 'PATCH')).toHaveLength(1);
    const event = result.events.find((e) => e['detail-type'] === 'MCP Credential Rotation Result');
    expect(event?.detail).toMatchObject({
      trigger: 'incident',
      incidentId: 'INC-42',
      reason: 'token seen in a public gist',
    });
  });

  it('accepts an EventBridge "MCP Rotation Requested" event, action defaulting to rotate', async () => {
    const stack = await newStack();
    const github = await stack.addServer({ name: 'github', token: canary('github-v1') });
    await stack.writeConfig({ targets: [github.target] });

    const result = await run(stack, {
      version: '0',
      id: 'c0ffee00-0000-4000-8000-000000000001',
      source: 'acme.ops',
      'detail-type': 'MCP Rotation Requested',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [],
      detail: { targets: [github.serverId], requestedBy: 'oncall@example.com' },
    });

    expect(result.ok).toBe(true);
    expect(result.summary).toMatchObject({ action: 'rotate', trigger: 'manual', requestedBy: 'oncall@example.com' });
    expect(rotationOf(result, github).outcome).toBe('rotated');
  });
});

describe('overlapping runs', () => {
  it('lets one run rotate a target while the other, holding no lease, skips it as LOCKED', async () => {
    // The re-sync takes ~2 s, so the first run holds its lease while the second one arrives.
    const stack = await newStack();
    const github = await stack.addServer({ name: 'github', token: canary('github-v1') });
    stack.datagrid.configure({ mode: 'async', asyncDelayMs: 2_000 });
    await stack.writeConfig({ defaults: { verifyTimeoutSeconds: 20 }, targets: [github.target] });

    const runs = await runTogether(stack, [SCHEDULE, SCHEDULE]);

    expect(runs.map((r) => r.ok)).toEqual([true, true]);
    const outcomes = runs.map((r) => rotationOf(r, github));
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['rotated', 'skipped']);
    expect(outcomes.find((o) => o.outcome === 'skipped')?.error?.code).toBe('LOCKED');
    expect(requests(stack, 'PATCH')).toHaveLength(1);
    expect(await stack.stateOf(github)).toMatchObject({ appliedVersionId: github.initialVersionId });
    expect((await stack.stateOf(github))?.leaseOwner).toBeUndefined();
  });

  it('after a run killed mid-verification: its lease blocks the next run (LOCKED) until it expires, then one takes over', async () => {
    const stack = await newStack();
    const token = canary('github-v2');
    const github = await stack.addServer({ name: 'github', token, initialToken: canary('github-v1') });
    stack.datagrid.configure({ mode: 'async', asyncDelayMs: 10_000 });
    await stack.writeConfig({ defaults: { verifyTimeoutSeconds: 30 }, targets: [github.target] });

    // Killed (as a Lambda timeout or crash would) while it waits for the re-sync, once its PATCH is in.
    const kill = new AbortController();
    const killing = stack.invoke(SCHEDULE, { kill: kill.signal });
    await vi.waitFor(() => expect(requests(stack, 'PATCH')).toHaveLength(1), { timeout: 20_000, interval: 20 });
    kill.abort();
    const killed = await killing;
    expect(killed.exitCode).toBeNull();
    expect(killed.error?.message).toMatch(/killed on request/);
    expect(requests(stack, 'PATCH')).toHaveLength(1);
    const pk = statePk(github.teamspaceId, github.serverId);
    const left = (await stack.stateItems()).find((item) => item.pk === pk);
    expect(left).toMatchObject({ leaseOwner: expect.any(String), leaseExpiresAt: expect.any(Number) });
    expect(left?.appliedVersionId).toBeUndefined();
    await stack.receiveEvents(); // none to see: the run died before reporting

    const blocked = await run(stack, SCHEDULE);
    expect(rotationOf(blocked, github)).toMatchObject({ outcome: 'skipped', error: { code: 'LOCKED' } });
    expect(requests(stack, 'PATCH')).toHaveLength(1);

    // The lease outlives the dead run's Lambda deadline by a minute; move it past that instead of waiting.
    await stack.aws.dynamo.send(
      new UpdateItemCommand({
        TableName: stack.tableName,
        Key: { pk: { S: pk } },
        UpdateExpression: 'SET leaseExpiresAt = :past',
        ExpressionAttributeValues: { ':past': { N: String(Date.now() - 1_000) } },
      }),
    );
    stack.datagrid.configure({ mode: 'sync' });
    const recovered = await run(stack, SCHEDULE);

    expect(rotationOf(recovered, github)).toMatchObject({ outcome: 'rotated', status: 'active' });
    expect(stack.authorizationOf(github)).toBe(`Bearer ${token}`);
    const state = await stack.stateOf(github);
    expect(state).toMatchObject({ appliedVersionId: github.initialVersionId });
    expect(state?.leaseOwner).toBeUndefined();
  });
});
