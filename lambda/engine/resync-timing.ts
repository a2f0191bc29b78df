/**
 * When to poll for a re-sync that finishes after the PATCH answer (Datagrid's async case). Every server of a run is
 * re-synced by the same Datagrid, so how long the re-syncs already confirmed took is the best guess for the next:
 * the first poll is timed for then, so a target usually needs one GET and waits no longer than its re-sync.
 *
 * The duration comes from Datagrid's own timestamps (the PATCH answer's `updated_at` to the synced server's
 * `metadata.last_synced_at`: two readings of Datagrid's clock, never compared with ours), capped by what our clock
 * saw between the PATCH answer and the poll that found the re-sync done, which bounds it from above whatever
 * Datagrid's `updated_at` means. Until a re-sync has been observed, polling starts at the configured interval.
 */
import type { McpServer } from '../types/index.ts';

/** Re-syncs remembered; the longest of them times the next first poll. */
const REMEMBERED = 32;
/** Added to the longest recent re-sync: they vary a little from server to server. */
const MARGIN = 0.05;
/** No poll sooner than this after the PATCH answer or the previous poll. */
const MIN_POLL_MS = 10;

export interface PollSchedule {
  /** The configured first interval, used until a re-sync has been observed; grows by half each poll. */
  pollIntervalMs: number;
  maxPollIntervalMs: number;
}

export class ResyncTiming {
  readonly #recent: number[] = [];

  /**
   * A re-sync confirmed by polling: `patched` is the PATCH answer (still pending), `synced` the healthy server a
   * poll returned `elapsedMs` (our clock) after that answer.
   */
  observe(patched: McpServer, synced: McpServer, elapsedMs: number): void {
    const start = Date.parse(patched.updated_at);
    const syncedAt = synced.metadata?.last_synced_at;
    const end = typeof syncedAt === 'string' ? Date.parse(syncedAt) : Number.NaN;
    if (!Number.isFinite(start) || !Number.isFinite(end) || end < start) return;
    this.#recent.push(Math.min(end - start, elapsedMs));
    if (this.#recent.length > REMEMBERED) this.#recent.shift();
  }

  /** The waits before each poll: the learned re-sync time first, then short, growing intervals. */
  *pollDelays(schedule: PollSchedule): Generator<number, never> {
    const { pollIntervalMs, maxPollIntervalMs } = schedule;
    let interval = pollIntervalMs;
    if (this.#recent.length > 0) {
      const expected = Math.max(...this.#recent) * (1 + MARGIN);
      yield Math.min(maxPollIntervalMs, Math.max(MIN_POLL_MS, expected));
      // Missed it: the re-sync is running late, look again soon.
      interval = Math.min(pollIntervalMs, Math.max(MIN_POLL_MS, expected / 4));
    }
    for (;;) {
      yield interval;
      interval = Math.min(Math.round(interval * 1.5), maxPollIntervalMs);
    }
  }
}
