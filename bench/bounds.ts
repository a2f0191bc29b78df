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
  /**
   * Per target, the Datagrid time no client can shorten, × targets ÷ concurrency: the PATCH's answer time, and when
   * the re-sync is async, the re-sync (from the PATCH to its `last_synced_at`, at least the configured delay) and the
   * GET that sees it finished. Measured by the emulator when the run's request log was given (`measured`), else the
   * injected latency and delay alone.
   */
  latencyBoundMs: number;
  /**
   * The per-target time the latency bound uses, ms. A synchronous PATCH answers only after Datagrid's re-sync (a real
   * MCP handshake with the server's upstream), so it takes longer than the injected latency: by the emulator's clock,
   * from each request's arrival to its answer, averaged over the requests it served (429 answers excluded).
   */
  perTargetMs: { patch: number; resync: number; get: number };
  /** The latency bound with the injected latency and delay alone (the bound before Datagrid's time was measured). */
  nominalLatencyBoundMs: number;
  /** (requests − burst) ÷ rate: a token bucket admits no faster. 0 without a rate limit. */
  rateBoundMs: number;
  boundMs: number;
  binding: 'latency' | 'rate limit';
}

/** Datagrid's measured times in the run, ms (means over the served requests and the re-syncs). */
export interface MeasuredDatagrid {
  patchMs?: number;
  /** Async only: from a PATCH to the `last_synced_at` of the re-sync it started. */
  resyncMs?: number;
  getMs?: number;
}

/**
 * No client can hold more than `concurrency` targets in flight, so it cannot finish before their summed Datagrid
 * time ÷ `concurrency`, however fast it is itself.
 */
export function lowerBound(
  setting: Setting,
  shape: Shape,
  concurrency: Concurrency,
  measured: MeasuredDatagrid = {},
): LowerBound {
  const async = setting.resync === 'async';
  const requests = shape.targets * (async ? 2 : 1) + shape.teamspaces;
  const inFlight = Math.min(concurrency.global, concurrency.perTeamspace * shape.teamspaces);
  const asyncDelayMs = async ? setting.asyncDelayMs : 0;
  const perTargetMs = {
    patch: Math.max(setting.patchLatencyMs, measured.patchMs ?? 0),
    resync: async ? Math.max(asyncDelayMs, measured.resyncMs ?? 0) : 0,
    get: async ? (measured.getMs ?? 0) : 0,
  };
  const latencyBoundMs = ((perTargetMs.patch + perTargetMs.resync + perTargetMs.get) * shape.targets) / inFlight;
  const nominalLatencyBoundMs = ((setting.patchLatencyMs + asyncDelayMs) * shape.targets) / inFlight;
  const rateBoundMs = setting.rateLimit
    ? (Math.max(0, requests - setting.rateLimit.burst) / setting.rateLimit.requestsPerSecond) * 1000
    : 0;
  return {
    requests,
    concurrency: inFlight,
    latencyBoundMs,
    perTargetMs,
    nominalLatencyBoundMs,
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
