/**
 * `haltAfterFailures` (docs/orchestration.md#halting-across-shards): when the first N targets of a run to finish
 * all ended `failed`, no further PATCH starts. A run in one invocation counts in memory. A run split into state
 * machine shards counts in the state table's run record, shared by every shard, so failures spread thinly over
 * shards halt the run as a whole: once the tally trips, running shards refuse their next targets and a shard started
 * later refuses all of its own.
 */
import { describeCause } from '../errors.ts';
import type { Log, RunTally, StateStore } from '../types/index.ts';

export interface HaltCounter {
  /** Counts a finished (not skipped) target; resolves with why the run halted, if it has. */
  count(failed: boolean): Promise<string | undefined>;
  /** Why the run halted, if it has: another shard of the run may have tripped it. */
  check(): Promise<string | undefined>;
}

/** How long a run record outlives its start: the state machine's execution timeout (24 h) and a day to spare. */
export const RUN_RECORD_TTL_SECONDS = 2 * 24 * 60 * 60;

const reasonOf = (limit: number) => `the first ${limit} targets to finish all failed`;

/** The tally of one invocation's own targets. */
export function localHaltCounter(limit: number): HaltCounter {
  const first: boolean[] = [];
  let reason: string | undefined;
  return {
    count(failed) {
      if (limit > 0 && first.length < limit) {
        first.push(failed);
        if (first.length === limit && first.every(Boolean)) reason = reasonOf(limit);
      }
      return Promise.resolve(reason);
    },
    check: () => Promise.resolve(reason),
  };
}

/**
 * The tally of a run shared by its shards. Once the run's first `limit` targets are counted its verdict is final,
 * so the record is read and written only until then: the first few targets of each shard, not every target.
 */
export function sharedHaltCounter(
  state: StateStore,
  runId: string,
  limit: number,
  options: { log: Log; nowMs: number },
): HaltCounter {
  const expiresAt = Math.floor(options.nowMs / 1000) + RUN_RECORD_TTL_SECONDS;
  let settled = limit === 0;
  let reason: string | undefined;
  const judge = (tally: RunTally): string | undefined => {
    if (tally.finished >= limit) {
      settled = true;
      if (tally.failed >= limit) reason = reasonOf(limit);
    }
    return reason;
  };
  return {
    async count(failed) {
      if (settled) return reason;
      try {
        return judge(await state.countRunOutcome(runId, failed, limit, expiresAt));
      } catch (error) {
        // The target's own result is already known and must be kept: an unrecorded outcome only weakens halting.
        options.log.warn('could not count the target in the run record', { cause: describeCause(error) });
        return reason;
      }
    },
    // A failed read throws: the target it guards has not started its PATCH, and ends INTERNAL.
    async check() {
      return settled ? reason : judge(await state.getRunTally(runId));
    },
  };
}
