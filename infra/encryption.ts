/**
 * The customer managed key option (`encryptionKey`): which AWS services must be allowed to use the key for the
 * resources it encrypts. For a key defined in the same CDK app the statements are added to its key policy; an
 * imported key's policy cannot be changed from here, so its owner adds them (docs/operations.md, "Customer managed
 * keys").
 */
import { Aws } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';

/** Key policy statements the rotator's services need; `allowNoOp` keeps imported keys untouched. */
export function allowRotatorServicesToUseKey(key: IKey): void {
  const add = (statement: PolicyStatement) => key.addToResourcePolicy(statement, true);
  add(
    new PolicyStatement({
      sid: 'RotatorAlarmsPublishToEncryptedTopic',
      principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
    }),
  );
  add(
    new PolicyStatement({
      sid: 'RotatorRulesWriteEncryptedDeadLetters',
      principals: [new ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
    }),
  );
  add(
    new PolicyStatement({
      sid: 'RotatorLogGroupsEncrypt',
      principals: [new ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`,
        },
      },
    }),
  );
}
