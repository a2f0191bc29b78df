/**
 * What a setting allows at best: the lower bound of a run's wall time and the fewest calls each service needs.
 * Pure arithmetic, so the table can show exactly how each figure is derived.
 */
import type { Concurrency } from './world.ts';

export interface Setting {
  name: string;
  /** Injected latency of every PATCH, ms. */
  patchLatencyMs: number;
  /** `sync`: the PATCH answers after the re-sync; `async`: it answers `syncing` and the re-sync follows. */
  resync: 'sync' | 'async';
  /** Async only: how long after the PATCH answer Datagrid starts the re-sync, ms. */
  asyncDelayMs: number;
  /** A global token bucket over every Datagrid request, answering 429 + Retry-After when empty. */
  rateLimit?: { requestsPerSecond: number; burst: number };
  /** This setting's concurrency, when it is not the benchmark's default. */
  concurrency?: Concurrency;
  /**
   * Pre-flight on for every target (`defaults.preflight`). Its calls go to the MCP servers, not to Datagrid or AWS,
   * so neither bound counts them: the row measures their cost, and the wall-time target does not apply to it.
   */
  preflight?: boolean;
}

export interface Shape {
  targets: number;
  teamspaces: number;
}

export interface LowerBound {
  /** Datagrid requests the setting needs at least: a PATCH per target, a GET per target when the re-sync is async
   * (the PATCH answer cannot show it finished), one list per teamspace. */
  requests: number;
  /** min(global, perTeamspace × teamspaces): how many targets can be in flight at once. */
  concurrency: number;
  /** (PATCH latency + async re-sync delay) × targets ÷ concurrency. */
  latencyBoundMs: number;
  /** (requests − burst) ÷ rate: a token bucket admits no faster. 0 without a rate limit. */
  rateBoundMs: number;
  boundMs: number;
  binding: 'latency' | 'rate limit';
}

export function lowerBound(setting: Setting, shape: Shape, concurrency: Concurrency): LowerBound {
  const requests = shape.targets * (setting.resync === 'async' ? 2 : 1) + shape.teamspaces;
  const inFlight = Math.min(concurrency.global, concurrency.perTeamspace * shape.teamspaces);
  const perTarget = setting.patchLatencyMs + (setting.resync === 'async' ? setting.asyncDelayMs : 0);
  const latencyBoundMs = (perTarget * shape.targets) / inFlight;
  const rateBoundMs = setting.rateLimit
    ? (Math.max(0, requests - setting.rateLimit.burst) / setting.rateLimit.requestsPerSecond) * 1000
    : 0;
  return {
    requests,
    concurrency: inFlight,
    latencyBoundMs,
    rateBoundMs,
    boundMs: Math.max(latencyBoundMs, rateBoundMs),
    binding: rateBoundMs > latencyBoundMs ? 'rate limit' : 'latency',
  };
}

/** Limits of the AWS APIs the rotator uses (the same numbers as lambda/constants.ts, restated from AWS's docs). */
const BATCH_GET_SECRET_VALUE_MAX = 20;
const BATCH_GET_ITEM_MAX = 100;
const PUT_EVENTS_MAX_ENTRIES = 10;

export interface MinimumCalls {
  /** Per operation, e.g. `secretsmanager.BatchGetSecretValue`. */
  [operation: string]: number;
}

/**
 * The fewest calls a forced rotation of every target can make:
 * - Secrets Manager: every target secret plus the API key, 20 per BatchGetSecretValue;
 * - DynamoDB: every state item, 100 per BatchGetItem; per target one conditional UpdateItem taking the lease (it must
 *   precede the PATCH and fail alone when another run holds it, which BatchWriteItem cannot express and an
 *   all-or-nothing TransactWriteItems would turn into a failure of its whole batch) and one recording the outcome
 *   after that target's verification;
 * - EventBridge: one event per target plus the run summary, 10 per PutEvents (the 256 KB limit does not bind here);
 * - Datagrid: one list per teamspace, one PATCH per target, and one GET per target when the re-sync is async.
 */
export function minimumCalls(setting: Setting, shape: Shape): MinimumCalls {
  return {
    'secretsmanager.BatchGetSecretValue': Math.ceil((shape.targets + 1) / BATCH_GET_SECRET_VALUE_MAX),
    'dynamodb.BatchGetItem': Math.ceil(shape.targets / BATCH_GET_ITEM_MAX),
    'dynamodb.UpdateItem': 2 * shape.targets,
    'eventbridge.PutEvents': Math.ceil((shape.targets + 1) / PUT_EVENTS_MAX_ENTRIES),
    'datagrid.list': shape.teamspaces,
    'datagrid.PATCH': shape.targets,
    'datagrid.GET': setting.resync === 'async' ? shape.targets : 0,
  };
}
