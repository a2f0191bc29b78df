/**
 * When to poll for a re-sync that finishes after the PATCH answer (Datagrid's async case). How long the re-syncs
 * already confirmed in the run took is the best guess for the next: the first poll is timed for then, so a target
 * usually needs one GET and waits no longer than its re-sync. A re-sync is mostly Datagrid's handshake with the
 * server's upstream, so the guess comes from servers at the same origin once there are some, else from the run's.
 *
 * The duration comes from Datagrid's own timestamps (the PATCH answer's `updated_at` to the synced server's
 * `metadata.last_synced_at`: two readings of Datagrid's clock, never compared with ours), capped by what our clock
 * saw between the PATCH answer and the poll that found the re-sync done, which bounds it from above whatever
 * Datagrid's `updated_at` means.
 *
 * Before any re-sync has been observed, one verification at a time scouts: it polls soon and then at doubling
 * intervals, and what it learns times the others, which wait for it (up to the configured interval) instead of
 * each probing on its own. A run's first targets then finish about when their re-syncs do, for a few extra GETs
 * of one target rather than several of each.
 */
import type { Clock, McpServer } from '../types/index.ts';

/** How the first poll is timed from the re-syncs seen so far. */
export interface ResyncPolicy {
  /** Re-syncs remembered: enough for a stable quantile, few enough to follow a Datagrid that slows down. */
  remembered: number;
  /** The first poll is timed for this quantile of the remembered re-syncs, plus `margin` (a fraction of it). */
  quantile: number;
  margin: number;
  /** Whether one verification scouts a run's first re-sync for the others (else each waits the poll interval). */
  scout: boolean;
  /**
   * Whether a server's first poll is timed by the re-syncs of servers at the same origin (scheme, host and port of
   * `base_url`) once there are some, rather than by all of the run's: a re-sync is mostly the upstream MCP server's
   * handshake, and a fleet mixes fast and slow upstreams.
   */
  byOrigin: boolean;
}

/**
 * p90, not the maximum: one slow outlier would delay the next `remembered` first polls, while a re-sync beyond the
 * quantile costs only a second GET. `npm run bench:replay` replays the benchmark's recorded re-syncs through this
 * code: p90 + 10% of the last 64 needed far fewer second GETs than the maximum of the last 32 + 5%, for
 * about the same wait.
 */
export const DEFAULT_RESYNC_POLICY: ResyncPolicy = {
  remembered: 64,
  quantile: 0.9,
  margin: 0.1,
  scout: true,
  byOrigin: true,
};
/** No poll sooner than this after the PATCH answer or the previous poll. */
const MIN_POLL_MS = 10;
/** The scout's first wait; each later one doubles, up to the maximum interval. */
const SCOUT_FIRST_MS = 25;

export interface PollSchedule {
  /** Polls start at this interval when nothing can be learned; grows by half each poll. */
  pollIntervalMs: number;
  maxPollIntervalMs: number;
}

/** The polls of one verification. */
export interface PollPlan {
  /** Waits until the next GET is due, or `atMostMs`, whichever comes first. */
  wait(atMostMs: number): Promise<void>;
  /** The verification is over (whatever its outcome): it no longer scouts. */
  end(): void;
}

type Role = 'learned' | 'scout' | 'waiter';

/** Where a server's re-sync connects to; only a map key, never logged (a base URL may carry a token). */
function originOf(server: McpServer): string | undefined {
  try {
    return new URL(server.base_url).origin;
  } catch {
    return undefined;
  }
}

export class ResyncTiming {
  readonly #policy: ResyncPolicy;
  readonly #recent: number[] = [];
  readonly #byOrigin = new Map<string, number[]>();
  #scouting = false;
  /** Wakes the verifications waiting for the scout: it learned something, or stopped scouting. */
  #news = new AbortController();

  constructor(policy: Partial<ResyncPolicy> = {}) {
    this.#policy = { ...DEFAULT_RESYNC_POLICY, ...policy };
  }

  #tell(): void {
    this.#news.abort();
    this.#news = new AbortController();
  }

  /**
   * A re-sync confirmed by polling: `patched` is the PATCH answer (still pending), `synced` the healthy server a
   * poll returned `elapsedMs` (our clock) after that answer.
   */
  observe(patched: McpServer, synced: McpServer, elapsedMs: number): void {
    const start = Date.parse(patched.updated_at);
    const syncedAt = synced.metadata?.last_synced_at;
    const end = typeof syncedAt === 'string' ? Date.parse(syncedAt) : Number.NaN;
    if (!Number.isFinite(start) || !Number.isFinite(end) || end < start) return;
    const ms = Math.min(end - start, elapsedMs);
    const remember = (window: number[]) => {
      window.push(ms);
      if (window.length > this.#policy.remembered) window.shift();
    };
    remember(this.#recent);
    const origin = originOf(patched);
    if (this.#policy.byOrigin && origin !== undefined) {
      let window = this.#byOrigin.get(origin);
      if (!window) this.#byOrigin.set(origin, (window = []));
      remember(window);
    }
    if (this.#recent.length === 1) this.#tell();
  }

  /** The learned re-sync time for a server at `origin` (its origin's when known, else the run's), if any. */
  #expected(origin: string | undefined): number | undefined {
    const window = (origin !== undefined && this.#byOrigin.get(origin)) || this.#recent;
    if (window.length === 0) return undefined;
    const sorted = window.toSorted((a, b) => a - b);
    const { quantile, margin } = this.#policy;
    return Math.round(sorted[Math.max(0, Math.ceil(quantile * sorted.length) - 1)]! * (1 + margin));
  }

  /** Plans the polls of `patched`'s verification, its PATCH answer (pending) having come at `clock.now()`. */
  plan(clock: Clock, schedule: PollSchedule, patched?: McpServer): PollPlan {
    const { pollIntervalMs, maxPollIntervalMs } = schedule;
    const patchedAt = clock.now();
    const origin = patched && originOf(patched);
    let role: Role =
      this.#expected(origin) !== undefined ? 'learned' : this.#scouting || !this.#policy.scout ? 'waiter' : 'scout';
    if (role === 'scout') this.#scouting = true;
    /** The wait before the next poll, once the first is past. */
    let interval = role === 'scout' ? SCOUT_FIRST_MS : pollIntervalMs;
    let first = true;

    /** Wait before the first poll of a verification that knows how long re-syncs take, from its PATCH answer. */
    const firstLearned = (expected: number): number => {
      // Missed it: the re-sync is running late, look again soon.
      interval = Math.min(pollIntervalMs, Math.max(MIN_POLL_MS, expected / 4));
      const due = Math.min(maxPollIntervalMs, Math.max(MIN_POLL_MS, expected));
      return Math.max(0, due - (clock.now() - patchedAt));
    };

    /** Sits out the scout until it learned the re-sync time, it gave up scouting, or the configured interval. */
    const waitForScout = async (until: number): Promise<number> => {
      for (;;) {
        const expected = this.#expected(origin);
        if (expected !== undefined) return firstLearned(expected);
        const waited = clock.now() - patchedAt;
        if (waited >= pollIntervalMs) {
          interval = Math.min(Math.round(pollIntervalMs * 1.5), maxPollIntervalMs);
          return 0;
        }
        if (!this.#scouting && this.#policy.scout) {
          // The scout ended without learning anything (its re-sync failed): this one scouts from here on.
          role = 'scout';
          this.#scouting = true;
          interval = SCOUT_FIRST_MS;
          return 0;
        }
        const left = until - clock.now();
        if (left <= 0) return 0;
        await clock.sleep(Math.min(left, pollIntervalMs - waited), this.#news.signal);
      }
    };

    const nextInterval = (): number => {
      const delay = interval;
      // The scout doubles, finding a short re-sync in a few polls; everyone else grows by half.
      interval = Math.min(Math.round(interval * (role === 'scout' ? 2 : 1.5)), maxPollIntervalMs);
      return delay;
    };

    return {
      wait: async (atMostMs) => {
        const until = clock.now() + Math.max(0, atMostMs);
        let delay: number;
        if (!first) delay = nextInterval();
        else if (role === 'waiter') delay = await waitForScout(until);
        else if (role === 'learned') delay = firstLearned(this.#expected(origin)!);
        else delay = nextInterval();
        first = false;
        const left = until - clock.now();
        if (delay > 0 && left > 0) await clock.sleep(Math.min(delay, left));
      },
      end: () => {
        if (role !== 'scout') return;
        role = 'learned';
        this.#scouting = false;
        this.#tell();
      },
    };
  }
}
