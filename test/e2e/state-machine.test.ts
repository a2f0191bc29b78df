/**
 * The synthesized state machine definition, validated with asl-validator and executed with aws-local-stepfunctions:
 * every Lambda task runs the built dist/handler.mjs in a fresh process (as Lambda would) against moto, the Datagrid
 * emulator and real MCP servers.
 */
import aslValidator from 'asl-validator';
import { StateMachine } from 'aws-local-stepfunctions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE } from '../../infra/state-machine.ts';
import { DETAIL_TYPE } from '../../lambda/constants.ts';
import type { RunPlan, RunTotals } from '../../lambda/fleet-steps.ts';
import { startMoto } from '../../local/moto.ts';
import type { RunningMoto } from '../../local/moto.ts';
import { LocalStack } from '../../local/stack.ts';
import type { StackServer } from '../../local/stack.ts';
import { synthesizeStateMachine } from '../../local/state-machine.ts';
import type { Definition } from '../../local/state-machine.ts';
import { leakedCanaries } from './support/canaries.ts';
import { canary, expectNoLeak, requests } from './support/harness.ts';

interface Execution {
  ok: boolean;
  totals?: RunTotals;
  error?: { name: string; message: string };
  /** Every task's input and output, in the order they answered. */
  tasks: { state: string; input: unknown; output?: unknown; error?: string }[];
}

interface ExecuteOptions {
  /** Throws this Lambda error instead of invoking the handler, for the first `times` calls of the shard task. */
  shardFault?: { error: string; times: number };
}

/** Runs the definition locally; each Lambda task is one invocation of the built handler in its own process. */
async function execute(
  stack: LocalStack,
  definition: Definition,
  input: Parameters<StateMachine['run']>[0],
  options: ExecuteOptions = {},
): Promise<Execution> {
  const tasks: Execution['tasks'] = [];
  const running: Promise<unknown>[] = [];
  let faults = options.shardFault?.times ?? 0;
  const invoke =
    (state: string) =>
    async (taskInput: unknown): Promise<never> => {
      const task: Execution['tasks'][number] = { state, input: taskInput };
      tasks.push(task);
      if (state === STATE.shard && faults > 0) {
        faults -= 1;
        task.error = options.shardFault!.error;
        throw Object.assign(new Error('Rate exceeded'), { name: options.shardFault!.error });
      }
      const invoked = stack.invoke(taskInput);
      running.push(invoked);
      const invocation = await invoked;
      expectNoLeak(`the ${state} task's logs`, invocation.stdout + invocation.stderr);
      if (!invocation.ok) {
        task.error = invocation.error?.name;
        throw Object.assign(new Error(invocation.error?.message), { name: invocation.error?.name ?? 'Error' });
      }
      task.output = invocation.summary;
      return invocation.summary as never;
    };
  const machine = new StateMachine(definition);
  const run = machine.run(input, {
    overrides: {
      taskResourceLocalHandlers: {
        [STATE.plan]: invoke(STATE.plan),
        [STATE.shard]: invoke(STATE.shard),
        [STATE.complete]: invoke(STATE.complete),
      },
      // The definition's retry intervals (2 s, doubling) are real; the test does not wait them out.
      retryIntervalOverrides: { [STATE.shard]: 0, [STATE.plan]: 0, [STATE.complete]: 0 },
    },
  });
  let execution: Execution;
  try {
    const totals: unknown = await run.result;
    execution = { ok: true, totals: totals as RunTotals, tasks };
  } catch (error) {
    const { name, message } = error as Error;
    // The local interpreter wraps a task's error: the task's own error name is what the execution failed with.
    execution = { ok: false, error: { name: tasks.findLast((t) => t.error)?.error ?? name, message }, tasks };
  }
  // A failed execution does not wait for the shards still running (Lambda would not stop them either): wait here,
  // so that their requests and events belong to this test, not the next.
  await Promise.allSettled(running);
  return execution;
}

/** `teamspaces` teamspaces of `servers` servers, each with its own secret and MCP server. */
async function fleetWorld(stack: LocalStack, teamspaces: number, servers: number): Promise<StackServer[]> {
  const added: StackServer[] = [];
  for (let t = 1; t <= teamspaces; t += 1) {
    for (let s = 1; s <= servers; s += 1) {
      added.push(await stack.addServer({ name: `t${t}-s${s}`, teamspaceId: `ts${t}`, token: canary(`t${t}s${s}`) }));
    }
  }
  await stack.writeConfig({
    concurrency: { global: 4, perTeamspace: 2, haltAfterFailures: 3 },
    targets: added.map((server) => server.target),
  });
  return added;
}

const ROTATE_ALL = { action: 'rotate', trigger: 'manual', force: true };
const payloadBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value ?? null));

describe('the synthesized state machine', () => {
  let stack: LocalStack;
  let servers: StackServer[];
  let definition: Definition;
  let maxConcurrency: number;
  let moto: RunningMoto;

  // One stack for the whole suite (the harness's stacks last one test): building the fleet is the slow part.
  beforeAll(async () => {
    moto = await startMoto();
    stack = await LocalStack.start({ moto, apiKey: canary('dg-api-key'), name: `sfn-${process.pid}` });
    // 4 teamspaces × 8: the plan packs whole teamspaces into shards of at most 30 targets.
    servers = await fleetWorld(stack, 4, 8);
    ({ definition, maxConcurrency } = synthesizeStateMachine(stack.configFile));
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    await moto?.close();
  });

  it('is valid Amazon States Language, JSONPath only, with an inline Map (what the local interpreter runs)', () => {
    const { isValid, errorsText } = aslValidator(definition);
    expect(isValid, errorsText('\n')).toBe(true);
    const text = JSON.stringify(definition);
    expect(text).not.toContain('JSONata');
    expect(text).not.toContain('DISTRIBUTED');
    expect(Object.keys(definition.States as object)).toEqual([STATE.plan, STATE.shards, STATE.complete]);
    expect(maxConcurrency).toBe(2);
    expect((definition.States as Record<string, { MaxConcurrency?: number }>)[STATE.shards]?.MaxConcurrency).toBe(2);
  });

  it('rotates every target of many teamspaces exactly once, in shards, with one run summary', async () => {
    stack.datagrid.inFlight.resetPeak();
    const execution = await execute(stack, definition, ROTATE_ALL);
    expect(execution.error, execution.error?.message).toBeUndefined();
    expect(execution.totals?.counts).toMatchObject({ rotated: 32, failed: 0, skipped: 0 });
    expect(execution.totals?.shards).toBe(2);

    const plan = execution.tasks.find((t) => t.state === STATE.plan)?.output as RunPlan;
    expect(plan.shards.map((shard) => shard.teamspaces)).toEqual([['ts1', 'ts2', 'ts3'], ['ts4']]);
    // Only ids and counts travel: every state payload is small and holds no secret.
    for (const task of execution.tasks) {
      expect(payloadBytes(task.input)).toBeLessThan(4_000);
      expect(payloadBytes(task.output)).toBeLessThan(4_000);
      expect(leakedCanaries(JSON.stringify(task))).toEqual([]);
    }
    // Two shards at once, each at most perTeamspace (2) requests: never more than concurrency.global (4).
    expect(stack.datagrid.inFlight.peak).toBeLessThanOrEqual(4);

    const events = await stack.receiveEvents();
    const rotated = events.filter((e) => e['detail-type'] === DETAIL_TYPE.rotationResult);
    expect(rotated.map((e) => e.detail.serverId).sort()).toEqual(servers.map((s) => s.serverId).sort());
    expect(new Set(rotated.map((e) => e.detail.runId))).toEqual(new Set([plan.runId]));
    const completed = events.filter((e) => e['detail-type'] === DETAIL_TYPE.runCompleted);
    expect(completed.map((e) => e.detail)).toEqual([
      expect.objectContaining({ runId: plan.runId, counts: expect.objectContaining({ rotated: 32 }) }),
    ]);
    expect(requests(stack, 'PATCH')).toHaveLength(32);
  }, 120_000);

  it('retries a shard whose Lambda failed transiently, and still rotates each target once', async () => {
    stack.datagrid.requestLog.length = 0;
    const teamspace = servers.filter((s) => s.teamspaceId === 'ts4');
    const execution = await execute(
      stack,
      definition,
      { ...ROTATE_ALL, targets: teamspace.map((s) => `ts4/${s.serverId}`) },
      { shardFault: { error: 'Lambda.TooManyRequestsException', times: 1 } },
    );
    expect(execution.error).toBeUndefined();
    expect(execution.totals?.counts).toMatchObject({ rotated: 8, failed: 0 });
    expect(execution.tasks.filter((t) => t.state === STATE.shard).map((t) => t.error)).toEqual([
      'Lambda.TooManyRequestsException',
      undefined,
    ]);
    expect(requests(stack, 'PATCH')).toHaveLength(8);
    await stack.receiveEvents();
  }, 120_000);

  it('rotates an incident on 3 targets across 2 teamspaces, and those only', async () => {
    stack.datagrid.requestLog.length = 0;
    const chosen = [servers[0]!, servers[1]!, servers[20]!];
    const execution = await execute(stack, definition, {
      action: 'rotate',
      incidentId: 'INC-42',
      targets: chosen.map((s) => `${s.teamspaceId}/${s.serverId}`),
    });
    expect(execution.totals).toMatchObject({ trigger: 'incident', counts: expect.objectContaining({ rotated: 3 }) });
    const plan = execution.tasks.find((t) => t.state === STATE.plan)?.output as RunPlan;
    expect(plan.shards).toEqual([{ teamspaces: ['ts1', 'ts3'], targets: 3 }]);
    expect(requests(stack, 'PATCH')).toHaveLength(3);
    await stack.receiveEvents();
  }, 120_000);

  it('stops the execution on a revoked API key: ApiKeyRejected, nothing PATCHed, no retry of it', async () => {
    stack.datagrid.requestLog.length = 0;
    stack.datagrid.apiKeys.revoke(stack.datagrid.apiKey);
    try {
      const execution = await execute(stack, definition, ROTATE_ALL);
      expect(execution.ok).toBe(false);
      expect(execution.error?.name).toBe('ApiKeyRejected');
      expect(execution.tasks.filter((t) => t.state === STATE.complete)).toEqual([]);
      expect(requests(stack, 'PATCH')).toEqual([]);
    } finally {
      stack.datagrid.apiKeys.add(stack.datagrid.apiKey);
      await stack.receiveEvents();
    }
  }, 120_000);

  it('halts the run as a whole when its first haltAfterFailures targets, over both shards, failed', async () => {
    // 10: more than the ts4 shard's 8 targets, so that shard could never halt the run on its own tally.
    await stack.writeConfig({
      concurrency: { global: 4, perTeamspace: 2, haltAfterFailures: 10 },
      targets: servers.map((server) => server.target),
    });
    const rejected = stack.datagrid.faults.add({
      method: 'PATCH',
      path: '/organization/mcp-servers/*',
      fault: { type: 'server-error', status: 422 },
    });
    stack.datagrid.requestLog.length = 0;
    try {
      const execution = await execute(stack, definition, ROTATE_ALL);
      expect(execution.ok).toBe(false);
      expect(execution.error?.name).toBe('RunHalted');
      expect(execution.tasks.filter((t) => t.state === STATE.complete)).toEqual([]);

      const results = (await stack.receiveEvents()).filter((e) => e['detail-type'] === DETAIL_TYPE.rotationResult);
      const codes = results.map((e) => (e.detail.error as { code: string }).code);
      const failed = codes.filter((code) => code === 'DATAGRID_REJECTED').length;
      // The 10 counted, plus at most the 3 others in flight (concurrency.global 4) when the tally tripped; with a
      // tally per shard, the ts4 shard would have PATCHed all of its 8 and the other shard 10: 18 or more.
      expect(failed).toBeGreaterThanOrEqual(10);
      expect(failed).toBeLessThanOrEqual(13);
      expect(requests(stack, 'PATCH')).toHaveLength(failed);
      expect(codes).toHaveLength(32);
      expect(codes.filter((code) => code === 'HALTED')).toHaveLength(32 - failed);
      // A shard halted before 10 failures of its own: it heeded the other shard's failures too.
      const shardOf = (e: (typeof results)[number]) => (e.detail.teamspaceId === 'ts4' ? 'ts4' : 'ts1-ts3');
      const perShard = (shard: string, code: string) =>
        results.filter((e) => shardOf(e) === shard && (e.detail.error as { code: string }).code === code).length;
      const haltedEarly = ['ts1-ts3', 'ts4'].filter(
        (shard) => perShard(shard, 'HALTED') > 0 && perShard(shard, 'DATAGRID_REJECTED') < 10,
      );
      expect(haltedEarly).not.toEqual([]);
      const plan = execution.tasks.find((t) => t.state === STATE.plan)?.output as RunPlan;
      expect(await stack.stateItems()).toContainEqual(
        expect.objectContaining({ pk: `run#${plan.runId}`, finished: 10, failed: 10, expiresAt: expect.any(Number) }),
      );
    } finally {
      rejected.remove();
      await stack.writeConfig({
        concurrency: { global: 4, perTeamspace: 2, haltAfterFailures: 3 },
        targets: servers.map((server) => server.target),
      });
    }
  }, 120_000);

  it('rejects a bad request in the plan, before any shard runs', async () => {
    const execution = await execute(stack, definition, { action: 'rotate', targets: ['nope'] });
    expect(execution.ok).toBe(false);
    expect(execution.error?.name).toBe('RequestError');
    expect(execution.tasks.map((t) => t.state)).toEqual([STATE.plan]);
  }, 60_000);
});
