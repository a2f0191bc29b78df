/**
 * `npm run bench:replay`: how the first poll's timing trades GETs against waiting. Replays the re-syncs the last
 * `npm run bench` recorded in its async setting (bench/results.json, `resyncMs`) through the rotator's own
 * verifyResync and ResyncTiming, in virtual time, once per policy: the one in use and the alternatives it was chosen
 * over. Only the verification is replayed (no AWS, no startup), so walls compare policies, not settings.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import Table from 'cli-table3';
import { DEFAULT_RESYNC_POLICY, ResyncTiming } from '../lambda/engine/resync-timing.ts';
import type { ResyncPolicy } from '../lambda/engine/resync-timing.ts';
import { DEFAULT_TIMING } from '../lambda/engine/context.ts';
import { verifyResync } from '../lambda/engine/verify.ts';
import type { DatagridApi, McpServer, ResolvedTarget } from '../lambda/types/index.ts';
import { SimulatedClock } from '../test/support/fakes.ts';
import { mcpServerFixture } from '../test/support/mcp-server-fixture.ts';
import type { Results } from './run.ts';

const RESULTS_FILE = fileURLToPath(new URL('./results.json', import.meta.url));
/** A GET's round trip in the replay: about what the emulator answers in on 127.0.0.1. */
const GET_MS = 2;

/** The policy in use, then the alternatives it was chosen over. */
const POLICIES: ResyncPolicy[] = [
  DEFAULT_RESYNC_POLICY,
  { remembered: 32, quantile: 1, margin: 0.05, scout: true },
  { remembered: 32, quantile: 1, margin: 0.05, scout: false },
  { remembered: 64, quantile: 0.5, margin: 0.1, scout: true },
  { remembered: 64, quantile: 0.9, margin: 0.05, scout: true },
  { remembered: 64, quantile: 0.9, margin: 0.2, scout: true },
  { remembered: 128, quantile: 1, margin: 0.1, scout: true },
];

function describePolicy(policy: ResyncPolicy): string {
  const of = policy.quantile === 1 ? 'max' : `p${Math.round(policy.quantile * 100)}`;
  const text = `${of} of the last ${policy.remembered} + ${Math.round(policy.margin * 100)}%`;
  return `${text}${policy.scout ? '' : ', no scout'}${policy === DEFAULT_RESYNC_POLICY ? ' (in use)' : ''}`;
}

const TARGET = {
  serverId: 'srv',
  healthyStatuses: ['active'],
  pendingStatuses: ['pending', 'syncing'],
  minToolCount: 1,
  verifyTimeoutSeconds: 60,
} as unknown as ResolvedTarget;

interface Replay {
  wallMs: number;
  gets: number;
  /** Targets whose first poll came before their re-sync was done. */
  late: number;
}

/** `resyncMs[k]` is target k's re-sync; PATCHes take `patchMs`; `concurrency` targets are in flight. */
export async function replay(
  resyncMs: readonly number[],
  policy: ResyncPolicy,
  patchMs: number,
  concurrency: number,
): Promise<Replay> {
  const clock = new SimulatedClock();
  const started = clock.now();
  const timing = new ResyncTiming(policy);
  const limit = pLimit(concurrency);
  const iso = (ms: number) => new Date(ms).toISOString();
  const before = mcpServerFixture('srv', { metadata: { tool_count: 3, last_synced_at: iso(started - 60_000) } });
  let gets = 0;
  let late = 0;

  const verify = async (resync: number) => {
    await clock.sleep(patchMs);
    const patchedAt = clock.now();
    const pending: McpServer = { ...before, status: 'syncing', updated_at: iso(patchedAt) };
    const synced: McpServer = {
      ...before,
      updated_at: iso(patchedAt),
      metadata: { tool_count: 3, last_synced_at: iso(patchedAt + resync) },
    };
    let polls = 0;
    const api = {
      getServer: async () => {
        gets += 1;
        polls += 1;
        await clock.sleep(GET_MS);
        const done = clock.now() - GET_MS / 2 >= patchedAt + resync;
        if (!done && polls === 1) late += 1;
        return done ? synced : pending;
      },
    } as unknown as DatagridApi;
    const verified = await verifyResync(api, TARGET, pending, before, {
      clock,
      pollIntervalMs: DEFAULT_TIMING.pollIntervalMs,
      maxPollIntervalMs: DEFAULT_TIMING.maxPollIntervalMs,
      request: {},
      resyncTiming: timing,
    });
    if (!verified.ok) throw new Error(`replay: a verification failed (${verified.code})`);
  };

  await clock.run(Promise.all(resyncMs.map((ms) => limit(() => verify(ms)))));
  return { wallMs: clock.now() - started, gets, late };
}

async function main(): Promise<void> {
  const results = JSON.parse(await readFile(RESULTS_FILE, 'utf8')) as Results;
  const run = results.settings.find((s) => s.resyncMs !== undefined && s.resyncMs.length > 0);
  if (run?.resyncMs === undefined) {
    throw new Error(`${RESULTS_FILE} holds no recorded re-syncs: run \`npm run bench\` first`);
  }
  const resyncMs = run.resyncMs;
  const { patchLatencyMs } = run.setting;
  const concurrency = run.bound.concurrency;
  const sorted = resyncMs.toSorted((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  // Every first poll exactly when its re-sync ends: the best any policy can do.
  const idealMs = resyncMs.reduce((sum, ms) => sum + patchLatencyMs + ms + GET_MS, 0) / concurrency;

  console.log(
    `Replaying the ${resyncMs.length} re-syncs of "${run.setting.name}" (commit ${results.commit}): ` +
      `median ${at(0.5)} ms, p90 ${at(0.9)} ms, p99 ${at(0.99)} ms, max ${sorted.at(-1)} ms; ` +
      `PATCH ${patchLatencyMs} ms, GET ${GET_MS} ms, ${concurrency} in flight`,
  );
  const table = new Table({
    head: ['policy', 'wall', 'wall ÷ ideal', 'GETs', 'first poll too early'],
    colAligns: ['left', 'right', 'right', 'right', 'right'],
  });
  for (const policy of POLICIES) {
    const r = await replay(resyncMs, policy, patchLatencyMs, concurrency);
    table.push([
      describePolicy(policy),
      `${(r.wallMs / 1000).toFixed(2)} s`,
      `${(r.wallMs / idealMs).toFixed(3)}×`,
      `${r.gets} / ${resyncMs.length}`,
      String(r.late),
    ]);
  }
  console.log(table.toString());
  console.log(`ideal (each first poll as its re-sync ends): ${(idealMs / 1000).toFixed(2)} s`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
