/**
 * Event patterns for "a configured secret's current value changed", on the default bus where AWS services deliver
 * their events. The rules are a coarse filter (names and ARNs match by prefix: ARN suffixes and name prefixes make
 * exact matching impossible); the handler matches the secret exactly and runs no target for any other secret.
 */
import type { EventPattern } from 'aws-cdk-lib/aws-events';
import { matcherArnPrefix } from './secret-prefixes.ts';
import type { SecretMatcher } from './secret-prefixes.ts';

export const SECRETS_MANAGER_SOURCE = 'aws.secretsmanager';
export const SECRET_LABEL_UPDATED = 'Secret Label Updated';
export const CLOUDTRAIL_DETAIL_TYPES = ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'];
export const SECRET_CHANGE_EVENT_NAMES = ['RotationSucceeded', 'PutSecretValue', 'UpdateSecretVersionStage'];

/** EventBridge's default limit on an event pattern's length, in characters (adjustable up to 4096). */
export const MAX_EVENT_PATTERN_LENGTH = 2048;

/** Where the patterns are deployed: the account whose events they match and its `arn:…:secret:` for names. */
export interface PatternPlace {
  readonly account: string;
  readonly secretLocation: string;
}

// Longer than any real partition, region or account: the deployed values are tokens, so size with these.
export const LONGEST_PLACE: PatternPlace = {
  account: '0'.repeat(12),
  secretLocation: `arn:${'a'.repeat(12)}:secretsmanager:${'r'.repeat(16)}:${'0'.repeat(12)}:secret:`,
};

type Matcher = string | { prefix: string };

function byName(matchers: readonly SecretMatcher[]): Matcher[] {
  return distinct(matchers.map((m) => (m.exact ? m.name : { prefix: m.name })));
}

function byArn(matchers: readonly SecretMatcher[], place: PatternPlace): Matcher[] {
  // Complete or partial, every ARN of a secret starts with its location and name: prefix matching.
  return distinct(matchers.map((m) => ({ prefix: matcherArnPrefix(m, place.secretLocation) })));
}

function distinct(matchers: Matcher[]): Matcher[] {
  const seen = new Set<string>();
  return matchers.filter((m) => {
    const key = JSON.stringify(m);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The native `Secret Label Updated` event that moved AWSCURRENT (no CloudTrail trail needed). Its `detail.name` is
 * the secret's friendly name, never an ARN; the account filter keeps out events another account forwards.
 */
export function labelUpdatedPattern(matchers: readonly SecretMatcher[], place: PatternPlace): EventPattern {
  return {
    source: [SECRETS_MANAGER_SOURCE],
    detailType: [SECRET_LABEL_UPDATED],
    account: [place.account],
    detail: { labelUpdated: ['AWSCURRENT'], name: byName(matchers) },
  };
}

/**
 * CloudTrail's records of the calls that change a secret's current value. `requestParameters.secretId` is what the
 * caller passed (a name or an ARN); `additionalEventData.SecretId` (rotation) and `responseElements.arn` are ARNs.
 */
export function cloudTrailPattern(matchers: readonly SecretMatcher[], place: PatternPlace): EventPattern {
  return {
    source: [SECRETS_MANAGER_SOURCE],
    detailType: CLOUDTRAIL_DETAIL_TYPES,
    account: [place.account],
    detail: {
      eventSource: ['secretsmanager.amazonaws.com'],
      eventName: SECRET_CHANGE_EVENT_NAMES,
      $or: [
        { requestParameters: { secretId: [...byName(matchers), ...byArn(matchers, place)] } },
        { additionalEventData: { SecretId: byArn(matchers, place) } },
        { responseElements: { arn: byArn(matchers, place) } },
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
 * Splits the matchers into groups whose pattern fits EventBridge's length limit, measured with the longest possible
 * partition, region and account, so each group becomes one rule.
 */
export function groupForPatternLimit(
  matchers: readonly SecretMatcher[],
  build: (matchers: readonly SecretMatcher[], place: PatternPlace) => EventPattern,
  limit: number = MAX_EVENT_PATTERN_LENGTH,
): SecretMatcher[][] {
  const groups: SecretMatcher[][] = [];
  let current: SecretMatcher[] = [];
  const fits = (group: SecretMatcher[]) => renderedLength(build(group, LONGEST_PLACE)) <= limit;
  for (const matcher of matchers) {
    if (fits([...current, matcher])) {
      current.push(matcher);
      continue;
    }
    if (!fits([matcher])) {
      throw new Error(
        `Secret name "${matcher.name}" is too long for an EventBridge event pattern: one secret's pattern must fit in ${limit} characters`,
      );
    }
    groups.push(current);
    current = [matcher];
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
