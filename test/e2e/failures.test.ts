/**
 * Rotations that fail: rollback, incidents, retries and their limits, a revoked API key,
 * unusable secrets, halting and deadlines. A failed rotation makes the handler throw after emitting its events, so
 * results here come from the events the rule delivered.
 */
import { describe, expect, it } from 'vitest';
import { canary, newStack, registerCanary, requests, rotationOf, run, useLocalAws } from './support/harness.ts';
import type { LocalStack, StackServer } from './support/harness.ts';

useLocalAws();

const SCHEDULE = { action: 'rotate', trigger: 'schedule' };

/** A server rotated once to v1 (recorded as applied), then a v2 in the secret that the upstream does not accept. */
async function rotatedThenRejected(
  stack: LocalStack,
): Promise<{ server: StackServer; v1: string; v2: string; v2Version: string }> {
  const v1 = canary('github-v1');
  const server = await stack.addServer({ name: 'github', teamspaceId: 'ts_eng', token: v1 });
  await stack.writeConfig({ targets: [server.target] });
  const first = await run(stack, SCHEDULE);
  expect(rotationOf(first, server).outcome).toBe('rotated');
  const v2 = canary('github-v2-not-issued');
  const v2Version = await stack.putSecretValue(server.secretId, v2);
  stack.datagrid.requestLog.length = 0;
  return { server, v1, v2, v2Version };
}

describe('verification failures', () => {
  it('rolls back to the previous version when the MCP server rejects the new token', async () => {
    const stack = await newStack();
    const { server, v1, v2, v2Version } = await rotatedThenRejected(stack);

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(false);
    expect(result.error?.name).toBe('RotationFailedError');
    expect(result.error?.message).toContain(`ts_eng/${server.serverId} VERIFY_UNHEALTHY`);
    expect(result.counts).toMatchObject({ rotated: 0, failed: 1 });
    const rotation = rotationOf(result, server);
    expect(rotation).toMatchObject({
      outcome: 'failed',
      rolledBack: true,
      secretVersionId: v2Version,
      previousVersionId: server.initialVersionId,
      status: 'active',
      error: { code: 'VERIFY_UNHEALTHY' },
    });
    expect(rotation.error?.message).toMatch(/rolled back/);
    // Datagrid holds the old credential again, and re-synced with it.
    expect(stack.authorizationOf(server)).toBe(`Bearer ${v1}`);
    expect(stack.datagrid.servers.get(server.serverId)?.authorizationHistory.slice(-2)).toEqual([
      `Bearer ${v2}`,
      `Bearer ${v1}`,
    ]);
    expect(requests(stack, 'PATCH')).toHaveLength(2);
    expect(await stack.stateOf(server)).toMatchObject({
      appliedVersionId: server.initialVersionId,
      lastOutcome: 'failed',
      lastErrorCode: 'VERIFY_UNHEALTHY',
    });
  });

  it('reports rolledBack false, saying so, when the previous credential does not verify either', async () => {
    const stack = await newStack();
    const { server } = await rotatedThenRejected(stack);
    server.mcp.setTokens([canary('issued-elsewhere')]);

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(false);
    const rotation = rotationOf(result, server);
    expect(rotation).toMatchObject({ outcome: 'failed', rolledBack: false, error: { code: 'VERIFY_UNHEALTHY' } });
    expect(rotation.error?.message).toMatch(/rollback failed/);
    expect(requests(stack, 'PATCH')).toHaveLength(2);
  });

  it('incident: never restores the presumed-compromised credential', async () => {
    const stack = await newStack();
    const { server, v2 } = await rotatedThenRejected(stack);

    const result = await run(stack, { action: 'rotate', incidentId: 'INC-7', reason: 'laptop stolen' });

    expect(result.ok).toBe(false);
    expect(result.completed).toMatchObject({ trigger: 'incident', incidentId: 'INC-7', reason: 'laptop stolen' });
    const rotation = rotationOf(result, server);
    expect(rotation).toMatchObject({
      outcome: 'failed',
      rolledBack: false,
      error: { code: 'VERIFY_UNHEALTHY' },
      incidentId: 'INC-7',
    });
    expect(rotation.error?.message).toMatch(/no rollback/);
    expect(requests(stack, 'PATCH')).toHaveLength(1);
    expect(stack.authorizationOf(server)).toBe(`Bearer ${v2}`);
  });

  it('fails with VERIFY_TOOL_COUNT when the server re-syncs with fewer tools than minToolCount', async () => {
    const stack = await newStack();
    const server = await stack.addServer({ name: 'github', token: canary('github-v1'), settings: { minToolCount: 4 } });
    await stack.writeConfig({ targets: [server.target] });

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(false);
    const rotation = rotationOf(result, server);
    expect(rotation).toMatchObject({
      outcome: 'failed',
      rolledBack: false,
      toolCount: 3,
      error: { code: 'VERIFY_TOOL_COUNT' },
    });
    // No version was ever applied, so there is nothing to roll back to and nothing is recorded as applied.
    expect(rotation.error?.message).toMatch(/no previously applied version/);
    expect((await stack.stateOf(server))?.appliedVersionId).toBeUndefined();
  });

  it('fails with VERIFY_TIMEOUT when the re-sync outlasts verifyTimeoutSeconds', async () => {
    const stack = await newStack();
    const server = await stack.addServer({
      name: 'github',
      token: canary('github-v1'),
      settings: { verifyTimeoutSeconds: 1 },
    });
    stack.datagrid.configure({ mode: 'async', asyncDelayMs: 10_000 });
    await stack.writeConfig({ targets: [server.target] });

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(false);
    expect(rotationOf(result, server)).toMatchObject({
      outcome: 'failed',
      status: 'syncing',
      error: { code: 'VERIFY_TIMEOUT' },
    });
  });
});

describe('Datagrid faults', () => {
  it('retries 429 answers, honouring retry-after-ms, and succeeds', async () => {
    const stack = await newStack();
    const server = await stack.addServer({ name: 'github', token: canary('github-v1') });
    await stack.writeConfig({ targets: [server.target] });
    const fault = stack.datagrid.faults.add({
      fault: { type: 'rate-limit', retryAfterMs: 50 },
      method: 'PATCH',
      times: 2,
    });

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(true);
    expect(fault.hits).toBe(2);
    expect(rotationOf(result, server)).toMatchObject({ outcome: 'rotated', attempts: 3 });
    expect(stack.datagrid.requestLog.filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([429, 429, 200]);
  });

  it('retries 5xx answers and succeeds', async () => {
    const stack = await newStack();
    const server = await stack.addServer({ name: 'github', token: canary('github-v1') });
    await stack.writeConfig({ targets: [server.target] });
    stack.datagrid.faults.add({ fault: { type: 'server-error', status: 502 }, method: 'PATCH', times: 1 });
    stack.datagrid.faults.add({
      fault: { type: 'server-error', status: 503 },
      method: 'GET',
      path: '/organization/mcp-servers',
      times: 1,
    });

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(true);
    expect(rotationOf(result, server)).toMatchObject({ outcome: 'rotated', attempts: 2 });
    expect(stack.datagrid.requestLog.map((r) => `${r.method} ${r.status}`)).toEqual([
      'GET 503',
      'GET 200',
      'PATCH 502',
      'PATCH 200',
    ]);
  });

  it('retries a request that timed out and succeeds', async () => {
    const stack = await newStack();
    const server = await stack.addServer({ name: 'github', token: canary('github-v1') });
    await stack.writeConfig({ datagrid: { requestTimeoutMs: 300 }, targets: [server.target] });
    stack.datagrid.faults.add({
      fault: { type: 'latency', ms: 1_500 },
      method: 'GET',
      path: '/organization/mcp-servers',
      times: 1,
    });

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(true);
    expect(rotationOf(result, server).outcome).toBe('rotated');
    expect(requests(stack, 'GET')).toEqual(['GET /organization/mcp-servers', 'GET /organization/mcp-servers']);
  });

  it('gives up with DATAGRID_UNAVAILABLE after maxAttempts and leaves the server as it was', async () => {
    const stack = await newStack();
    const bootstrap = canary('github-bootstrap');
    const server = await stack.addServer({ name: 'github', token: canary('github-v1'), initialToken: bootstrap });
    await stack.writeConfig({ datagrid: { maxAttempts: 3 }, targets: [server.target] });
    stack.datagrid.faults.add({
      fault: { type: 'server-error', status: 503, headers: { 'retry-after-ms': '20' } },
      method: 'PATCH',
    });

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(false);
    const rotation = rotationOf(result, server);
    expect(rotation).toMatchObject({
      outcome: 'failed',
      rolledBack: false,
      attempts: 3,
      error: { code: 'DATAGRID_UNAVAILABLE' },
    });
    expect(rotation.error?.message).toMatch(/after 3 attempts/);
    expect(requests(stack, 'PATCH')).toHaveLength(3);
    expect(stack.authorizationOf(server)).toBe(`Bearer ${bootstrap}`);
    expect(await stack.stateOf(server)).toMatchObject({ lastOutcome: 'failed', lastErrorCode: 'DATAGRID_UNAVAILABLE' });
  });

  it('halts at once on a revoked API key: one list call, no retry, no PATCH, the rest HALTED', async () => {
    const stack = await newStack();
    const servers = [
      await stack.addServer({ name: 'github', teamspaceId: 'ts_eng', token: canary('github-v1') }),
      await stack.addServer({ name: 'linear', teamspaceId: 'ts_eng', token: canary('linear-v1') }),
      await stack.addServer({ name: 'hubspot', teamspaceId: 'ts_sales', token: canary('hubspot-v1') }),
    ];
    await stack.writeConfig({ targets: servers.map((s) => s.target) });
    stack.datagrid.apiKeys.revoke(stack.datagrid.apiKey);

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(false);
    expect(result.counts).toMatchObject({ failed: 1, skipped: 2, rotated: 0 });
    const failed = result.rotations.filter((r) => r.outcome === 'failed');
    expect(failed.map((r) => r.error?.code)).toEqual(['DATAGRID_AUTH_FAILED']);
    expect(result.rotations.filter((r) => r.outcome === 'skipped').map((r) => r.error?.code)).toEqual([
      'HALTED',
      'HALTED',
    ]);
    expect(stack.datagrid.requestLog.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'GET /organization/mcp-servers 401',
    ]);
  });
});

describe('unusable secrets and servers', () => {
  it('refuses a secret that would inject a header (CR/LF) without sending it, and rotates the others', async () => {
    const stack = await newStack();
    const bootstrap = canary('evil-bootstrap');
    const evil = await stack.addServer({ name: 'evil', token: canary('evil-v1'), initialToken: bootstrap });
    const good = await stack.addServer({ name: 'good', token: canary('good-v1') });
    const injected = registerCanary(`${canary('crlf-head')}\r\nX-Injected: ${canary('crlf-tail')}`, 'crlf-whole');
    await stack.putSecretValue(evil.secretId, injected);
    await stack.writeConfig({ targets: [evil.target, good.target] });

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(false);
    const rotation = rotationOf(result, evil);
    expect(rotation).toMatchObject({
      outcome: 'failed',
      rolledBack: false,
      attempts: 0,
      error: { code: 'INVALID_SECRET_VALUE' },
    });
    expect(rotation.error?.message).toMatch(/control character/);
    expect(rotationOf(result, good).outcome).toBe('rotated');
    expect(requests(stack, 'PATCH')).toEqual([`PATCH /organization/mcp-servers/${good.serverId}`]);
    expect(stack.authorizationOf(evil)).toBe(`Bearer ${bootstrap}`);
  });

  it('fails targets whose secret or server does not exist, with their codes, and rotates the rest', async () => {
    const stack = await newStack();
    const good = await stack.addServer({ name: 'good', token: canary('good-v1') });
    const noSecret = await stack.addServer({ name: 'no-secret', token: canary('nosecret-v1') });
    await stack.writeConfig({
      targets: [
        good.target,
        { ...noSecret.target, secretId: `${stack.name}/mcp/never-created` },
        { serverId: 'mcp_does_not_exist', secretId: good.secretId },
      ],
    });

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(false);
    expect(result.counts).toMatchObject({ rotated: 1, failed: 2 });
    expect(rotationOf(result, noSecret).error?.code).toBe('SECRET_NOT_FOUND');
    expect(result.rotations.find((r) => r.serverId === 'mcp_does_not_exist')?.error?.code).toBe('SERVER_NOT_FOUND');
    expect(requests(stack, 'PATCH')).toEqual([`PATCH /organization/mcp-servers/${good.serverId}`]);
  });
});

describe('halting and deadlines', () => {
  /** Four servers whose upstream rejects the token in the secret. */
  async function fourRejecting(stack: LocalStack): Promise<StackServer[]> {
    const servers: StackServer[] = [];
    for (const name of ['one', 'two', 'three', 'four']) {
      const initial = canary(`${name}-bootstrap`);
      const server = await stack.addServer({ name, token: canary(`${name}-v1`), initialToken: initial });
      server.mcp.setTokens([initial]);
      servers.push(server);
    }
    return servers;
  }

  it('starts no more PATCHes once the first haltAfterFailures targets all failed', async () => {
    const stack = await newStack();
    const servers = await fourRejecting(stack);
    await stack.writeConfig({
      concurrency: { global: 1, perTeamspace: 1, haltAfterFailures: 2 },
      targets: servers.map((s) => s.target),
    });

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(false);
    expect(result.rotations.map((r) => [r.outcome, r.error?.code])).toEqual([
      ['failed', 'VERIFY_UNHEALTHY'],
      ['failed', 'VERIFY_UNHEALTHY'],
      ['skipped', 'HALTED'],
      ['skipped', 'HALTED'],
    ]);
    expect(requests(stack, 'PATCH')).toEqual(
      servers.slice(0, 2).map((s) => `PATCH /organization/mcp-servers/${s.serverId}`),
    );
  });

  it('never halts with haltAfterFailures 0', async () => {
    const stack = await newStack();
    const servers = await fourRejecting(stack);
    await stack.writeConfig({
      concurrency: { global: 1, haltAfterFailures: 0 },
      targets: servers.map((s) => s.target),
    });

    const result = await run(stack, SCHEDULE);

    expect(result.counts).toMatchObject({ failed: 4, skipped: 0 });
    expect(requests(stack, 'PATCH')).toHaveLength(4);
  });

  it('starts no target the remaining Lambda time cannot cover (DEADLINE)', async () => {
    const stack = await newStack();
    const server = await stack.addServer({ name: 'github', token: canary('github-v1') });
    await stack.writeConfig({ targets: [server.target] });

    const result = await run(stack, SCHEDULE, { remainingMs: 8_000 });

    expect(result.ok).toBe(true);
    expect(rotationOf(result, server)).toMatchObject({ outcome: 'skipped', error: { code: 'DEADLINE' } });
    expect(requests(stack, 'PATCH')).toEqual([]);
  });
});
