import { describe, expect, it } from 'vitest';
import { ResyncTiming } from '../../../lambda/engine/resync-timing.ts';
import { verifyResync } from '../../../lambda/engine/verify.ts';
import type { DatagridApi, McpServer, ResolvedTarget } from '../../../lambda/types/index.ts';
import { FakeClock } from '../../support/fakes.ts';
import { mcpServerFixture } from '../../support/mcp-server-fixture.ts';

const schedule = { pollIntervalMs: 1000, maxPollIntervalMs: 5000 };
const T0 = Date.parse('2025-06-01T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** A server updated at T0, synced at `syncedAt` when given. */
const server = (overrides: Partial<McpServer> = {}, syncedAt?: number): McpServer =>
  mcpServerFixture('srv_1', {
    metadata: { tool_count: 3, ...(syncedAt !== undefined && { last_synced_at: iso(syncedAt) }) },
    created_at: iso(T0 - 86_400_000),
    updated_at: iso(T0),
    ...overrides,
  });

const take = (timing: ResyncTiming, n: number) => {
  const delays = timing.pollDelays(schedule);
  return Array.from({ length: n }, () => delays.next().value);
};

describe('ResyncTiming', () => {
  it('starts at the configured interval, growing by half up to the maximum, until a re-sync was observed', () => {
    expect(take(new ResyncTiming(), 6)).toEqual([1000, 1500, 2250, 3375, 5000, 5000]);
  });

  it('times the first poll by the longest recent re-sync (Datagrid timestamps) plus 5%, then polls soon', () => {
    const timing = new ResyncTiming();
    timing.observe(server({ status: 'syncing' }), server({}, T0 + 200), 1000);
    timing.observe(server({ status: 'syncing' }), server({}, T0 + 160), 1000);
    expect(take(timing, 4)).toEqual([210, 52.5, 79, 119]);
  });

  it("caps a duration by what our clock saw, whatever Datagrid's updated_at means", () => {
    const timing = new ResyncTiming();
    // updated_at far older than the PATCH: Datagrid's difference says 60 s, our clock saw the poll succeed at 300 ms.
    timing.observe(server({ status: 'syncing', updated_at: iso(T0 - 60_000) }), server({}, T0 + 100), 300);
    expect(take(timing, 1)).toEqual([315]);
  });

  it('ignores unreadable or backwards timestamps and keeps the first poll within [10 ms, maximum]', () => {
    const timing = new ResyncTiming();
    timing.observe(server({ status: 'syncing', updated_at: 'soon' }), server({}, T0 + 100), 500);
    timing.observe(server({ status: 'syncing' }), server({}, T0 - 100), 500);
    timing.observe(server({ status: 'syncing' }), server(), 500);
    expect(take(timing, 1)).toEqual([1000]);
    timing.observe(server({ status: 'syncing' }), server({}, T0), 500);
    expect(take(timing, 1)).toEqual([10]);
    const slow = new ResyncTiming();
    slow.observe(server({ status: 'syncing' }), server({}, T0 + 30_000), 40_000);
    expect(take(slow, 1)).toEqual([5000]);
  });
});

describe('verifyResync with a shared ResyncTiming', () => {
  const target = {
    serverId: 'srv_1',
    teamspaceId: undefined,
    healthyStatuses: ['active'],
    pendingStatuses: ['syncing'],
    minToolCount: 1,
    verifyTimeoutSeconds: 60,
  } as unknown as ResolvedTarget;

  /** A Datagrid whose re-sync takes `resyncMs` after each PATCH, on a fake clock shared with the caller. */
  function asyncDatagrid(resyncMs: number) {
    const clock = new FakeClock();
    clock.time = T0;
    let patchedAt = 0;
    let gets = 0;
    const api: DatagridApi = {
      listServers: () => Promise.resolve([]),
      updateAuthorization: () => {
        patchedAt = clock.time;
        return Promise.resolve(server({ status: 'syncing', updated_at: iso(clock.time) }, T0 - 1000));
      },
      getServer: () => {
        gets += 1;
        const done = clock.time >= patchedAt + resyncMs;
        return Promise.resolve(
          done
            ? server({ updated_at: iso(patchedAt) }, patchedAt + resyncMs)
            : server({ status: 'syncing', updated_at: iso(patchedAt) }, T0 - 1000),
        );
      },
    };
    return { api, clock, sleeps: clock.sleeps, gets: () => gets };
  }

  it('polls a later target once, just after its re-sync, having learned from an earlier one', async () => {
    const dg = asyncDatagrid(300);
    const timing = new ResyncTiming();
    const options = { clock: dg.clock, ...schedule, request: {}, resyncTiming: timing };
    const before = server({}, T0 - 1000);
    for (let i = 0; i < 3; i += 1) {
      const patched = await dg.api.updateAuthorization(undefined, 'srv_1', 'Bearer x');
      expect((await verifyResync(dg.api, target, patched, before, options)).ok).toBe(true);
    }
    // The first target knows nothing yet (1 s); the next ones poll at 300 ms + 5%, once each.
    expect(dg.sleeps).toEqual([1000, 315, 315]);
    expect(dg.gets()).toBe(3);
  });
});
