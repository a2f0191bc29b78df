/** The one parser of secret ids and `sameSecret`, which the handler, the adapter and the construct all use. */
import { describe, expect, it } from 'vitest';
import { parseSecretRef, sameSecret } from '../../lambda/secret-ref.ts';

const HERE = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:';
const OTHER_ACCOUNT = 'arn:aws:secretsmanager:eu-west-1:444455556666:secret:';

describe('parseSecretRef', () => {
  it('reads a name as a name, with no location', () => {
    expect(parseSecretRef('mcp/github')).toMatchObject({ name: 'mcp/github', fullArn: false, location: undefined });
  });

  it('reads a complete ARN: its place, and the name without the six-character suffix', () => {
    expect(parseSecretRef(`${HERE}mcp/github-AbCdEf`)).toEqual({
      id: `${HERE}mcp/github-AbCdEf`,
      name: 'mcp/github',
      tail: 'mcp/github-AbCdEf',
      fullArn: true,
      location: HERE,
      partition: 'aws',
      region: 'eu-west-1',
      account: '111122223333',
    });
  });

  it('reads a partial ARN: the name is the whole resource part', () => {
    expect(parseSecretRef(`${HERE}mcp/jira`)).toMatchObject({ name: 'mcp/jira', fullArn: false, location: HERE });
  });
});

describe('sameSecret', () => {
  it.each([
    ['a name and its complete ARN', 'mcp/github', `${HERE}mcp/github-AbCdEf`],
    ['a name and its partial ARN', 'mcp/github', `${HERE}mcp/github`],
    ['a partial ARN and the complete ARN of that place', `${HERE}mcp/github`, `${HERE}mcp/github-AbCdEf`],
    ['a name ending like a suffix and its partial ARN', 'mcp/x-AbCdEf', `${HERE}mcp/x-AbCdEf`],
  ])('matches %s, either way round', (_, a, b) => {
    expect(sameSecret(a, b)).toBe(true);
    expect(sameSecret(b, a)).toBe(true);
  });

  it.each([
    ['two names', 'mcp/github', 'mcp/gitlab'],
    ['two complete ARNs of one name (deleted and re-created)', `${HERE}mcp/github-AbCdEf`, `${HERE}mcp/github-Zz9999`],
    ['the same name in two accounts', `${HERE}mcp/github`, `${OTHER_ACCOUNT}mcp/github-AbCdEf`],
    ['a name and the ARN of a longer name', 'mcp/git', `${HERE}mcp/github-AbCdEf`],
  ])('does not match %s', (_, a, b) => {
    expect(sameSecret(a, b)).toBe(false);
    expect(sameSecret(b, a)).toBe(false);
  });
});
