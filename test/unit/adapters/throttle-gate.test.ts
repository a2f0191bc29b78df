import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createDatagridApiFactory } from '../../../lambda/adapters/datagrid.ts';
import { ThrottleGate } from '../../../lambda/adapters/throttle-gate.ts';
import { systemClock } from '../../../lambda/runtime.ts';
import { FakeClock } from '../../support/fakes.ts';
import { mcpServerFixture } from '../../support/mcp-server-fixture.ts';

describe('ThrottleGate', () => {
  it('sets no limit and no pause before the first 429', async () => {
    const clock = new FakeClock(1_000);
    const gate = new ThrottleGate(clock);
    const tickets = await Promise.all(Array.from({ length: 50 }, () => gate.acquire()));
    expect(gate.inFlight).toBe(50);
    for (const ticket of tickets) gate.release(ticket);
    expect(gate.limit).toBe(Number.POSITIVE_INFINITY);
    expect(clock.sleeps).toEqual([]);
  });

  it('pauses every new request until the wait a 429 asked for has passed', async () => {
    const clock = new FakeClock(1_000);
    const gate = new ThrottleGate(clock);
    gate.release(await gate.acquire(), 300);
    clock.advance(100);
    await gate.acquire();
    expect(clock.sleeps).toEqual([200]);
  });

  it('cuts the in-flight limit to what succeeded while the refused request was under way, then raises it by 1/limit per success', async () => {
    const clock = new FakeClock(1_000);
    const gate = new ThrottleGate(clock);
    const tickets = await Promise.all(Array.from({ length: 10 }, () => gate.acquire()));
    clock.advance(10);
    for (const ticket of tickets.slice(0, 3)) gate.release(ticket);
    gate.release(tickets[3]!, 0);
    expect(gate.limit).toBe(3);
    gate.release(tickets[4]!);
    expect(gate.limit).toBeCloseTo(3 + 1 / 3);
  });

  it('never keeps the limit at or above what was in flight when a 429 came, and never below one', async () => {
    const clock = new FakeClock(1_000);
    const gate = new ThrottleGate(clock);
    const [a, b] = await Promise.all([gate.acquire(), gate.acquire()]);
    gate.release(a, 0); // nothing admitted meanwhile
    expect(gate.limit).toBe(1);
    gate.release(b);
  });

  it('does not cut again for refusals of requests sent before the last cut', async () => {
    const clock = new FakeClock(1_000);
    const gate = new ThrottleGate(clock);
    const early = await Promise.all(Array.from({ length: 8 }, () => gate.acquire()));
    clock.advance(10);
    for (const ticket of early.slice(0, 4)) gate.release(ticket);
    gate.release(early[4]!, 0);
    expect(gate.limit).toBe(3); // 4 admitted, 4 in flight before the 429 minus one
    gate.release(early[5]!, 0);
    gate.release(early[6]!, 0);
    expect(gate.limit).toBe(3);
    gate.release(early[7]!);
    const late = await gate.acquire();
    clock.advance(10);
    gate.release(late, 0);
    expect(gate.limit).toBe(1); // nothing admitted while the late request was under way
  });

  it('holds requests beyond the limit and lets them through as others finish', async () => {
    const clock = new FakeClock(1_000);
    const gate = new ThrottleGate(clock);
    const first = await Promise.all(Array.from({ length: 5 }, () => gate.acquire()));
    clock.advance(10);
    gate.release(first[3]!);
    gate.release(first[4]!);
    gate.release(first[0]!, 0); // 2 admitted meanwhile: limit 2, in flight 2
    let admitted = 0;
    const queued = Array.from({ length: 2 }, () => gate.acquire().then(() => (admitted += 1)));
    await Promise.resolve();
    expect(admitted).toBe(0);
    gate.release(first[1]!);
    await Promise.race(queued);
    expect(admitted).toBe(1);
    gate.release(first[2]!);
    await Promise.all(queued);
    expect(admitted).toBe(2);
    expect(gate.inFlight).toBe(2);
  });
});

describe('the Datagrid client under a global rate limit', () => {
  it('completes every request of 60 concurrent callers within 4 attempts each, with few refusals', async () => {
    // A token bucket of 200 requests/s (burst 5), answering 429 with retry-after-ms as Datagrid's client reads it.
    const rate = 200;
    let tokens = 5;
    let refilledAt = performance.now();
    let refused = 0;
    const body = JSON.stringify(mcpServerFixture('srv_1'));
    const http = createServer((_req, res) => {
      const now = performance.now();
      tokens = Math.min(5, tokens + ((now - refilledAt) * rate) / 1000);
      refilledAt = now;
      setTimeout(() => {
        if (tokens >= 1) {
          tokens -= 1;
          res.writeHead(200, { 'content-type': 'application/json' }).end(body);
          return;
        }
        refused += 1;
        const waitMs = Math.ceil(((1 - tokens) * 1000) / rate);
        res.writeHead(429, { 'retry-after-ms': String(waitMs), 'retry-after': '1' }).end('{}');
      }, 10);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/v1`;
      const clock = systemClock;
      const api = createDatagridApiFactory({ baseUrl, requestTimeoutMs: 5_000, maxAttempts: 4, clock })('key');
      const outcomes = await Promise.allSettled(Array.from({ length: 60 }, () => api.getServer(undefined, 'srv_1')));
      expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
      // The first wave is refused beyond the burst (55); after it the client stays near what the server admits.
      // (Without the gate: 40+ of the 60 requests failed after 4 refusals each.)
      expect(refused).toBeLessThan(55 + 35);
    } finally {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });
});
