/**
 * The end-to-end harness: one moto per test file, a fresh LocalStack (emulator, MCP servers, table, bus, queue,
 * config) per test, and `run()`, which invokes the built handler in its own process, collects the events the rule
 * delivered, and checks on every run what holds for all of them: no canary anywhere, and events that match the
 * result.
 */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { DETAIL_TYPE } from '../../../lambda/constants.ts';
import type { AuditResult, RotationResult, RunCounts, RunSummary } from '../../../lambda/types/results.ts';
import type { HandlerError, Invocation } from '../../../local/invoke-handler.ts';
import { startMoto } from '../../../local/moto.ts';
import type { RunningMoto } from '../../../local/moto.ts';
import { LocalStack } from '../../../local/stack.ts';
import type { LocalStackOptions, ReceivedEvent, StackInvokeOptions, StackServer } from '../../../local/stack.ts';
import { canary, leakedCanaries } from './canaries.ts';

export { canary, registerCanary } from './canaries.ts';
export type { LocalStack, StackServer };

let moto: RunningMoto | undefined;
let stackCounter = 0;
const openStacks: LocalStack[] = [];

/** Call once at the top of a test file: one moto for the file, every stack closed after its test. */
export function useLocalAws(): void {
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterEach(async () => {
    await Promise.all(openStacks.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await moto?.close();
  });
}

/** A fresh stack on the file's moto, with a canary Datagrid API key. */
export async function newStack(options: Partial<LocalStackOptions> = {}): Promise<LocalStack> {
  if (!moto) throw new Error('newStack: call useLocalAws() at the top of the test file');
  stackCounter += 1;
  const stack = await LocalStack.start({
    moto,
    apiKey: canary('dg-api-key'),
    name: `e2e-${process.pid}-${stackCounter}`,
    ...options,
  });
  openStacks.push(stack);
  return stack;
}

export interface Run {
  exitCode: number | null;
  ok: boolean;
  summary: RunSummary | undefined;
  error: HandlerError | undefined;
  stdout: string;
  stderr: string;
  events: ReceivedEvent[];
  /** The `MCP Rotation Run Completed` event's detail. */
  completed: Record<string, unknown> | undefined;
  counts: RunCounts | undefined;
  /** From the summary when the handler resolved, else from the result events (a failed rotation throws). */
  rotations: RotationResult[];
  audits: AuditResult[];
}

/** One invocation of the built handler, checked for leaks and for events that match its result. */
export async function run(stack: LocalStack, event: unknown, options: StackInvokeOptions = {}): Promise<Run> {
  const [result] = await runTogether(stack, [event], options);
  return result!;
}

/** Invocations started at the same moment, each in its own process (overlapping runs); one Run each, in order. */
export async function runTogether(
  stack: LocalStack,
  events: unknown[],
  options: StackInvokeOptions = {},
): Promise<Run[]> {
  return collectRuns(
    stack,
    events.map((e) => stack.invoke<RunSummary>(e, options)),
  );
}

/**
 * Runs started by the caller (e.g. one after another, overlapping), collected and checked as `runTogether` does: once
 * every one has ended, their events are received and each run gets its own.
 */
export async function collectRuns(stack: LocalStack, started: Promise<Invocation<RunSummary>>[]): Promise<Run[]> {
  const invocations = await Promise.all(started);
  const received = await stack.receiveEvents();
  const state = await stack.stateItems();
  expectNoLeak('the state table', JSON.stringify(state));
  for (const event of received) {
    expectNoLeak(`event ${event['detail-type']}`, event.raw);
    expect(event.source, 'every delivered event has the configured source').toBe(stack.eventSource);
  }

  const claimed = new Set<ReceivedEvent>();
  const runs = invocations.map((invocation): Run => {
    expectNoLeak('the handler stdout (logs)', invocation.stdout);
    expectNoLeak('the handler stderr', invocation.stderr);
    expectNoLeak('the handler result', JSON.stringify(invocation.summary ?? null));
    expectNoLeak('the handler error', JSON.stringify(invocation.error ?? null));
    expect(invocation.exitCode, 'exit code 0 exactly when the handler resolved').toBe(invocation.ok ? 0 : 1);

    const runId = invocation.summary?.runId ?? runIdInError(invocation.error);
    const own =
      runId === undefined
        ? invocations.length === 1
          ? received
          : []
        : received.filter((e) => e.detail.runId === runId);
    for (const e of own) claimed.add(e);
    const completed = own.find((e) => e['detail-type'] === DETAIL_TYPE.runCompleted)?.detail;
    const detailsOf = <T>(type: string) =>
      own.filter((e) => e['detail-type'] === type).map((e) => e.detail as unknown as T);
    const rotations =
      invocation.summary?.results.filter((r): r is RotationResult => 'outcome' in r) ??
      detailsOf<RotationResult>(DETAIL_TYPE.rotationResult);
    const audits =
      invocation.summary?.results.filter((r): r is AuditResult => 'compliant' in r) ??
      detailsOf<AuditResult>(DETAIL_TYPE.auditResult);
    if (invocation.summary) expectEventsMatchSummary(invocation.summary, own);
    return {
      exitCode: invocation.exitCode,
      ok: invocation.ok,
      summary: invocation.summary,
      error: invocation.error,
      stdout: invocation.stdout,
      stderr: invocation.stderr,
      events: own,
      completed,
      counts: invocation.summary?.counts ?? (completed?.counts as RunCounts | undefined),
      rotations,
      audits,
    };
  });
  if (invocations.length > 1) {
    expect(
      received.filter((e) => !claimed.has(e)),
      'every event belongs to one of the runs',
    ).toEqual([]);
  }
  return runs;
}

/** The rotation result of a server in a run (exactly one). */
export function rotationOf(run: Run, server: StackServer): RotationResult {
  const found = run.rotations.filter((r) => r.serverId === server.serverId);
  expect(found, `one rotation result for ${server.name}`).toHaveLength(1);
  return found[0]!;
}

export function auditOf(run: Run, server: StackServer): AuditResult {
  const found = run.audits.filter((r) => r.serverId === server.serverId);
  expect(found, `one audit result for ${server.name}`).toHaveLength(1);
  return found[0]!;
}

/** Finding codes of an audit result, sorted. */
export function findingCodes(result: AuditResult): string[] {
  return result.findings.map((f) => f.code).sort();
}

/** The emulator's request log as `METHOD path` lines, optionally only one method. */
export function requests(stack: LocalStack, method?: string): string[] {
  return stack.datagrid.requestLog
    .filter((r) => method === undefined || r.method === method)
    .map((r) => `${r.method} ${r.path}`);
}

export function expectNoLeak(where: string, text: string): void {
  expect(leakedCanaries(text), `no secret, token or API key in ${where}`).toEqual([]);
}

/** one result event per target (the result plus run context) and one completion event. */
function expectEventsMatchSummary(summary: RunSummary, events: ReceivedEvent[]): void {
  const { results, ...runDetail } = summary;
  const completed = events.filter((e) => e['detail-type'] === DETAIL_TYPE.runCompleted);
  expect(completed.map((e) => e.detail)).toEqual([runDetail]);
  const context = {
    runId: summary.runId,
    trigger: summary.trigger,
    ...(summary.incidentId !== undefined && { incidentId: summary.incidentId }),
    ...(summary.reason !== undefined && { reason: summary.reason }),
  };
  const expected = results.map((r) =>
    'compliant' in r
      ? { type: DETAIL_TYPE.auditResult, detail: { ...r, runId: summary.runId } }
      : { type: DETAIL_TYPE.rotationResult, detail: { ...r, ...context } },
  );
  const actual = events
    .filter((e) => e['detail-type'] !== DETAIL_TYPE.runCompleted)
    .map((e) => ({ type: e['detail-type'], detail: e.detail }));
  expect(sortByServer(actual)).toEqual(sortByServer(expected));
}

function sortByServer<T extends { detail: Record<string, unknown> | object }>(items: T[]): T[] {
  const key = (item: T) => {
    const d = item.detail as { teamspaceId?: string; serverId?: string };
    return `${d.teamspaceId ?? ''}/${d.serverId ?? ''}`;
  };
  return [...items].sort((a, b) => key(a).localeCompare(key(b)));
}

/** RotationFailedError says "Run <runId>: ..."; other errors name no run. */
function runIdInError(error: HandlerError | undefined): string | undefined {
  return /^Run ([0-9a-f-]{36})\b/.exec(error?.message ?? '')?.[1];
}
