/**
 * Event patterns for "a configured secret's current value changed" (contract §4.3), on the default bus where AWS
 * services deliver their events. The rules are a coarse filter: ARN suffixes make exact matching impossible, so ARNs
 * match by prefix and the handler matches exactly.
 */
import type { EventPattern } from 'aws-cdk-lib/aws-events';
import { resolveSecretReference } from './secret-references.ts';
import type { ArnLocation, SecretReference } from './secret-references.ts';

export const SECRETS_MANAGER_SOURCE = 'aws.secretsmanager';
export const SECRET_LABEL_UPDATED = 'Secret Label Updated';
export const CLOUDTRAIL_DETAIL_TYPES = ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'];
export const SECRET_CHANGE_EVENT_NAMES = ['RotationSucceeded', 'PutSecretValue', 'UpdateSecretVersionStage'];

/** EventBridge's default limit on an event pattern's length, in characters (adjustable up to 4096). */
export const MAX_EVENT_PATTERN_LENGTH = 2048;

// Longer than any real partition, region or account: the deployed values are tokens, so size with these.
const LONGEST_LOCATION: ArnLocation = { partition: 'a'.repeat(12), region: 'r'.repeat(16), account: '0'.repeat(12) };

type Matcher = string | { prefix: string };

function nameOrArn(refs: readonly SecretReference[]): Matcher[] {
  return refs.flatMap((ref) => [ref.name, { prefix: ref.arnPrefix }]);
}

function arnOnly(refs: readonly SecretReference[]): Matcher[] {
  return refs.map((ref) => ({ prefix: ref.arnPrefix }));
}

/** The native `Secret Label Updated` event that moved AWSCURRENT (no CloudTrail trail needed). */
export function labelUpdatedPattern(refs: readonly SecretReference[]): EventPattern {
  return {
    source: [SECRETS_MANAGER_SOURCE],
    detailType: [SECRET_LABEL_UPDATED],
    detail: { labelUpdated: ['AWSCURRENT'], name: nameOrArn(refs) },
  };
}

/** CloudTrail's records of the calls that change a secret's current value; the secret sits in one of three fields. */
export function cloudTrailPattern(refs: readonly SecretReference[]): EventPattern {
  return {
    source: [SECRETS_MANAGER_SOURCE],
    detailType: CLOUDTRAIL_DETAIL_TYPES,
    detail: {
      eventSource: ['secretsmanager.amazonaws.com'],
      eventName: SECRET_CHANGE_EVENT_NAMES,
      $or: [
        { requestParameters: { secretId: nameOrArn(refs) } },
        { additionalEventData: { SecretId: nameOrArn(refs) } },
        { responseElements: { arn: arnOnly(refs) } },
      ],
    },
  };
}

/** The pattern as EventBridge stores it (`detail-type`, not `detailType`), for measuring. */
export function renderedLength(pattern: EventPattern): number {
  const { detailType, ...rest } = pattern;
  return JSON.stringify(detailType ? { ...rest, 'detail-type': detailType } : rest).length;
}

/**
 * Splits secret ids into groups whose pattern fits EventBridge's length limit, measured with the longest possible
 * partition, region and account, so each group becomes one rule.
 */
export function groupForPatternLimit(
  secretIds: readonly string[],
  build: (refs: readonly SecretReference[]) => EventPattern,
  limit: number = MAX_EVENT_PATTERN_LENGTH,
): string[][] {
  const groups: string[][] = [];
  let current: string[] = [];
  const fits = (ids: string[]) =>
    renderedLength(build(ids.map((id) => resolveSecretReference(id, LONGEST_LOCATION)))) <= limit;
  for (const id of secretIds) {
    if (fits([...current, id])) {
      current.push(id);
      continue;
    }
    if (!fits([id])) {
      throw new Error(
        `Secret id "${id}" is too long for an EventBridge event pattern: one secret's pattern must fit in ${limit} characters`,
      );
    }
    groups.push(current);
    current = [id];
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
