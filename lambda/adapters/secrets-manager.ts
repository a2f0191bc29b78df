/**
 * SecretSource over AWS Secrets Manager. Current values come from BatchGetSecretValue, 20 secrets a call, so a run
 * with many targets costs a handful of calls instead of one GetSecretValue per target. Errors become SecretError or
 * InvalidSecretValueError with messages built here: SDK messages are never passed on (describeCause in errors.ts).
 */
import { BatchGetSecretValueCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { APIErrorType, SecretValueEntry, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SECRETS_BATCH_SIZE } from '../constants.ts';
import { InvalidSecretValueError, SecretError, describeCause } from '../errors.ts';
import { parseSecretRef } from '../secret-ref.ts';
import type { SecretRef } from '../secret-ref.ts';
import type { Log, SecretSource, SecretValue } from '../types/index.ts';

/** A guard against a service that keeps returning fresh NextTokens; 20 ids never need this many pages. */
const MAX_PAGES = 25;

/** One secret to fetch: `request` is sent, and its value answers every id in `refs`. */
export interface SecretGroup {
  request: string;
  refs: SecretRef[];
}

/** Why a secret could not be read, before it is told for each id that asked for it. */
interface ReadFailure {
  /** The service's error name (per-secret ErrorCode or the thrown error's name). */
  code: string | undefined;
  /** What the message shows for it: never an SDK message. */
  cause: string;
}

type Outcome = SecretValueEntry | ReadFailure;

function isFailure(outcome: Outcome): outcome is ReadFailure {
  return 'cause' in outcome;
}

/**
 * Distinct secrets among the ids. A partial ARN joins the full ARN of the same location and name; a bare name joins
 * the one ARN-named secret of that name in the client's region. A bare name stays alone when its name is named by
 * ARN in several places (which one it means is not knowable here) or in another region (a bare name resolves in the
 * client's region, so it is a different secret).
 */
export function groupSecretIds(ids: readonly string[], clientRegion: string | undefined): SecretGroup[] {
  const refs = [...new Set(ids)].map(parseSecretRef);
  const groups: SecretGroup[] = [];
  const byLocation = new Map<string, SecretGroup[]>();
  /** Groups reachable by name through an ARN, by secret name. */
  const arnGroupsByName = new Map<string, SecretGroup[]>();
  const add = (ref: SecretRef, indexed: boolean): void => {
    const group = { request: ref.id, refs: [ref] };
    groups.push(group);
    if (!indexed || ref.location === undefined) return;
    byLocation.set(ref.location + ref.name, [...(byLocation.get(ref.location + ref.name) ?? []), group]);
    arnGroupsByName.set(ref.name, [...(arnGroupsByName.get(ref.name) ?? []), group]);
  };

  for (const ref of refs) if (ref.fullArn) add(ref, true);
  for (const ref of refs) {
    if (ref.location === undefined || ref.fullArn) continue;
    const same = byLocation.get(ref.location + ref.name) ?? [];
    if (same.length === 1) same[0]?.refs.push(ref);
    // Two full ARNs of one name (a secret deleted and re-created): the partial ARN is left to Secrets Manager.
    else add(ref, same.length === 0);
  }
  for (const ref of refs) {
    if (ref.location !== undefined) continue;
    const same = arnGroupsByName.get(ref.name) ?? [];
    const only = same.length === 1 ? same[0] : undefined;
    const region = only?.refs[0]?.region;
    if (only && (clientRegion === undefined || region === clientRegion)) only.refs.push(ref);
    else add(ref, false);
  }
  return groups;
}

export function createSecretSource(client: SecretsManagerClient, log?: Log): SecretSource {
  return {
    async getCurrent(secretIds) {
      const groups = groupSecretIds(secretIds, await clientRegion(client));
      const batches: SecretGroup[][] = [];
      for (let start = 0; start < groups.length; start += SECRETS_BATCH_SIZE) {
        batches.push(groups.slice(start, start + SECRETS_BATCH_SIZE));
      }
      const results = new Map<string, SecretValue | Error>();
      const settled = await Promise.all(batches.map((batch) => readBatch(client, batch, log)));
      for (const [index, batch] of batches.entries()) {
        const outcomes = settled[index] as Map<SecretGroup, Outcome>;
        for (const group of batch) {
          const outcome = outcomes.get(group);
          for (const ref of group.refs) results.set(ref.id, toResult(ref.id, outcome));
        }
      }
      return results;
    },

    async getVersion(secretId, versionId) {
      let entry: SecretValueEntry;
      try {
        entry = await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId }));
      } catch (error) {
        log?.warn('GetSecretValue failed', { secretId, versionId, cause: describeCause(error) });
        throw secretError(`${secretId} version ${versionId}`, { code: errorName(error), cause: describeCause(error) });
      }
      const result = toResult(secretId, entry);
      if (result instanceof Error) throw result;
      return result;
    },
  };
}

async function clientRegion(client: SecretsManagerClient): Promise<string | undefined> {
  try {
    return await client.config.region();
  } catch {
    return undefined;
  }
}

/** Every page of one BatchGetSecretValue; each group maps to its entry, its error, or nothing (absent). */
async function readBatch(
  client: SecretsManagerClient,
  batch: SecretGroup[],
  log: Log | undefined,
): Promise<Map<SecretGroup, Outcome>> {
  const outcomes = new Map<SecretGroup, Outcome>();
  const match = matcher(batch);
  const SecretIdList = batch.map((group) => group.request);
  const seenTokens = new Set<string>();
  let NextToken: string | undefined;
  try {
    for (let page = 0; page < MAX_PAGES; page++) {
      const response = await client.send(new BatchGetSecretValueCommand({ SecretIdList, NextToken }));
      for (const entry of response.SecretValues ?? []) {
        const group = match(entry.ARN, entry.Name);
        if (group) outcomes.set(group, entry);
      }
      for (const failure of response.Errors ?? []) {
        const group = matchError(match, failure);
        // A value wins over an error for the same group: it is never thrown away.
        if (group && !outcomes.has(group)) {
          outcomes.set(group, { code: failure.ErrorCode, cause: safeCode(failure.ErrorCode) });
        }
      }
      NextToken = response.NextToken;
      if (!NextToken || seenTokens.has(NextToken)) break;
      seenTokens.add(NextToken);
    }
  } catch (error) {
    // After the SDK's own retries: every secret of the batch not answered yet fails with the call's reason.
    log?.warn('BatchGetSecretValue failed', { secretIds: SecretIdList, cause: describeCause(error) });
    for (const group of batch) {
      if (!outcomes.has(group)) {
        outcomes.set(group, { code: errorName(error), cause: describeCause(error) });
      }
    }
  }
  return outcomes;
}

type Match = (arn: string | undefined, name: string | undefined) => SecretGroup | undefined;

/**
 * Finds the group a returned secret answers: by an exact ARN first, then by the ARN's location plus the returned
 * name (partial ARNs), then by the bare name.
 */
function matcher(batch: SecretGroup[]): Match {
  const byId = new Map<string, SecretGroup>();
  const byLocatedName = new Map<string, SecretGroup>();
  const byName = new Map<string, SecretGroup>();
  for (const group of batch) {
    for (const ref of group.refs) {
      byId.set(ref.id, group);
      if (ref.location === undefined) byName.set(ref.name, group);
      else if (!byLocatedName.has(ref.location + ref.name)) byLocatedName.set(ref.location + ref.name, group);
    }
  }
  // A "full" ARN may really be a partial ARN of a name that ends in "-" and 6 characters: accept that reading last.
  for (const group of batch) {
    for (const ref of group.refs) {
      if (ref.fullArn && !byLocatedName.has(ref.location + ref.tail)) {
        byLocatedName.set(ref.location + ref.tail, group);
      }
    }
  }
  return (arn, name) => {
    const fromArn = arn === undefined ? undefined : byId.get(arn);
    if (fromArn) return fromArn;
    const location = arn === undefined ? undefined : parseSecretRef(arn).location;
    const fromLocation = location === undefined || name === undefined ? undefined : byLocatedName.get(location + name);
    return fromLocation ?? (name === undefined ? undefined : byName.get(name));
  };
}

function matchError(match: Match, failure: APIErrorType): SecretGroup | undefined {
  const id = failure.SecretId;
  if (id === undefined) return undefined;
  const ref = parseSecretRef(id);
  if (ref.location === undefined) return match(undefined, id);
  return match(id, ref.name) ?? match(id, ref.tail);
}

function toResult(secretId: string, outcome: Outcome | undefined): SecretValue | Error {
  if (outcome === undefined) {
    return new SecretError(
      'SECRET_NOT_FOUND',
      `secret ${secretId}: not found (absent from the Secrets Manager answer)`,
    );
  }
  if (isFailure(outcome)) return secretError(secretId, outcome);
  if (outcome.SecretString === undefined) {
    return new InvalidSecretValueError(
      outcome.SecretBinary === undefined
        ? `secret ${secretId}: Secrets Manager returned no SecretString`
        : `secret ${secretId}: holds a binary value (SecretBinary); a SecretString is required`,
    );
  }
  if (!outcome.VersionId) {
    return new InvalidSecretValueError(`secret ${secretId}: Secrets Manager returned no VersionId`);
  }
  const ref = parseSecretRef(secretId);
  return {
    secretId,
    arn: outcome.ARN ?? (ref.location === undefined ? '' : secretId),
    name: outcome.Name ?? ref.name,
    versionId: outcome.VersionId,
    value: outcome.SecretString,
    ...(outcome.CreatedDate === undefined ? {} : { createdAt: outcome.CreatedDate.getTime() }),
  };
}

const NOT_FOUND = new Set(['ResourceNotFoundException']);
const DENIED = /AccessDenied|^KMS|Decryption|Unrecognized|ExpiredToken|InvalidClientToken|InvalidSignature/;

function secretError(subject: string, { code, cause }: ReadFailure): SecretError {
  if (code !== undefined && NOT_FOUND.has(code)) {
    return new SecretError('SECRET_NOT_FOUND', `secret ${subject}: not found (${cause})`);
  }
  if (code === 'DecryptionFailure') {
    return new SecretError(
      'SECRET_ACCESS_DENIED',
      `secret ${subject}: cannot be decrypted with its KMS key (${cause})`,
    );
  }
  if (code !== undefined && DENIED.test(code)) {
    return new SecretError('SECRET_ACCESS_DENIED', `secret ${subject}: access denied (${cause})`);
  }
  return new SecretError('SECRET_ACCESS_DENIED', `secret ${subject}: could not be read (${cause})`);
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** A per-secret ErrorCode is an error name like `DecryptionFailure`; anything else is not repeated. */
function safeCode(code: string | undefined): string {
  return code !== undefined && /^[A-Za-z][A-Za-z0-9]{0,99}$/.test(code) ? code : 'unrecognised error';
}
