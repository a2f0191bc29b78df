/**
 * The safety rules a hostile review found broken: an incident that meets a lease is neither lost nor undone, a
 * retry resumes its crashed attempt's lease, a started target's worst case fits the deadline, and a PATCH whose answer
 * was lost is read back, verified and rolled back as usual.
 */
import { describe, expect, it } from 'vitest';
import { worstCaseTargetMs } from '../../../lambda/engine/budget.ts';
import { DEFAULT_TIMING } from '../../../lambda/engine/context.ts';
import { statePk } from '../../../lambda/engine/state-key.ts';
import { DatagridOutcomeUnknownError } from '../../../lambda/errors.ts';
import type { DatagridApi } from '../../../lambda/types/index.ts';
import type { RotationResult } from '../../../lambda/types/results.ts';
import { DEFAULT_DATAGRID } from '../../../lambda/constants.ts';
import { verifyResync } from '../../../lambda/engine/verify.ts';
import { Harness, config, request, target } from '../../support/engine-harness.ts';
import { FakeClock } from '../../support/fakes.ts';
import { mcpServerFixture } from '../../support/mcp-server-fixture.ts';

const rotation = (r: unknown) => r as RotationResult;
const PK = statePk(undefined, 'srv_1');
const INCIDENT = request({ trigger: 'incident', incidentId: 'INC-7', force: true });

function setup() {
  const h = new Harness();
  h.datagrid.addServer('srv_1', undefined);
  h.secrets.put('mcp/srv_1', 'token-v1-canary-5e0b1d');
  return { h, cfg: config([target('srv_1', 'mcp/srv_1')]) };
}

/** A state item leased by another run until `until`. */
function leasedElsewhere(h: Harness, until: number) {
  h.state.items.set(PK, {
    pk: PK,
    serverId: 'srv_1',
    leaseOwner: 'request:scheduled-run',
    leaseAttempt: 'scheduled-attempt',
    leaseExpiresAt: until,
  });
}

/** Wraps the fake Datagrid's API so a test can act between calls. */
function interceptApi(h: Harness, wrap: (real: DatagridApi) => Partial<DatagridApi>) {
  const api = h.datagrid.api.bind(h.datagrid);
  h.datagrid.api = (key) => {
    const real = api(key);
    return { ...real, ...wrap(real) };
  };
}

describe('an incident that meets a lease', () => {
  it('marks the target, waits for the lease and then rotates', async () => {
    const { h, cfg } = setup();
    leasedElsewhere(h, h.clock.now() + 5_000);
    const result = rotation((await h.run(cfg, INCIDENT)).results[0]);
    expect(result).toMatchObject({ outcome: 'rotated' });
    expect(h.clock.sleeps.filter((ms) => ms === DEFAULT_TIMING.leaseRetryMs).length).toBeGreaterThanOrEqual(5);
    expect(h.datagrid.patches).toHaveLength(1);
    // Rotated away: the mark is cleared with the lease.
    expect(h.state.items.get(PK)).not.toHaveProperty('incidentPending');
    expect(h.state.items.get(PK)?.leaseOwner).toBeUndefined();
  });

  it('ends failed LOCKED (so the run throws and is retried) when the lease outlasts its deadline, and leaves the mark', async () => {
    const { h, cfg } = setup();
    leasedElsewhere(h, h.clock.now() + h.remainingMs + 60_000);
    const summary = await h.run(cfg, INCIDENT);
    const result = rotation(summary.results[0]);
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'LOCKED' } });
    expect(result.error!.message).toMatch(/incident INC-7 is marked on the target/);
    expect(summary.counts.failed).toBe(1);
    expect(h.datagrid.patches).toHaveLength(0);
    expect(h.state.items.get(PK)).toMatchObject({ incidentPending: 'INC-7', leaseOwner: 'request:scheduled-run' });
    // It waited only while a whole rotation could still follow.
    const deadline = Date.parse('2026-11-24T12:00:00.000Z') + h.remainingMs;
    expect(h.clock.now()).toBeLessThanOrEqual(
      deadline - DEFAULT_TIMING.reserveMs - worstCaseTargetMs(cfg.targets[0]!, DEFAULT_DATAGRID),
    );
  });

  it('keeps a scheduled run that holds the lease from restoring the previous credential', async () => {
    const { h, cfg } = setup();
    await h.run(cfg, request({ trigger: 'schedule' })); // v1 applied and verified
    h.secrets.put('mcp/srv_1', 'token-v2-canary-77c2aa');
    h.datagrid.resync = (_id, authorization) =>
      authorization.includes('v2') ? { status: 'error', tools: 0 } : { status: 'active', tools: 3 };
    h.datagrid.asyncPolls = 1;
    // The incident is requested while the scheduled run verifies v2 (it marks the target; the lease is taken).
    interceptApi(h, (real) => ({
      getServer: async (ts, id, o) => {
        await h.state.markIncident(PK, 'INC-9');
        return real.getServer(ts, id, o);
      },
    }));
    const result = rotation((await h.run(cfg, request({ trigger: 'schedule' }))).results[0]);
    expect(result).toMatchObject({ outcome: 'failed', rolledBack: false, error: { code: 'VERIFY_UNHEALTHY' } });
    expect(result.error!.message).toMatch(/no rollback: incident INC-9 was requested for this target/);
    // Only the v1 and v2 PATCHes: v1 (the credential the incident declared compromised) was not sent again.
    expect(h.datagrid.patches.map((p) => p.authorization)).toEqual([
      'Bearer token-v1-canary-5e0b1d',
      'Bearer token-v2-canary-77c2aa',
    ]);
  });
});

describe('a retry of the same invocation', () => {
  it("takes over its crashed attempt's lease at once and rotates", async () => {
    const { h, cfg } = setup();
    h.leaseOwner = 'request:req-42';
    h.state.items.set(PK, {
      pk: PK,
      serverId: 'srv_1',
      leaseOwner: 'request:req-42',
      leaseAttempt: 'crashed-attempt',
      leaseExpiresAt: h.clock.now() + 15 * 60_000,
    });
    const result = rotation((await h.run(cfg, request({ trigger: 'schedule' }))).results[0]);
    expect(result.outcome).toBe('rotated');
    expect(h.clock.sleeps).toEqual([]);
    expect(h.state.items.get(PK)?.leaseOwner).toBeUndefined();
  });

  it('another invocation is still LOCKED out by that lease', async () => {
    const { h, cfg } = setup();
    h.leaseOwner = 'request:req-43';
    leasedElsewhere(h, h.clock.now() + 15 * 60_000);
    const result = rotation((await h.run(cfg, request({ trigger: 'schedule' }))).results[0]);
    expect(result).toMatchObject({ outcome: 'skipped', error: { code: 'LOCKED' } });
  });

  it('an attempt whose lease a retry took over does not roll back', async () => {
    const { h, cfg } = setup();
    h.leaseOwner = 'request:req-44';
    await h.run(cfg, request({ trigger: 'schedule' }));
    h.secrets.put('mcp/srv_1', 'token-v2-canary-0a9f3e');
    h.datagrid.resync = (_id, authorization) =>
      authorization.includes('v2') ? { status: 'error', tools: 0 } : { status: 'active', tools: 3 };
    h.datagrid.asyncPolls = 1;
    interceptApi(h, (real) => ({
      getServer: (ts, id, o) => {
        h.state.items.set(PK, { ...h.state.items.get(PK)!, leaseAttempt: 'the-retry' });
        return real.getServer(ts, id, o);
      },
    }));
    const result = rotation((await h.run(cfg, request({ trigger: 'schedule' }))).results[0]);
    expect(result).toMatchObject({ outcome: 'failed', rolledBack: false });
    expect(result.error!.message).toMatch(/no rollback: this run no longer holds the target's lease/);
    expect(h.datagrid.patches).toHaveLength(2);
  });
});

describe('the deadline', () => {
  it("starts a target only when the Lambda's remaining time covers its worst case, rollback and retries included", async () => {
    const { h, cfg } = setup();
    // Enough for one verification and two request timeouts (the old rule), not for a rollback after it.
    h.remainingMs = 60_000 + 2 * DEFAULT_DATAGRID.requestTimeoutMs + DEFAULT_TIMING.reserveMs + 10_000;
    const result = rotation((await h.run(cfg)).results[0]);
    expect(result).toMatchObject({ outcome: 'skipped', error: { code: 'DEADLINE' } });
    expect(h.datagrid.patches).toHaveLength(0);
  });

  it('a started target never polls past the deadline, rollback included, even when every request is slow', async () => {
    const { h, cfg } = setup();
    await h.run(cfg); // v1 applied
    h.secrets.put('mcp/srv_1', 'token-v2-canary-3b8d21');
    h.datagrid.asyncPolls = 1_000_000; // never re-synced: both verifications run out of time
    // Every request takes as long as all its attempts may: the worst the budget allows for.
    interceptApi(h, (real) => {
      const slow =
        <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
        async (...args: A): Promise<R> => {
          h.clock.time += DEFAULT_DATAGRID.requestTimeoutMs * DEFAULT_DATAGRID.maxAttempts;
          return call(...args);
        };
      return { getServer: slow(real.getServer), updateAuthorization: slow(real.updateAuthorization) };
    });
    for (const remainingMs of [
      // What the old rule admitted a target with: one verification and two request timeouts.
      60_000 + 2 * DEFAULT_DATAGRID.requestTimeoutMs + DEFAULT_TIMING.reserveMs + 1_000,
      // Just enough for the worst case.
      worstCaseTargetMs(cfg.targets[0]!, DEFAULT_DATAGRID) + DEFAULT_TIMING.reserveMs + 1_000,
    ]) {
      h.remainingMs = remainingMs;
      const started = h.clock.now();
      const result = rotation((await h.run(cfg)).results[0]);
      expect(['DEADLINE', 'VERIFY_TIMEOUT']).toContain(result.error?.code);
      expect(h.clock.now()).toBeLessThanOrEqual(started + remainingMs - DEFAULT_TIMING.reserveMs);
    }
  });

  it('verification stops polling at the last moment a poll may start, before its own timeout', async () => {
    const clock = new FakeClock();
    const pending = { ...mcpServerFixture('srv_1'), status: 'syncing' };
    let polls = 0;
    const api = {
      getServer: () => {
        polls += 1;
        return Promise.resolve(pending);
      },
    } as unknown as DatagridApi;
    const lastPollAt = clock.now() + 10_000;
    const verification = await verifyResync(api, target('srv_1', 'mcp/srv_1'), pending, pending, {
      clock,
      pollIntervalMs: 1_000,
      maxPollIntervalMs: 5_000,
      request: {},
      lastPollAt,
    });
    expect(verification).toMatchObject({ ok: false, code: 'VERIFY_TIMEOUT' });
    expect(verification.ok || verification.message).toMatch(/before the run's deadline/);
    expect(clock.now()).toBeLessThanOrEqual(lastPollAt);
    expect(polls).toBeGreaterThan(0);
  });
});

describe('a PATCH whose answer was lost', () => {
  const lostAnswer = () =>
    new DatagridOutcomeUnknownError('PATCH /organization/mcp-servers/srv_1 failed after 4 attempts: connection error', {
      attempts: 4,
    });

  it('reads the server, sees that it landed, verifies and reports the rotation', async () => {
    const { h, cfg } = setup();
    interceptApi(h, (real) => ({
      updateAuthorization: async (ts, id, auth, o) => {
        await real.updateAuthorization(ts, id, auth, o);
        throw lostAnswer();
      },
    }));
    const result = rotation((await h.run(cfg)).results[0]);
    expect(result).toMatchObject({ outcome: 'rotated', status: 'active' });
    expect(h.state.items.get(PK)?.appliedVersionId).toBe(result.secretVersionId);
  });

  it('rolls back as usual when it landed and does not verify, saying the credential may have changed', async () => {
    const { h, cfg } = setup();
    await h.run(cfg);
    h.secrets.put('mcp/srv_1', 'token-v2-canary-e61c04');
    h.datagrid.resync = (_id, authorization) =>
      authorization.includes('v2') ? { status: 'error', tools: 0 } : { status: 'active', tools: 3 };
    let first = true;
    interceptApi(h, (real) => ({
      updateAuthorization: async (ts, id, auth, o) => {
        const updated = await real.updateAuthorization(ts, id, auth, o);
        if (!first) return updated;
        first = false;
        throw lostAnswer();
      },
    }));
    const result = rotation((await h.run(cfg)).results[0]);
    expect(result).toMatchObject({ outcome: 'failed', rolledBack: true, error: { code: 'VERIFY_UNHEALTHY' } });
    expect(result.error!.message).toMatch(/the PATCH answer was lost .*the credential may have changed/);
    expect(h.datagrid.patches.map((p) => p.authorization.slice(-6))).toEqual(['5e0b1d', 'e61c04', '5e0b1d']);
  });

  it('fails without a rollback when the server shows no sign of the change, saying it may still change', async () => {
    const { h, cfg } = setup();
    interceptApi(h, () => ({ updateAuthorization: () => Promise.reject(lostAnswer()) }));
    const result = rotation((await h.run(cfg)).results[0]);
    expect(result).toMatchObject({ outcome: 'failed', rolledBack: false, error: { code: 'DATAGRID_UNAVAILABLE' } });
    expect(result.error!.message).toMatch(/shows no sign of the change.*may still change/);
  });
});

describe('unexpected errors', () => {
  it('a state store outage is INTERNAL, not DATAGRID_UNAVAILABLE', async () => {
    const { h, cfg } = setup();
    h.state.acquireLease = () => Promise.reject(Object.assign(new Error('boom'), { name: 'InternalServerError' }));
    const result = rotation((await h.run(cfg)).results[0]);
    expect(result).toMatchObject({ outcome: 'failed', error: { code: 'INTERNAL' } });
    expect(result.error!.message).toBe('unexpected error: InternalServerError');
  });
});
