/** Deriving a bounded set of secret names and common name prefixes from the configured secrets. */
import { describe, expect, it } from 'vitest';
import { MAX_SECRET_MATCHERS, deriveSecretMatchers, matcherIamResource } from '../../infra/secret-prefixes.ts';

const HERE = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:';
const fleet = (teamspaces: number, servers: number) =>
  Array.from({ length: teamspaces * servers }, (_, i) => {
    const ts = String(Math.floor(i / servers) + 1).padStart(3, '0');
    return `mcp/ts${ts}/srv${String((i % servers) + 1).padStart(2, '0')}`;
  });
const summary = (ids: string[]) =>
  deriveSecretMatchers(ids).map((m) => `${m.name}${m.exact ? '' : '*'} ${m.secretIds.length}`);

describe('deriveSecretMatchers', () => {
  it('keeps up to the budget of distinct secrets exact: a few secrets are granted one by one', () => {
    const ids = ['mcp/github', 'mcp/linear', `${HERE}mcp/salesforce-AbCdEf`, `${HERE}mcp/jira`];
    const matchers = deriveSecretMatchers(ids);
    expect(matchers.every((m) => m.exact)).toBe(true);
    expect(matchers.map((m) => matcherIamResource(m, 'arn:x:secretsmanager:r:1:secret:')).sort()).toEqual(
      [
        `${HERE}mcp/jira-??????`,
        `${HERE}mcp/salesforce-AbCdEf`,
        'arn:x:secretsmanager:r:1:secret:mcp/github-??????',
        'arn:x:secretsmanager:r:1:secret:mcp/linear-??????',
      ].sort(),
    );
  });

  it('folds a name given twice, and by name plus ARN in another place, without losing an id', () => {
    const matchers = deriveSecretMatchers(['mcp/a', 'mcp/a', `${HERE}mcp/a`]);
    expect(matchers.flatMap((m) => m.secretIds).sort()).toEqual(['mcp/a', `${HERE}mcp/a`].sort());
  });

  it('cuts 30 secrets of one teamspace at their tightest prefixes within the budget', () => {
    expect(summary(fleet(1, 30))).toEqual([
      'mcp/ts001/srv0* 9',
      'mcp/ts001/srv1* 10',
      'mcp/ts001/srv2* 10',
      'mcp/ts001/srv30 1',
    ]);
  });

  it('covers 9,000 secrets (300 teamspaces × 30) with a handful of prefixes, every secret under exactly one', () => {
    const ids = fleet(300, 30);
    const matchers = deriveSecretMatchers(ids);
    expect(matchers.length).toBeLessThanOrEqual(MAX_SECRET_MATCHERS);
    expect(summary(ids)).toEqual(['mcp/ts0* 2970', 'mcp/ts1* 3000', 'mcp/ts2* 3000', 'mcp/ts300/srv* 30']);
    for (const id of ids) {
      expect(matchers.filter((m) => (m.exact ? id === m.name : id.startsWith(m.name)))).toHaveLength(1);
    }
  });

  it('never spans two places: secrets of another account or region keep their own matchers', () => {
    const other = 'arn:aws:secretsmanager:us-east-1:444455556666:secret:';
    const ids = [...fleet(1, 30), ...fleet(1, 30).map((id) => `${other}${id}`)];
    const matchers = deriveSecretMatchers(ids, 2);
    expect(matchers.map((m) => [m.location, m.name, m.secretIds.length])).toEqual([
      [undefined, 'mcp/ts001/srv', 30],
      [other, 'mcp/ts001/srv', 30],
    ]);
  });

  it.each([
    [
      'no common prefix at all (the whole account)',
      Array.from({ length: 30 }, (_, i) => `${String.fromCharCode(65 + i)}-token`),
    ],
    ['a two-character prefix', Array.from({ length: 30 }, (_, i) => `mc${String.fromCharCode(97 + (i % 26))}${i}`)],
  ])('refuses %s, naming the secrets and what to do', (_, ids) => {
    expect(() => deriveSecretMatchers(ids)).toThrow(
      /configured secrets .* share only the name prefix ".{0,2}": .*at least 3 characters.* common path/,
    );
  });
});
