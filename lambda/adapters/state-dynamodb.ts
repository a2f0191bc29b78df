/**
 * StateStore on DynamoDB: one item per target (partition key `pk`), holding the version last applied, a lease that
 * keeps two overlapping runs (a schedule and a secret-changed event) from PATCHing the same server at once, and the
 * mark of an incident that a lease holder must not undo; and one item per state machine run (`run#<runId>`), the
 * halting tally its shards share, removed by the table's TTL (attribute `expiresAt`).
 *
 * Only `@aws-sdk/client-dynamodb` is bundled (lib-dynamodb / util-dynamodb would add cold-start weight for a dozen
 * attributes), so the few attribute values are marshalled by hand below.
 */
import { BatchGetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue, DynamoDBClient, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import pLimit from 'p-limit';
import { AWS_BATCH_CONCURRENCY, RUN_RECORD_EXPIRES_AT, STATE_BATCH_SIZE } from '../constants.ts';
import { LeaseLostError } from '../errors.ts';
import { systemClock } from '../runtime.ts';
import { runPk } from '../engine/state-key.ts';
import type { Clock, LeaseHolder, Log, RunTally, StateStore, StateUpdate, TargetState } from '../types/ports.ts';
import type { RotationOutcome } from '../types/results.ts';

/** Attempts per BatchGetItem chunk while DynamoDB keeps returning UnprocessedKeys (throughput exceeded). */
export const STATE_READ_MAX_ATTEMPTS = 5;
/** First wait before re-reading unprocessed keys; doubles each time (AWS recommends exponential backoff here). */
const UNPROCESSED_BACKOFF_MS = 50;

/** The partition key of a target's state item: one definition, shared with the engine. */
export { statePk } from '../engine/state-key.ts';
const PK_PREFIX = 'target#';

export { LeaseLostError };

const LEASE_NAMES = {
  '#leaseOwner': 'leaseOwner',
  '#leaseAttempt': 'leaseAttempt',
  '#leaseExpiresAt': 'leaseExpiresAt',
};
/** The lease is this attempt's: the same owner (invocation) and the same attempt of it. */
const HELD_BY_ATTEMPT = '#leaseOwner = :owner AND #leaseAttempt = :attempt';
const holderValues = (holder: LeaseHolder): Record<string, AttributeValue> => ({
  ':owner': str(holder.owner),
  ':attempt': str(holder.attempt),
});

// ---------- marshalling ----------

const str = (value: string): AttributeValue => ({ S: value });
const num = (value: number): AttributeValue => ({ N: String(value) });
const NULL: AttributeValue = { NULL: true };

type Item = Record<string, AttributeValue>;

function readString(item: Item, name: string): string | undefined {
  const value = item[name];
  return value?.S;
}

function readNumber(item: Item, name: string): number | undefined {
  const raw = item[name]?.N;
  if (raw === undefined) return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

const OUTCOMES: readonly string[] = ['rotated', 'unchanged', 'failed', 'skipped'] satisfies RotationOutcome[];

/** Lease-only items (a lease taken, nothing recorded yet) have no serverId attribute: it is the pk's last part. */
function serverIdFromPk(pk: string): string {
  const rest = pk.startsWith(PK_PREFIX) ? pk.slice(PK_PREFIX.length) : pk;
  const separator = rest.indexOf('#');
  return separator === -1 ? rest : rest.slice(separator + 1);
}

function toRunTally(item: Item | undefined): RunTally {
  return { finished: (item && readNumber(item, 'finished')) ?? 0, failed: (item && readNumber(item, 'failed')) ?? 0 };
}

function toTargetState(item: Item): TargetState | undefined {
  const pk = readString(item, 'pk');
  if (pk === undefined) return undefined;
  const state: TargetState = { pk, serverId: readString(item, 'serverId') ?? serverIdFromPk(pk) };
  const set = <K extends keyof TargetState>(key: K, value: TargetState[K] | undefined): void => {
    if (value !== undefined) state[key] = value;
  };
  set('teamspaceId', readString(item, 'teamspaceId'));
  set('secretId', readString(item, 'secretId'));
  set('appliedVersionId', readString(item, 'appliedVersionId'));
  set('appliedAt', readString(item, 'appliedAt'));
  // null is meaningful: the last rotation left the server with no authorization_secret_id.
  const authRef = item.authorizationSecretId;
  set('authorizationSecretId', authRef?.NULL === true ? null : authRef?.S);
  const delivery = readString(item, 'appliedDelivery');
  set('appliedDelivery', delivery === 'authorization' || delivery === 'secretReference' ? delivery : undefined);
  const outcome = readString(item, 'lastOutcome');
  set('lastOutcome', outcome !== undefined && OUTCOMES.includes(outcome) ? (outcome as RotationOutcome) : undefined);
  set('lastErrorCode', readString(item, 'lastErrorCode'));
  set('lastRunId', readString(item, 'lastRunId'));
  set('lastAttemptAt', readString(item, 'lastAttemptAt'));
  set('lastToolCount', readNumber(item, 'lastToolCount'));
  set('leaseOwner', readString(item, 'leaseOwner'));
  set('leaseAttempt', readString(item, 'leaseAttempt'));
  set('leaseExpiresAt', readNumber(item, 'leaseExpiresAt'));
  set('incidentPending', readString(item, 'incidentPending'));
  if (item.cleanupPending?.BOOL === true) state.cleanupPending = true;
  return state;
}

/** Collects SET / REMOVE clauses with every name behind a #placeholder, so no attribute can clash with DynamoDB's reserved words. */
class UpdateBuilder {
  private readonly sets: string[] = [];
  private readonly removes: string[] = [];
  readonly names: Record<string, string> = {};
  readonly values: Record<string, AttributeValue> = {};

  name(attribute: string): string {
    this.names[`#${attribute}`] = attribute;
    return `#${attribute}`;
  }

  value(placeholder: string, value: AttributeValue): string {
    this.values[`:${placeholder}`] = value;
    return `:${placeholder}`;
  }

  set(attribute: string, value: AttributeValue): this {
    this.sets.push(`${this.name(attribute)} = ${this.value(attribute, value)}`);
    return this;
  }

  remove(attribute: string): this {
    this.removes.push(this.name(attribute));
    return this;
  }

  expression(): string {
    const parts: string[] = [];
    if (this.sets.length > 0) parts.push(`SET ${this.sets.join(', ')}`);
    if (this.removes.length > 0) parts.push(`REMOVE ${this.removes.join(', ')}`);
    return parts.join(' ');
  }
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

export function createStateStore(
  client: DynamoDBClient,
  tableName: string,
  options: { clock?: Clock; log?: Log } = {},
): StateStore {
  const clock = options.clock ?? systemClock;
  const log = options.log;

  /** Consistent BatchGetItem of these keys, retrying unprocessed ones; hands every item found to `onItem`. */
  async function readItems(pks: readonly string[], onItem: (item: Item) => void): Promise<void> {
    let keys: Item[] = pks.map((pk) => ({ pk: str(pk) }));
    for (let attempt = 1; ; attempt++) {
      const response = await client.send(
        new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of response.Responses?.[tableName] ?? []) onItem(item);
      keys = response.UnprocessedKeys?.[tableName]?.Keys ?? [];
      if (keys.length === 0) return;
      if (attempt >= STATE_READ_MAX_ATTEMPTS) {
        throw new Error(
          `DynamoDB BatchGetItem on table ${tableName} left ${keys.length} key(s) unprocessed after ` +
            `${STATE_READ_MAX_ATTEMPTS} attempts (read throughput exceeded)`,
        );
      }
      const waitMs = UNPROCESSED_BACKOFF_MS * 2 ** (attempt - 1);
      log?.warn('State read throttled: retrying unprocessed keys', { unprocessed: keys.length, attempt, waitMs });
      await clock.sleep(waitMs);
    }
  }

  const readChunk = (pks: readonly string[], into: Map<string, TargetState>): Promise<void> =>
    readItems(pks, (item) => {
      const state = toTargetState(item);
      if (state) into.set(state.pk, state);
    });

  /** A run record's tally (BatchGetItem: the one read action the role has on the table). */
  async function readRunTally(runId: string): Promise<RunTally> {
    let found: Item | undefined;
    await readItems([runPk(runId)], (item) => (found = item));
    return toRunTally(found);
  }

  /** One conditional UpdateItem on a target's item; false when its condition did not hold. */
  const conditionalUpdate = async (
    pk: string,
    input: Omit<UpdateItemCommandInput, 'TableName' | 'Key'>,
  ): Promise<boolean> => {
    try {
      await client.send(new UpdateItemCommand({ TableName: tableName, Key: { pk: str(pk) }, ...input }));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  };

  return {
    async getMany(pks) {
      const states = new Map<string, TargetState>();
      // BatchGetItem rejects a request that names the same key twice.
      const unique = [...new Set(pks)];
      const limit = pLimit(AWS_BATCH_CONCURRENCY);
      await Promise.all(chunk(unique, STATE_BATCH_SIZE).map((keys) => limit(() => readChunk(keys, states))));
      return states;
    },

    acquireLease(pk, holder, expiresAt, now) {
      return conditionalUpdate(pk, {
        UpdateExpression: 'SET #leaseOwner = :owner, #leaseAttempt = :attempt, #leaseExpiresAt = :expiresAt',
        // Free, expired, or the owner's own: a Lambda retry of the same invocation takes over the lease its crashed
        // attempt left at once, instead of waiting for it to expire.
        ConditionExpression: 'attribute_not_exists(#leaseOwner) OR #leaseExpiresAt < :now OR #leaseOwner = :owner',
        ExpressionAttributeNames: LEASE_NAMES,
        ExpressionAttributeValues: { ...holderValues(holder), ':expiresAt': num(expiresAt), ':now': num(now) },
      });
    },

    async confirmLease(pk, holder, expiresAt) {
      let attributes: Item | undefined;
      try {
        ({ Attributes: attributes } = await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { pk: str(pk) },
            UpdateExpression: 'SET #leaseExpiresAt = :expiresAt',
            ConditionExpression: HELD_BY_ATTEMPT,
            ExpressionAttributeNames: LEASE_NAMES,
            ExpressionAttributeValues: { ...holderValues(holder), ':expiresAt': num(expiresAt) },
            ReturnValues: 'ALL_NEW',
          }),
        ));
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        const states = new Map<string, TargetState>();
        await readChunk([pk], states);
        const incidentPending = states.get(pk)?.incidentPending;
        return { held: false, ...(incidentPending !== undefined && { incidentPending }) };
      }
      const incidentPending = attributes && readString(attributes, 'incidentPending');
      return { held: true, ...(incidentPending !== undefined && { incidentPending }) };
    },

    async markIncident(pk, incidentId, at) {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { pk: str(pk) },
          UpdateExpression: 'SET #incidentPending = :incident, #incidentRequestedAt = :at',
          ExpressionAttributeNames: {
            '#incidentPending': 'incidentPending',
            '#incidentRequestedAt': 'incidentRequestedAt',
          },
          ExpressionAttributeValues: { ':incident': str(incidentId), ':at': str(at) },
        }),
      );
    },

    async complete(pk, holder, update: StateUpdate) {
      const builder = new UpdateBuilder().set('serverId', str(update.serverId));
      if (update.teamspaceId !== undefined) builder.set('teamspaceId', str(update.teamspaceId));
      builder
        .set('secretId', str(update.secretId))
        .set('lastOutcome', str(update.outcome))
        .set('lastRunId', str(update.runId))
        .set('lastAttemptAt', str(update.at));
      // A success must not keep the error code of an earlier failure.
      if (update.errorCode !== undefined) builder.set('lastErrorCode', str(update.errorCode));
      else builder.remove('lastErrorCode');
      if (update.toolCount !== undefined) builder.set('lastToolCount', num(update.toolCount));
      if (update.applied) {
        const { versionId, authorizationSecretId, delivery } = update.applied;
        builder
          .set('appliedVersionId', str(versionId))
          .set('appliedDelivery', str(delivery))
          .set('appliedAt', str(update.at))
          .set('authorizationSecretId', authorizationSecretId === null ? NULL : str(authorizationSecretId));
      }
      if (update.cleanupPending === true) builder.set('cleanupPending', { BOOL: true });
      if (update.cleanupPending === false) builder.remove('cleanupPending');
      // An incident run that rotated the target has put the compromised credential out of use.
      if (update.resolvesIncident === true) builder.remove('incidentPending').remove('incidentRequestedAt');
      builder.remove('leaseOwner').remove('leaseAttempt').remove('leaseExpiresAt');
      const ownerValue = builder.value('owner', str(holder.owner));
      const attemptValue = builder.value('attempt', str(holder.attempt));
      const recorded = await conditionalUpdate(pk, {
        UpdateExpression: builder.expression(),
        ConditionExpression: `${builder.name('leaseOwner')} = ${ownerValue} AND ${builder.name('leaseAttempt')} = ${attemptValue}`,
        ExpressionAttributeNames: builder.names,
        ExpressionAttributeValues: builder.values,
      });
      if (!recorded) throw new LeaseLostError(pk, `${holder.owner} (attempt ${holder.attempt})`);
    },

    async releaseLease(pk, holder) {
      // A failed condition means already released, or expired and taken by another run: no longer ours either way.
      await conditionalUpdate(pk, {
        UpdateExpression: 'REMOVE #leaseOwner, #leaseAttempt, #leaseExpiresAt',
        ConditionExpression: HELD_BY_ATTEMPT,
        ExpressionAttributeNames: LEASE_NAMES,
        ExpressionAttributeValues: holderValues(holder),
      });
    },

    async countRunOutcome(runId, failed, limit, expiresAt) {
      try {
        const { Attributes: attributes } = await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: { pk: str(runPk(runId)) },
            // ADD creates the counters at 0; the condition keeps the count to the run's first `limit` targets.
            UpdateExpression: 'ADD #finished :one, #failed :failed SET #expiresAt = :expiresAt',
            ConditionExpression: 'attribute_not_exists(#finished) OR #finished < :limit',
            ExpressionAttributeNames: {
              '#finished': 'finished',
              '#failed': 'failed',
              '#expiresAt': RUN_RECORD_EXPIRES_AT,
            },
            ExpressionAttributeValues: {
              ':one': num(1),
              ':failed': num(failed ? 1 : 0),
              ':limit': num(limit),
              ':expiresAt': num(expiresAt),
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return toRunTally(attributes);
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        return readRunTally(runId);
      }
    },

    getRunTally: readRunTally,
  };
}
