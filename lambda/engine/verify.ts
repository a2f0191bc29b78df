/**
 * Did Datagrid re-sync the server with the new credential? Datagrid re-syncs on its own after an auth change, and
 * whether that finishes before the PATCH response or later is not documented, so we poll GET while the status is
 * pending (docs/architecture.md lists the Datagrid API facts relied on).
 */
import { DatagridError } from '../errors.ts';
import type { Clock, DatagridApi, McpServer, RequestOptions, ResolvedTarget } from '../types/index.ts';
import { ResyncTiming, type PollPlan } from './resync-timing.ts';

export type VerifyCode = 'VERIFY_UNHEALTHY' | 'VERIFY_TOOL_COUNT' | 'VERIFY_TIMEOUT';

export type Verification =
  | { ok: true; server: McpServer }
  | { ok: false; server: McpServer; code: VerifyCode | DatagridError['code']; message: string };

type Health =
  { state: 'healthy' } | { state: 'pending'; why: string } | { state: 'failed'; code: VerifyCode; message: string };

type HealthRules = Pick<ResolvedTarget, 'healthyStatuses' | 'pendingStatuses' | 'minToolCount'>;

export const toolCountOf = (server: McpServer): number | undefined => {
  const count = server.metadata?.tool_count;
  return typeof count === 'number' ? count : undefined;
};

export const lastSyncedAtOf = (server: McpServer): string | undefined => {
  const at = server.metadata?.last_synced_at;
  return typeof at === 'string' ? at : undefined;
};

/** A server's standing right now, without reference to a rotation (used by unchanged detection and audit). */
export function isHealthy(server: McpServer, rules: HealthRules): boolean {
  return rules.healthyStatuses.includes(server.status) && (toolCountOf(server) ?? 0) >= rules.minToolCount;
}

/**
 * Datagrid timestamps are compared with each other, never with our clock (the two clocks need not agree).
 * Unparseable values fall back to "changed means later".
 */
function syncedSince(after: string | undefined, before: string | undefined): boolean {
  if (after === undefined || before === undefined) return true;
  const a = Date.parse(after);
  const b = Date.parse(before);
  return Number.isNaN(a) || Number.isNaN(b) ? after !== before : a > b;
}

export function assessResync(server: McpServer, before: McpServer | undefined, rules: HealthRules): Health {
  if (rules.pendingStatuses.includes(server.status)) return { state: 'pending', why: `status "${server.status}"` };
  if (!rules.healthyStatuses.includes(server.status)) {
    return {
      state: 'failed',
      code: 'VERIFY_UNHEALTHY',
      message: `server status is "${server.status}" after the update (healthy: ${rules.healthyStatuses.join(', ')})`,
    };
  }
  // A healthy status with the old sync time is the state from before our change: the re-sync has not landed yet.
  if (!syncedSince(lastSyncedAtOf(server), before && lastSyncedAtOf(before))) {
    return { state: 'pending', why: 'last_synced_at not yet later than before the update' };
  }
  const tools = toolCountOf(server);
  if ((tools ?? 0) < rules.minToolCount) {
    return {
      state: 'failed',
      code: 'VERIFY_TOOL_COUNT',
      message: `server re-synced with ${tools ?? 'no'} tools, below the minimum of ${rules.minToolCount}`,
    };
  }
  return { state: 'healthy' };
}

export interface VerifyOptions {
  clock: Clock;
  /** Polls start at this interval when nothing can be learned (resync-timing.ts); grows by half each poll up to `maxPollIntervalMs`. */
  pollIntervalMs: number;
  maxPollIntervalMs: number;
  request: RequestOptions;
  /**
   * No poll starts after this (absolute ms by `clock`): a poll started then, retries included, still ends before the
   * run's Datagrid work must. @default no limit but the verify timeout
   */
  lastPollAt?: number;
  /** Shared by a run's targets: times the first poll by the re-syncs seen so far. @default a fresh one */
  resyncTiming?: ResyncTiming;
}

/** Poll while pending, up to the target's verifyTimeoutSeconds. `updated` is the PATCH response. */
export async function verifyResync(
  api: DatagridApi,
  target: ResolvedTarget,
  updated: McpServer,
  before: McpServer | undefined,
  options: VerifyOptions,
): Promise<Verification> {
  const { clock } = options;
  const timeoutAt = clock.now() + target.verifyTimeoutSeconds * 1000;
  const giveUpAt = Math.min(timeoutAt, options.lastPollAt ?? timeoutAt);
  const why = giveUpAt < timeoutAt ? "before the run's deadline" : `within ${target.verifyTimeoutSeconds}s`;
  let server = updated;
  const timing = options.resyncTiming ?? new ResyncTiming();
  const patchedAt = clock.now();
  let polls: PollPlan | undefined;
  let polled = false;
  try {
    for (;;) {
      const health = assessResync(server, before, target);
      if (health.state === 'healthy') {
        if (polled) timing.observe(updated, server, clock.now() - patchedAt);
        return { ok: true, server };
      }
      if (health.state === 'failed') return { ok: false, server, code: health.code, message: health.message };
      const remaining = giveUpAt - clock.now();
      if (remaining <= 0) {
        return {
          ok: false,
          server,
          code: 'VERIFY_TIMEOUT',
          message: `re-sync not confirmed ${why} (${health.why})`,
        };
      }
      // Planned at the first pending answer: only verifications that poll take part in the run's timing.
      polls ??= timing.plan(clock, options, updated);
      await polls.wait(remaining);
      try {
        polled = true;
        server = await api.getServer(target.teamspaceId, target.serverId, options.request);
      } catch (error) {
        if (error instanceof DatagridError)
          return { ok: false, server, code: error.code, message: `while verifying: ${error.message}` };
        throw error;
      }
    }
  } finally {
    polls?.end();
  }
}
