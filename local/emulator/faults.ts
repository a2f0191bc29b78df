/**
 * Fault injection for the Datagrid emulator: the failures a rotator meets in production (slow answers, rate
 * limits, 5xx, a connection cut after the write landed, a garbled body), switchable while a test runs.
 */

export type Fault =
  /** Delay the answer; combines with any other matching fault. */
  | { type: 'latency'; ms: number }
  /** 429 with `Retry-After` (whole seconds) and/or `retry-after-ms`, as the official client reads them. */
  | { type: 'rate-limit'; retryAfterSeconds?: number; retryAfterMs?: number }
  /** An error status (5xx by default; any 4xx/5xx allowed) with optional extra headers such as `x-should-retry`. */
  | { type: 'server-error'; status?: number; headers?: Record<string, string>; applied?: boolean }
  /** Destroy the socket without an answer. `applied: true` cuts it after the request took effect. */
  | { type: 'drop-connection'; applied?: boolean }
  /** 200 with a body that is not JSON. `applied: true` (the default) lets the request take effect first. */
  | { type: 'malformed-body'; status?: number; applied?: boolean }
  /**
   * The request takes effect; a successful answer's JSON body is replaced by what `rewrite` returns (given a copy):
   * a Datagrid that answers with another server's record, null fields, or a credential echoed in `status`.
   */
  | { type: 'rewrite-body'; rewrite: (body: unknown) => unknown };

export interface FaultRule {
  fault: Fault;
  /** HTTP method to match, any case. @default any */
  method?: string;
  /**
   * Path below the base URL (without `/v1` and the query), e.g. `/organization/mcp-servers/srv_1`.
   * A string matches exactly, with `*` standing for one path segment; a RegExp is tested as is. @default any
   */
  path?: string | RegExp;
  /** How many matching requests it hits before it retires. @default unlimited */
  times?: number;
}

export interface FaultHandle {
  /** Requests this rule has hit so far. */
  readonly hits: number;
  /** Hits left (undefined: unlimited). */
  readonly remaining: number | undefined;
  remove(): void;
}

export interface RateLimit {
  requestsPerSecond: number;
  /** Bucket size. @default max(1, requestsPerSecond) */
  burst?: number;
}

/** What to do with one request. */
export interface FaultPlan {
  latencyMs: number;
  /** The first matching terminal fault, if any. */
  fault?: Exclude<Fault, { type: 'latency' }>;
  /** Set when the global rate limit refused the request. */
  rateLimitedForMs?: number;
}

interface ActiveRule {
  rule: FaultRule;
  hits: number;
}

export class FaultInjector {
  #rules: ActiveRule[] = [];
  #bucket: { rate: number; burst: number; tokens: number; refilledAt: number } | undefined;

  add(rule: FaultRule): FaultHandle {
    checkRule(rule);
    const active: ActiveRule = { rule, hits: 0 };
    this.#rules.push(active);
    return {
      get hits() {
        return active.hits;
      },
      get remaining() {
        return rule.times === undefined ? undefined : Math.max(0, rule.times - active.hits);
      },
      remove: () => {
        this.#rules = this.#rules.filter((r) => r !== active);
      },
    };
  }

  /** Removes every rule and the rate limit. */
  clear(): void {
    this.#rules = [];
    this.#bucket = undefined;
  }

  /** A global token bucket over every API request; `null` turns it off. */
  setRateLimit(limit: RateLimit | null): void {
    if (limit === null) {
      this.#bucket = undefined;
      return;
    }
    if (!(limit.requestsPerSecond > 0)) throw new Error('rate limit: requestsPerSecond must be > 0');
    const burst = limit.burst ?? Math.max(1, limit.requestsPerSecond);
    if (!(burst >= 1)) throw new Error('rate limit: burst must be >= 1');
    this.#bucket = { rate: limit.requestsPerSecond, burst, tokens: burst, refilledAt: performance.now() };
  }

  plan(method: string, path: string): FaultPlan {
    const plan: FaultPlan = { latencyMs: 0 };
    for (const active of this.#rules) {
      const { rule } = active;
      if (rule.times !== undefined && active.hits >= rule.times) continue;
      if (!matches(rule, method, path)) continue;
      if (rule.fault.type === 'latency') {
        active.hits += 1;
        plan.latencyMs += rule.fault.ms;
      } else if (!plan.fault) {
        active.hits += 1;
        plan.fault = rule.fault;
      }
    }
    this.#rules = this.#rules.filter((r) => r.rule.times === undefined || r.hits < r.rule.times);
    if (!plan.fault) {
      const waitMs = this.#takeToken();
      if (waitMs > 0) plan.rateLimitedForMs = waitMs;
    }
    return plan;
  }

  /** 0 when a token was taken, else the ms until the next one. */
  #takeToken(): number {
    const bucket = this.#bucket;
    if (!bucket) return 0;
    const now = performance.now();
    bucket.tokens = Math.min(bucket.burst, bucket.tokens + ((now - bucket.refilledAt) * bucket.rate) / 1000);
    bucket.refilledAt = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * 1000) / bucket.rate));
  }
}

function matches(rule: FaultRule, method: string, path: string): boolean {
  if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) return false;
  if (rule.path === undefined) return true;
  if (rule.path instanceof RegExp) return rule.path.test(path);
  return globToRegExp(rule.path).test(path);
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]+');
  return new RegExp(`^${escaped}$`);
}

function checkRule(rule: FaultRule): void {
  const { fault } = rule;
  if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times > 0)) {
    throw new Error(`fault rule: times must be a positive integer, got ${rule.times}`);
  }
  if (fault.type === 'latency' && !(fault.ms >= 0)) throw new Error('latency fault: ms must be >= 0');
  if (fault.type === 'server-error' && fault.status !== undefined && !(fault.status >= 400 && fault.status <= 599)) {
    throw new Error(`server-error fault: status must be 400..599, got ${fault.status}`);
  }
}
