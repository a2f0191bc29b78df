import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createStateStore,
  LeaseLostError,
  STATE_READ_MAX_ATTEMPTS,
  statePk,
} from '../../../lambda/adapters/state-dynamodb.ts';
import { FakeClock } from '../../support/fakes.ts';

const TABLE = 'rotator-state';
const ddb = mockClient(DynamoDBClient);

function conditionFailed(): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
}

type Key = Record<string, AttributeValue>;
const keysOf = (call: number): Key[] =>
  ddb.commandCalls(BatchGetItemCommand)[call]!.args[0].input.RequestItems![TABLE]!.Keys!;

let clock: FakeClock;
beforeEach(() => {
  ddb.reset();
  clock = new FakeClock(1_700_000_000_000);
});

describe('statePk', () => {
  it('joins teamspace and server, with an empty teamspace for the default one', () => {
    expect(statePk('ts_1', 'srv_1')).toBe('target#ts_1#srv_1');
    expect(statePk(undefined, 'srv_1')).toBe('target##srv_1');
  });
});

describe('getMany', () => {
  it('reads 250 keys in chunks of 100, 100 and 50 with consistent reads', async () => {
    ddb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [] } });
    const pks = Array.from({ length: 250 }, (_, i) => statePk('ts', `srv_${i}`));

    const states = await createStateStore(new DynamoDBClient({}), TABLE, { clock }).getMany(pks);

    const calls = ddb.commandCalls(BatchGetItemCommand);
    expect(calls.map((_, i) => keysOf(i).length)).toEqual([100, 100, 50]);
    expect(calls.every((c) => c.args[0].input.RequestItems![TABLE]!.ConsistentRead === true)).toBe(true);
    expect(calls.flatMap((_, i) => keysOf(i).map((k) => k.pk!.S))).toEqual(pks);
    expect(states.size).toBe(0);
  });

  it('reads up to 8 chunks at once and keeps every item whatever order they answer in', async () => {
    let inFlight = 0;
    let peak = 0;
    ddb.on(BatchGetItemCommand).callsFake(async (input: { RequestItems: Record<string, { Keys: Key[] }> }) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      const keys = input.RequestItems[TABLE]!.Keys;
      // Later chunks answer first.
      await new Promise((resolve) => setTimeout(resolve, 20 - keys[0]!.pk!.S!.length));
      inFlight -= 1;
      return { Responses: { [TABLE]: keys.map((k) => ({ pk: k.pk!, serverId: { S: k.pk!.S!.split('#')[2]! } })) } };
    });
    const pks = Array.from({ length: 1000 }, (_, i) => statePk('ts', `srv_${i}`));

    const states = await createStateStore(new DynamoDBClient({}), TABLE, { clock }).getMany(pks);

    expect(ddb.commandCalls(BatchGetItemCommand)).toHaveLength(10);
    expect(peak).toBe(8);
    expect([...states.keys()].sort()).toEqual([...pks].sort());
  });

  it('asks for a key named twice only once (BatchGetItem rejects duplicates)', async () => {
    ddb.on(BatchGetItemCommand).resolves({});
    await createStateStore(new DynamoDBClient({}), TABLE, { clock }).getMany(['a', 'b', 'a']);
    expect(keysOf(0)).toEqual([{ pk: { S: 'a' } }, { pk: { S: 'b' } }]);
  });

  it('makes no call for no keys', async () => {
    const states = await createStateStore(new DynamoDBClient({}), TABLE, { clock }).getMany([]);
    expect(states.size).toBe(0);
    expect(ddb.commandCalls(BatchGetItemCommand)).toHaveLength(0);
  });

  it('retries UnprocessedKeys with growing waits and returns every item', async () => {
    const item = (pk: string): Key => ({ pk: { S: pk }, serverId: { S: pk.split('#')[2]! } });
    ddb
      .on(BatchGetItemCommand)
      .resolvesOnce({
        Responses: { [TABLE]: [item('target##a')] },
        UnprocessedKeys: { [TABLE]: { Keys: [{ pk: { S: 'target##b' } }, { pk: { S: 'target##c' } }] } },
      })
      .resolvesOnce({
        Responses: { [TABLE]: [item('target##b')] },
        UnprocessedKeys: { [TABLE]: { Keys: [{ pk: { S: 'target##c' } }] } },
      })
      .resolvesOnce({ Responses: { [TABLE]: [item('target##c')] } });

    const states = await createStateStore(new DynamoDBClient({}), TABLE, { clock }).getMany([
      'target##a',
      'target##b',
      'target##c',
    ]);

    expect([...states.keys()].sort()).toEqual(['target##a', 'target##b', 'target##c']);
    expect(keysOf(1)).toEqual([{ pk: { S: 'target##b' } }, { pk: { S: 'target##c' } }]);
    expect(keysOf(2)).toEqual([{ pk: { S: 'target##c' } }]);
    expect(clock.sleeps).toHaveLength(2);
    expect(clock.sleeps[1]).toBeGreaterThan(clock.sleeps[0]!);
  });

  it('gives up with a clear error when keys stay unprocessed', async () => {
    ddb.on(BatchGetItemCommand).resolves({ UnprocessedKeys: { [TABLE]: { Keys: [{ pk: { S: 'target##a' } }] } } });

    await expect(createStateStore(new DynamoDBClient({}), TABLE, { clock }).getMany(['target##a'])).rejects.toThrow(
      /BatchGetItem on table rotator-state left 1 key\(s\) unprocessed after 5 attempts/,
    );
    expect(ddb.commandCalls(BatchGetItemCommand)).toHaveLength(STATE_READ_MAX_ATTEMPTS);
    expect(clock.sleeps).toHaveLength(STATE_READ_MAX_ATTEMPTS - 1);
  });

  it('unmarshals every attribute, numbers as numbers and a null authorization reference as null', async () => {
    ddb.on(BatchGetItemCommand).resolves({
      Responses: {
        [TABLE]: [
          {
            pk: { S: 'target#ts_1#srv_1' },
            serverId: { S: 'srv_1' },
            teamspaceId: { S: 'ts_1' },
            secretId: { S: 'mcp/github' },
            appliedVersionId: { S: 'v-2' },
            appliedAt: { S: '2025-01-02T03:04:05.000Z' },
            authorizationSecretId: { NULL: true },
            lastOutcome: { S: 'rotated' },
            lastErrorCode: { S: 'VERIFY_TIMEOUT' },
            lastRunId: { S: 'run-9' },
            lastAttemptAt: { S: '2025-01-02T03:04:00.000Z' },
            lastToolCount: { N: '12' },
            leaseOwner: { S: 'run-10' },
            leaseExpiresAt: { N: '1700000060000' },
          },
          { pk: { S: 'target##srv_2' }, serverId: { S: 'srv_2' }, authorizationSecretId: { S: 'sec_abc' } },
          // Only a lease was ever taken: the serverId comes from the key.
          { pk: { S: 'target#ts_1#srv_3' }, leaseOwner: { S: 'run-1' }, leaseExpiresAt: { N: '5' } },
        ],
      },
    });

    const states = await createStateStore(new DynamoDBClient({}), TABLE, { clock }).getMany([
      'target#ts_1#srv_1',
      'target##srv_2',
      'target#ts_1#srv_3',
      'target##missing',
    ]);

    expect(states.get('target#ts_1#srv_1')).toStrictEqual({
      pk: 'target#ts_1#srv_1',
      serverId: 'srv_1',
      teamspaceId: 'ts_1',
      secretId: 'mcp/github',
      appliedVersionId: 'v-2',
      appliedAt: '2025-01-02T03:04:05.000Z',
      authorizationSecretId: null,
      lastOutcome: 'rotated',
      lastErrorCode: 'VERIFY_TIMEOUT',
      lastRunId: 'run-9',
      lastAttemptAt: '2025-01-02T03:04:00.000Z',
      lastToolCount: 12,
      leaseOwner: 'run-10',
      leaseExpiresAt: 1_700_000_060_000,
    });
    expect(states.get('target##srv_2')).toStrictEqual({
      pk: 'target##srv_2',
      serverId: 'srv_2',
      authorizationSecretId: 'sec_abc',
    });
    expect(states.get('target#ts_1#srv_3')).toStrictEqual({
      pk: 'target#ts_1#srv_3',
      serverId: 'srv_3',
      leaseOwner: 'run-1',
      leaseExpiresAt: 5,
    });
    expect(states.has('target##missing')).toBe(false);
  });
});

const RUN_1 = { owner: 'request:req-1', attempt: 'run-1' };
const RUN_2 = { owner: 'request:req-2', attempt: 'run-2' };

describe('acquireLease', () => {
  it('takes the lease with a condition that admits a free, expired or own lease', async () => {
    ddb.on(UpdateItemCommand).resolves({});

    const acquired = await createStateStore(new DynamoDBClient({}), TABLE, { clock }).acquireLease(
      'target##srv_1',
      RUN_1,
      1_700_000_300_000,
      1_700_000_000_000,
    );

    expect(acquired).toBe(true);
    expect(ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input).toStrictEqual({
      TableName: TABLE,
      Key: { pk: { S: 'target##srv_1' } },
      UpdateExpression: 'SET #leaseOwner = :owner, #leaseAttempt = :attempt, #leaseExpiresAt = :expiresAt',
      ConditionExpression: 'attribute_not_exists(#leaseOwner) OR #leaseExpiresAt < :now OR #leaseOwner = :owner',
      ExpressionAttributeNames: {
        '#leaseOwner': 'leaseOwner',
        '#leaseAttempt': 'leaseAttempt',
        '#leaseExpiresAt': 'leaseExpiresAt',
      },
      ExpressionAttributeValues: {
        ':owner': { S: 'request:req-1' },
        ':attempt': { S: 'run-1' },
        ':expiresAt': { N: '1700000300000' },
        ':now': { N: '1700000000000' },
      },
    });
  });

  it('is refused when another run holds an unexpired lease', async () => {
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    const store = createStateStore(new DynamoDBClient({}), TABLE, { clock });
    await expect(store.acquireLease('target##srv_1', RUN_2, 2, 1)).resolves.toBe(false);
  });

  it('lets any other error through', async () => {
    const error = Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });
    ddb.on(UpdateItemCommand).rejects(error);
    const store = createStateStore(new DynamoDBClient({}), TABLE, { clock });
    await expect(store.acquireLease('target##srv_1', RUN_2, 2, 1)).rejects.toThrow('Rate exceeded');
  });
});

describe('complete', () => {
  it('records a healthy rotation, the applied version and releases the lease in one conditional write', async () => {
    ddb.on(UpdateItemCommand).resolves({});

    await createStateStore(new DynamoDBClient({}), TABLE, { clock }).complete('target#ts_1#srv_1', RUN_1, {
      serverId: 'srv_1',
      teamspaceId: 'ts_1',
      secretId: 'mcp/github',
      runId: 'run-1',
      at: '2025-01-02T03:04:05.000Z',
      outcome: 'rotated',
      toolCount: 7,
      applied: { versionId: 'v-3', authorizationSecretId: null, delivery: 'authorization' },
    });

    const calls = ddb.commandCalls(UpdateItemCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toStrictEqual({
      TableName: TABLE,
      Key: { pk: { S: 'target#ts_1#srv_1' } },
      UpdateExpression:
        'SET #serverId = :serverId, #teamspaceId = :teamspaceId, #secretId = :secretId, ' +
        '#lastOutcome = :lastOutcome, #lastRunId = :lastRunId, #lastAttemptAt = :lastAttemptAt, ' +
        '#lastToolCount = :lastToolCount, #appliedVersionId = :appliedVersionId, #appliedDelivery = :appliedDelivery, ' +
        '#appliedAt = :appliedAt, ' +
        '#authorizationSecretId = :authorizationSecretId ' +
        'REMOVE #lastErrorCode, #leaseOwner, #leaseAttempt, #leaseExpiresAt',
      ConditionExpression: '#leaseOwner = :owner AND #leaseAttempt = :attempt',
      ExpressionAttributeNames: {
        '#serverId': 'serverId',
        '#teamspaceId': 'teamspaceId',
        '#secretId': 'secretId',
        '#lastOutcome': 'lastOutcome',
        '#lastRunId': 'lastRunId',
        '#lastAttemptAt': 'lastAttemptAt',
        '#lastErrorCode': 'lastErrorCode',
        '#lastToolCount': 'lastToolCount',
        '#appliedVersionId': 'appliedVersionId',
        '#appliedAt': 'appliedAt',
        '#appliedDelivery': 'appliedDelivery',
        '#authorizationSecretId': 'authorizationSecretId',
        '#leaseOwner': 'leaseOwner',
        '#leaseAttempt': 'leaseAttempt',
        '#leaseExpiresAt': 'leaseExpiresAt',
      },
      ExpressionAttributeValues: {
        ':serverId': { S: 'srv_1' },
        ':teamspaceId': { S: 'ts_1' },
        ':secretId': { S: 'mcp/github' },
        ':lastOutcome': { S: 'rotated' },
        ':lastRunId': { S: 'run-1' },
        ':lastAttemptAt': { S: '2025-01-02T03:04:05.000Z' },
        ':lastToolCount': { N: '7' },
        ':appliedVersionId': { S: 'v-3' },
        ':appliedDelivery': { S: 'authorization' },
        ':appliedAt': { S: '2025-01-02T03:04:05.000Z' },
        ':authorizationSecretId': { NULL: true },
        ':owner': { S: 'request:req-1' },
        ':attempt': { S: 'run-1' },
      },
    });
  });

  it('records a failure without touching the applied version', async () => {
    ddb.on(UpdateItemCommand).resolves({});

    await createStateStore(new DynamoDBClient({}), TABLE, { clock }).complete('target##srv_1', RUN_2, {
      serverId: 'srv_1',
      secretId: 'mcp/github',
      runId: 'run-2',
      at: '2025-01-03T00:00:00.000Z',
      outcome: 'failed',
      errorCode: 'VERIFY_TOOL_COUNT',
    });

    const input = ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(input.UpdateExpression).toBe(
      'SET #serverId = :serverId, #secretId = :secretId, #lastOutcome = :lastOutcome, #lastRunId = :lastRunId, ' +
        '#lastAttemptAt = :lastAttemptAt, #lastErrorCode = :lastErrorCode REMOVE #leaseOwner, #leaseAttempt, #leaseExpiresAt',
    );
    expect(input.ConditionExpression).toBe('#leaseOwner = :owner AND #leaseAttempt = :attempt');
    expect(input.ExpressionAttributeValues).toStrictEqual({
      ':serverId': { S: 'srv_1' },
      ':secretId': { S: 'mcp/github' },
      ':lastOutcome': { S: 'failed' },
      ':lastRunId': { S: 'run-2' },
      ':lastAttemptAt': { S: '2025-01-03T00:00:00.000Z' },
      ':lastErrorCode': { S: 'VERIFY_TOOL_COUNT' },
      ':owner': { S: 'request:req-2' },
      ':attempt': { S: 'run-2' },
    });
    expect(Object.keys(input.ExpressionAttributeNames!).sort()).toEqual(
      [
        '#serverId',
        '#secretId',
        '#lastOutcome',
        '#lastRunId',
        '#lastAttemptAt',
        '#lastErrorCode',
        '#leaseOwner',
        '#leaseAttempt',
        '#leaseExpiresAt',
      ].sort(),
    );
  });

  it('writes a string authorization reference as a string', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    await createStateStore(new DynamoDBClient({}), TABLE, { clock }).complete('target##srv_1', RUN_1, {
      serverId: 'srv_1',
      secretId: 'mcp/github',
      runId: 'run-1',
      at: '2025-01-02T00:00:00.000Z',
      outcome: 'rotated',
      applied: { versionId: 'v-4', authorizationSecretId: 'sec_123', delivery: 'secretReference' },
    });
    const values = ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input.ExpressionAttributeValues!;
    expect(values[':authorizationSecretId']).toStrictEqual({ S: 'sec_123' });
  });

  it('says the lease was lost when another run took it', async () => {
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    const store = createStateStore(new DynamoDBClient({}), TABLE, { clock });
    const done = store.complete('target##srv_1', RUN_1, {
      serverId: 'srv_1',
      secretId: 'mcp/github',
      runId: 'run-1',
      at: '2025-01-02T00:00:00.000Z',
      outcome: 'rotated',
    });
    await expect(done).rejects.toBeInstanceOf(LeaseLostError);
    await expect(done).rejects.toThrow(
      /target##srv_1 was not recorded: the lease of request:req-1 \(attempt run-1\) was lost/,
    );
  });
});

describe('releaseLease', () => {
  it('removes the lease only when this attempt holds it', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    await createStateStore(new DynamoDBClient({}), TABLE, { clock }).releaseLease('target##srv_1', RUN_1);
    expect(ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input).toStrictEqual({
      TableName: TABLE,
      Key: { pk: { S: 'target##srv_1' } },
      UpdateExpression: 'REMOVE #leaseOwner, #leaseAttempt, #leaseExpiresAt',
      ConditionExpression: '#leaseOwner = :owner AND #leaseAttempt = :attempt',
      ExpressionAttributeNames: {
        '#leaseOwner': 'leaseOwner',
        '#leaseAttempt': 'leaseAttempt',
        '#leaseExpiresAt': 'leaseExpiresAt',
      },
      ExpressionAttributeValues: { ':owner': { S: 'request:req-1' }, ':attempt': { S: 'run-1' } },
    });
  });

  it('ignores a lease already released or taken by another run', async () => {
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    const store = createStateStore(new DynamoDBClient({}), TABLE, { clock });
    await expect(store.releaseLease('target##srv_1', RUN_1)).resolves.toBeUndefined();
  });

  it('lets any other error through', async () => {
    ddb.on(UpdateItemCommand).rejects(Object.assign(new Error('boom'), { name: 'InternalServerError' }));
    const store = createStateStore(new DynamoDBClient({}), TABLE, { clock });
    await expect(store.releaseLease('target##srv_1', RUN_1)).rejects.toThrow('boom');
  });
});

describe('the run record (haltAfterFailures across state machine shards)', () => {
  const store = () => createStateStore(new DynamoDBClient({}), TABLE, { clock });

  it('counts a finished target atomically while fewer than the limit are counted, with a TTL', async () => {
    ddb.on(UpdateItemCommand).resolves({ Attributes: { finished: { N: '2' }, failed: { N: '1' } } });
    expect(await store().countRunOutcome('run-1', true, 3, 1_700_172_800)).toEqual({ finished: 2, failed: 1 });
    const input = ddb.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      TableName: TABLE,
      Key: { pk: { S: 'run#run-1' } },
      UpdateExpression: 'ADD #finished :one, #failed :failed SET #expiresAt = :expiresAt',
      ConditionExpression: 'attribute_not_exists(#finished) OR #finished < :limit',
      ReturnValues: 'ALL_NEW',
    });
    expect(input.ExpressionAttributeValues).toEqual({
      ':one': { N: '1' },
      ':failed': { N: '1' },
      ':limit': { N: '3' },
      ':expiresAt': { N: '1700172800' },
    });
  });

  it('reads the final tally when the limit was already reached (the condition failed)', async () => {
    ddb.on(UpdateItemCommand).rejects(conditionFailed());
    ddb.on(BatchGetItemCommand).resolves({
      Responses: { [TABLE]: [{ pk: { S: 'run#run-1' }, finished: { N: '3' }, failed: { N: '3' } }] },
    });
    expect(await store().countRunOutcome('run-1', false, 3, 1)).toEqual({ finished: 3, failed: 3 });
    expect(keysOf(0)).toEqual([{ pk: { S: 'run#run-1' } }]);
  });

  it('reads a run no target finished yet as zero counts, and passes other errors on', async () => {
    ddb.on(BatchGetItemCommand).resolves({ Responses: { [TABLE]: [] } });
    expect(await store().getRunTally('run-2')).toEqual({ finished: 0, failed: 0 });
    ddb.on(UpdateItemCommand).rejects(new Error('AccessDeniedException'));
    await expect(store().countRunOutcome('run-2', true, 3, 1)).rejects.toThrow('AccessDeniedException');
  });
});
