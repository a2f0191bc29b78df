/**
 * The rotator's function as the tasks of its Step Functions state machine (orchestration `stateMachine`), for
 * fleets one 15-minute invocation cannot finish:
 *   plan     - validates the request (any event the handler accepts) and splits the selected targets into shards
 *              of whole teamspaces;
 *   shard    - rotates or audits one shard's targets under the parent run id, emitting their result events, and
 *              returns its counts;
 *   complete - sends the one `MCP Rotation Run Completed` event with the counts of every shard, and fails when a
 *              rotation target failed, so the execution fails and alarms fire.
 * Only ids and counts travel between states: never a secret, an Authorization value or a result list, so every
 * payload stays far under Step Functions' 256 KB at 10,000 targets.
 */
import * as z from 'zod/mini';
import { RequestError } from './errors.ts';
import { selectTargets, targetsUsingSecret } from './engine/targets.ts';
import { parseInvocation } from './invocation.ts';
import type { ResolvedTarget, RotatorConfig } from './types/index.ts';
import type { RunCounts, RunRequest, RunSummary } from './types/results.ts';

/** A shard holds whole teamspaces; small ones are packed together up to this many targets. */
export const SHARD_MAX_TARGETS = 30;

export interface Shard {
  /** Teamspace ids (`""` for targets without a teamspace). */
  teamspaces: string[];
  targets: number;
}

export interface RunPlan {
  runId: string;
  request: RunRequest;
  startedAt: string;
  targets: number;
  shards: Shard[];
}

export interface ShardReport {
  targets: number;
  counts: RunCounts;
}

/** The run summary without results: what `complete` returns and emits. */
export type RunTotals = Omit<RunSummary, 'results'> & { shards: number };

const ids = z.array(z.string().check(z.maxLength(256))).check(z.maxLength(10_000));
const counts = z.object({
  rotated: z.number(),
  unchanged: z.number(),
  failed: z.number(),
  skipped: z.number(),
  compliant: z.number(),
  noncompliant: z.number(),
});
const text = z.string().check(z.maxLength(1024));
// The request `plan` produced from the event it validated: here it is only checked to have that shape.
const request = z.strictObject({
  action: z.enum(['rotate', 'audit']),
  trigger: z.enum(['schedule', 'manual', 'incident', 'secret-changed']),
  force: z.boolean(),
  dryRun: z.boolean(),
  targets: z.optional(z.array(text).check(z.maxLength(1000))),
  reason: z.optional(text),
  incidentId: z.optional(text),
  requestedBy: z.optional(text),
  secretRef: z.optional(text),
});
const step = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('plan'), event: z.unknown() }),
  z.strictObject({ action: z.literal('shard'), runId: z.string(), request, teamspaces: ids }),
  z.strictObject({
    action: z.literal('complete'),
    runId: z.string(),
    request,
    startedAt: z.string(),
    reports: z.array(z.object({ targets: z.number(), counts })),
  }),
]);
export type FleetStep = z.infer<typeof step>;

const STEP_ACTIONS = new Set(['plan', 'shard', 'complete']);

/** The step a state machine task sent, or undefined for every other event (those go to `parseInvocation`). */
export function parseFleetStep(event: unknown): FleetStep | undefined {
  if (typeof event !== 'object' || event === null || !('action' in event)) return undefined;
  if (!STEP_ACTIONS.has(String(event.action))) return undefined;
  const parsed = step.safeParse(event);
  if (!parsed.success) {
    const where = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`);
    throw new RequestError(`Rejected state machine step "${String(event.action)}": ${where.join('; ')}.`);
  }
  return parsed.data;
}

/** The targets a request selects, as a one-invocation run would select them. */
export function requestedTargets(config: RotatorConfig, request: RunRequest): ResolvedTarget[] {
  return request.secretRef !== undefined
    ? targetsUsingSecret(config, request.secretRef)
    : selectTargets(config, request.targets);
}

/** Validates the event and splits its targets into shards of whole teamspaces, in configuration order. */
export function planRun(config: RotatorConfig, event: unknown, runId: string, now: Date): RunPlan {
  const runRequest = parseInvocation(event);
  const targets = requestedTargets(config, runRequest);
  const perTeamspace = new Map<string, number>();
  for (const target of targets) {
    const teamspace = target.teamspaceId ?? '';
    perTeamspace.set(teamspace, (perTeamspace.get(teamspace) ?? 0) + 1);
  }
  const shards: Shard[] = [];
  for (const [teamspace, count] of perTeamspace) {
    const last = shards.at(-1);
    if (last && last.targets + count <= SHARD_MAX_TARGETS) {
      last.teamspaces.push(teamspace);
      last.targets += count;
    } else shards.push({ teamspaces: [teamspace], targets: count });
  }
  return { runId, request: runRequest, startedAt: now.toISOString(), targets: targets.length, shards };
}

/**
 * The configuration one shard runs with: its teamspaces' selected targets only, and `perTeamspace` as its global
 * limit, so `MaxConcurrency` shards together never have more than `concurrency.global` Datagrid requests in flight.
 */
export function shardConfig(config: RotatorConfig, request: RunRequest, teamspaces: readonly string[]): RotatorConfig {
  const wanted = new Set(teamspaces);
  const targets = requestedTargets(config, request).filter((t) => wanted.has(t.teamspaceId ?? ''));
  return {
    ...config,
    concurrency: {
      ...config.concurrency,
      global: Math.min(config.concurrency.global, config.concurrency.perTeamspace),
    },
    targets,
  };
}

/** The shard's request: its targets are already chosen by `shardConfig`. */
export function shardRequest(request: RunRequest): RunRequest {
  const { targets: _chosen, secretRef: _matched, ...rest } = request;
  return rest;
}

/** A rejected Datagrid API key: the whole execution stops (the state machine retries nothing on this error). */
export class ApiKeyRejectedError extends Error {
  constructor(runId: string) {
    super(`Run ${runId}: Datagrid rejected the API key (401/403); the execution stops`);
    this.name = 'ApiKeyRejected';
  }
}

/** The run's first targets (over every shard) all failed (`haltAfterFailures`): no further shard starts. */
export class RunHaltedError extends Error {
  constructor(runId: string, halted: number) {
    super(`Run ${runId}: halted after systemic failures; ${halted} target(s) skipped with HALTED`);
    this.name = 'RunHalted';
  }
}

/** A shard's summary as the state machine sees it: counts, or a halting error. */
export function shardReport(summary: RunSummary): ShardReport {
  const codes = summary.results.map((r) => ('error' in r ? r.error?.code : undefined));
  if (codes.includes('DATAGRID_AUTH_FAILED')) throw new ApiKeyRejectedError(summary.runId);
  const halted = codes.filter((code) => code === 'HALTED').length;
  if (halted > 0) throw new RunHaltedError(summary.runId, halted);
  return { targets: summary.results.length, counts: summary.counts };
}

/** The run's totals over every shard's report. */
export function runTotals(
  runId: string,
  runRequest: RunRequest,
  startedAt: string,
  reports: readonly ShardReport[],
  now: Date,
): RunTotals {
  const total: RunCounts = { rotated: 0, unchanged: 0, failed: 0, skipped: 0, compliant: 0, noncompliant: 0 };
  for (const report of reports) {
    for (const key of Object.keys(total) as (keyof RunCounts)[]) total[key] += report.counts[key];
  }
  return {
    runId,
    action: runRequest.action,
    trigger: runRequest.trigger,
    dryRun: runRequest.dryRun,
    ...(runRequest.incidentId !== undefined && { incidentId: runRequest.incidentId }),
    ...(runRequest.reason !== undefined && { reason: runRequest.reason }),
    ...(runRequest.requestedBy !== undefined && { requestedBy: runRequest.requestedBy }),
    startedAt,
    finishedAt: now.toISOString(),
    counts: total,
    shards: reports.length,
  };
}
