/**
 * Shared by every request of one Datagrid client, so that a rate limit is met as one client, not as many workers.
 *
 * Without it, each worker handles its own 429: under a global limit they all wait the same Retry-After, retry in
 * the same instant, and most of them are refused again, until some run out of attempts (measured: 12 of 600
 * targets failed at 50 requests/s with 16 workers). With it:
 * - a 429 pauses every new request of the client until the wait the server asked for has passed;
 * - the number of requests in flight adapts (additive increase, multiplicative decrease, as TCP does): a 429 cuts
 *   it to the number of requests that succeeded while the refused one was under way, which is what the server
 *   admits per round trip; each success raises it by 1/limit (about one more per round trip) to probe for more;
 * - only a 429 to a request sent after the last cut cuts again: the refusals of requests already under way when
 *   the limit was cut carry no news.
 * Until the first 429 there is no limit: the engine's own concurrency settings govern.
 */
import type { Clock } from '../types/index.ts';

/** Answers remembered to count what one round trip admits; no round trip spans more. */
const MAX_REMEMBERED = 1024;

export interface GateTicket {
  /** When the request was let through (by the gate's clock). */
  readonly sentAt: number;
}

export class ThrottleGate {
  readonly #clock: Clock;
  #limit = Number.POSITIVE_INFINITY;
  #inFlight = 0;
  #pausedUntil = 0;
  #lastCutAt = Number.NEGATIVE_INFINITY;
  readonly #waiting: (() => void)[] = [];
  /** When recent requests were answered other than by a 429, oldest first. */
  readonly #admitted: number[] = [];

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Requests allowed in flight at once (Infinity until the first 429). */
  get limit(): number {
    return this.#limit;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Resolves when the request may be sent: no pause is running and the in-flight limit has room. A retry waits at
   * the front, so the requests already refused are not the ones refused again and again until their attempts run out.
   */
  async acquire(retry = false): Promise<GateTicket> {
    for (;;) {
      const wait = this.#pausedUntil - this.#clock.now();
      if (wait > 0) {
        await this.#clock.sleep(wait);
        continue;
      }
      if (this.#inFlight < Math.max(1, Math.floor(this.#limit))) {
        this.#inFlight += 1;
        return { sentAt: this.#clock.now() };
      }
      await new Promise<void>((resolve) => (retry ? this.#waiting.unshift(resolve) : this.#waiting.push(resolve)));
    }
  }

  /**
   * Reports how the request ended (any answer but a 429 counts as admitted). `throttledForMs` is set for a 429: the wait the server asked for (or the
   * backoff chosen when it asked for none).
   */
  release(ticket: GateTicket, throttledForMs?: number): void {
    const inFlightBefore = this.#inFlight;
    this.#inFlight -= 1;
    const now = this.#clock.now();
    if (throttledForMs !== undefined) {
      this.#pausedUntil = Math.max(this.#pausedUntil, now + throttledForMs);
      if (ticket.sentAt >= this.#lastCutAt) {
        const firstSince = this.#admitted.findIndex((at) => at > ticket.sentAt);
        const admittedSince = firstSince === -1 ? 0 : this.#admitted.length - firstSince;
        this.#limit = Math.max(1, Math.min(this.#limit, inFlightBefore - 1, admittedSince));
        this.#lastCutAt = now;
      }
    } else {
      this.#admitted.push(now);
      if (this.#admitted.length > MAX_REMEMBERED) this.#admitted.shift();
      if (Number.isFinite(this.#limit)) this.#limit += 1 / this.#limit;
    }
    this.#wake();
  }

  #wake(): void {
    let room = Math.max(1, Math.floor(this.#limit)) - this.#inFlight;
    while (room > 0 && this.#waiting.length > 0) {
      this.#waiting.shift()!();
      room -= 1;
    }
  }
}
