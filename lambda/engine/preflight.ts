/**
 * Pre-flight: before anything is sent to Datagrid, ask the MCP server itself whether it accepts the new credential
 * (the way Secrets Manager's own rotation tests a credential before it goes live). A rejected credential then never
 * reaches Datagrid, and the tools it lists raise the bar for verifying Datagrid's re-sync: Datagrid reports only a
 * tool count, so a re-sync that lost tools would otherwise pass.
 */
import { PreflightError } from '../errors.ts';
import type { McpProbe, McpServer, ResolvedTarget } from '../types/index.ts';
import type { PreflightStatus, ResultError } from '../types/results.ts';
import type { Redactor } from './redactor.ts';

export type PreflightOutcome =
  | { status: 'skipped'; note: string }
  | { status: 'passed'; toolCount: number; toolNamesSha256: string }
  | { status: 'failed'; error: ResultError };

/**
 * Pre-flight one target, or undefined when its `preflight` setting is off. Servers behind OAuth are skipped: the
 * credential Datagrid holds for them is not the one an MCP client would present.
 */
export async function preflightTarget(
  probe: McpProbe | undefined,
  target: ResolvedTarget,
  server: McpServer,
  authorization: string,
  redactor: Redactor,
  /** The pre-flight ends by `deadlineAt` (the latest start of the target's PATCH) even when its timeout is longer. */
  limit: { deadlineAt: number; now: () => number },
): Promise<PreflightOutcome | undefined> {
  if (!target.preflight) return undefined;
  if (server.metadata?.requires_oauth === true) {
    return { status: 'skipped', note: 'pre-flight skipped: the server uses OAuth' };
  }
  if (probe === undefined) {
    return { status: 'failed', error: { code: 'PREFLIGHT_FAILED', message: 'no MCP client is available' } };
  }
  try {
    const timeoutMs = Math.min(target.preflightTimeoutSeconds * 1000, limit.deadlineAt - limit.now());
    const listing = await probe.listTools(server.base_url, authorization, { timeoutMs });
    return { status: 'passed', ...listing };
  } catch (error) {
    const code = error instanceof PreflightError ? error.code : 'PREFLIGHT_FAILED';
    const message = error instanceof Error ? error.message : 'unexpected failure';
    return { status: 'failed', error: { code, message: redactor.scrub(`pre-flight: ${message}`) } };
  }
}

/** The result fields a pre-flight adds. */
export function preflightFields(outcome: PreflightOutcome | undefined): {
  preflight?: PreflightStatus;
  preflightToolCount?: number;
  preflightToolNamesSha256?: string;
} {
  if (outcome === undefined) return {};
  if (outcome.status !== 'passed') return { preflight: outcome.status };
  return {
    preflight: 'passed',
    preflightToolCount: outcome.toolCount,
    preflightToolNamesSha256: outcome.toolNamesSha256,
  };
}

/** The target's health rules for verifying the re-sync: Datagrid must see at least the tools the server listed. */
export function withPreflightMinimum(target: ResolvedTarget, preflightToolCount: number | undefined): ResolvedTarget {
  if (preflightToolCount === undefined || preflightToolCount <= target.minToolCount) return target;
  return { ...target, minToolCount: preflightToolCount };
}
