import { describe, expect, it } from 'vitest';
import { Redactor } from '../../../lambda/engine/redactor.ts';
import { ResultEvents } from '../../../lambda/engine/result-events.ts';
import type { EmitReport, EventSink, OutgoingEvent } from '../../../lambda/types/index.ts';
import type { RotationResult, RunSummary } from '../../../lambda/types/results.ts';
import { CapturingLog } from '../../support/fakes.ts';

const CANARY = 'CANARY-token-5b7e19d2';

const result = (i: number, message?: string): RotationResult => ({
  serverId: `srv_${i}`,
  secretId: `mcp/${i}`,
  outcome: message === undefined ? 'rotated' : 'failed',
  rolledBack: false,
  attempts: 1,
  durationMs: 10,
  ...(message !== undefined && { error: { code: 'DATAGRID_REJECTED', message } }),
});

const run: Omit<RunSummary, 'results'> = {
  runId: 'run-1',
  action: 'rotate',
  trigger: 'incident',
  dryRun: false,
  incidentId: 'INC-7',
  reason: 'leak',
  startedAt: '2026-11-24T12:00:00.000Z',
  finishedAt: '2026-11-24T12:01:00.000Z',
  counts: { rotated: 25, unchanged: 0, failed: 0, skipped: 0, compliant: 0, noncompliant: 0 },
};

/** A sink whose calls answer only when the test says so. */
class HeldSink implements EventSink {
  calls: { events: OutgoingEvent[]; answer: (r: EmitReport) => void; fail: (e: Error) => void }[] = [];
  /** Every event ever handed over. */
  handed: OutgoingEvent[] = [];
  emit(events: readonly OutgoingEvent[]): Promise<EmitReport> {
    this.handed.push(...events);
    return new Promise((answer, fail) => this.calls.push({ events: [...events], answer, fail }));
  }
  answerAll(): void {
    for (const call of this.calls.splice(0)) call.answer({ sent: call.events.length, failed: 0, calls: 1 });
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ResultEvents', () => {
  it('sends each full batch of 10 results at once, and the rest with the summary once those answered', async () => {
    const sink = new HeldSink();
    const events = new ResultEvents(sink, new Redactor(), new CapturingLog(), { ...run });
    for (let i = 1; i <= 25; i += 1) events.add(result(i));
    await settle();
    expect(sink.calls.map((c) => c.events.length)).toEqual([10, 10]);

    const finishing = events.finish(run);
    await settle();
    // The summary waits for the calls still out.
    expect(sink.calls).toHaveLength(2);
    sink.answerAll();
    await settle();
    expect(sink.calls).toHaveLength(1);
    const last = sink.calls[0]!.events;
    expect(last.map((e) => e.detailType)).toEqual([
      ...Array<string>(5).fill('MCP Credential Rotation Result'),
      'MCP Rotation Run Completed',
    ]);
    expect(last[0]!.detail).toMatchObject({
      serverId: 'srv_21',
      runId: 'run-1',
      trigger: 'incident',
      incidentId: 'INC-7',
    });
    expect(last[5]!.detail).toStrictEqual(run);
    sink.answerAll();
    expect(await finishing).toStrictEqual({ sent: 26, failed: 0, calls: 3 });
  });

  it('has at most 8 calls out at once when results come faster than EventBridge answers', async () => {
    const sink = new HeldSink();
    const events = new ResultEvents(sink, new Redactor(), new CapturingLog(), run);
    for (let i = 1; i <= 200; i += 1) events.add(result(i));
    const finishing = events.finish(run);
    let peak = 0;
    for (let round = 0; sink.handed.length < 201 || sink.calls.length > 0; round += 1) {
      await settle();
      peak = Math.max(peak, sink.calls.length);
      sink.answerAll();
      if (round > 100) throw new Error('events never all sent');
    }
    expect(peak).toBe(8);
    expect(await finishing).toStrictEqual({ sent: 201, failed: 0, calls: 21 });
  });

  it('sends the summary alone when there were no results', async () => {
    const sink = new HeldSink();
    const finishing = new ResultEvents(sink, new Redactor(), new CapturingLog(), run).finish(run);
    await settle();
    expect(sink.calls.map((c) => c.events.map((e) => e.detailType))).toEqual([['MCP Rotation Run Completed']]);
    sink.answerAll();
    expect(await finishing).toStrictEqual({ sent: 1, failed: 0, calls: 1 });
  });

  it('counts the events of a call that threw as failed, logs it without their content, and goes on', async () => {
    const sink = new HeldSink();
    const log = new CapturingLog();
    const events = new ResultEvents(sink, new Redactor(), log, run);
    for (let i = 1; i <= 10; i += 1) events.add(result(i));
    await settle();
    sink.calls[0]!.fail(new Error('socket hang up'));
    events.add(result(11));
    const finishing = events.finish(run);
    await settle();
    sink.answerAll();
    expect(await finishing).toStrictEqual({ sent: 2, failed: 10, calls: 1 });
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'PutEvents failed unexpectedly' }),
    );
  });

  it('scrubs every known secret from each event before it leaves', async () => {
    const sink = new HeldSink();
    const redactor = new Redactor();
    redactor.add(CANARY);
    const events = new ResultEvents(sink, redactor, new CapturingLog(), { ...run, reason: `rotate ${CANARY}` });
    events.add(result(1, `upstream echoed Bearer ${CANARY}`));
    const finishing = events.finish({ ...run, reason: `rotate ${CANARY}` });
    await settle();
    sink.answerAll();
    await finishing;
    expect(sink.handed).toHaveLength(2);
    expect(JSON.stringify(sink.handed)).toContain('[REDACTED]');
    expect(JSON.stringify(sink.handed)).not.toContain(CANARY);
  });
});
