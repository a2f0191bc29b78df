import { describe, expect, it } from 'vitest';
import { ResyncTiming, type PollPlan } from '../../../lambda/engine/resync-timing.ts';
import { verifyResync } from '../../../lambda/engine/verify.ts';
import type { DatagridApi, McpServer, ResolvedTarget } from '../../../lambda/types/index.ts';
import { FakeClock, SimulatedClock } from '../../support/fakes.ts';
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

/** The waits of a lone verification's first `n` polls, nothing else running. */
const take = async (timing: ResyncTiming, n: number, patched?: McpServer) => {
  const clock = new FakeClock();
  const plan = timing.plan(clock, schedule, patched);
  for (let i = 0; i < n; i += 1) await plan.wait(Number.POSITIVE_INFINITY);
  plan.end();
  return clock.sleeps;
};

describe('ResyncTiming', () => {
  it('with nothing learned, a lone verification scouts: polls at 25 ms, then doubling up to the maximum', async () => {
    expect(await take(new ResyncTiming(), 10)).toEqual([25, 50, 100, 200, 400, 800, 1600, 3200, 5000, 5000]);
  });

  it('times the first poll by the recent re-syncs (Datagrid timestamps): their 90th percentile plus 10%, then polls soon', async () => {
    const timing = new ResyncTiming();
    timing.observe(server({ status: 'syncing' }), server({}, T0 + 200), 1000);
    timing.observe(server({ status: 'syncing' }), server({}, T0 + 160), 1000);
    expect(await take(timing, 4)).toEqual([220, 55, 83, 125]);
  });

  it('is not thrown by one slow re-sync, and follows the last 64', async () => {
    const timing = new ResyncTiming();
    const observe = (ms: number) => timing.observe(server({ status: 'syncing' }), server({}, T0 + ms), 10_000);
    for (let i = 0; i < 10; i += 1) observe(100);
    observe(900);
    expect(await take(timing, 1)).toEqual([110]);
    for (let i = 0; i < 64; i += 1) observe(200);
    expect(await take(timing, 1)).toEqual([220]);
  });

  it("times a server's first poll by the re-syncs at its origin once there are some, else by the run's", async () => {
    const at = (origin: string) => server({ status: 'syncing', base_url: `${origin}/mcp?token=not-a-key` });
    const timing = new ResyncTiming();
    for (let i = 0; i < 9; i += 1) timing.observe(at('https://fast.example'), server({}, T0 + 100), 10_000);
    timing.observe(at('https://slow.example:8443'), server({}, T0 + 2000), 10_000);
    expect(await take(timing, 1, at('https://fast.example'))).toEqual([110]);
    expect(await take(timing, 1, at('https://slow.example:8443'))).toEqual([2200]);
    // Another port is another origin: nothing seen there yet, so the run's p90 (100 ms of the 10).
    expect(await take(timing, 1, at('https://slow.example'))).toEqual([110]);
    expect(await take(timing, 1, server({ status: 'syncing', base_url: 'not a url' }))).toEqual([110]);
    const wholeRun = new ResyncTiming({ byOrigin: false });
    wholeRun.observe(at('https://slow.example:8443'), server({}, T0 + 2000), 10_000);
    wholeRun.observe(at('https://fast.example'), server({}, T0 + 100), 10_000);
    expect(await take(wholeRun, 1, at('https://fast.example'))).toEqual([2200]);
  });

  it("caps a duration by what our clock saw, whatever Datagrid's updated_at means", async () => {
    const timing = new ResyncTiming();
    // updated_at far older than the PATCH: Datagrid's difference says 60 s, our clock saw the poll succeed at 300 ms.
    timing.observe(server({ status: 'syncing', updated_at: iso(T0 - 60_000) }), server({}, T0 + 100), 300);
    expect(await take(timing, 1)).toEqual([330]);
  });

  it('ignores unreadable or backwards timestamps and keeps the first poll within [10 ms, maximum]', async () => {
    const timing = new ResyncTiming();
    timing.observe(server({ status: 'syncing', updated_at: 'soon' }), server({}, T0 + 100), 500);
    timing.observe(server({ status: 'syncing' }), server({}, T0 - 100), 500);
    timing.observe(server({ status: 'syncing' }), server(), 500);
    expect(await take(timing, 1)).toEqual([25]);
    timing.observe(server({ status: 'syncing' }), server({}, T0), 500);
    expect(await take(timing, 1)).toEqual([10]);
    const slow = new ResyncTiming();
    slow.observe(server({ status: 'syncing' }), server({}, T0 + 30_000), 40_000);
    expect(await take(slow, 1)).toEqual([5000]);
  });

  describe('while another verification scouts', () => {
    /** When each of `plan`'s polls falls, in ms from the start, polling `n` times. */
    const pollTimes = async (clock: SimulatedClock, plan: PollPlan, n: number, start: number) => {
      const times: number[] = [];
      for (let i = 0; i < n; i += 1) {
        await plan.wait(Number.POSITIVE_INFINITY);
        times.push(clock.now() - start);
      }
      plan.end();
      return times;
    };

    it('waits for what the scout learns, then polls when its own re-sync should be done', async () => {
      const clock = new SimulatedClock();
      const start = clock.now();
      const timing = new ResyncTiming();
      const scout = timing.plan(clock, schedule);
      const waiter = timing.plan(clock, schedule);
      const scouting = (async () => {
        await scout.wait(Number.POSITIVE_INFINITY); // 25 ms
        await scout.wait(Number.POSITIVE_INFINITY); // 75 ms
        await scout.wait(Number.POSITIVE_INFINITY); // 175 ms: the re-sync (160 ms) is done
        timing.observe(server({ status: 'syncing' }), server({}, T0 + 160), clock.now() - start);
        scout.end();
      })();
      const [times] = await clock.run(Promise.all([pollTimes(clock, waiter, 2, start), scouting]));
      // Learned at 175 ms, past its own 176 ms (160 ms + 10%) but for 1 ms; if that missed, 44 ms later.
      expect(times).toEqual([176, 220]);
    });

    it('scouts itself when the scout ends without learning anything (its re-sync failed)', async () => {
      const clock = new SimulatedClock();
      const start = clock.now();
      const timing = new ResyncTiming();
      const scout = timing.plan(clock, schedule);
      const waiter = timing.plan(clock, schedule);
      const failing = (async () => {
        await scout.wait(Number.POSITIVE_INFINITY);
        await scout.wait(Number.POSITIVE_INFINITY);
        scout.end();
      })();
      const [times] = await clock.run(Promise.all([pollTimes(clock, waiter, 3, start), failing]));
      expect(times).toEqual([75, 100, 150]);
    });

    it('gives up waiting at the configured interval and polls as if nothing could be learned', async () => {
      const clock = new SimulatedClock();
      const start = clock.now();
      const timing = new ResyncTiming();
      timing.plan(clock, schedule); // a scout that never reports
      const times = await clock.run(pollTimes(clock, timing.plan(clock, schedule), 3, start));
      expect(times).toEqual([1000, 2500, 4750]);
    });

    it('never waits past the time it is given', async () => {
      const clock = new SimulatedClock();
      const start = clock.now();
      const timing = new ResyncTiming();
      timing.plan(clock, schedule);
      const waiter = timing.plan(clock, schedule);
      await clock.run(waiter.wait(333));
      expect(clock.now() - start).toBe(333);
    });
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
    // The first target knows nothing yet and scouts (25, 75, 175, 375 ms); the next ones poll at 300 ms + 10%, once.
    expect(dg.sleeps).toEqual([25, 50, 100, 200, 330, 330]);
    expect(dg.gets()).toBe(6);
  });

  it('a run of 8 targets patched at once: one scouts, the others wait for it and poll once', async () => {
    const clock = new SimulatedClock();
    clock.time = T0;
    const resyncMs = 300;
    const gets = new Map<string, number[]>();
    const api: DatagridApi = {
      listServers: () => Promise.resolve([]),
      updateAuthorization: (_, id) =>
        Promise.resolve(server({ id, status: 'syncing', updated_at: iso(T0) }, T0 - 1000)),
      getServer: (_, id) => {
        gets.set(id, [...(gets.get(id) ?? []), clock.now() - T0]);
        return Promise.resolve(
          clock.now() >= T0 + resyncMs
            ? server({ id, updated_at: iso(T0) }, T0 + resyncMs)
            : server({ id, status: 'syncing', updated_at: iso(T0) }, T0 - 1000),
        );
      },
    };
    const timing = new ResyncTiming();
    const options = { clock, ...schedule, request: {}, resyncTiming: timing };
    const before = server({}, T0 - 1000);
    const ids = Array.from({ length: 8 }, (_, i) => `srv_${i}`);
    const verified = await clock.run(
      Promise.all(
        ids.map(async (id) =>
          verifyResync(
            api,
            { ...target, serverId: id },
            await api.updateAuthorization(undefined, id, 'x'),
            before,
            options,
          ),
        ),
      ),
    );
    expect(verified.every((v) => v.ok)).toBe(true);
    // The scout finds the re-sync at 375 ms (25, 75, 175, 375); each of the others polls once, as soon as it knows.
    expect(gets.get('srv_0')).toEqual([25, 75, 175, 375]);
    for (const id of ids.slice(1)) expect(gets.get(id)).toEqual([375]);
  });
});
