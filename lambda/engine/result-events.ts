/**
 * The run's events, sent while the run goes on: each target's result as it finishes, ten at a
 * time (one full PutEvents call), and the run summary last, in a call of its own, once every result call has
 * answered and its refused entries were retried. Consumers see results as they happen, a run that dies before its
 * end has already reported what finished, and a consumer that sees "Run Completed" has every result the run could
 * deliver: no result is (re-)sent after the summary, and the summary is sent once.
 */
import pLimit from 'p-limit';
import { AWS_BATCH_CONCURRENCY, DETAIL_TYPE, PUT_EVENTS_MAX_ENTRIES } from '../constants.ts';
import { describeCause } from '../errors.ts';
import type { EmitReport, EventSink, Log, OutgoingEvent } from '../types/index.ts';
import type { AuditResult, RotationResult, RunSummary } from '../types/results.ts';
import type { Redactor } from './redactor.ts';
import { isAuditResult } from './summary.ts';

type RunDetail = Omit<RunSummary, 'results'>;

export class ResultEvents {
  readonly #sink: EventSink;
  readonly #redactor: Redactor;
  readonly #log: Log;
  readonly #context: Pick<RunSummary, 'runId' | 'trigger' | 'incidentId' | 'reason'>;
  #pending: OutgoingEvent[] = [];
  readonly #sending: Promise<EmitReport>[] = [];
  /** An audit finishes its targets all at once: its calls still go a few at a time, not as one burst. */
  readonly #calls = pLimit(AWS_BATCH_CONCURRENCY);

  constructor(
    sink: EventSink,
    redactor: Redactor,
    log: Log,
    run: Pick<RunSummary, 'runId' | 'trigger' | 'incidentId' | 'reason'>,
  ) {
    this.#sink = sink;
    this.#redactor = redactor;
    this.#log = log;
    this.#context = {
      runId: run.runId,
      trigger: run.trigger,
      ...(run.incidentId !== undefined && { incidentId: run.incidentId }),
      ...(run.reason !== undefined && { reason: run.reason }),
    };
  }

  /** A target finished: its event goes out with the next nine. */
  add(result: RotationResult | AuditResult): void {
    this.#pending.push(
      isAuditResult(result)
        ? { detailType: DETAIL_TYPE.auditResult, detail: this.#scrub({ ...result, runId: this.#context.runId }) }
        : { detailType: DETAIL_TYPE.rotationResult, detail: this.#scrub({ ...result, ...this.#context }) },
    );
    if (this.#pending.length === PUT_EVENTS_MAX_ENTRIES) this.#send();
  }

  /**
   * Sends the results not yet sent, waits until every result call has answered (retries included), then sends the
   * run summary alone: were it in a call with results, a refused result would be re-sent after it. Reports them all.
   */
  async finish(run: RunDetail): Promise<EmitReport> {
    if (this.#pending.length > 0) this.#send();
    const results = await Promise.all(this.#sending);
    const summary = await this.#emit([{ detailType: DETAIL_TYPE.runCompleted, detail: this.#scrub({ ...run }) }]);
    return [...results, summary].reduce(
      (total, r) => ({ sent: total.sent + r.sent, failed: total.failed + r.failed, calls: total.calls + r.calls }),
      { sent: 0, failed: 0, calls: 0 },
    );
  }

  #scrub<T>(detail: T): T {
    return this.#redactor.scrubDeep(detail);
  }

  #send(): void {
    const events = this.#pending;
    this.#pending = [];
    this.#sending.push(this.#emit(events));
  }

  #emit(events: OutgoingEvent[]): Promise<EmitReport> {
    // The sink reports per-entry failures; should it throw all the same, the events count as failed and the run
    // goes on: a lost event must not cost the rotations still running.
    return this.#calls(() => this.#sink.emit(events)).catch((error: unknown) => {
      this.#log.error('PutEvents failed unexpectedly', { events: events.length, cause: describeCause(error) });
      return { sent: 0, failed: events.length, calls: 0 };
    });
  }
}
