/** Datagrid requests of one run, read from the emulator's request log. */
import type { RequestLogEntry } from '../local/datagrid-emulator.ts';

export interface DatagridCalls {
  /** Requests the emulator served (not refused by the rate limit), by kind. */
  list: number;
  GET: number;
  PATCH: number;
  other: number;
  /** Requests answered 429 by the rate limit. */
  rateLimited: number;
  /** Every request, 429s included. */
  total: number;
}

const LIST_PATH = '/organization/mcp-servers';

export function countDatagridCalls(log: readonly RequestLogEntry[]): DatagridCalls {
  const calls: DatagridCalls = { list: 0, GET: 0, PATCH: 0, other: 0, rateLimited: 0, total: log.length };
  for (const entry of log) {
    if (entry.status === 429) calls.rateLimited += 1;
    else if (entry.method === 'GET' && entry.path === LIST_PATH) calls.list += 1;
    else if (entry.method === 'GET' && entry.path.startsWith(`${LIST_PATH}/`)) calls.GET += 1;
    else if (entry.method === 'PATCH') calls.PATCH += 1;
    else calls.other += 1;
  }
  return calls;
}

/**
 * The mean time the emulator took to answer a served request of one kind (arrival to answer, 429 answers and dropped
 * connections excluded), ms; undefined when there was none.
 */
export function meanAnswerMs(log: readonly RequestLogEntry[], kind: 'PATCH' | 'GET'): number | undefined {
  const times = log
    .filter((e) => e.status !== 429 && e.status !== 0 && e.answeredAt !== undefined)
    .filter((e) => (kind === 'PATCH' ? e.method === 'PATCH' : e.method === 'GET' && e.path.startsWith(`${LIST_PATH}/`)))
    .map((e) => e.answeredAt! - e.receivedAt);
  return times.length === 0 ? undefined : times.reduce((sum, t) => sum + t, 0) / times.length;
}
