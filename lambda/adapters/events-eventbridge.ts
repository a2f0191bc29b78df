/**
 * EventSink on EventBridge PutEvents. A run emits one event per target plus a summary, so events are packed into as
 * few calls as the PutEvents limits allow, and entries EventBridge refused are sent again on their own. An entry is
 * sent again only when EventBridge said it was refused (or the whole call failed): a re-send of a delivered entry
 * would reach consumers twice.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import pLimit from 'p-limit';
import { AWS_BATCH_CONCURRENCY, PUT_EVENTS_MAX_BYTES, PUT_EVENTS_MAX_ENTRIES } from '../constants.ts';
import { describeCause } from '../errors.ts';
import type { Clock, EmitReport, EventSink, Log } from '../types/ports.ts';

export const DEFAULT_EMIT_MAX_RETRIES = 3;
/** First wait before re-sending failed entries; doubles each round. */
const RETRY_BACKOFF_MS = 100;

interface SizedEntry {
  entry: PutEventsRequestEntry;
  bytes: number;
}

const utf8Bytes = (text: string | undefined): number => (text === undefined ? 0 : Buffer.byteLength(text, 'utf8'));

/**
 * The size EventBridge counts against the 256 KB limit, as AWS documents it ("Calculating PutEvents event entry
 * size", EventBridge User Guide): UTF-8 bytes of Source, DetailType, Detail and each Resource, plus 14 bytes for
 * Time. EventBusName is not counted.
 */
export function putEventsEntrySize(entry: PutEventsRequestEntry): number {
  let size = entry.Time === undefined ? 0 : 14;
  size += utf8Bytes(entry.Source) + utf8Bytes(entry.DetailType) + utf8Bytes(entry.Detail);
  for (const resource of entry.Resources ?? []) size += utf8Bytes(resource);
  return size;
}

/** Greedy, in order: a batch closes when the next entry would break the entry count or the byte limit. */
function packBatches(entries: readonly SizedEntry[]): SizedEntry[][] {
  const batches: SizedEntry[][] = [];
  let current: SizedEntry[] = [];
  let currentBytes = 0;
  for (const sized of entries) {
    if (current.length === PUT_EVENTS_MAX_ENTRIES || currentBytes + sized.bytes > PUT_EVENTS_MAX_BYTES) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(sized);
    currentBytes += sized.bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

export function createEventSink(
  client: EventBridgeClient,
  options: { busName: string; source: string; clock: Clock; log?: Log; maxRetries?: number },
): EventSink {
  const { busName, source, clock, log } = options;
  const maxRetries = options.maxRetries ?? DEFAULT_EMIT_MAX_RETRIES;

  /**
   * Sends one batch. `retry`: the entries to try again (refused by EventBridge, or the whole batch if the call threw);
   * `lost`: entries refused that cannot be retried without also re-sending delivered ones.
   */
  async function sendBatch(
    batch: readonly SizedEntry[],
    round: number,
  ): Promise<{ retry: SizedEntry[]; lost: number }> {
    let response;
    try {
      response = await client.send(new PutEventsCommand({ Entries: batch.map((sized) => sized.entry) }));
    } catch (error) {
      log?.warn('PutEvents call failed', { entries: batch.length, round, cause: describeCause(error) });
      return { retry: [...batch], lost: 0 };
    }
    const failedCount = response.FailedEntryCount ?? 0;
    if (failedCount === 0) return { retry: [], lost: 0 };
    const results = response.Entries;
    if (results?.length !== batch.length) {
      // A count without per-entry results (or with results that do not line up) does not say which entries failed.
      // When all did, re-sending them all is safe; otherwise the refused ones are counted as not delivered rather
      // than re-sending the batch, which would deliver the others twice.
      if (failedCount >= batch.length) return { retry: [...batch], lost: 0 };
      log?.warn('PutEvents refused some entries without saying which; they are not sent again', {
        failed: failedCount,
        entries: batch.length,
        round,
      });
      return { retry: [], lost: failedCount };
    }
    // Results line up with the request entries; one without an EventId was not accepted.
    const failed = batch.filter((_, i) => results[i]?.EventId === undefined || results[i]?.ErrorCode !== undefined);
    // ErrorMessage is left out: only the code is needed to act, and nothing of an entry should reach the logs.
    const errorCodes = countBy(results.flatMap((result) => (result.ErrorCode ? [result.ErrorCode] : [])));
    log?.warn('PutEvents refused some entries', { failed: failed.length, round, errorCodes });
    return { retry: failed, lost: 0 };
  }

  return {
    async emit(events) {
      let failed = 0;
      let calls = 0;
      let pending: SizedEntry[] = [];
      for (const event of events) {
        let detail: string;
        try {
          detail = JSON.stringify(event.detail);
        } catch (error) {
          failed++;
          log?.error('Event not sent: its detail is not JSON-serialisable', {
            detailType: event.detailType,
            cause: describeCause(error),
          });
          continue;
        }
        const entry: PutEventsRequestEntry = {
          EventBusName: busName,
          Source: source,
          DetailType: event.detailType,
          Detail: detail,
        };
        const bytes = putEventsEntrySize(entry);
        if (bytes > PUT_EVENTS_MAX_BYTES) {
          failed++;
          // The detail is never logged: it describes a credential rotation.
          log?.error('Event not sent: larger than the PutEvents entry limit', {
            detailType: event.detailType,
            bytes,
            maxBytes: PUT_EVENTS_MAX_BYTES,
          });
          continue;
        }
        pending.push({ entry, bytes });
      }

      const total = pending.length;
      let lost = 0;
      for (let round = 0; pending.length > 0; round++) {
        if (round > 0) {
          if (round > maxRetries) break;
          await clock.sleep(RETRY_BACKOFF_MS * 2 ** (round - 1));
        }
        // Order across calls is not promised here: a caller that needs an event last emits it on its own, after
        // the others (result-events.ts does so with the run summary).
        const batches = packBatches(pending);
        const limit = pLimit(AWS_BATCH_CONCURRENCY);
        const outcomes = await Promise.all(batches.map((batch) => limit(() => sendBatch(batch, round))));
        calls += batches.length;
        pending = outcomes.flatMap((outcome) => outcome.retry);
        lost += outcomes.reduce((sum, outcome) => sum + outcome.lost, 0);
      }
      failed += lost;

      if (pending.length > 0) {
        failed += pending.length;
        log?.error('Events not sent after retries', {
          failed: pending.length,
          attempts: maxRetries + 1,
          detailTypes: countBy(pending.map((sized) => sized.entry.DetailType ?? '')),
        });
      }
      return { sent: total - pending.length - lost, failed, calls } satisfies EmitReport;
    },
  };
}
