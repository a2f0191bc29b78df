/**
 * Delivery `secretReference` (blue/green) on the built bundle: the credential goes into a Datagrid secret of its own
 * and the server is pointed at it, so the previous credential stays one PATCH away. Moto, the Datagrid emulator (its
 * secrets API follows the official client) and real MCP servers demanding their bearer token.
 */
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { statePk } from '../../lambda/engine/state-key.ts';
import { canary, newStack, requests, rotationOf, run, useLocalAws } from './support/harness.ts';
import type { LocalStack, StackServer } from './support/harness.ts';

useLocalAws();

const SCHEDULE = { action: 'rotate', trigger: 'schedule' };
const BY_REFERENCE = { delivery: 'secretReference' } as const;
const TS = 'ts_eng';

interface ListedSecret {
  id: string;
  name: string;
}

async function secretsOf(stack: LocalStack): Promise<ListedSecret[]> {
  const page = (await stack.callDatagrid('GET', '/secrets?limit=100', undefined, TS)) as { data: ListedSecret[] };
  return page.data;
}

const rotatorSecrets = async (stack: LocalStack, server: StackServer) =>
  (await secretsOf(stack)).filter((s) => s.name.startsWith(`mcp-rotator/${TS}/${server.serverId}/`));

const referenceOf = (stack: LocalStack, server: StackServer) =>
  stack.datagrid.servers.get(server.serverId)!.server.authorization_secret_id;

async function byReferenceServer(stack: LocalStack, token: string): Promise<StackServer> {
  const server = await stack.addServer({ name: 'github', teamspaceId: TS, token, settings: BY_REFERENCE });
  await stack.writeConfig({ targets: [server.target] });
  return server;
}

/** The operator's own Datagrid secret holding `value`, and the server pointed at it, as before the rotator. */
async function pointAtOwnSecret(stack: LocalStack, server: StackServer, value: string): Promise<ListedSecret> {
  const own = (await stack.callDatagrid('POST', '/secrets', { name: 'github-header', value }, TS)) as ListedSecret;
  await stack.callDatagrid(
    'PATCH',
    `/organization/mcp-servers/${server.serverId}`,
    { authorization_secret_id: own.id },
    TS,
  );
  return own;
}

/** What a lease expiry does, without waiting the minute a dead run's lease outlives its deadline. */
async function expireLease(stack: LocalStack, server: StackServer): Promise<void> {
  await stack.aws.dynamo.send(
    new UpdateItemCommand({
      TableName: stack.tableName,
      Key: { pk: { S: statePk(server.teamspaceId, server.serverId) } },
      UpdateExpression: 'SET leaseExpiresAt = :past',
      ExpressionAttributeValues: { ':past': { N: String(Date.now() - 1_000) } },
    }),
  );
}

describe('delivery secretReference', () => {
  it('first rotation: creates a named secret, PATCHes only authorization_secret_id, records version and secret id', async () => {
    const stack = await newStack();
    const token = canary('github-v1');
    const server = await byReferenceServer(stack, token);
    stack.datagrid.requestLog.length = 0;

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(true);
    const rotation = rotationOf(result, server);
    const [created] = await rotatorSecrets(stack, server);
    expect(created?.name).toBe(`mcp-rotator/${TS}/${server.serverId}/${server.initialVersionId}`);
    expect(rotation).toMatchObject({ outcome: 'rotated', status: 'active', datagridSecretId: created!.id });
    expect(referenceOf(stack, server)).toBe(created!.id);
    expect(stack.authorizationOf(server)).toBe(`Bearer ${token}`);
    const patches = stack.datagrid.requestLog.filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => r.bodyKeys)).toEqual([['authorization_secret_id']]);
    expect(requests(stack, 'POST')).toEqual(['POST /secrets']);
    expect(await stack.stateOf(server)).toMatchObject({
      appliedVersionId: server.initialVersionId,
      authorizationSecretId: created!.id,
    });
  });

  it('next rotation: the server moves to a new secret and the old one is deleted', async () => {
    const stack = await newStack();
    const server = await byReferenceServer(stack, canary('github-v1'));
    await run(stack, SCHEDULE);
    const [first] = await rotatorSecrets(stack, server);
    const v2 = canary('github-v2');
    const v2Version = await stack.rotateUpstream(server, v2);

    const result = await run(stack, SCHEDULE);

    const rotation = rotationOf(result, server);
    const remaining = await rotatorSecrets(stack, server);
    expect(remaining.map((s) => s.name)).toEqual([`mcp-rotator/${TS}/${server.serverId}/${v2Version}`]);
    expect(rotation).toMatchObject({
      outcome: 'rotated',
      datagridSecretId: remaining[0]!.id,
      deletedSecretIds: [first!.id],
    });
    expect(stack.authorizationOf(server)).toBe(`Bearer ${v2}`);
  });

  it("failed first rotation: rolled back by reference to the caller's own secret, which stays untouched", async () => {
    const stack = await newStack();
    const callers = canary('github-callers');
    const server = await byReferenceServer(stack, callers);
    // The operator had pointed the server at a secret of their own before installing the rotator.
    const own = await pointAtOwnSecret(stack, server, `Bearer ${callers}`);
    await stack.putSecretValue(server.secretId, canary('github-not-issued'));
    stack.datagrid.requestLog.length = 0;

    const result = await run(stack, SCHEDULE);

    expect(result.ok).toBe(false);
    const rotation = rotationOf(result, server);
    expect(rotation).toMatchObject({
      outcome: 'failed',
      rolledBack: true,
      status: 'active',
      datagridSecretId: own.id,
      error: { code: 'VERIFY_UNHEALTHY' },
    });
    expect(rotation.error?.message).toContain(`rolled back to the previous secret ${own.id}`);
    expect(rotation.deletedSecretIds).toHaveLength(1);
    expect(referenceOf(stack, server)).toBe(own.id);
    expect(stack.authorizationOf(server)).toBe(`Bearer ${callers}`);
    expect((await secretsOf(stack)).map((s) => s.id)).toEqual([own.id]);
    expect(stack.datagrid.requestLog.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([
      `/secrets/${rotation.deletedSecretIds![0]}`,
    ]);
  });

  it('a Datagrid-managed previous secret cannot be referenced back: falls back to the previous value', async () => {
    const stack = await newStack();
    const v1 = canary('github-v1');
    const server = await stack.addServer({ name: 'github', teamspaceId: TS, token: v1 });
    await stack.writeConfig({ targets: [server.target] });
    expect(rotationOf(await run(stack, SCHEDULE), server).outcome).toBe('rotated'); // by value: managed secret
    await stack.writeConfig({ targets: [{ ...server.target, ...BY_REFERENCE }] });
    await stack.putSecretValue(server.secretId, canary('github-not-issued'));

    const result = await run(stack, SCHEDULE);

    const rotation = rotationOf(result, server);
    expect(rotation).toMatchObject({ outcome: 'failed', rolledBack: true, error: { code: 'VERIFY_UNHEALTHY' } });
    expect(rotation.error?.message).toMatch(/Datagrid refused the previous reference .*rolled back to version/);
    expect(stack.authorizationOf(server)).toBe(`Bearer ${v1}`);
    expect(await rotatorSecrets(stack, server)).toEqual([]);
  });

  it('incident: the compromised secret is deleted, and the result says so', async () => {
    const stack = await newStack();
    const server = await byReferenceServer(stack, canary('github-v1'));
    await run(stack, SCHEDULE);
    const [compromised] = await rotatorSecrets(stack, server);
    const v2 = canary('github-v2');
    await stack.rotateUpstream(server, v2);

    const result = await run(stack, { action: 'rotate', incidentId: 'INC-9', reason: 'token leaked' });

    const rotation = rotationOf(result, server);
    expect(rotation).toMatchObject({ outcome: 'rotated', deletedSecretIds: [compromised!.id] });
    const ids = (await rotatorSecrets(stack, server)).map((s) => s.id);
    expect(ids).toEqual([referenceOf(stack, server)]);
    expect(ids).not.toContain(compromised!.id);
    expect(stack.authorizationOf(server)).toBe(`Bearer ${v2}`);
  });

  it('incident with a caller-managed previous secret: not deleted, and the result says to act on it', async () => {
    const stack = await newStack();
    const callers = canary('github-callers');
    const server = await byReferenceServer(stack, callers);
    const own = await pointAtOwnSecret(stack, server, `Bearer ${callers}`);

    const result = await run(stack, { action: 'rotate', incidentId: 'INC-10' });

    const rotation = rotationOf(result, server);
    expect(rotation.outcome).toBe('rotated');
    expect(rotation.deliveryNote).toMatch(new RegExp(`previous secret ${own.id} was not created by the rotator`));
    expect((await secretsOf(stack)).map((s) => s.id)).toContain(own.id);
  });

  it('a POST /secrets whose answer was lost, retried, leaves one secret', async () => {
    const stack = await newStack();
    const server = await byReferenceServer(stack, canary('github-v1'));
    stack.datagrid.faults.add({
      fault: { type: 'drop-connection', applied: true },
      method: 'POST',
      path: '/secrets',
      times: 1,
    });

    const result = await run(stack, SCHEDULE);

    expect(requests(stack, 'POST')).toEqual(['POST /secrets', 'POST /secrets']);
    const rotation = rotationOf(result, server);
    expect(rotation.outcome).toBe('rotated');
    const left = await rotatorSecrets(stack, server);
    expect(left.map((s) => s.id)).toEqual([referenceOf(stack, server)]);
    expect(rotation.deletedSecretIds).toHaveLength(1);
  });

  it('a run killed after POST /secrets: the retry leaves exactly one rotator secret, the referenced one', async () => {
    const stack = await newStack();
    const token = canary('github-v1');
    const server = await byReferenceServer(stack, token);
    stack.datagrid.faults.add({ fault: { type: 'latency', ms: 20_000 }, method: 'PATCH', times: 1 });

    const kill = new AbortController();
    const killing = stack.invoke(SCHEDULE, { kill: kill.signal });
    await vi.waitFor(() => expect(requests(stack, 'PATCH')).toHaveLength(1), { timeout: 20_000, interval: 20 });
    kill.abort();
    expect((await killing).exitCode).toBeNull();
    expect(await rotatorSecrets(stack, server)).toHaveLength(1); // the orphan: created, never referenced
    await stack.receiveEvents();
    await expireLease(stack, server);
    stack.datagrid.faults.clear();

    const retried = await run(stack, SCHEDULE);

    expect(rotationOf(retried, server).outcome).toBe('rotated');
    const left = await rotatorSecrets(stack, server);
    expect(left.map((s) => s.id)).toEqual([referenceOf(stack, server)]);
    expect(stack.authorizationOf(server)).toBe(`Bearer ${token}`);
  });

  it('a clean-up that failed after a rotation is finished by the next run, which rotates nothing', async () => {
    const stack = await newStack();
    const server = await byReferenceServer(stack, canary('github-v1'));
    await run(stack, SCHEDULE);
    const first = referenceOf(stack, server);
    await stack.rotateUpstream(server, canary('github-v2'));
    stack.datagrid.faults.add({ fault: { type: 'server-error', status: 503 }, method: 'GET', path: '/secrets' });

    const rotated = rotationOf(await run(stack, SCHEDULE), server);

    expect(rotated.outcome).toBe('rotated');
    expect(rotated.deliveryNote).toMatch(/clean-up of rotator-created secrets incomplete/);
    stack.datagrid.faults.clear();
    expect((await rotatorSecrets(stack, server)).map((s) => s.id)).toContain(first);
    expect(await stack.stateOf(server)).toMatchObject({ cleanupPending: true });
    stack.datagrid.requestLog.length = 0;

    const next = rotationOf(await run(stack, SCHEDULE), server);

    expect(next).toMatchObject({ outcome: 'unchanged', deletedSecretIds: [first] });
    expect(requests(stack, 'POST')).toEqual([]);
    expect(requests(stack, 'PATCH')).toEqual([]);
    expect((await rotatorSecrets(stack, server)).map((s) => s.id)).toEqual([referenceOf(stack, server)]);
    expect((await stack.stateOf(server))?.cleanupPending).toBeUndefined();
  });

  it('a forced re-run killed after POST /secrets: the next run, though unchanged, deletes the orphan', async () => {
    const stack = await newStack();
    const server = await byReferenceServer(stack, canary('github-v1'));
    await run(stack, SCHEDULE);
    const applied = referenceOf(stack, server);
    stack.datagrid.faults.add({ fault: { type: 'latency', ms: 20_000 }, method: 'PATCH', times: 1 });

    const kill = new AbortController();
    const killing = stack.invoke({ ...SCHEDULE, trigger: 'manual', force: true }, { kill: kill.signal });
    await vi.waitFor(() => expect(requests(stack, 'PATCH')).toHaveLength(2), { timeout: 20_000, interval: 20 });
    kill.abort();
    expect((await killing).exitCode).toBeNull();
    expect(await rotatorSecrets(stack, server)).toHaveLength(2);
    await stack.receiveEvents();
    await expireLease(stack, server);
    stack.datagrid.faults.clear();
    stack.datagrid.requestLog.length = 0;

    const next = rotationOf(await run(stack, SCHEDULE), server);

    expect(next.outcome).toBe('unchanged');
    expect(requests(stack, 'POST')).toEqual([]);
    expect(next.deletedSecretIds).toHaveLength(1);
    expect((await rotatorSecrets(stack, server)).map((s) => s.id)).toEqual([applied]);
    expect(referenceOf(stack, server)).toBe(applied);
  });

  describe('audit', () => {
    const AUDIT = { action: 'audit' };

    it('a fresh rotation by reference is compliant', async () => {
      const stack = await newStack();
      await byReferenceServer(stack, canary('github-v1'));
      await run(stack, SCHEDULE);
      const result = await run(stack, AUDIT);
      expect(result.audits[0]).toMatchObject({ compliant: true, findings: [] });
    });

    it('SECRET_MISSING: the referenced secret is gone', async () => {
      const stack = await newStack();
      const server = await byReferenceServer(stack, canary('github-v1'));
      await run(stack, SCHEDULE);
      const referenced = referenceOf(stack, server)!;
      stack.datagrid.servers.dropSecret(referenced);

      const result = await run(stack, AUDIT);

      expect(result.audits[0]).toMatchObject({ compliant: false });
      expect(result.audits[0]!.findings).toEqual([
        { code: 'SECRET_MISSING', message: `the referenced Datagrid secret ${referenced} does not exist` },
      ]);
    });

    it('CREDENTIAL_DRIFT from the secret name, even when the state table claims the current version', async () => {
      const stack = await newStack();
      const server = await byReferenceServer(stack, canary('github-v1'));
      await run(stack, SCHEDULE);
      const v2Version = await stack.rotateUpstream(server, canary('github-v2'));
      await stack.aws.dynamo.send(
        new UpdateItemCommand({
          TableName: stack.tableName,
          Key: { pk: { S: statePk(server.teamspaceId, server.serverId) } },
          UpdateExpression: 'SET appliedVersionId = :v',
          ExpressionAttributeValues: { ':v': { S: v2Version } },
        }),
      );

      const result = await run(stack, AUDIT);

      expect(result.audits[0]!.findings).toEqual([
        {
          code: 'CREDENTIAL_DRIFT',
          message: `the referenced secret ${referenceOf(stack, server)} holds version ${server.initialVersionId}, but ${v2Version} is current`,
        },
      ]);
    });
  });
});
