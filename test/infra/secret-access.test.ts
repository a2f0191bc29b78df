/** Secret grants beyond the names: tag-based access, keys of secrets passed as CDK objects, and the key warning. */
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { asArray, roleStatements, rotatorStack, writeConfig } from './helpers.ts';
import type { RotatorFixture } from './helpers.ts';

const statements = (fx: RotatorFixture) => roleStatements(fx.template, fx.logicalId(fx.rotator.role));
const KEY_WARNING = 'datagrid-mcp-rotator:secret-keys';
// Each test synthesizes a stack: the first loads aws-cdk-lib, which takes a while on a busy machine.
const SYNTH_TIMEOUT_MS = 60_000;

describe('secretAccessTag', () => {
  it(
    'narrows the target secrets read grant to secrets carrying the tag; the API key read stays as it is',
    () => {
      const fx = rotatorStack({ secretAccessTag: { key: 'rotator', value: 'datagrid-mcp' } });
      const read = statements(fx).filter((s) => s.Sid === 'ReadTargetSecrets' || s.Sid === 'ReadDatagridApiKey');
      expect(read.map((s) => [s.Sid, s.Condition])).toEqual([
        ['ReadTargetSecrets', { StringEquals: { 'aws:ResourceTag/rotator': 'datagrid-mcp' } }],
        ['ReadDatagridApiKey', undefined],
      ]);
    },
    SYNTH_TIMEOUT_MS,
  );
});

describe('secrets passed as CDK objects', () => {
  it(
    'grants their encryption keys for kms:Decrypt through Secrets Manager, with the given keys, once each',
    () => {
      const fx = rotatorStack({}, (stack) => {
        const key = Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:eu-west-1:111122223333:key/aaaa');
        return {
          secretsEncryptionKeys: [key],
          secrets: [
            Secret.fromSecretAttributes(stack, 'Salesforce', {
              secretCompleteArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:mcp/salesforce-AbCdEf',
              encryptionKey: Key.fromKeyArn(stack, 'SalesforceKey', 'arn:aws:kms:eu-west-1:111122223333:key/bbbb'),
            }),
            Secret.fromSecretAttributes(stack, 'Jira', {
              secretPartialArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:mcp/jira',
              encryptionKey: key,
            }),
          ],
        };
      });
      const kms = statements(fx).filter((s) => asArray(s.Action).some((a) => a.startsWith('kms:')));
      expect(kms).toHaveLength(1);
      expect(kms[0]).toMatchObject({
        Sid: 'DecryptSecretsViaSecretsManager',
        Action: 'kms:Decrypt',
        Resource: ['arn:aws:kms:eu-west-1:111122223333:key/aaaa', 'arn:aws:kms:eu-west-1:111122223333:key/bbbb'],
      });
      expect(Annotations.fromStack(fx.stack).findWarning('*', Match.stringLikeRegexp(KEY_WARNING))).toEqual([]);
    },
    SYNTH_TIMEOUT_MS,
  );
});

describe('the synth-time key warning', () => {
  it(
    'warns when a secret named by ARN of another account may need a key that was not passed, naming it',
    () => {
      const fx = rotatorStack();
      const warnings = Annotations.fromStack(fx.stack).findWarning('/TestStack/Rotator', Match.anyValue());
      expect(warnings.map((w) => JSON.stringify(w.entry.data))).toEqual([
        expect.stringMatching(
          /^"2 configured secret\(s\) are named by an ARN of an account that may not be this stack's \(arn:aws:secretsmanager:eu-west-1:111122223333:secret:mcp\/salesforce-AbCdEf, .*mcp\/jira\)\. .*customer managed KMS key: pass it .*key policy/,
        ),
      ]);
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'stays quiet for secrets named by name, which live in the stack’s own account',
    () => {
      const configFile = writeConfig({
        datagrid: { apiKeySecretId: 'datagrid/api-key' },
        targets: [{ serverId: 'srv_1', secretId: 'mcp/one' }],
      });
      const fx = rotatorStack({ configFile });
      expect(Annotations.fromStack(fx.stack).findWarning('*', Match.anyValue())).toEqual([]);
    },
    SYNTH_TIMEOUT_MS,
  );
});
