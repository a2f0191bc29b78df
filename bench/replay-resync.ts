/**
 * `npm run bench:replay`: how the first poll's timing trades GETs against waiting. Replays the re-syncs the last
 * `npm run bench` recorded in its async setting (bench/results.json, `resyncMs` and `resyncOrigin`) through the
 * rotator's own verifyResync and ResyncTiming, in virtual time, once per policy: the one in use and the alternatives
 * it was chosen over. Only the verification is replayed (no AWS, no startup), so walls compare policies, not settings.
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

const variant = (changes: Partial<ResyncPolicy>): ResyncPolicy => ({ ...DEFAULT_RESYNC_POLICY, ...changes });

/** The policy in use, then the alternatives it was chosen over. */
const POLICIES: ResyncPolicy[] = [
  DEFAULT_RESYNC_POLICY,
  variant({ remembered: 32, quantile: 1, margin: 0.05 }),
  variant({ remembered: 32, quantile: 1, margin: 0.05, scout: false }),
  variant({ quantile: 0.5 }),
  variant({ margin: 0.05 }),
  variant({ margin: 0.2 }),
  variant({ remembered: 128, quantile: 1 }),
];

/**
 * A fleet whose upstreams differ: every tenth server's MCP upstream (its own origin) takes SLOW_EXTRA_MS longer to
 * re-sync than the recorded ones, the others share one origin.
 */
const SLOW_EVERY = 10;
const SLOW_EXTRA_MS = 1_000;

function describePolicy(policy: ResyncPolicy): string {
  const of = policy.quantile === 1 ? 'max' : `p${Math.round(policy.quantile * 100)}`;
  const text = `${of} of the last ${policy.remembered} + ${Math.round(policy.margin * 100)}%`;
  const options = [!policy.scout && 'no scout', !policy.byOrigin && 'whole run, not per origin'].filter(Boolean);
  const inUse = policy === DEFAULT_RESYNC_POLICY ? ' (in use)' : '';
  return `${text}${options.length > 0 ? `, ${options.join(', ')}` : ''}${inUse}`;
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

/**
 * `resyncMs[k]` is target k's re-sync and `origins[k]` its upstream's origin (one for all by default); PATCHes take
 * `patchMs`; `concurrency` targets are in flight.
 */
export async function replay(
  resyncMs: readonly number[],
  policy: ResyncPolicy,
  patchMs: number,
  concurrency: number,
  origins: readonly string[] = [],
): Promise<Replay> {
  const clock = new SimulatedClock();
  const started = clock.now();
  const timing = new ResyncTiming(policy);
  const limit = pLimit(concurrency);
  const iso = (ms: number) => new Date(ms).toISOString();
  const before = mcpServerFixture('srv', { metadata: { tool_count: 3, last_synced_at: iso(started - 60_000) } });
  let gets = 0;
  let late = 0;

  const verify = async (resync: number, origin = 'https://mcp.example.com') => {
    await clock.sleep(patchMs);
    const patchedAt = clock.now();
    const base = { ...before, base_url: `${origin}/mcp` };
    const pending: McpServer = { ...base, status: 'syncing', updated_at: iso(patchedAt) };
    const synced: McpServer = {
      ...base,
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

  await clock.run(Promise.all(resyncMs.map((ms, k) => limit(() => verify(ms, origins[k])))));
  return { wallMs: clock.now() - started, gets, late };
}

async function main(): Promise<void> {
  const results = JSON.parse(await readFile(RESULTS_FILE, 'utf8')) as Results;
  const run = results.settings.find((s) => s.resyncMs !== undefined && s.resyncMs.length > 0);
  if (run?.resyncMs === undefined) {
    throw new Error(`${RESULTS_FILE} holds no recorded re-syncs: run \`npm run bench\` first`);
  }
  const resyncMs = run.resyncMs;
  // Each re-sync at the origin of the MCP server it connected to, as in the run (older results: one origin).
  const recordedOrigins = (run.resyncOrigin ?? []).map((i) => `http://mcp-${i}.bench`);
  const { patchLatencyMs } = run.setting;
  const concurrency = run.bound.concurrency;
  const sorted = resyncMs.toSorted((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

  console.log(
    `Replaying the ${resyncMs.length} re-syncs of "${run.setting.name}" (commit ${results.commit}): ` +
      `median ${at(0.5)} ms, p90 ${at(0.9)} ms, p99 ${at(0.99)} ms, max ${sorted.at(-1)} ms; ` +
      `PATCH ${patchLatencyMs} ms, GET ${GET_MS} ms, ${concurrency} in flight`,
  );
  const rows = async (durations: readonly number[], origins: readonly string[], policies: ResyncPolicy[]) => {
    // Every first poll exactly when its re-sync ends: the best any policy can do.
    const ideal = durations.reduce((sum, ms) => sum + patchLatencyMs + ms + GET_MS, 0) / concurrency;
    const table = new Table({
      head: ['policy', 'wall', 'wall ÷ ideal', 'GETs', 'first poll too early'],
      colAligns: ['left', 'right', 'right', 'right', 'right'],
    });
    for (const policy of policies) {
      const r = await replay(durations, policy, patchLatencyMs, concurrency, origins);
      table.push([
        describePolicy(policy),
        `${(r.wallMs / 1000).toFixed(2)} s`,
        `${(r.wallMs / ideal).toFixed(3)}×`,
        `${r.gets} / ${durations.length}`,
        String(r.late),
      ]);
    }
    console.log(table.toString());
    console.log(`ideal (each first poll as its re-sync ends): ${(ideal / 1000).toFixed(2)} s\n`);
  };

  await rows(resyncMs, recordedOrigins, POLICIES);

  console.log(
    `The same re-syncs, but every ${SLOW_EVERY}th server's upstream (its own origin) ${SLOW_EXTRA_MS} ms slower:`,
  );
  const slow = (k: number) => k % SLOW_EVERY === SLOW_EVERY - 1;
  await rows(
    resyncMs.map((ms, k) => (slow(k) ? ms + SLOW_EXTRA_MS : ms)),
    resyncMs.map((_, k) => (slow(k) ? 'https://slow.example.com' : 'https://fast.example.com')),
    [DEFAULT_RESYNC_POLICY, variant({ byOrigin: false }), variant({ byOrigin: false, quantile: 1 })],
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
