/** Secret-change event patterns: what they match, and grouping them into rules that fit EventBridge's length limit. */
import { describe, expect, it } from 'vitest';
import {
  LONGEST_PLACE,
  MAX_EVENT_PATTERN_LENGTH,
  cloudTrailPattern,
  groupForPatternLimit,
  labelUpdatedPattern,
  renderedLength,
} from '../../infra/secret-events.ts';
import { deriveSecretMatchers } from '../../infra/secret-prefixes.ts';

const PLACE = { account: '111122223333', secretLocation: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:' };

describe('labelUpdatedPattern', () => {
  it('matches the friendly names (exact or by prefix) in this account, and no ARN, which that event never carries', () => {
    const matchers = deriveSecretMatchers(['mcp/github', 'arn:aws:secretsmanager:eu-west-1:444455556666:secret:x/y']);
    expect(labelUpdatedPattern(matchers, PLACE)).toEqual({
      source: ['aws.secretsmanager'],
      detailType: ['Secret Label Updated'],
      account: ['111122223333'],
      detail: { labelUpdated: ['AWSCURRENT'], name: ['mcp/github', 'x/y'] },
    });
  });
});

describe('cloudTrailPattern', () => {
  it('matches a name only where the caller may have passed one; the ARN-only fields by ARN prefix', () => {
    const matchers = deriveSecretMatchers(
      Array.from({ length: 30 }, (_, i) => `mcp/ts1/srv${String(i).padStart(2, '0')}`),
      2,
    );
    const arn = (name: string) => ({ prefix: `${PLACE.secretLocation}${name}` });
    expect(cloudTrailPattern(matchers, PLACE)).toEqual({
      source: ['aws.secretsmanager'],
      detailType: ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'],
      account: ['111122223333'],
      detail: {
        eventSource: ['secretsmanager.amazonaws.com'],
        eventName: ['RotationSucceeded', 'PutSecretValue', 'UpdateSecretVersionStage'],
        $or: [
          { requestParameters: { secretId: [{ prefix: 'mcp/ts1/srv' }, arn('mcp/ts1/srv')] } },
          { additionalEventData: { SecretId: [arn('mcp/ts1/srv')] } },
          { responseElements: { arn: [arn('mcp/ts1/srv')] } },
        ],
      },
    });
  });
});

describe('groupForPatternLimit', () => {
  it('keeps a few secrets in one group', () => {
    const matchers = deriveSecretMatchers(['a/1', 'b/2', 'c/3']);
    expect(groupForPatternLimit(matchers, cloudTrailPattern)).toEqual([matchers]);
  });

  it.each([
    ['label updated', labelUpdatedPattern],
    ['CloudTrail', cloudTrailPattern],
  ])('splits many matchers into %s patterns that each fit, in order, none lost', (_, build) => {
    const ids = Array.from({ length: 80 }, (_, i) => `teams/team-${i}/mcp-credential`);
    const matchers = deriveSecretMatchers(ids, 80);
    const groups = groupForPatternLimit(matchers, build);
    expect(groups.length).toBeGreaterThan(1);
    expect(groups.flat()).toEqual(matchers);
    for (const group of groups) {
      expect(renderedLength(build(group, LONGEST_PLACE))).toBeLessThanOrEqual(MAX_EVENT_PATTERN_LENGTH);
    }
  });

  it('names the secret whose name alone cannot fit a pattern', () => {
    const matchers = deriveSecretMatchers(['ok/1', `mcp/${'x'.repeat(700)}`]);
    expect(() => groupForPatternLimit(matchers, cloudTrailPattern)).toThrow(/Secret name "mcp\/x+" is too long/);
  });
});

describe('renderedLength', () => {
  it('measures the pattern as EventBridge stores it, with detail-type', () => {
    expect(renderedLength({ detailType: ['X'] })).toBe(JSON.stringify({ 'detail-type': ['X'] }).length);
  });
});
