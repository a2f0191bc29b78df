/**
 * Answers and inputs a hostile review tried on the built bundle: a teamspace list with odd neighbours, a GET that
 * returns another server's record, an upstream that echoes the credential, weak or short secrets, and configuration
 * that would widen access. Every run goes through the harness's leak canary.
 */
import { describe, expect, it } from 'vitest';
import { startEventBridgeProxy } from './support/eventbridge-proxy.ts';
import { auditOf, canary, findingCodes, newStack, requests, rotationOf, run, useLocalAws } from './support/harness.ts';
import type { LocalStack } from './support/harness.ts';

useLocalAws();

const SCHEDULE = { action: 'rotate', trigger: 'schedule' };
const LIST = '/organization/mcp-servers';

type ServerBody = Record<string, unknown> & { id: string; metadata: Record<string, unknown> | null };
type ListBody = { object: 'list'; data: ServerBody[] };

/** Datagrid's list answers from now on hold, for each server, what `entry` makes of its record. */
function rewriteListEntries(stack: LocalStack, entry: (server: ServerBody) => unknown): void {
  stack.datagrid.faults.add({
    method: 'GET',
    path: LIST,
    fault: {
      type: 'rewrite-body',
      rewrite: (body) => {
        const list = body as ListBody;
        return { ...list, data: list.data.map(entry) };
      },
    },
  });
}

describe('the teamspace list is checked only as far as finding the targets needs', () => {
  it('unconfigured neighbours with null tool_count / last_synced_at or a broken record fail no target', async () => {
    const stack = await newStack();
    const github = await stack.addServer({ name: 'github', teamspaceId: 'ts_eng', token: canary('github') });
    const linear = await stack.addServer({ name: 'linear', teamspaceId: 'ts_eng', token: canary('linear') });
    const fresh = await stack.addServer({ name: 'fresh', teamspaceId: 'ts_eng', token: canary('fresh') });
    const broken = await stack.addServer({ name: 'broken', teamspaceId: 'ts_eng', token: canary('broken') });
    await stack.writeConfig({ targets: [github.target, linear.target] });
    rewriteListEntries(stack, (server) => {
      if (server.id === broken.serverId) return { id: server.id, status: 42, metadata: 'x' };
      // No tools yet and never synced: valid values, for a neighbour and for a target alike.
      if (server.id === fresh.serverId || server.id === linear.serverId) {
        return { ...server, metadata: { ...server.metadata, tool_count: null, last_synced_at: null } };
      }
      return server;
    });

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(true);
    expect(rotationOf(result, github)).toMatchObject({ outcome: 'rotated', status: 'active' });
    expect(rotationOf(result, linear)).toMatchObject({ outcome: 'rotated', status: 'active', toolCount: 3 });
    expect(rotationOf(result, linear)).not.toHaveProperty('previousToolCount');
  });

  it('an audit reads a null tool_count as no tools yet: a finding about the server, not an invalid answer', async () => {
    const stack = await newStack();
    const github = await stack.addServer({ name: 'github', teamspaceId: 'ts_eng', token: canary('github') });
    await stack.writeConfig({ targets: [github.target] });
    expect(rotationOf(await run(stack, SCHEDULE), github).outcome).toBe('rotated');
    rewriteListEntries(stack, (server) => ({ ...server, metadata: { ...server.metadata, tool_count: null } }));

    const audit = await run(stack, { action: 'audit' });

    expect(auditOf(audit, github)).toMatchObject({ status: 'active', compliant: false });
    expect(findingCodes(auditOf(audit, github))).toEqual(['TOOL_COUNT_BELOW_MIN']);
    expect(auditOf(audit, github)).not.toHaveProperty('toolCount');
  });

  it("a target's own unusable record fails that target alone, naming it, and nothing is sent for it", async () => {
    const stack = await newStack();
    const github = await stack.addServer({ name: 'github', teamspaceId: 'ts_eng', token: canary('github') });
    const linear = await stack.addServer({ name: 'linear', teamspaceId: 'ts_eng', token: canary('linear') });
    await stack.writeConfig({ targets: [github.target, linear.target], concurrency: { haltAfterFailures: 0 } });
    rewriteListEntries(stack, (server) => (server.id === linear.serverId ? { ...server, status: null } : server));

    const result = await run(stack, SCHEDULE);

    expect(rotationOf(result, github).outcome).toBe('rotated');
    const failed = rotationOf(result, linear);
    expect(failed).toMatchObject({ outcome: 'failed', error: { code: 'DATAGRID_UNAVAILABLE' } });
    expect(failed.error?.message).toContain(`unusable record of MCP server ${linear.serverId} in teamspace ts_eng`);
    expect(failed.error?.message).toContain('status');
    expect(requests(stack, 'PATCH')).toEqual([`PATCH ${LIST}/${github.serverId}`]);
  });
});

describe('answers are checked against the question', () => {
  it("a GET that answers with another server's healthy record does not verify a rotation", async () => {
    const stack = await newStack({ emulator: { syncMode: 'async', asyncDelayMs: 100 } });
    const github = await stack.addServer({
      name: 'github',
      teamspaceId: 'ts_eng',
      token: canary('github-new'),
      initialToken: canary('github-old'),
    });
    const other = await stack.addServer({ name: 'other', teamspaceId: 'ts_eng', token: canary('other') });
    await stack.datagrid.idle();
    // The upstream does not accept the new token: the real re-sync fails.
    github.mcp.setTokens([stack.authorizationOf(github)!.replace(/^Bearer /, '')]);
    await stack.writeConfig({ targets: [github.target] });
    stack.datagrid.faults.add({
      method: 'GET',
      path: `${LIST}/${github.serverId}`,
      fault: {
        type: 'rewrite-body',
        rewrite: () => {
          const healthy = stack.datagrid.servers.get(other.serverId)!.server;
          return { ...healthy, metadata: { ...healthy.metadata, last_synced_at: new Date().toISOString() } };
        },
      },
    });

    const result = await run(stack, SCHEDULE);

    const rotation = rotationOf(result, github);
    expect(rotation.outcome).toBe('failed');
    expect(rotation.error?.code).toBe('DATAGRID_UNAVAILABLE');
    expect(rotation.error?.message).toContain(
      `the response was the record of MCP server "${other.serverId}", not of "${github.serverId}"`,
    );
    expect(await stack.stateOf(github)).not.toHaveProperty('appliedVersionId');
  });
});

describe('credentials are redacted, and only they', () => {
  it('the bare credential of a jsonKey secret, echoed by the upstream as the status, is redacted everywhere', async () => {
    const stack = await newStack();
    const token = canary('github-json');
    const github = await stack.addServer({ name: 'github', jsonKey: 'token', token });
    await stack.writeConfig({ targets: [github.target] });
    stack.datagrid.faults.add({
      method: 'PATCH',
      path: `${LIST}/${github.serverId}`,
      fault: { type: 'rewrite-body', rewrite: (body) => ({ ...(body as ServerBody), status: token }) },
    });

    // run() fails the test if the token shows up in the logs, the result, the error, an event or the state table.
    const result = await run(stack, SCHEDULE);

    expect(rotationOf(result, github)).toMatchObject({
      outcome: 'failed',
      status: '[REDACTED]',
      error: { code: 'VERIFY_UNHEALTHY' },
    });
    expect(rotationOf(result, github).error?.message).toContain('server status is "[REDACTED]" after the update');
  });

  it('a credential shorter than 4 characters is INVALID_SECRET_VALUE, and nothing is sent', async () => {
    const stack = await newStack();
    const short = await stack.addServer({ name: 'short', token: 'a1b', initialToken: canary('short-initial') });
    await stack.writeConfig({ targets: [short.target] });

    const result = await run(stack, SCHEDULE);

    expect(rotationOf(result, short)).toMatchObject({ outcome: 'failed', error: { code: 'INVALID_SECRET_VALUE' } });
    expect(rotationOf(result, short).error?.message).toContain('is 3 characters long; at least 4 are required');
    expect(requests(stack, 'PATCH')).toEqual([]);
  });

  it('a secret equal to "active" or to a server id leaves ids and statuses intact, and appears nowhere else', async () => {
    const stack = await newStack();
    const weak = await stack.addServer({ name: 'weak', token: 'active', initialToken: canary('weak-initial') });
    const self = await stack.addServer({ name: 'self', token: canary('self-initial') });
    // The upstream now issues a credential equal to the server's own id.
    await stack.rotateUpstream(self, self.serverId, { alsoAccept: [self.serverId] });
    await stack.writeConfig({ targets: [weak.target, self.target] });

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(true);
    // rotationOf finds each result by its serverId: the ids came through whole.
    expect(rotationOf(result, weak)).toMatchObject({ outcome: 'rotated', status: 'active', secretId: weak.secretId });
    expect(rotationOf(result, self)).toMatchObject({ outcome: 'rotated', status: 'active', serverId: self.serverId });
    const written = JSON.stringify([result.events, result.stdout, result.summary, await stack.stateItems()]);
    expect(written).not.toContain('[REDACTED]');
    expect(written).not.toContain('Bearer active');
    expect(written).not.toContain(`Bearer ${self.serverId}`);
  });
});

describe('the run summary is the last event, sent once', () => {
  async function twoTargets() {
    const stack = await newStack();
    const github = await stack.addServer({ name: 'github', token: canary('github') });
    const linear = await stack.addServer({ name: 'linear', token: canary('linear') });
    await stack.writeConfig({ targets: [github.target, linear.target] });
    return { stack, github, linear };
  }

  it('a throttled result is sent again before the summary, never after it', async () => {
    const { stack, linear } = await twoTargets();
    const proxy = await startEventBridgeProxy({
      target: stack.moto.endpoint,
      refuse: (entry, call) => entry === linear.serverId && call === 0,
    });
    try {
      // run() checks that exactly one event per result and one summary were delivered.
      const result = await run(stack, SCHEDULE, { env: { AWS_ENDPOINT_URL_EVENTBRIDGE: proxy.url } });

      expect(result.ok).toBe(true);
      const sent = proxy.calls.flatMap((c) => c.entries);
      expect(sent.filter((e) => e === 'summary')).toHaveLength(1);
      expect(sent.at(-1)).toBe('summary');
      expect(proxy.calls.at(-1)!.entries).toEqual(['summary']);
      expect(sent.filter((e) => e === linear.serverId)).toHaveLength(2);
    } finally {
      await proxy.close();
    }
  });

  it('an answer that counts a refusal without saying which re-sends nothing: no duplicate event or summary', async () => {
    const { stack, github, linear } = await twoTargets();
    const proxy = await startEventBridgeProxy({
      target: stack.moto.endpoint,
      countWithoutEntries: (_, call) => (call === 0 ? 1 : undefined),
    });
    try {
      const result = await run(stack, SCHEDULE, { env: { AWS_ENDPOINT_URL_EVENTBRIDGE: proxy.url } });

      // Every entry of that call was in fact delivered; the rotator cannot know which one EventBridge counted, so
      // it reports one event as undelivered (the run fails, for alarms) instead of delivering the others twice.
      expect(result.ok).toBe(false);
      expect(result.error?.message).toMatch(/1 result event\(s\) could not be delivered/);
      const delivered = result.events.map((e) =>
        e['detail-type'] === 'MCP Rotation Run Completed' ? 'summary' : String(e.detail.serverId),
      );
      expect(delivered.sort()).toEqual([github.serverId, linear.serverId, 'summary'].sort());
      expect(proxy.calls.flatMap((c) => c.entries).filter((e) => e === 'summary')).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });
});
