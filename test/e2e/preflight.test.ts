/**
 * Pre-flight on the built bundle: the rotator lists the MCP server's tools with the new credential before anything
 * is sent to Datagrid. Real MCP servers (demanding their bearer token), the Datagrid emulator and moto.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { canary, newStack, requests, rotationOf, run, useLocalAws } from './support/harness.ts';
import type { LocalStack, StackServer } from './support/harness.ts';

useLocalAws();

const SCHEDULE = { action: 'rotate', trigger: 'schedule' };
const PREFLIGHT = { preflight: true } as const;

/** Datagrid calls that change something: what pre-flight must prevent. */
const writes = (stack: LocalStack) =>
  stack.datagrid.requestLog.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`);

/** A server on v1; the secret then holds v2, which the MCP server was never told to accept. */
async function serverWithRejectedSecret(stack: LocalStack, name = 'github'): Promise<StackServer> {
  const server = await stack.addServer({
    name,
    teamspaceId: 'ts_eng',
    token: canary(`${name}-v1`),
    settings: PREFLIGHT,
  });
  await stack.putSecretValue(server.secretId, canary(`${name}-v2-not-issued`));
  return server;
}

describe('pre-flight', () => {
  it('passes with a credential the MCP server accepts: rotated, with the tools it listed', async () => {
    const stack = await newStack();
    const server = await stack.addServer({ name: 'github', token: canary('github'), tools: 4, settings: PREFLIGHT });
    await stack.writeConfig({ targets: [server.target] });
    const before = server.mcp.requests;

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(true);
    const rotation = rotationOf(result, server);
    expect(rotation).toMatchObject({
      outcome: 'rotated',
      preflight: 'passed',
      preflightToolCount: 4,
      preflightToolNamesSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      toolCount: 4,
    });
    // initialize, notifications/initialized, tools/list (and the optional GET stream) before Datagrid's re-sync.
    expect(server.mcp.requests - before).toBeGreaterThanOrEqual(3 + 3);
    expect(server.mcp.unauthorizedRequests).toBe(0);
  });

  it('stops a credential the MCP server rejects: PREFLIGHT_REJECTED, zero Datagrid writes, no lease left', async () => {
    const stack = await newStack();
    const server = await serverWithRejectedSecret(stack);
    await stack.writeConfig({ targets: [server.target] });
    stack.datagrid.requestLog.length = 0;

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(false);
    expect(result.error?.message).toContain('PREFLIGHT_REJECTED');
    const rotation = rotationOf(result, server);
    expect(rotation).toMatchObject({ outcome: 'failed', preflight: 'failed', error: { code: 'PREFLIGHT_REJECTED' } });
    expect(rotation.error?.message).toMatch(/refused the new credential \(HTTP 401\)/);
    expect(writes(stack)).toEqual([]);
    expect(stack.authorizationOf(server)).toMatch(/github-v1/);
    expect(server.mcp.unauthorizedRequests).toBeGreaterThan(0);
    const state = await stack.stateOf(server);
    expect(state?.leaseOwner).toBeUndefined();
  });

  it('holds for incidents too, and counts towards halting', async () => {
    const stack = await newStack();
    const servers = [
      await serverWithRejectedSecret(stack, 'a'),
      await serverWithRejectedSecret(stack, 'b'),
      await serverWithRejectedSecret(stack, 'c'),
    ];
    await stack.writeConfig({
      concurrency: { global: 1, perTeamspace: 1, haltAfterFailures: 2 },
      targets: servers.map((s) => s.target),
    });
    stack.datagrid.requestLog.length = 0;

    const result = await run(stack, { action: 'rotate', incidentId: 'INC-7', reason: 'leak' });

    expect(result.ok).toBe(false);
    expect(result.rotations.map((r) => r.error?.code).sort()).toEqual([
      'HALTED',
      'PREFLIGHT_REJECTED',
      'PREFLIGHT_REJECTED',
    ]);
    expect(writes(stack)).toEqual([]);
  });

  it('dry run pre-flights and reports the outcome, writing nothing', async () => {
    const stack = await newStack();
    const good = await stack.addServer({ name: 'good', token: canary('good'), tools: 2, settings: PREFLIGHT });
    const bad = await serverWithRejectedSecret(stack, 'bad');
    await stack.writeConfig({ concurrency: { haltAfterFailures: 0 }, targets: [good.target, bad.target] });
    stack.datagrid.requestLog.length = 0;

    const result = await run(stack, { action: 'rotate', dryRun: true });

    expect(rotationOf(result, good)).toMatchObject({
      outcome: 'skipped',
      preflight: 'passed',
      preflightToolCount: 2,
      error: { code: 'DRY_RUN' },
    });
    expect(rotationOf(result, bad)).toMatchObject({
      outcome: 'failed',
      preflight: 'failed',
      error: { code: 'PREFLIGHT_REJECTED' },
    });
    expect(writes(stack)).toEqual([]);
    expect(await stack.stateItems()).toEqual([]);
  });

  it('skips servers behind OAuth and says so', async () => {
    const stack = await newStack();
    const server = await stack.addServer({ name: 'oauth', token: canary('oauth'), settings: PREFLIGHT });
    stack.datagrid.servers.setMetadata(server.serverId, { requires_oauth: true, oauth_configured: true });
    await stack.writeConfig({ targets: [server.target] });
    const before = server.mcp.requests;
    const syncsBefore = stack.datagrid.servers.get(server.serverId)!.syncCount;

    const result = await run(stack, SCHEDULE);

    const rotation = rotationOf(result, server);
    expect(rotation).toMatchObject({ outcome: 'rotated', preflight: 'skipped' });
    expect(rotation.preflightToolCount).toBeUndefined();
    // Only Datagrid's re-sync reached the MCP server, not a pre-flight.
    const syncs = stack.datagrid.servers.get(server.serverId)!.syncCount - syncsBefore;
    expect(syncs).toBe(1);
    expect(server.mcp.requests - before).toBeLessThanOrEqual(4);
  });

  it("catches a re-sync that lost tools: Datagrid's count below what the server listed is VERIFY_TOOL_COUNT", async () => {
    const stack = await newStack();
    const server = await stack.addServer({ name: 'github', token: canary('github'), tools: 5, settings: PREFLIGHT });
    await stack.writeConfig({ targets: [server.target] });
    // The PATCH is held long enough for the server to lose tools after the pre-flight, before Datagrid re-syncs.
    stack.datagrid.faults.add({ fault: { type: 'latency', ms: 700 }, method: 'PATCH', times: 1 });
    stack.datagrid.requestLog.length = 0;
    const losing = (async () => {
      while (!requests(stack, 'PATCH').length) await delay(10);
      server.mcp.setToolCount(2);
    })();

    const result = await run(stack, SCHEDULE);
    await losing;

    const rotation = rotationOf(result, server);
    expect(rotation).toMatchObject({
      outcome: 'failed',
      preflightToolCount: 5,
      toolCount: 2,
      error: { code: 'VERIFY_TOOL_COUNT' },
    });
    // minToolCount (1) alone would have passed this re-sync.
    expect(server.target.minToolCount).toBeUndefined();
  });
});
