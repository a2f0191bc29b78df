/**
 * What the rotator may read and which secret changes start it, both built from the same bounded set of secret
 * matchers (secret-prefixes.ts): IAM grants on the secrets' names or common name prefixes (optionally narrowed to a
 * resource tag), KMS grants for customer managed keys, and the secret-change rules on the default bus. The construct
 * reports at synth what it derived.
 */
import { Annotations, Stack, Token, Validations } from 'aws-cdk-lib';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import type { IRuleTarget } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ROTATOR_NAME } from '../lambda/constants.ts';
import { parseSecretRef } from '../lambda/secret-ref.ts';
import { cloudTrailPattern, groupForPatternLimit, labelUpdatedPattern } from './secret-events.ts';
import type { PatternPlace } from './secret-events.ts';
import {
  MIN_SECRET_PREFIX_LENGTH,
  describeMatcher,
  deriveSecretMatchers,
  matcherIamResource,
} from './secret-prefixes.ts';
import type { SecretMatcher } from './secret-prefixes.ts';
import { DEPLOYED_LOCATION, resolveSecretReference, secretLocation } from './secret-references.ts';

/** A resource tag every target secret carries; the read grant then also requires it (attribute-based access). */
export interface SecretAccessTag {
  readonly key: string;
  readonly value: string;
}

export interface SecretAccessOptions {
  readonly targetSecretIds: readonly string[];
  readonly apiKeySecretId: string;
  readonly keys: readonly IKey[];
  readonly secrets: readonly ISecret[];
  readonly tag: SecretAccessTag | undefined;
}

/**
 * Grants the role `GetSecretValue` on the target secrets' matchers and on the API key secret, and `kms:Decrypt`
 * through Secrets Manager on the given keys and the keys of the given secrets. Returns the target matchers.
 */
export function grantSecretAccess(scope: Construct, role: IRole, options: SecretAccessOptions): SecretMatcher[] {
  const deployed = secretLocation(DEPLOYED_LOCATION);
  const matchers = deriveSecretMatchers(options.targetSecretIds);
  role.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'ReadTargetSecrets',
      actions: ['secretsmanager:GetSecretValue'],
      resources: [...new Set(matchers.map((m) => matcherIamResource(m, deployed)))],
      ...(options.tag && {
        conditions: { StringEquals: { [`aws:ResourceTag/${options.tag.key}`]: options.tag.value } },
      }),
    }),
  );
  role.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'ReadDatagridApiKey',
      actions: ['secretsmanager:GetSecretValue'],
      resources: [resolveSecretReference(options.apiKeySecretId).iamResource],
    }),
  );
  const keys = [...options.keys, ...options.secrets.flatMap((secret) => secret.encryptionKey ?? [])];
  if (keys.length > 0) {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'DecryptSecretsViaSecretsManager',
        actions: ['kms:Decrypt'],
        resources: [...new Set(keys.map((key) => key.keyArn))],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(scope).region}.amazonaws.com` } },
      }),
    );
  }
  acknowledgePrefixGrants(role, matchers, options.tag);
  reportAccess(scope, matchers, options, keys.length > 0);
  return matchers;
}

// How cdk-nag writes the stack's own secret location in a finding's id.
const NAG_DEPLOYED_LOCATION = 'arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:';

/** Each prefix grant is a reviewed wildcard: cdk-nag (AwsSolutions-IAM5) is told why, one prefix at a time. */
function acknowledgePrefixGrants(role: IRole, matchers: SecretMatcher[], tag: SecretAccessTag | undefined): void {
  for (const matcher of matchers.filter((m) => !m.exact)) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${matcherIamResource(matcher, NAG_DEPLOYED_LOCATION)}]`,
      reason:
        `GetSecretValue on the common name prefix of ${matcher.secretIds.length} configured target secrets, so the ` +
        'policy stays within IAM size limits for any fleet; the prefix is at least ' +
        `${MIN_SECRET_PREFIX_LENGTH} characters and is reported at synth` +
        (tag ? `, and reads also require the tag ${tag.key}=${tag.value}.` : '.'),
    });
  }
}

function reportAccess(scope: Construct, matchers: SecretMatcher[], options: SecretAccessOptions, keyed: boolean) {
  const annotations = Annotations.of(scope);
  annotations.addInfoV2(
    'datagrid-mcp-rotator:secret-prefixes',
    `${ROTATOR_NAME}: ${options.targetSecretIds.length} target secret(s) granted and matched as ` +
      `${matchers.length} name(s) or prefix(es): ${matchers.map(describeMatcher).join(', ')}` +
      (options.tag ? `; reads also require the tag ${options.tag.key}=${options.tag.value}` : ''),
  );
  if (keyed) return;
  // Secrets shared with another account must use a customer managed key (the AWS managed key cannot be shared).
  const account = Stack.of(scope).account;
  const elsewhere = [...options.targetSecretIds, options.apiKeySecretId].filter((id) => {
    const ref = parseSecretRef(id);
    return ref.account !== undefined && (Token.isUnresolved(account) || ref.account !== account);
  });
  if (elsewhere.length > 0) {
    annotations.addWarningV2(
      'datagrid-mcp-rotator:secret-keys',
      `${elsewhere.length} configured secret(s) are named by an ARN of an account that may not be this stack's ` +
        `(${elsewhere.slice(0, 3).join(', ')}${elsewhere.length > 3 ? ', …' : ''}). A secret read from another ` +
        'account is encrypted with a customer managed KMS key: pass it (`secretsEncryptionKeys`, or the secret as ' +
        '`secrets`) and let the rotator role use it for kms:Decrypt in the key policy.',
    );
  }
}

export interface SecretChangeRuleOptions {
  readonly matchers: readonly SecretMatcher[];
  /** Also match CloudTrail's records of the changing calls (needs a trail; the native event usually suffices). */
  readonly cloudTrail: boolean;
  readonly target: IRuleTarget;
}

export interface SecretChangeRules {
  readonly labelUpdated: Rule[];
  readonly apiCall: Rule[];
}

/** The rules on the default bus, where AWS services deliver their events: one per pattern that fits the limit. */
export function createSecretChangeRules(scope: Construct, options: SecretChangeRuleOptions): SecretChangeRules {
  const place: PatternPlace = {
    account: Stack.of(scope).account,
    secretLocation: secretLocation(DEPLOYED_LOCATION),
  };
  const rules = (id: string, build: typeof labelUpdatedPattern): Rule[] => {
    const defaultBus = EventBus.fromEventBusName(scope, `${id}DefaultBus`, 'default');
    return groupForPatternLimit(options.matchers, build).map(
      (group, index) =>
        new Rule(scope, index === 0 ? id : `${id}${index + 1}`, {
          description: `${ROTATOR_NAME}: current value of a configured secret changed`,
          eventBus: defaultBus,
          eventPattern: build(group, place),
          targets: [options.target],
        }),
    );
  };
  return {
    labelUpdated: rules('SecretLabelUpdatedRule', labelUpdatedPattern),
    apiCall: options.cloudTrail ? rules('SecretApiCallRule', cloudTrailPattern) : [],
  };
}
