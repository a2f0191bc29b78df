/** Grouping the configured secrets into rules whose event patterns fit EventBridge's length limit. */
import { describe, expect, it } from 'vitest';
import {
  MAX_EVENT_PATTERN_LENGTH,
  cloudTrailPattern,
  groupForPatternLimit,
  labelUpdatedPattern,
  renderedLength,
} from '../../infra/secret-events.ts';
import { resolveSecretReference } from '../../infra/secret-references.ts';

const REAL_LONG_LOCATION = { partition: 'aws-us-gov', region: 'ap-southeast-7', account: '123456789012' };

describe('groupForPatternLimit', () => {
  it('keeps a few secrets in one group', () => {
    expect(groupForPatternLimit(['a', 'b', 'c'], cloudTrailPattern)).toEqual([['a', 'b', 'c']]);
  });

  it.each([
    ['label updated', labelUpdatedPattern],
    ['CloudTrail', cloudTrailPattern],
  ])('splits many secrets into %s patterns that each fit, in order, none lost', (_, build) => {
    const ids = Array.from({ length: 80 }, (_, i) => `teams/team-${i}/mcp-credential`);
    const groups = groupForPatternLimit(ids, build);
    expect(groups.length).toBeGreaterThan(1);
    expect(groups.flat()).toEqual(ids);
    for (const group of groups) {
      const pattern = build(group.map((id) => resolveSecretReference(id, REAL_LONG_LOCATION)));
      expect(renderedLength(pattern)).toBeLessThanOrEqual(MAX_EVENT_PATTERN_LENGTH);
    }
  });

  it('names the secret whose id alone cannot fit a pattern', () => {
    const huge = `mcp/${'x'.repeat(500)}`;
    expect(() => groupForPatternLimit(['ok', huge], cloudTrailPattern)).toThrow(/Secret id "mcp\/x+" is too long/);
  });
});

describe('renderedLength', () => {
  it('measures the pattern as EventBridge stores it, with detail-type', () => {
    expect(renderedLength({ detailType: ['X'] })).toBe(JSON.stringify({ 'detail-type': ['X'] }).length);
  });
});
