/** Secret ids of the configuration → IAM ARN patterns and event-matching prefixes. */
import { describe, expect, it } from 'vitest';
import { resolveSecretReference } from '../../infra/secret-references.ts';

const HERE = { partition: 'aws', region: 'eu-west-1', account: '111122223333' };

describe('resolveSecretReference', () => {
  it('grants a name on exactly its six-character ARN suffix, in the deploying account and region', () => {
    expect(resolveSecretReference('mcp/github', HERE)).toEqual({
      id: 'mcp/github',
      name: 'mcp/github',
      iamResource: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:mcp/github-??????',
      location: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:',
      arnPrefix: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:mcp/github',
      byArn: false,
    });
  });

  it('grants a complete ARN as it is, and matches events by the ARN without its suffix', () => {
    const arn = 'arn:aws-us-gov:secretsmanager:us-gov-west-1:444455556666:secret:mcp/salesforce-AbCdEf';
    expect(resolveSecretReference(arn, HERE)).toEqual({
      id: arn,
      name: 'mcp/salesforce',
      iamResource: arn,
      location: 'arn:aws-us-gov:secretsmanager:us-gov-west-1:444455556666:secret:',
      arnPrefix: 'arn:aws-us-gov:secretsmanager:us-gov-west-1:444455556666:secret:mcp/salesforce',
      byArn: true,
    });
  });

  it('completes a partial ARN (no suffix) with the suffix pattern, keeping its own account and region', () => {
    const partial = 'arn:aws:secretsmanager:us-east-1:444455556666:secret:mcp/jira';
    expect(resolveSecretReference(partial, HERE)).toMatchObject({
      name: 'mcp/jira',
      iamResource: `${partial}-??????`,
      arnPrefix: partial,
    });
  });

  it('uses CloudFormation pseudo parameters when no location is given', () => {
    const { iamResource } = resolveSecretReference('mcp/github');
    expect(iamResource).toMatch(/^arn:\$\{Token\[AWS\.Partition\.\d+\]\}:secretsmanager:/);
  });
});
