/**
 * The safety rules, on the built bundle in a process per invocation: an incident that meets a running rotation is
 * neither lost nor undone; a Lambda retry of a killed invocation (the same awsRequestId or event id) takes over its
 * lease at once and finishes the work, whatever step the kill hit; a PATCH whose answer is lost is read back.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { statePk } from '../../lambda/adapters/state-dynamodb.ts';
import { DEFAULT_DATAGRID } from '../../lambda/constants.ts';
import { worstCaseTargetMs } from '../../lambda/engine/budget.ts';
import { DEFAULT_TIMING } from '../../lambda/engine/context.ts';
import { RESULT_MARKER } from '../../local/invoke-handler.ts';
import type { RunSummary } from '../../lambda/types/results.ts';
import {
  canary,
  collectRuns,
  expectNoLeak,
  newStack,
  requests,
  rotationOf,
  run,
  useLocalAws,
  type LocalStack,
  type StackServer,
} from './support/harness.ts';

useLocalAws();

/** Each test runs the bundle two or three times, one of them waiting out another run. */
const SLOW = 90_000;

const SCHEDULE = { action: 'rotate', trigger: 'schedule' };

function incidentEvent(server: StackServer, incidentId: string) {
  return {
    version: '0',
    id: randomUUID(),
    source: 'datagrid.mcp-rotator.requests',
    'detail-type': 'MCP Rotation Requested',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: { targets: [server.serverId], incidentId, reason: 'token leaked in a CI log' },
  };
}

/** The state item of a server, lease-only items (no serverId attribute yet) included. */
async function itemOf(stack: LocalStack, server: StackServer) {
  const pk = statePk(server.teamspaceId, server.serverId);
  return (await stack.stateItems()).find((item) => item.pk === pk);
}

/** PATCHes the emulator received. */
const patchCount = (stack: LocalStack) => requests(stack, 'PATCH').length;

/** A server on v1 (rotated and recorded), with the secret at v2. `acceptV2`: whether the MCP server takes v2. */
async function onV1WithV2Pending(stack: LocalStack, acceptV2: boolean) {
  const v1 = canary('github-v1');
  const server = await stack.addServer({ name: 'github', token: v1 });
  await stack.writeConfig({ defaults: { verifyTimeoutSeconds: 30 }, targets: [server.target] });
  expect(rotationOf(await run(stack, SCHEDULE), server).outcome).toBe('rotated');
  const v1Version = (await stack.stateOf(server))?.appliedVersionId as string;
  const v2 = canary('github-v2');
  const v2Version = acceptV2
    ? await stack.rotateUpstream(server, v2, { alsoAccept: [v1] })
    : await stack.putSecretValue(server.secretId, v2);
  stack.datagrid.requestLog.length = 0;
  return { server, v1, v1Version, v2, v2Version };
}

describe('an incident that meets a running rotation', () => {
  it(
    'waits for the lease and rotates; the running rotation does not restore the compromised credential',
    async () => {
      const stack = await newStack();
      const { server, v1 } = await onV1WithV2Pending(stack, false);
      stack.datagrid.configure({ mode: 'async', asyncDelayMs: 3_000 });

      // A scheduled run PATCHes v2 (which the MCP server rejects) and verifies it...
      const scheduled = stack.invoke<RunSummary>(SCHEDULE);
      await vi.waitFor(() => expect(patchCount(stack)).toBe(1), { timeout: 20_000, interval: 20 });
      // ...when v1 is found leaked: the upstream is moved to v3 and an incident requested.
      const v3 = canary('github-v3');
      const v3Version = await stack.rotateUpstream(server, v3);
      const incident = stack.invoke<RunSummary>(incidentEvent(server, 'INC-1'));
      const [held, waited] = await collectRuns(stack, [scheduled, incident]);

      expect(rotationOf(held!, server)).toMatchObject({ outcome: 'failed', rolledBack: false });
      expect(rotationOf(held!, server).error?.message).toMatch(/no rollback: incident INC-1 was requested/);
      expect(waited!.ok).toBe(true);
      expect(rotationOf(waited!, server)).toMatchObject({ outcome: 'rotated', secretVersionId: v3Version });
      // v2 by the scheduled run, v3 by the incident: v1 was never sent back.
      expect(patchCount(stack)).toBe(2);
      expect(stack.authorizationOf(server)).toBe(`Bearer ${v3}`);
      expect(stack.authorizationOf(server)).not.toBe(`Bearer ${v1}`);
      const state = await stack.stateOf(server);
      expect(state).toMatchObject({ appliedVersionId: v3Version, lastOutcome: 'rotated' });
      expect(state?.incidentPending).toBeUndefined();
      expect(state?.leaseOwner).toBeUndefined();
    },
    SLOW,
  );

  it(
    'fails LOCKED (the handler throws, so Lambda retries) when the lease outlasts its time, and the mark stays',
    async () => {
      const stack = await newStack();
      const { server } = await onV1WithV2Pending(stack, true);
      stack.datagrid.configure({ mode: 'async', asyncDelayMs: 60_000 });
      const kill = new AbortController();
      const scheduled = stack.invoke<RunSummary>(SCHEDULE, { kill: kill.signal });
      await vi.waitFor(() => expect(patchCount(stack)).toBe(1), { timeout: 20_000, interval: 20 });

      // A few seconds more than the target's worst case: it can wait for the lease only that long.
      const remainingMs =
        worstCaseTargetMs({ verifyTimeoutSeconds: 30 }, DEFAULT_DATAGRID) + DEFAULT_TIMING.reserveMs + 4_000;
      const incident = await run(stack, incidentEvent(server, 'INC-2'), { remainingMs });
      kill.abort();
      await scheduled;

      expect(incident.ok).toBe(false);
      expect(incident.exitCode).toBe(1);
      expect(incident.error?.name).toBe('RotationFailedError');
      expect(rotationOf(incident, server)).toMatchObject({ outcome: 'failed', error: { code: 'LOCKED' } });
      expect(await stack.stateOf(server)).toMatchObject({ incidentPending: 'INC-2' });
    },
    SLOW,
  );
});

/** Where a run is killed, and how to get the world there. */
interface Step {
  name: string;
  /** Faults and settings that hold the run at the step long enough to kill it there. */
  arrange(stack: LocalStack): void;
  /** True once the run has reached the step. */
  reached(stack: LocalStack): Promise<boolean> | boolean;
  /** A server on v1 with v2 rejected (for a rollback), else a first rotation. */
  rollback?: boolean;
}

const STEPS: Step[] = [
  {
    name: 'after the lease (its PATCH not landed)',
    // The first PATCH attempt hangs, then fails without taking effect: the run is killed while it waits.
    arrange: (stack) => {
      stack.datagrid.faults.add({ fault: { type: 'latency', ms: 5_000 }, method: 'PATCH', times: 1 });
      stack.datagrid.faults.add({ fault: { type: 'server-error', status: 503 }, method: 'PATCH', times: 1 });
    },
    reached: async (stack) =>
      patchCount(stack) === 1 && (await stack.stateItems()).some((item) => item.leaseOwner !== undefined),
  },
  {
    name: 'after the PATCH',
    arrange: (stack) => stack.datagrid.configure({ mode: 'async', asyncDelayMs: 30_000 }),
    reached: (stack) => stack.datagrid.requestLog.some((r) => r.method === 'PATCH' && r.status === 200),
  },
  {
    name: 'during verification',
    arrange: (stack) => stack.datagrid.configure({ mode: 'async', asyncDelayMs: 30_000 }),
    reached: (stack) => requests(stack).filter((r) => r.startsWith('GET /organization/mcp-servers/')).length >= 1,
  },
  {
    name: 'during rollback',
    rollback: true,
    arrange: (stack) => stack.datagrid.configure({ mode: 'async', asyncDelayMs: 1_500 }),
    reached: (stack) => patchCount(stack) === 2,
  },
];

describe('a Lambda retry of an invocation killed', () => {
  it.each(STEPS)(
    '$name takes over its lease at once and ends on a verified credential, recorded and reported',
    async (step) => {
      const stack = await newStack();
      let server: StackServer;
      let expected: { token: string; version: string };
      if (step.rollback) {
        const pending = await onV1WithV2Pending(stack, false);
        server = pending.server;
        expected = { token: pending.v1, version: pending.v1Version };
      } else {
        const token = canary('github-v1');
        server = await stack.addServer({ name: 'github', token, initialToken: canary('github-v0') });
        await stack.writeConfig({ defaults: { verifyTimeoutSeconds: 60 }, targets: [server.target] });
        expected = { token, version: server.initialVersionId! };
      }
      step.arrange(stack);

      const awsRequestId = randomUUID();
      const kill = new AbortController();
      const killing = stack.invoke(SCHEDULE, { kill: kill.signal, awsRequestId });
      await vi.waitFor(async () => expect(await step.reached(stack)).toBe(true), { timeout: 30_000, interval: 20 });
      kill.abort();
      const killed = await killing;
      expect(killed.exitCode).toBeNull();
      expect(killed.stdout).not.toContain(RESULT_MARKER);
      expectNoLeak('the killed run (logs)', killed.stdout + killed.stderr);
      expect(await itemOf(stack, server)).toMatchObject({ leaseOwner: `request:${awsRequestId}` });
      await stack.receiveEvents(); // the killed run reported nothing

      // Lambda's retry: the same invocation, so the same request id. Datagrid behaves again.
      stack.datagrid.faults.clear();
      stack.datagrid.configure({ mode: step.rollback ? 'async' : 'sync', asyncDelayMs: 300 });
      const retry = await run(stack, SCHEDULE, { awsRequestId });

      const result = rotationOf(retry, server);
      if (step.rollback) {
        expect(result).toMatchObject({ outcome: 'failed', rolledBack: true, status: 'active' });
        expect(retry.exitCode).toBe(1); // a failed rotation: the run throws after reporting it
      } else {
        expect(result).toMatchObject({ outcome: 'rotated', status: 'active' });
        expect(retry.ok).toBe(true);
      }
      expect(result.error?.code).not.toBe('LOCKED');
      expect(stack.authorizationOf(server)).toBe(`Bearer ${expected.token}`);
      const state = await stack.stateOf(server);
      expect(state).toMatchObject({ appliedVersionId: expected.version, lastRunId: retry.events[0]?.detail.runId });
      expect(state?.leaseOwner).toBeUndefined();
      // Every result event of the retry was delivered: one result and the run summary.
      expect(retry.events.map((e) => e['detail-type']).sort()).toEqual([
        'MCP Credential Rotation Result',
        'MCP Rotation Run Completed',
      ]);
    },
    SLOW,
  );

  it(
    'of an EventBridge event: the event id ties the retry to the lease',
    async () => {
      const stack = await newStack();
      const server = await stack.addServer({ name: 'github', token: canary('github-v1') });
      await stack.writeConfig({ defaults: { verifyTimeoutSeconds: 60 }, targets: [server.target] });
      stack.datagrid.configure({ mode: 'async', asyncDelayMs: 30_000 });
      const event = {
        version: '0',
        id: randomUUID(),
        source: 'datagrid.mcp-rotator.requests',
        'detail-type': 'MCP Rotation Requested',
        time: new Date().toISOString(),
        region: 'us-east-1',
        resources: [],
        detail: { targets: [server.serverId] },
      };
      const kill = new AbortController();
      const killing = stack.invoke(event, { kill: kill.signal });
      await vi.waitFor(() => expect(patchCount(stack)).toBe(1), { timeout: 20_000, interval: 20 });
      kill.abort();
      await killing;
      await stack.receiveEvents();
      expect(await itemOf(stack, server)).toMatchObject({ leaseOwner: `event:${event.id}` });

      stack.datagrid.configure({ mode: 'sync' });
      // Lambda gives the retry a context of its own; the event (and its id) is the same.
      const retry = await run(stack, event, { awsRequestId: randomUUID() });
      expect(rotationOf(retry, server)).toMatchObject({ outcome: 'rotated' });
    },
    SLOW,
  );
});

describe('a PATCH whose answer is lost on every attempt', () => {
  it(
    'is read back, found applied, verified and recorded',
    async () => {
      const stack = await newStack();
      const token = canary('github-v1');
      const server = await stack.addServer({ name: 'github', token, initialToken: canary('github-v0') });
      await stack.writeConfig({ datagrid: { maxAttempts: 2 }, targets: [server.target] });
      stack.datagrid.faults.add({ fault: { type: 'drop-connection', applied: true }, method: 'PATCH' });

      const result = await run(stack, SCHEDULE);

      expect(result.ok).toBe(true);
      expect(rotationOf(result, server)).toMatchObject({ outcome: 'rotated', status: 'active' });
      expect(stack.authorizationOf(server)).toBe(`Bearer ${token}`);
      expect(await stack.stateOf(server)).toMatchObject({ appliedVersionId: server.initialVersionId });
    },
    SLOW,
  );

  it(
    'rolls back as usual when what landed does not verify, and says the credential may have changed',
    async () => {
      const stack = await newStack();
      const { server, v1 } = await onV1WithV2Pending(stack, false);
      await stack.writeConfig({ datagrid: { maxAttempts: 2 }, targets: [server.target] });
      // Both attempts of the v2 PATCH land and answer garbage; the rollback PATCH is answered.
      stack.datagrid.faults.add({ fault: { type: 'malformed-body', applied: true }, method: 'PATCH', times: 2 });

      const result = await run(stack, SCHEDULE);

      const rotation = rotationOf(result, server);
      expect(rotation).toMatchObject({ outcome: 'failed', rolledBack: true, error: { code: 'VERIFY_UNHEALTHY' } });
      expect(rotation.error?.message).toMatch(/PATCH answer was lost .*the credential may have changed/);
      expect(stack.authorizationOf(server)).toBe(`Bearer ${v1}`);
    },
    SLOW,
  );
});
