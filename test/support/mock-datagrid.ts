/**
 * The unit tests' Datagrid: undici's MockAgent (the dispatcher production's undici Pool is swapped for) on one
 * origin, with network access refused, and a clock whose sleeps move time on instead of waiting. Fresh for every
 * test; after each, every interceptor must have been used.
 */
import { MockAgent } from 'undici';
import type { MockPool } from 'undici';
import { afterEach, beforeEach } from 'vitest';
import { FakeClock } from './fakes.ts';

export interface MockDatagrid {
  agent: MockAgent;
  pool: MockPool;
  /** Starts at MOCK_START_MS for every test. */
  clock: FakeClock;
}

export const MOCK_START_MS = 1_700_000_000_000;

export function useMockDatagrid(origin: string): MockDatagrid {
  const mock = {} as MockDatagrid;
  beforeEach(() => {
    mock.agent = new MockAgent();
    mock.agent.disableNetConnect();
    mock.pool = mock.agent.get(origin);
    mock.clock = new FakeClock(MOCK_START_MS);
  });
  afterEach(async () => {
    mock.agent.assertNoPendingInterceptors();
    await mock.agent.close();
  });
  return mock;
}
