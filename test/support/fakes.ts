/** In-memory adapters for engine tests: each port of lambda/types/ports.ts, observable and scriptable. */
import { DatagridError, SecretError } from '../../lambda/errors.ts';
import { mcpServerFixture } from './mcp-server-fixture.ts';
import type {
  Clock,
  DatagridApi,
  EmitReport,
  EventSink,
  Log,
  McpServer,
  OutgoingEvent,
  RequestOptions,
  SecretSource,
  SecretValue,
  LeaseCheck,
  LeaseHolder,
  RunTally,
  StateStore,
  StateUpdate,
  TargetState,
} from '../../lambda/types/index.ts';

/**
 * Virtual time: sleep records the wait and advances the clock at once, so polling and backoff cost no real time and
 * tests can assert the waits. The one fake clock of the unit tests (`advance` moves time without a sleep).
 */
export class FakeClock implements Clock {
  time: number;
  sleeps: number[] = [];
  constructor(start = Date.parse('2026-11-24T12:00:00.000Z')) {
    this.time = start;
  }
  now = (): number => this.time;
  sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.time += ms;
    await Promise.resolve();
  };
  advance(ms: number): void {
    this.time += ms;
  }
}

/**
 * Virtual time for concurrent work: a sleep waits until the clock reaches its end, and `run` moves the clock to the
 * earliest pending sleep only once every task is blocked on one, so tasks interleave as they would in real time.
 * Only for in-memory work: real I/O would not be waited for.
 */
export class SimulatedClock implements Clock {
  time = Date.parse('2026-11-24T12:00:00.000Z');
  sleeps: number[] = [];
  #timers: { at: number; seq: number; wake: () => void }[] = [];
  #seq = 0;
  now = (): number => this.time;
  sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
    this.sleeps.push(ms);
    return new Promise((wake) => {
      if (signal?.aborted) return wake();
      const timer = { at: this.time + Math.max(0, ms), seq: this.#seq++, wake };
      this.#timers.push(timer);
      signal?.addEventListener('abort', () => {
        this.#timers = this.#timers.filter((t) => t !== timer);
        wake();
      });
    });
  };

  async run<T>(work: Promise<T>): Promise<T> {
    let settled = false;
    const result = work.finally(() => (settled = true));
    for (;;) {
      // Every promise chain that can move without time passing does so before the next macrotask.
      await new Promise((resolve) => setImmediate(resolve));
      if (settled) return result;
      this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#timers.shift();
      if (next === undefined) throw new Error('SimulatedClock: every task is blocked and none is sleeping');
      this.time = Math.max(this.time, next.at);
      next.wake();
    }
  }
}

export class FakeSecrets implements SecretSource {
  /** secretId -> versions, the last one is AWSCURRENT. */
  versions = new Map<string, { versionId: string; value: string; createdAt: number }[]>();
  errors = new Map<string, Error>();
  getCurrentCalls: string[][] = [];
  getVersionCalls: [string, string][] = [];
  private counter = 0;

  put(secretId: string, value: string, createdAt = Date.parse('2026-11-20T00:00:00Z')): string {
    const versionId = `v${++this.counter}-${secretId.replace(/\W/g, '')}`;
    const list = this.versions.get(secretId) ?? [];
    list.push({ versionId, value, createdAt });
    this.versions.set(secretId, list);
    return versionId;
  }

  private toValue(secretId: string, v: { versionId: string; value: string; createdAt: number }): SecretValue {
    return {
      secretId,
      arn: `arn:aws:secretsmanager:us-east-1:111122223333:secret:${secretId}-AbCdEf`,
      name: secretId,
      ...v,
    };
  }

  getCurrent(secretIds: readonly string[]): Promise<Map<string, SecretValue | Error>> {
    this.getCurrentCalls.push([...secretIds]);
    const out = new Map<string, SecretValue | Error>();
    for (const id of secretIds) {
      const error = this.errors.get(id);
      const current = this.versions.get(id)?.at(-1);
      out.set(
        id,
        error ?? (current ? this.toValue(id, current) : new SecretError('SECRET_NOT_FOUND', `secret ${id} not found`)),
      );
    }
    return Promise.resolve(out);
  }

  getVersion(secretId: string, versionId: string): Promise<SecretValue> {
    this.getVersionCalls.push([secretId, versionId]);
    const v = this.versions.get(secretId)?.find((x) => x.versionId === versionId);
    return v
      ? Promise.resolve(this.toValue(secretId, v))
      : Promise.reject(new SecretError('SECRET_NOT_FOUND', `version ${versionId} of ${secretId} not found`));
  }
}

type Resync = { status: string; tools?: number };

/**
 * A scriptable Datagrid: `accepts(serverId, authorization)` decides what a re-sync yields; `asyncPolls` makes the PATCH
 * answer "syncing" and the result appear only after that many GETs.
 */
export class FakeDatagrid {
  servers = new Map<string, McpServer & { teamspace: string | undefined; authorization?: string }>();
  calls: { method: string; teamspace: string | undefined; serverId?: string }[] = [];
  patches: { serverId: string; authorization: string; apiKey: string }[] = [];
  resync: (serverId: string, authorization: string) => Resync = () => ({ status: 'active', tools: 3 });
  asyncPolls = 0;
  /** Fail the next calls of a kind: method -> errors to throw in order. */
  failures = new Map<string, Error[]>();
  validApiKey = 'dg-api-key-canary-7f3a9c';
  inFlight = 0;
  maxInFlight = 0;
  maxInFlightByTeamspace = new Map<string | undefined, number>();
  private inFlightByTeamspace = new Map<string | undefined, number>();
  private pending = new Map<string, { polls: number; result: Resync }>();
  private seq = 0;

  addServer(id: string, teamspace: string | undefined, fields: Partial<McpServer> = {}): void {
    this.servers.set(`${teamspace ?? ''}/${id}`, { ...mcpServerFixture(id, fields), teamspace });
  }

  server(id: string, teamspace?: string) {
    return this.servers.get(`${teamspace ?? ''}/${id}`);
  }

  private view(s: McpServer & { teamspace?: string; authorization?: string }): McpServer {
    const { teamspace: _t, authorization: _a, ...rest } = s;
    return structuredClone(rest);
  }

  private async call<T>(
    method: string,
    apiKey: string,
    teamspace: string | undefined,
    serverId: string | undefined,
    options: RequestOptions | undefined,
    body: () => T,
  ): Promise<T> {
    this.calls.push({ method, teamspace, ...(serverId !== undefined && { serverId }) });
    options?.onAttempt?.();
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const ts = (this.inFlightByTeamspace.get(teamspace) ?? 0) + 1;
    this.inFlightByTeamspace.set(teamspace, ts);
    this.maxInFlightByTeamspace.set(teamspace, Math.max(this.maxInFlightByTeamspace.get(teamspace) ?? 0, ts));
    try {
      await new Promise((r) => setImmediate(r));
      const failure = this.failures.get(method)?.shift();
      if (failure) throw failure;
      if (apiKey !== this.validApiKey)
        throw new DatagridError('DATAGRID_AUTH_FAILED', `${method}: HTTP 401`, { status: 401, attempts: 1 });
      return body();
    } finally {
      this.inFlight -= 1;
      this.inFlightByTeamspace.set(teamspace, (this.inFlightByTeamspace.get(teamspace) ?? 1) - 1);
    }
  }

  private applyResync(s: McpServer & { authorization?: string }, result: Resync) {
    this.seq += 1;
    s.status = result.status;
    s.metadata = {
      ...s.metadata,
      tool_count: result.tools ?? 0,
      last_synced_at: new Date(Date.parse('2026-11-24T12:00:00Z') + this.seq * 1000).toISOString(),
    };
  }

  api(apiKey: string): DatagridApi {
    const find = (teamspace: string | undefined, serverId: string) => {
      const s = this.server(serverId, teamspace);
      if (!s)
        throw new DatagridError('SERVER_NOT_FOUND', `MCP server ${serverId} not found (HTTP 404)`, {
          status: 404,
          attempts: 1,
        });
      return s;
    };
    return {
      listServers: (teamspace, options) =>
        this.call('list', apiKey, teamspace, undefined, options, () =>
          [...this.servers.values()].filter((s) => s.teamspace === teamspace).map((s) => this.view(s)),
        ),
      getServer: (teamspace, serverId, options) =>
        this.call('get', apiKey, teamspace, serverId, options, () => {
          const s = find(teamspace, serverId);
          const key = `${teamspace ?? ''}/${serverId}`;
          const pending = this.pending.get(key);
          if (pending && --pending.polls <= 0) {
            this.pending.delete(key);
            this.applyResync(s, pending.result);
          }
          return this.view(s);
        }),
      updateAuthorization: (teamspace, serverId, authorization, options) =>
        this.call('patch', apiKey, teamspace, serverId, options, () => {
          const s = find(teamspace, serverId);
          this.patches.push({ serverId, authorization, apiKey });
          s.authorization = authorization;
          const result = this.resync(serverId, authorization);
          if (this.asyncPolls > 0) {
            s.status = 'syncing';
            this.pending.set(`${teamspace ?? ''}/${serverId}`, { polls: this.asyncPolls, result });
          } else this.applyResync(s, result);
          return this.view(s);
        }),
    };
  }
}

export class FakeState implements StateStore {
  items = new Map<string, TargetState>();
  writes: { pk: string; update: StateUpdate }[] = [];
  leaseCalls: string[] = [];
  confirmCalls: string[] = [];
  getManyCalls = 0;
  /** Run records (state machine runs), by run id; `runCalls` counts their reads and writes. */
  runs = new Map<string, RunTally & { expiresAt?: number }>();
  runCalls = 0;

  getMany(pks: readonly string[]): Promise<Map<string, TargetState>> {
    this.getManyCalls += 1;
    const out = new Map<string, TargetState>();
    for (const pk of pks) {
      const item = this.items.get(pk);
      if (item) out.set(pk, structuredClone(item));
    }
    return Promise.resolve(out);
  }

  acquireLease(pk: string, holder: LeaseHolder, expiresAt: number, now: number): Promise<boolean> {
    this.leaseCalls.push(pk);
    const item = this.items.get(pk);
    if (item?.leaseOwner !== undefined && item.leaseOwner !== holder.owner && (item.leaseExpiresAt ?? 0) >= now)
      return Promise.resolve(false);
    this.items.set(pk, {
      ...(item ?? { pk, serverId: '' }),
      leaseOwner: holder.owner,
      leaseAttempt: holder.attempt,
      leaseExpiresAt: expiresAt,
    });
    return Promise.resolve(true);
  }

  #holds(pk: string, holder: LeaseHolder): boolean {
    const item = this.items.get(pk);
    return item?.leaseOwner === holder.owner && item.leaseAttempt === holder.attempt;
  }

  confirmLease(pk: string, holder: LeaseHolder, expiresAt: number): Promise<LeaseCheck> {
    this.confirmCalls.push(pk);
    const item = this.items.get(pk);
    const held = this.#holds(pk, holder);
    if (held) this.items.set(pk, { ...item!, leaseExpiresAt: expiresAt });
    const incidentPending = item?.incidentPending;
    return Promise.resolve({ held, ...(incidentPending !== undefined && { incidentPending }) });
  }

  markIncident(pk: string, incidentId: string): Promise<void> {
    this.items.set(pk, { ...(this.items.get(pk) ?? { pk, serverId: '' }), incidentPending: incidentId });
    return Promise.resolve();
  }

  complete(pk: string, holder: LeaseHolder, update: StateUpdate): Promise<void> {
    const item = this.items.get(pk);
    if (item === undefined || !this.#holds(pk, holder)) return Promise.reject(new Error(`lease on ${pk} lost`));
    this.writes.push({ pk, update });
    const { leaseOwner: _o, leaseAttempt: _a, leaseExpiresAt: _e, incidentPending, cleanupPending, ...rest } = item;
    const pending = update.cleanupPending ?? cleanupPending;
    this.items.set(pk, {
      ...rest,
      ...(pending === true && { cleanupPending: true }),
      ...(incidentPending !== undefined && update.resolvesIncident !== true && { incidentPending }),
      serverId: update.serverId,
      ...(update.teamspaceId !== undefined && { teamspaceId: update.teamspaceId }),
      secretId: update.secretId,
      lastOutcome: update.outcome,
      lastRunId: update.runId,
      lastAttemptAt: update.at,
      ...(update.errorCode !== undefined ? { lastErrorCode: update.errorCode } : {}),
      ...(update.toolCount !== undefined && { lastToolCount: update.toolCount }),
      ...(update.applied && {
        appliedVersionId: update.applied.versionId,
        appliedAt: update.at,
        authorizationSecretId: update.applied.authorizationSecretId,
      }),
    });
    return Promise.resolve();
  }

  releaseLease(pk: string, holder: LeaseHolder): Promise<void> {
    const item = this.items.get(pk);
    if (item !== undefined && this.#holds(pk, holder)) {
      const { leaseOwner: _o, leaseAttempt: _a, leaseExpiresAt: _e, ...rest } = item;
      this.items.set(pk, rest);
    }
    return Promise.resolve();
  }

  countRunOutcome(runId: string, failed: boolean, limit: number, expiresAt: number): Promise<RunTally> {
    this.runCalls += 1;
    const run = this.runs.get(runId) ?? { finished: 0, failed: 0 };
    if (run.finished < limit) {
      this.runs.set(runId, { finished: run.finished + 1, failed: run.failed + (failed ? 1 : 0), expiresAt });
    }
    return this.getRunTally(runId, false);
  }

  getRunTally(runId: string, counted = true): Promise<RunTally> {
    if (counted) this.runCalls += 1;
    const { finished, failed } = this.runs.get(runId) ?? { finished: 0, failed: 0 };
    return Promise.resolve({ finished, failed });
  }
}

export class FakeEvents implements EventSink {
  events: OutgoingEvent[] = [];
  emit(events: readonly OutgoingEvent[]): Promise<EmitReport> {
    this.events.push(...structuredClone([...events]));
    return Promise.resolve({ sent: events.length, failed: 0, calls: Math.ceil(events.length / 10) });
  }
}

export class CapturingLog implements Log {
  lines: { level: string; message: string; attributes?: Record<string, unknown> }[] = [];
  private push = (level: string) => (message: string, attributes?: Record<string, unknown>) => {
    this.lines.push({ level, message, ...(attributes && { attributes }) });
  };
  debug = this.push('debug');
  info = this.push('info');
  warn = this.push('warn');
  error = this.push('error');
  text(): string {
    return JSON.stringify(this.lines);
  }
}
