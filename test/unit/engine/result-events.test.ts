import { EventBridgeClient, PutEventsCommand, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createEventSink } from '../../../lambda/adapters/events-eventbridge.ts';
import { Redactor } from '../../../lambda/engine/redactor.ts';
import { ResultEvents } from '../../../lambda/engine/result-events.ts';
import type { EmitReport, EventSink, OutgoingEvent } from '../../../lambda/types/index.ts';
import type { RotationResult, RunSummary } from '../../../lambda/types/results.ts';
import { CapturingLog, FakeClock } from '../../support/fakes.ts';

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

/** Answers every call as it comes until `finishing` resolves. */
async function answerUntilDone(sink: HeldSink, finishing: Promise<unknown>): Promise<void> {
  let done = false;
  void finishing.then(() => (done = true));
  for (let round = 0; !done; round += 1) {
    await settle();
    sink.answerAll();
    if (round > 100) throw new Error('events never all sent');
  }
}

describe('ResultEvents', () => {
  it('sends each full batch of 10 results at once, the rest at the end, and the summary alone once all answered', async () => {
    const sink = new HeldSink();
    const events = new ResultEvents(sink, new Redactor(), new CapturingLog(), { ...run });
    for (let i = 1; i <= 25; i += 1) events.add(result(i));
    await settle();
    expect(sink.calls.map((c) => c.events.length)).toEqual([10, 10]);

    const finishing = events.finish(run);
    await settle();
    // The last results go at once; the summary waits for every result call still out.
    expect(sink.calls.map((c) => c.events.length)).toEqual([10, 10, 5]);
    expect(sink.handed.map((e) => e.detailType)).not.toContain('MCP Rotation Run Completed');
    expect(sink.calls[2]!.events[0]!.detail).toMatchObject({
      serverId: 'srv_21',
      runId: 'run-1',
      trigger: 'incident',
      incidentId: 'INC-7',
    });
    sink.calls.splice(0, 2).forEach((call) => call.answer({ sent: 10, failed: 0, calls: 1 }));
    await settle();
    expect(sink.handed).toHaveLength(25);
    sink.answerAll();
    await settle();
    expect(sink.calls.map((c) => c.events)).toEqual([[{ detailType: 'MCP Rotation Run Completed', detail: run }]]);
    sink.answerAll();
    expect(await finishing).toStrictEqual({ sent: 26, failed: 0, calls: 4 });
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
    await answerUntilDone(sink, finishing);
    expect(await finishing).toStrictEqual({ sent: 2, failed: 10, calls: 2 });
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
    await answerUntilDone(sink, finishing);
    expect(sink.handed).toHaveLength(2);
    expect(JSON.stringify(sink.handed)).toContain('[REDACTED]');
    expect(JSON.stringify(sink.handed)).not.toContain(CANARY);
  });
});

describe('ResultEvents over the EventBridge sink', () => {
  const eb = mockClient(EventBridgeClient);
  const clock = new FakeClock(0);

  beforeEach(() => eb.reset());

  /** Every entry PutEvents was called with, in call order: a serverId, or "SUMMARY". */
  const sentInOrder = () =>
    eb
      .commandCalls(PutEventsCommand)
      .flatMap((call) => call.args[0].input.Entries!)
      .map((entry) =>
        entry.DetailType === 'MCP Rotation Run Completed'
          ? 'SUMMARY'
          : (JSON.parse(entry.Detail!) as { serverId: string }).serverId,
      );

  async function runWith25Results(): Promise<EmitReport> {
    const sink = createEventSink(new EventBridgeClient({}), { busName: 'bus', source: 'src', clock });
    const events = new ResultEvents(sink, new Redactor(), new CapturingLog(), run);
    for (let i = 1; i <= 25; i += 1) events.add(result(i));
    return events.finish(run);
  }

  it('re-sends a throttled result before the summary, never after it', async () => {
    let throttled = false;
    eb.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => {
      const entries = input.Entries!;
      // The first call holding srv_25 has it throttled; it is accepted when sent again.
      const refuse = (detail: string) => !throttled && detail.includes('"srv_25"');
      const results = entries.map((e) => (refuse(e.Detail!) ? { ErrorCode: 'ThrottlingException' } : { EventId: 'e' }));
      if (entries.some((e) => refuse(e.Detail!))) throttled = true;
      return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
    });

    const report = await runWith25Results();

    const order = sentInOrder();
    expect(order.at(-1)).toBe('SUMMARY');
    expect(order.filter((id) => id === 'SUMMARY')).toHaveLength(1);
    expect(order.filter((id) => id === 'srv_25')).toHaveLength(2);
    expect(report).toStrictEqual({ sent: 26, failed: 0, calls: 5 });
  });

  it('sends the summary once, and no result twice, when an answer counts failures without saying which', async () => {
    eb.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) =>
      input.Entries!.some((e) => e.Detail!.includes('"srv_25"'))
        ? { FailedEntryCount: 1 }
        : { FailedEntryCount: 0, Entries: input.Entries!.map(() => ({ EventId: 'e' })) },
    );

    const report = await runWith25Results();

    const order = sentInOrder();
    expect(order.filter((id) => id === 'SUMMARY')).toHaveLength(1);
    expect(new Set(order).size).toBe(order.length);
    expect(order.at(-1)).toBe('SUMMARY');
    expect(report).toStrictEqual({ sent: 25, failed: 1, calls: 4 });
  });
});
