import { describe, expect, it } from 'vitest';
import { lowerBound } from '../../../bench/bounds.ts';
import type { Setting } from '../../../bench/bounds.ts';
import { meanAnswerMs } from '../../../bench/datagrid-calls.ts';
import type { RequestLogEntry } from '../../../local/datagrid-emulator.ts';

const shape = { targets: 600, teamspaces: 20 };
const concurrency = { global: 8, perTeamspace: 4, haltAfterFailures: 3 };
const sync: Setting = { name: 'sync', patchLatencyMs: 150, resync: 'sync', asyncDelayMs: 0 };
const async: Setting = { name: 'async', patchLatencyMs: 150, resync: 'async', asyncDelayMs: 150 };

describe("the benchmark's lower bound", () => {
  it("uses Datagrid's measured PATCH time, never less than the injected latency, and keeps the nominal bound", () => {
    const measured = lowerBound(sync, shape, concurrency, { patchMs: 180 });
    expect(measured.latencyBoundMs).toBe((180 * 600) / 8);
    expect(measured.nominalLatencyBoundMs).toBe((150 * 600) / 8);
    expect(lowerBound(sync, shape, concurrency, { patchMs: 120 }).latencyBoundMs).toBe((150 * 600) / 8);
    expect(lowerBound(sync, shape, concurrency).latencyBoundMs).toBe((150 * 600) / 8);
  });

  it('adds the async re-sync (at least its delay) and the GET that reads it; a sync bound ignores both', () => {
    const bound = lowerBound(async, shape, concurrency, { patchMs: 151, resyncMs: 160, getMs: 2 });
    expect(bound.perTargetMs).toEqual({ patch: 151, resync: 160, get: 2 });
    expect(bound.latencyBoundMs).toBe(((151 + 160 + 2) * 600) / 8);
    expect(lowerBound(async, shape, concurrency, { resyncMs: 100 }).perTargetMs.resync).toBe(150);
    expect(lowerBound(sync, shape, concurrency, { resyncMs: 160, getMs: 2 }).perTargetMs).toEqual({
      patch: 150,
      resync: 0,
      get: 0,
    });
  });

  it('is the rate bound when the rate limit binds', () => {
    const limited = { ...sync, rateLimit: { requestsPerSecond: 50, burst: 50 } };
    const bound = lowerBound(limited, shape, { ...concurrency, global: 16 }, { patchMs: 170 });
    expect(bound.rateBoundMs).toBe(((620 - 50) / 50) * 1000);
    expect(bound.binding).toBe('rate limit');
    expect(bound.boundMs).toBe(bound.rateBoundMs);
  });
});

describe("the emulator's answer times", () => {
  const entry = (method: string, path: string, status: number, receivedAt: number, answeredAt?: number) =>
    ({ method, path, query: '', teamspace: 'ts', status, receivedAt, answeredAt }) as RequestLogEntry;

  it('average the served requests of one kind, leaving out 429s, dropped connections and the list', () => {
    const log = [
      entry('PATCH', '/organization/mcp-servers/a', 200, 0, 170),
      entry('PATCH', '/organization/mcp-servers/b', 200, 10, 200),
      entry('PATCH', '/organization/mcp-servers/c', 429, 0, 1),
      entry('PATCH', '/organization/mcp-servers/d', 0, 0),
      entry('GET', '/organization/mcp-servers', 200, 0, 50),
      entry('GET', '/organization/mcp-servers/a', 200, 0, 4),
    ];
    expect(meanAnswerMs(log, 'PATCH')).toBe(180);
    expect(meanAnswerMs(log, 'GET')).toBe(4);
    expect(meanAnswerMs([], 'GET')).toBeUndefined();
  });
});
