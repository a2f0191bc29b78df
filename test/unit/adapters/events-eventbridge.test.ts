import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type {
  PutEventsCommandInput,
  PutEventsCommandOutput,
  PutEventsRequestEntry,
  PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createEventSink, putEventsEntrySize } from '../../../lambda/adapters/events-eventbridge.ts';
import { PUT_EVENTS_MAX_BYTES } from '../../../lambda/constants.ts';
import type { OutgoingEvent } from '../../../lambda/types/ports.ts';
import { CapturingLog, FakeClock } from '../../support/fakes.ts';

const SOURCE = 'datagrid.mcp-rotator'; // 20 bytes
const DETAIL_TYPE = 'MCP Credential Rotation Result'; // 30 bytes
const CANARY = 'CANARY-secret-value-8f2e1d';

const eb = mockClient(EventBridgeClient);

let clock: FakeClock;
let log: CapturingLog;

function sink(maxRetries?: number) {
  return createEventSink(new EventBridgeClient({}), { busName: 'ops-bus', source: SOURCE, clock, log, maxRetries });
}

/** An event whose PutEvents entry is exactly `bytes` bytes long (`{"pad":"…"}` is 10 bytes plus the padding). */
function eventOfSize(bytes: number, char = 'x'): OutgoingEvent {
  const padBytes = bytes - SOURCE.length - DETAIL_TYPE.length - 10;
  return { detailType: DETAIL_TYPE, detail: { pad: char.repeat(padBytes / Buffer.byteLength(char)) } };
}

const small = (i: number): OutgoingEvent => ({ detailType: DETAIL_TYPE, detail: { serverId: `srv_${i}` } });

const accept = (input: PutEventsCommandInput): PutEventsCommandOutput => respond(input, () => false);

/** Answers like EventBridge: per-entry results in request order, refused ones carrying an ErrorCode. */
function respond(
  input: PutEventsCommandInput,
  refuse: (entry: PutEventsRequestEntry) => boolean,
): PutEventsCommandOutput {
  const results: PutEventsResultEntry[] = input.Entries!.map((entry, i) =>
    refuse(entry)
      ? { ErrorCode: 'InternalFailure', ErrorMessage: `failed ${entry.Detail}` }
      : { EventId: `event-${i}` },
  );
  return {
    $metadata: {},
    FailedEntryCount: results.filter((r) => r.ErrorCode).length,
    Entries: results,
  };
}

const entriesPerCall = () => eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!.length);
const detailsOfCall = (call: number) =>
  eb.commandCalls(PutEventsCommand)[call]!.args[0].input.Entries!.map((e) => JSON.parse(e.Detail!).serverId);

beforeEach(() => {
  eb.reset();
  clock = new FakeClock(0);
  log = new CapturingLog();
});

describe('putEventsEntrySize', () => {
  it('counts UTF-8 bytes of Source, DetailType, Detail and Resources, plus 14 for Time, but not the bus name', () => {
    expect(
      putEventsEntrySize({ EventBusName: 'a-long-bus-name', Source: 'src', DetailType: 'dt', Detail: '{"a":"é"}' }),
    ).toBe(3 + 2 + 10);
    expect(putEventsEntrySize({ Source: 's', DetailType: 'd', Resources: ['arn:1', 'arn:22'], Time: new Date() })).toBe(
      1 + 1 + 5 + 6 + 14,
    );
  });
});

describe('emit', () => {
  it('sends each event as an entry on the configured bus with its source, detail-type and JSON detail', async () => {
    eb.on(PutEventsCommand).callsFake(accept);
    const detail = { runId: 'run-1', counts: { rotated: 1 }, results: [] };

    const report = await sink().emit([{ detailType: 'MCP Rotation Run Completed', detail }]);

    expect(report).toStrictEqual({ sent: 1, failed: 0, calls: 1 });
    expect(eb.commandCalls(PutEventsCommand)[0]!.args[0].input).toStrictEqual({
      Entries: [
        {
          EventBusName: 'ops-bus',
          Source: SOURCE,
          DetailType: 'MCP Rotation Run Completed',
          Detail: JSON.stringify(detail),
        },
      ],
    });
  });

  it('makes no call for no events', async () => {
    expect(await sink().emit([])).toStrictEqual({ sent: 0, failed: 0, calls: 0 });
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('sends 25 small events in calls of 10, 10 and 5, in order', async () => {
    eb.on(PutEventsCommand).callsFake(accept);
    const events = Array.from({ length: 25 }, (_, i) => small(i));

    const report = await sink().emit(events);

    expect(report).toStrictEqual({ sent: 25, failed: 0, calls: 3 });
    expect(entriesPerCall()).toEqual([10, 10, 5]);
    expect([0, 1, 2].flatMap(detailsOfCall)).toEqual(events.map((e) => e.detail.serverId));
  });

  it('sends the batches concurrently, at most 8 at once', async () => {
    let inFlight = 0;
    let peak = 0;
    eb.on(PutEventsCommand).callsFake(async (input: PutEventsCommandInput) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      return accept(input);
    });
    const events = Array.from({ length: 125 }, (_, i) => small(i));

    const report = await sink().emit(events);

    expect(report).toStrictEqual({ sent: 125, failed: 0, calls: 13 });
    expect(peak).toBe(8);
    const sent = eb.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries!);
    expect(sent.map((e) => JSON.parse(e.Detail!).serverId).sort()).toEqual(events.map((e) => e.detail.serverId).sort());
  });

  it('does not re-send a batch whose answer counts refused entries without saying which: no duplicates', async () => {
    eb.on(PutEventsCommand).resolvesOnce({ $metadata: {}, FailedEntryCount: 2 }).callsFake(accept);

    const report = await sink().emit(Array.from({ length: 5 }, (_, i) => small(i)));

    expect(report).toStrictEqual({ sent: 3, failed: 2, calls: 1 });
    expect(entriesPerCall()).toEqual([5]);
    expect(log.lines.find((l) => l.level === 'warn')?.message).toMatch(/without saying which; they are not sent again/);
  });

  it('re-sends a batch whose answer counts every entry refused, even without per-entry results', async () => {
    eb.on(PutEventsCommand).resolvesOnce({ $metadata: {}, FailedEntryCount: 3, Entries: [] }).callsFake(accept);

    expect(await sink().emit([small(0), small(1), small(2)])).toStrictEqual({ sent: 3, failed: 0, calls: 2 });
    expect(entriesPerCall()).toEqual([3, 3]);
  });

  it('splits by bytes: five 61,500-byte entries go as 4 (246,000 bytes) and 1', async () => {
    eb.on(PutEventsCommand).callsFake(accept);
    const event = eventOfSize(61_500);
    expect(putEventsEntrySize({ Source: SOURCE, DetailType: DETAIL_TYPE, Detail: JSON.stringify(event.detail) })).toBe(
      61_500,
    );

    const report = await sink().emit(Array.from({ length: 5 }, () => event));

    expect(report).toStrictEqual({ sent: 5, failed: 0, calls: 2 });
    expect(entriesPerCall()).toEqual([4, 1]);
  });

  it('fills a call up to exactly 256 KB and not one byte more', async () => {
    eb.on(PutEventsCommand).callsFake(accept);
    const half = PUT_EVENTS_MAX_BYTES / 2;

    await sink().emit([eventOfSize(half), eventOfSize(half)]);
    expect(entriesPerCall()).toEqual([2]);

    eb.resetHistory();
    await sink().emit([eventOfSize(half), eventOfSize(half + 1)]);
    expect(entriesPerCall()).toEqual([1, 1]);
  });

  it('sizes by UTF-8 bytes, not characters', async () => {
    eb.on(PutEventsCommand).callsFake(accept);
    // 140,000 bytes each but only 70,000 characters of padding: by characters both would fit one call.
    const event = eventOfSize(140_000, 'é');

    const report = await sink().emit([event, event]);

    expect(report).toStrictEqual({ sent: 2, failed: 0, calls: 2 });
    expect(entriesPerCall()).toEqual([1, 1]);
  });

  it('retries only the refused entries, re-batched together, after a backoff', async () => {
    let call = 0;
    eb.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => {
      call++;
      // First round: refuse the odd servers; afterwards accept everything.
      return respond(input, (entry) => call <= 2 && Number(JSON.parse(entry.Detail!).serverId.slice(4)) % 2 === 1);
    });
    const events = Array.from({ length: 12 }, (_, i) => small(i));

    const report = await sink().emit(events);

    expect(report).toStrictEqual({ sent: 12, failed: 0, calls: 3 });
    expect(entriesPerCall()).toEqual([10, 2, 6]);
    expect(detailsOfCall(2)).toEqual(['srv_1', 'srv_3', 'srv_5', 'srv_7', 'srv_9', 'srv_11']);
    expect(clock.sleeps).toEqual([100]);
  });

  it('counts an entry failed after maxRetries retries, with one call per attempt and growing waits', async () => {
    eb.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) =>
      respond(input, (entry) => JSON.parse(entry.Detail!).serverId === 'srv_1'),
    );

    const report = await sink(3).emit([small(0), small(1), small(2)]);

    expect(report).toStrictEqual({ sent: 2, failed: 1, calls: 4 });
    expect(entriesPerCall()).toEqual([3, 1, 1, 1]);
    expect(clock.sleeps).toEqual([100, 200, 400]);
    const final = log.lines.find((l) => l.level === 'error');
    expect(final?.attributes).toMatchObject({ failed: 1, detailTypes: { [DETAIL_TYPE]: 1 } });
  });

  it('uses 3 retries by default', async () => {
    eb.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => respond(input, () => true));
    const report = await sink().emit([small(0)]);
    expect(report).toStrictEqual({ sent: 0, failed: 1, calls: 4 });
  });

  it('retries a call that threw, and counts its entries failed when it keeps throwing', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    eb.on(PutEventsCommand).rejectsOnce(throttled).callsFake(accept);

    expect(await sink().emit([small(0), small(1)])).toStrictEqual({ sent: 2, failed: 0, calls: 2 });
    expect(entriesPerCall()).toEqual([2, 2]);
    expect(log.lines.find((l) => l.level === 'warn')?.attributes).toMatchObject({ cause: 'ThrottlingException' });

    eb.reset();
    eb.on(PutEventsCommand).rejects(throttled);
    expect(await sink(2).emit([small(0), small(1)])).toStrictEqual({ sent: 0, failed: 2, calls: 3 });
  });

  it('never sends an entry over 256 KB: counts it failed and logs its detail-type, not its detail', async () => {
    eb.on(PutEventsCommand).callsFake(accept);
    const oversize: OutgoingEvent = {
      detailType: 'MCP Credential Audit Result',
      detail: { note: CANARY, pad: 'x'.repeat(PUT_EVENTS_MAX_BYTES) },
    };

    const report = await sink().emit([small(0), oversize, small(1)]);

    expect(report).toStrictEqual({ sent: 2, failed: 1, calls: 1 });
    expect(detailsOfCall(0)).toEqual(['srv_0', 'srv_1']);
    const error = log.lines.find((l) => l.level === 'error');
    expect(error?.attributes).toMatchObject({ detailType: 'MCP Credential Audit Result' });
    expect(log.text()).not.toContain(CANARY);
  });

  it('sends an entry of exactly 256 KB on its own', async () => {
    eb.on(PutEventsCommand).callsFake(accept);
    expect(await sink().emit([eventOfSize(PUT_EVENTS_MAX_BYTES)])).toStrictEqual({ sent: 1, failed: 0, calls: 1 });
  });

  it('counts a detail that cannot be serialised as failed without throwing', async () => {
    eb.on(PutEventsCommand).callsFake(accept);
    const report = await sink().emit([{ detailType: DETAIL_TYPE, detail: { n: 1n } }, small(0)]);
    expect(report).toStrictEqual({ sent: 1, failed: 1, calls: 1 });
  });

  it('keeps event details and EventBridge error messages out of the logs', async () => {
    eb.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => respond(input, () => true));
    await sink(1).emit([{ detailType: DETAIL_TYPE, detail: { token: CANARY } }]);
    expect(log.lines.length).toBeGreaterThan(0);
    expect(log.text()).not.toContain(CANARY);
  });
});
