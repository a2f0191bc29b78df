import { describe, expect, it } from 'vitest';
import { DatagridError, RequestError } from '../../../lambda/errors.ts';
import type { RotationResult } from '../../../lambda/types/results.ts';
import { statePk } from '../../../lambda/engine/state-key.ts';
import { Harness, config, request, target } from '../../support/engine-harness.ts';

const rotation = (r: unknown) => r as RotationResult;

function setup(n = 1, opts: { teamspace?: string } = {}) {
  const h = new Harness();
  const targets = Array.from({ length: n }, (_, i) => {
    const id = `srv_${i + 1}`;
    h.datagrid.addServer(id, opts.teamspace);
    h.secrets.put(`mcp/${id}`, `token-${id}-canary-c4f1e2`);
    return target(id, `mcp/${id}`, { teamspaceId: opts.teamspace });
  });
  return { h, cfg: config(targets), targets };
}

describe('rotation run', () => {
  it('rotates a target for the first time: PATCHes the built header, verifies, records the version, emits', async () => {
    const { h, cfg } = setup(1, { teamspace: 'ts_1' });
    const summary = await h.run(cfg, request({ trigger: 'schedule' }));
    const result = rotation(summary.results[0]);
    expect(result).toMatchObject({
      serverId: 'srv_1',
      teamspaceId: 'ts_1',
      serverName: 'Server srv_1',
      outcome: 'rotated',
      rolledBack: false,
      status: 'active',
      toolCount: 3,
      previousToolCount: 3,
      attempts: 1,
    });
    expect(result.secretVersionId).toBe(h.secrets.versions.get('mcp/srv_1')![0]!.versionId);
    expect(result.previousVersionId).toBeUndefined();
    expect(h.datagrid.patches).toEqual([
      { serverId: 'srv_1', authorization: 'Bearer token-srv_1-canary-c4f1e2', apiKey: h.datagrid.validApiKey },
    ]);
    const item = h.state.items.get(statePk('ts_1', 'srv_1'))!;
    expect(item).toMatchObject({
      appliedVersionId: result.secretVersionId,
      lastOutcome: 'rotated',
      authorizationSecretId: 'sec_srv_1',
    });
    expect(item.leaseOwner).toBeUndefined();
    expect(summary.counts).toEqual({ rotated: 1, unchanged: 0, failed: 0, skipped: 0, compliant: 0, noncompliant: 0 });
    expect(h.events.events.map((e) => e.detailType)).toEqual([
      'MCP Credential Rotation Result',
      'MCP Rotation Run Completed',
    ]);
    expect(h.events.events[0]!.detail).toMatchObject({
      serverId: 'srv_1',
      runId: 'run-1',
      trigger: 'schedule',
      outcome: 'rotated',
    });
    expect(h.events.events[1]!.detail).not.toHaveProperty('results');
    expect(h.events.events[1]!.detail).toMatchObject({ runId: 'run-1', counts: { rotated: 1 } });
    expect(h.progress).toEqual([['srv_1', 1, 1]]);
  });

  it('reads every secret (API key included) in one batch, state in one batch, and lists each teamspace once', async () => {
    const h = new Harness();
    const targets = ['a', 'b', 'c', 'd'].map((id, i) => {
      h.datagrid.addServer(id, i < 2 ? 'ts_1' : 'ts_2');
      h.secrets.put(`mcp/${id}`, `secret-value-${id}-xyz`);
      return target(id, `mcp/${id}`, { teamspaceId: i < 2 ? 'ts_1' : 'ts_2' });
    });
    await h.run(config(targets));
    expect(h.secrets.getCurrentCalls).toHaveLength(1);
    expect(h.secrets.getCurrentCalls[0]).toContain('datagrid/api-key');
    expect(h.state.getManyCalls).toBe(1);
    expect(h.datagrid.calls.filter((c) => c.method === 'list').map((c) => c.teamspace)).toEqual(['ts_1', 'ts_2']);
    expect(h.datagrid.calls.filter((c) => c.method === 'get')).toHaveLength(0);
  });

  it('lists the teamspaces while the state is still being read, and writes nothing when that read fails', async () => {
    const { h, cfg } = setup(2);
    let listedBeforeState = false;
    h.state.getMany = async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      listedBeforeState = h.datagrid.calls.some((c) => c.method === 'list');
      throw new Error('DynamoDB unavailable');
    };
    await expect(h.run(cfg)).rejects.toThrow('DynamoDB unavailable');
    expect(listedBeforeState).toBe(true);
    expect(h.datagrid.calls.filter((c) => c.method !== 'list')).toEqual([]);
    expect(h.state.leaseCalls).toEqual([]);
    expect(h.events.events).toEqual([]);
  });

  it('emits results while the run goes on, ten per call, and the summary last', async () => {
    const { h, cfg } = setup(25);
    const emit = h.events.emit.bind(h.events);
    const calls: { events: number; finishedBefore: number }[] = [];
    h.events.emit = (events) => {
      calls.push({ events: events.length, finishedBefore: h.progress.length });
      return emit(events);
    };
    await h.run(cfg);
    // The last five results, then the summary in a call of its own.
    expect(calls.map((c) => c.events)).toEqual([10, 10, 5, 1]);
    // The first two calls went out while targets were still running.
    expect(calls[0]!.finishedBefore).toBeGreaterThanOrEqual(10);
    expect(calls[0]!.finishedBefore).toBeLessThan(25);
    expect(calls[1]!.finishedBefore).toBeGreaterThanOrEqual(20);
    expect(calls[1]!.finishedBefore).toBeLessThan(25);
    expect(h.events.events.at(-1)!.detailType).toBe('MCP Rotation Run Completed');
    expect(new Set(h.events.events.slice(0, 25).map((e) => rotation(e.detail).serverId)).size).toBe(25);
  });

  it('is idempotent: a re-run with the same version and a healthy server is unchanged and sends nothing', async () => {
    const { h, cfg } = setup(2);
    await h.run(cfg);
    const patchesBefore = h.datagrid.patches.length;
    const summary = await h.run(cfg);
    expect(summary.results.map((r) => rotation(r).outcome)).toEqual(['unchanged', 'unchanged']);
    expect(h.datagrid.patches.length).toBe(patchesBefore);
    expect(h.state.leaseCalls).toHaveLength(2);
  });

  it('rotates again when the secret changed, when forced, when the server is unhealthy or its reference changed', async () => {
    const { h, cfg } = setup(1);
    await h.run(cfg);
    h.secrets.put('mcp/srv_1', 'token-new-value-1');
    let r = rotation((await h.run(cfg)).results[0]);
    expect(r.outcome).toBe('rotated');
    expect(r.previousVersionId).toBe(h.secrets.versions.get('mcp/srv_1')![0]!.versionId);

    expect(rotation((await h.run(cfg, request({ force: true }))).results[0]).outcome).toBe('rotated');

    h.datagrid.server('srv_1')!.status = 'error';
    expect(rotation((await h.run(cfg)).results[0]).outcome).toBe('rotated');

    h.datagrid.server('srv_1')!.authorization_secret_id = 'sec_someone_else';
    r = rotation((await h.run(cfg)).results[0]);
    expect(r.outcome).toBe('rotated');
  });

  it('polls while the re-sync is pending (asynchronous Datagrid) and succeeds when it lands', async () => {
    const { h, cfg } = setup(1);
    h.datagrid.asyncPolls = 3;
    const r = rotation((await h.run(cfg)).results[0]);
    expect(r.outcome).toBe('rotated');
    expect(h.datagrid.calls.filter((c) => c.method === 'get')).toHaveLength(3);
    // A run's first re-sync is unknown: it is looked for soon, then at doubling intervals (resync-timing.ts).
    expect(h.clock.sleeps).toEqual([25, 50, 100]);
    expect(r.attempts).toBe(4);
  });

  it('keeps polling while the status is healthy but last_synced_at has not advanced', async () => {
    const { h, cfg } = setup(1);
    h.datagrid.asyncPolls = 2;
    // An "active" status straight after the PATCH is the state from before the re-sync.
    const api = h.datagrid.api.bind(h.datagrid);
    h.datagrid.api = (key) => {
      const real = api(key);
      return {
        ...real,
        updateAuthorization: async (...args) => ({ ...(await real.updateAuthorization(...args)), status: 'active' }),
      };
    };
    const r = rotation((await h.run(cfg)).results[0]);
    expect(r.outcome).toBe('rotated');
    expect(h.datagrid.calls.filter((c) => c.method === 'get')).toHaveLength(2);
  });

  it('fails with VERIFY_TIMEOUT when the re-sync never finishes within verifyTimeoutSeconds', async () => {
    const h = new Harness();
    h.datagrid.addServer('srv_1', undefined);
    h.secrets.put('mcp/a', 'token-aaaa-1');
    h.datagrid.asyncPolls = 1000;
    const r = rotation((await h.run(config([target('srv_1', 'mcp/a', { verifyTimeoutSeconds: 10 })]))).results[0]);
    expect(r).toMatchObject({ outcome: 'failed', error: { code: 'VERIFY_TIMEOUT' } });
    expect(h.clock.sleeps.reduce((a, b) => a + b, 0)).toBe(10_000);
  });

  it('rolls back to the previously applied version when the new credential is rejected, and verifies it', async () => {
    const { h, cfg } = setup(1);
    await h.run(cfg);
    const oldVersion = h.secrets.versions.get('mcp/srv_1')![0]!.versionId;
    h.secrets.put('mcp/srv_1', 'token-bad-new-credential');
    h.datagrid.resync = (_id, auth) =>
      auth.includes('bad') ? { status: 'error', tools: 0 } : { status: 'active', tools: 3 };
    const summary = await h.run(cfg);
    const r = rotation(summary.results[0]);
    expect(r).toMatchObject({
      outcome: 'failed',
      rolledBack: true,
      status: 'active',
      error: { code: 'VERIFY_UNHEALTHY' },
    });
    expect(r.error!.message).toContain(`rolled back to version ${oldVersion}`);
    expect(h.secrets.getVersionCalls).toEqual([['mcp/srv_1', oldVersion]]);
    expect(h.datagrid.patches.map((p) => p.authorization)).toEqual([
      'Bearer token-srv_1-canary-c4f1e2',
      'Bearer token-bad-new-credential',
      'Bearer token-srv_1-canary-c4f1e2',
    ]);
    // The applied version stays the old one: the next run tries the new one again.
    expect(h.state.items.get(statePk(undefined, 'srv_1'))).toMatchObject({
      appliedVersionId: oldVersion,
      lastOutcome: 'failed',
      lastErrorCode: 'VERIFY_UNHEALTHY',
    });
    expect(summary.counts.failed).toBe(1);
  });

  it('reports rolledBack false and says so when the rollback itself fails', async () => {
    const { h, cfg } = setup(1);
    await h.run(cfg);
    h.secrets.put('mcp/srv_1', 'token-new-value-2');
    h.datagrid.resync = () => ({ status: 'error', tools: 0 });
    const r = rotation((await h.run(cfg)).results[0]);
    expect(r).toMatchObject({ outcome: 'failed', rolledBack: false, error: { code: 'VERIFY_UNHEALTHY' } });
    expect(r.error!.message).toMatch(/rollback failed/);
  });

  it('does not roll back without a known previous version, or when rollbackOnFailure is off', async () => {
    const { h, cfg } = setup(1);
    h.datagrid.resync = () => ({ status: 'active', tools: 0 });
    const r = rotation((await h.run(cfg)).results[0]);
    expect(r).toMatchObject({ outcome: 'failed', rolledBack: false, error: { code: 'VERIFY_TOOL_COUNT' } });
    expect(r.error!.message).toMatch(/no previously applied version/);
    expect(h.datagrid.patches).toHaveLength(1);

    const h2 = new Harness();
    h2.datagrid.addServer('s', undefined);
    h2.secrets.put('m', 'token-1111');
    const cfg2 = config([target('s', 'm', { rollbackOnFailure: false })]);
    await h2.run(cfg2);
    h2.secrets.put('m', 'token-2222');
    h2.datagrid.resync = () => ({ status: 'error' });
    const r2 = rotation((await h2.run(cfg2)).results[0]);
    expect(r2.error!.message).toMatch(/rollbackOnFailure is off/);
    expect(h2.datagrid.patches).toHaveLength(2);
  });

  it('incident: rotates even when the version is applied, and never restores the compromised credential', async () => {
    const { h, cfg } = setup(1);
    await h.run(cfg);
    expect(
      rotation((await h.run(cfg, request({ trigger: 'incident', incidentId: 'INC-1', force: true }))).results[0])
        .outcome,
    ).toBe('rotated');
    h.secrets.put('mcp/srv_1', 'token-replacement-bad');
    h.datagrid.resync = () => ({ status: 'error', tools: 0 });
    const summary = await h.run(
      cfg,
      request({ trigger: 'incident', incidentId: 'INC-1', force: true, reason: 'leaked' }),
    );
    const r = rotation(summary.results[0]);
    expect(r).toMatchObject({ outcome: 'failed', rolledBack: false });
    expect(r.error!.message).toMatch(/incident/);
    expect(h.secrets.getVersionCalls).toHaveLength(0);
    expect(h.events.events.at(-2)!.detail).toMatchObject({
      incidentId: 'INC-1',
      reason: 'leaked',
      trigger: 'incident',
    });
  });

  it('maps secret, value and server problems to their codes without sending anything', async () => {
    const h = new Harness();
    for (const id of ['a', 'b', 'c', 'd']) h.datagrid.addServer(id, undefined);
    h.secrets.put('mcp/b', 'line1\nline2-abc');
    h.secrets.put('mcp/c', 'not-json-value');
    h.secrets.put('mcp/e', 'fine-token-e');
    const summary = await h.run(
      config(
        [
          target('a', 'mcp/missing'),
          target('b', 'mcp/b'),
          target('c', 'mcp/c', { jsonKey: 'token' }),
          target('zzz', 'mcp/e'),
        ],
        { haltAfterFailures: 0 },
      ),
    );
    expect(summary.results.map((r) => rotation(r).error?.code)).toEqual([
      'SECRET_NOT_FOUND',
      'INVALID_SECRET_VALUE',
      'INVALID_SECRET_VALUE',
      'SERVER_NOT_FOUND',
    ]);
    expect(h.datagrid.patches).toHaveLength(0);
    expect(h.state.leaseCalls).toHaveLength(0);
  });

  it('maps a rejected PATCH to its Datagrid code and records the failure', async () => {
    const { h, cfg } = setup(1);
    h.datagrid.failures.set('patch', [
      new DatagridError('DATAGRID_REJECTED', 'PATCH rejected: HTTP 422 authorization too long', {
        status: 422,
        attempts: 1,
      }),
    ]);
    const r = rotation((await h.run(cfg)).results[0]);
    expect(r).toMatchObject({ outcome: 'failed', rolledBack: false, error: { code: 'DATAGRID_REJECTED' } });
    expect(h.state.items.get(statePk(undefined, 'srv_1'))).toMatchObject({
      lastOutcome: 'failed',
      lastErrorCode: 'DATAGRID_REJECTED',
    });
  });

  it('halts after haltAfterFailures straight failures: the rest are skipped with HALTED', async () => {
    const { h, targets } = setup(5);
    h.datagrid.resync = () => ({ status: 'error', tools: 0 });
    const summary = await h.run(config(targets, { global: 1, haltAfterFailures: 2 }));
    expect(summary.results.map((r) => rotation(r).error?.code)).toEqual([
      'VERIFY_UNHEALTHY',
      'VERIFY_UNHEALTHY',
      'HALTED',
      'HALTED',
      'HALTED',
    ]);
    expect(summary.results.slice(2).every((r) => rotation(r).outcome === 'skipped')).toBe(true);
    expect(h.datagrid.patches).toHaveLength(2);
  });

  it('does not halt when one of the first targets succeeded, nor when halting is off', async () => {
    const { h, targets } = setup(4);
    h.datagrid.resync = (id) => (id === 'srv_2' ? { status: 'active', tools: 3 } : { status: 'error', tools: 0 });
    let summary = await h.run(config(targets, { global: 1, haltAfterFailures: 2 }));
    expect(summary.counts).toMatchObject({ failed: 3, rotated: 1, skipped: 0 });
    const again = setup(4);
    again.h.datagrid.resync = () => ({ status: 'error', tools: 0 });
    summary = await again.h.run(config(again.targets, { global: 1, haltAfterFailures: 0 }));
    expect(summary.counts).toMatchObject({ failed: 4, skipped: 0 });
  });

  it('halts at once on a rejected API key during a PATCH, without trying the key once per target', async () => {
    const { h, targets } = setup(4);
    h.datagrid.failures.set('patch', [
      new DatagridError('DATAGRID_AUTH_FAILED', 'PATCH: HTTP 401', { status: 401, attempts: 1 }),
    ]);
    const summary = await h.run(config(targets, { global: 1 }));
    expect(summary.results.map((r) => rotation(r).error?.code)).toEqual([
      'DATAGRID_AUTH_FAILED',
      'HALTED',
      'HALTED',
      'HALTED',
    ]);
  });

  it('a revoked API key fails the first list call and no other teamspace is asked', async () => {
    const h = new Harness();
    const targets = ['ts_1', 'ts_2', 'ts_3'].map((ts) => {
      h.datagrid.addServer('s', ts);
      h.secrets.put(`m/${ts}`, `token-${ts}-abcdef`);
      return target('s', `m/${ts}`, { teamspaceId: ts });
    });
    h.datagrid.validApiKey = 'another-key-entirely';
    const summary = await h.run(config(targets));
    expect(h.datagrid.calls).toEqual([{ method: 'list', teamspace: 'ts_1' }]);
    expect(summary.results.map((r) => rotation(r).error?.code)).toEqual(['DATAGRID_AUTH_FAILED', 'HALTED', 'HALTED']);
  });

  it('fails every target with the secret error when the API key secret cannot be read', async () => {
    const { h, cfg } = setup(2);
    h.secrets.versions.delete('datagrid/api-key');
    const summary = await h.run(cfg);
    expect(summary.results.map((r) => rotation(r).error?.code)).toEqual(['SECRET_NOT_FOUND', 'HALTED']);
    expect(rotation(summary.results[0]).error!.message).toMatch(/Datagrid API key/);
    expect(h.datagrid.calls).toHaveLength(0);
  });

  it('starts no target when the remaining Lambda time cannot cover a verification (DEADLINE)', async () => {
    const { h, cfg } = setup(2);
    h.remainingMs = 30_000;
    const summary = await h.run(cfg);
    expect(summary.results.map((r) => rotation(r).error?.code)).toEqual(['DEADLINE', 'DEADLINE']);
    expect(h.datagrid.patches).toHaveLength(0);
  });

  it('skips a target leased by an overlapping run (LOCKED) and leaves its lease alone', async () => {
    const { h, cfg } = setup(1);
    const pk = statePk(undefined, 'srv_1');
    h.state.items.set(pk, { pk, serverId: 'srv_1', leaseOwner: 'other-run', leaseExpiresAt: h.clock.now() + 60_000 });
    const r = rotation((await h.run(cfg)).results[0]);
    expect(r).toMatchObject({ outcome: 'skipped', error: { code: 'LOCKED' } });
    expect(h.datagrid.patches).toHaveLength(0);
    expect(h.state.items.get(pk)!.leaseOwner).toBe('other-run');
  });

  it('takes over an expired lease', async () => {
    const { h, cfg } = setup(1);
    const pk = statePk(undefined, 'srv_1');
    h.state.items.set(pk, { pk, serverId: 'srv_1', leaseOwner: 'crashed-run', leaseExpiresAt: h.clock.now() - 1 });
    expect(rotation((await h.run(cfg)).results[0]).outcome).toBe('rotated');
  });

  it('dry run: says what would rotate and writes nothing', async () => {
    const { h, cfg } = setup(2);
    await h.run(cfg, request({ targets: ['srv_1'] }));
    const writes = h.state.writes.length;
    const summary = await h.run(cfg, request({ dryRun: true }));
    expect(summary.dryRun).toBe(true);
    expect(summary.results.map((r) => rotation(r).outcome)).toEqual(['unchanged', 'skipped']);
    expect(rotation(summary.results[1]).error).toEqual({
      code: 'DRY_RUN',
      message: 'dry run: would rotate (never rotated by this rotator)',
    });
    expect(rotation(summary.results[1]).planReason).toBe('never rotated by this rotator');
    expect(rotation(summary.results[0]).planReason).toBeUndefined();
    expect(h.state.writes.length).toBe(writes);
    expect(h.datagrid.patches).toHaveLength(1);
  });

  it('rejects unknown or ambiguous targets before reading anything', async () => {
    const h = new Harness();
    h.datagrid.addServer('s', 'ts_1');
    h.datagrid.addServer('s', 'ts_2');
    const cfg = config([target('s', 'm1', { teamspaceId: 'ts_1' }), target('s', 'm2', { teamspaceId: 'ts_2' })]);
    await expect(h.run(cfg, request({ targets: ['nope'] }))).rejects.toThrow(RequestError);
    await expect(h.run(cfg, request({ targets: ['s'] }))).rejects.toThrow(/ambiguous/);
    expect(h.secrets.getCurrentCalls).toHaveLength(0);
    expect(h.events.events).toHaveLength(0);
    h.secrets.put('m2', 'token-m2-value');
    const summary = await h.run(cfg, request({ targets: ['ts_2/s'] }));
    expect(summary.results).toHaveLength(1);
    expect(rotation(summary.results[0]).teamspaceId).toBe('ts_2');
  });

  it('secret-changed: rotates only the targets that use the secret, matched by name or ARN', async () => {
    const { h, cfg } = setup(3);
    const summary = await h.run(
      cfg,
      request({
        trigger: 'secret-changed',
        secretRef: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:mcp/srv_2-AbCdEf',
      }),
    );
    expect(summary.results.map((r) => rotation(r).serverId)).toEqual(['srv_2']);
    const none = await h.run(cfg, request({ trigger: 'secret-changed', secretRef: 'unrelated/secret' }));
    expect(none.results).toEqual([]);
  });

  it('holds a global turn only for the Datagrid work: the next PATCH starts while the previous record is written', async () => {
    const { h, targets } = setup(3);
    const order: string[] = [];
    const complete = h.state.complete.bind(h.state);
    h.state.complete = async (pk, owner, update) => {
      order.push(`record ${update.serverId} start`);
      // A slow DynamoDB write: several turns of the event loop.
      for (let i = 0; i < 5; i += 1) await new Promise((r) => setImmediate(r));
      order.push(`record ${update.serverId} end`);
      return complete(pk, owner, update);
    };
    const updateAuthorization = h.datagrid.api.bind(h.datagrid);
    h.datagrid.api = (key) => {
      const real = updateAuthorization(key);
      return {
        ...real,
        updateAuthorization: (teamspace, id, value, options) => {
          order.push(`patch ${id}`);
          return real.updateAuthorization(teamspace, id, value, options);
        },
      };
    };
    const summary = await h.run(config(targets, { global: 1, perTeamspace: 3 }));
    expect(summary.counts.rotated).toBe(3);
    expect(order.indexOf('patch srv_2')).toBeLessThan(order.indexOf('record srv_1 end'));
    expect(h.datagrid.maxInFlight).toBe(1);
  });

  it('skips a target that waited for its turn while the run halted, and frees the lease it had taken', async () => {
    const { h, targets } = setup(4);
    h.datagrid.resync = () => ({ status: 'error', tools: 0 });
    // perTeamspace 4: every target takes its lease at once, then waits for the one global turn.
    const summary = await h.run(config(targets, { global: 1, perTeamspace: 4, haltAfterFailures: 2 }));
    expect(summary.results.map((r) => rotation(r).error?.code)).toEqual([
      'VERIFY_UNHEALTHY',
      'VERIFY_UNHEALTHY',
      'HALTED',
      'HALTED',
    ]);
    expect(h.state.leaseCalls).toHaveLength(4);
    expect(h.datagrid.patches).toHaveLength(2);
    expect([...h.state.items.values()].filter((item) => item.leaseOwner !== undefined)).toEqual([]);
  });

  it('bounds concurrency globally and per teamspace', async () => {
    const h = new Harness();
    const targets = [];
    for (let i = 0; i < 30; i++) {
      const ts = `ts_${i % 3}`;
      h.datagrid.addServer(`s${i}`, ts);
      h.secrets.put(`m${i}`, `token-value-${i}-abc`);
      targets.push(target(`s${i}`, `m${i}`, { teamspaceId: ts }));
    }
    h.datagrid.asyncPolls = 2;
    const summary = await h.run(config(targets, { global: 5, perTeamspace: 2 }));
    expect(summary.counts.rotated).toBe(30);
    expect(h.datagrid.maxInFlight).toBeLessThanOrEqual(5);
    expect(h.datagrid.maxInFlight).toBeGreaterThan(1);
    for (const max of h.datagrid.maxInFlightByTeamspace.values()) expect(max).toBeLessThanOrEqual(2);
  });
});

describe('rotation run: unexpected errors', () => {
  it('turns an unexpected error of one target into a failed INTERNAL result, frees its lease and still reports the others', async () => {
    const h = new Harness();
    for (const id of ['a', 'b']) {
      h.datagrid.addServer(id, undefined);
      h.secrets.put(`m/${id}`, `token-${id}-value`);
    }
    const api = h.datagrid.api.bind(h.datagrid);
    h.datagrid.api = (key) => {
      const real = api(key);
      return {
        ...real,
        getServer: (ts, id, o) => (id === 'a' ? Promise.reject(new TypeError('boom')) : real.getServer(ts, id, o)),
      };
    };
    h.datagrid.asyncPolls = 1;
    const summary = await h.run(config([target('a', 'm/a'), target('b', 'm/b')], { haltAfterFailures: 0 }));
    expect(summary.results.map((r) => (r as { outcome: string }).outcome)).toEqual(['failed', 'rotated']);
    expect(summary.results[0]).toMatchObject({
      // A bug of the rotator, not Datagrid's fault.
      error: { code: 'INTERNAL', message: 'unexpected error: TypeError' },
    });
    expect(h.state.items.get(statePk(undefined, 'a'))!.leaseOwner).toBeUndefined();
    expect(h.events.events).toHaveLength(3);
  });
});
