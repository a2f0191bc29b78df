/** haltAfterFailures over a run split into state machine shards: the tally in the run record, shared by shards. */
import { describe, expect, it } from 'vitest';
import { sharedHaltCounter } from '../../../lambda/engine/halting.ts';
import type { RotationResult } from '../../../lambda/types/results.ts';
import { CapturingLog, FakeState } from '../../support/fakes.ts';
import { Harness, config, request, target } from '../../support/engine-harness.ts';

const RUN = 'run-fleet';

/** One Datagrid, one state table; each shard a subset of `n` targets, run as shards of RUN. */
function fleet(n: number) {
  const h = new Harness();
  h.shardOf = RUN;
  const targets = Array.from({ length: n }, (_, i) => {
    const id = `srv_${i + 1}`;
    h.datagrid.addServer(id, `ts_${i + 1}`);
    h.secrets.put(`mcp/${id}`, `token-${id}-canary-9b1d`);
    return target(id, `mcp/${id}`, { teamspaceId: `ts_${i + 1}` });
  });
  const shard = (from: number, to: number) =>
    h.run(config(targets.slice(from, to), { global: 1, haltAfterFailures: 3 }), request({ force: true }));
  return { h, shard };
}

const codes = (results: readonly unknown[]) => results.map((r) => (r as RotationResult).error?.code ?? 'ok');

describe('haltAfterFailures across the shards of one run', () => {
  it('halts when the run first failures are spread over shards: no shard holds haltAfterFailures alone', async () => {
    const { h, shard } = fleet(6);
    h.datagrid.resync = () => ({ status: 'error', tools: 0 });
    // Shard 1: 2 failures, under the limit of 3 on its own.
    expect(codes((await shard(0, 2)).results)).toEqual(['VERIFY_UNHEALTHY', 'VERIFY_UNHEALTHY']);
    // Shard 2: its first failure is the run's third: the run halts and its next targets start no PATCH.
    const second = await shard(2, 4);
    expect(codes(second.results)).toEqual(['VERIFY_UNHEALTHY', 'HALTED']);
    // A shard started after the halt (the local interpreter still starts queued iterations) PATCHes nothing.
    const late = await shard(4, 6);
    expect(codes(late.results)).toEqual(['HALTED', 'HALTED']);
    expect(h.datagrid.patches.map((p) => p.serverId)).toEqual(['srv_1', 'srv_2', 'srv_3']);
    expect(h.state.runs.get(RUN)).toMatchObject({ finished: 3, failed: 3 });
    expect([...h.state.items.values()].filter((item) => item.leaseOwner !== undefined)).toEqual([]);
  });

  it('would not halt with the tally per invocation (the control: the same shards, each counting alone)', async () => {
    const { h, shard } = fleet(4);
    h.shardOf = undefined;
    h.datagrid.resync = () => ({ status: 'error', tools: 0 });
    expect(codes((await shard(0, 2)).results)).toEqual(['VERIFY_UNHEALTHY', 'VERIFY_UNHEALTHY']);
    expect(codes((await shard(2, 4)).results)).toEqual(['VERIFY_UNHEALTHY', 'VERIFY_UNHEALTHY']);
    expect(h.state.runs.size).toBe(0);
  });

  it('does not halt once one of the run first targets succeeded, and stops reading the record then', async () => {
    const { h, shard } = fleet(8);
    h.datagrid.resync = (id) => (id === 'srv_2' ? { status: 'active', tools: 3 } : { status: 'error', tools: 0 });
    await shard(0, 3);
    expect(h.state.runs.get(RUN)).toMatchObject({ finished: 3, failed: 2 });
    const callsBefore = h.state.runCalls;
    const rest = await shard(3, 8);
    expect(codes(rest.results)).toEqual(Array(5).fill('VERIFY_UNHEALTHY'));
    // One read learns the verdict is final; the shard's other targets neither read nor count.
    expect(h.state.runCalls - callsBefore).toBe(1);
  });

  it('keeps a target result when the run record cannot be written, and says so', async () => {
    const { h, shard } = fleet(2);
    h.state.countRunOutcome = () => Promise.reject(new Error('ProvisionedThroughputExceededException'));
    const summary = await shard(0, 2);
    expect(summary.counts).toMatchObject({ rotated: 2, failed: 0 });
    expect(h.log.lines.filter((e) => e.message === 'could not count the target in the run record')).toHaveLength(2);
  });

  it('counts nothing with haltAfterFailures 0', async () => {
    const state = new FakeState();
    const counter = sharedHaltCounter(state, RUN, 0, { log: new CapturingLog(), nowMs: 0 });
    expect(await counter.count(true)).toBeUndefined();
    expect(await counter.check()).toBeUndefined();
    expect(state.runCalls).toBe(0);
  });

  it('gives the run record a TTL past the execution timeout', async () => {
    const state = new FakeState();
    await sharedHaltCounter(state, RUN, 3, { log: new CapturingLog(), nowMs: 1_000_000 }).count(false);
    expect(state.runs.get(RUN)?.expiresAt).toBe(1_000 + 2 * 24 * 3600);
  });
});
