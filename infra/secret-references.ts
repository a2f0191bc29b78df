/**
 * Turns the secret ids of the configuration (names or ARNs) into what IAM and EventBridge need: an ARN pattern to
 * grant on, and the name and ARN prefix Secrets Manager events carry. The ids are read by the handler's own parser
 * (lambda/secret-ref.ts), so the grants and rules cover exactly the secrets the handler matches.
 */
import { Aws } from 'aws-cdk-lib';
import { parseSecretRef } from '../lambda/secret-ref.ts';

export interface SecretReference {
  /** The id exactly as the configuration names it. */
  readonly id: string;
  /** The secret's name, without the six-character suffix Secrets Manager appends to ARNs. */
  readonly name: string;
  /** IAM resource: the ARN itself when the configuration gives a complete one, else `…:secret:<name>-??????`. */
  readonly iamResource: string;
  /** `arn:<partition>:secretsmanager:<region>:<account>:secret:`: where the secret lives. */
  readonly location: string;
  /** What every ARN of this secret starts with, complete or partial: `<location><name>`. */
  readonly arnPrefix: string;
  /** Named by ARN: its location is the ARN's, not the deploying stack's. */
  readonly byArn: boolean;
}

/** Where a secret given by name lives. */
export interface ArnLocation {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** The deploying stack's partition, region and account (CloudFormation pseudo parameters). */
export const DEPLOYED_LOCATION: ArnLocation = { partition: Aws.PARTITION, region: Aws.REGION, account: Aws.ACCOUNT_ID };

// IAM's `?` matches exactly one character: the six of the suffix, and nothing longer.
export const SUFFIX_PATTERN = '-??????';

export function secretLocation(location: ArnLocation): string {
  return `arn:${location.partition}:secretsmanager:${location.region}:${location.account}:secret:`;
}

export function resolveSecretReference(id: string, location: ArnLocation = DEPLOYED_LOCATION): SecretReference {
  const ref = parseSecretRef(id);
  const base = ref.location ?? secretLocation(location);
  return {
    id,
    name: ref.name,
    // A partial ARN (no suffix) names one secret too; the pattern matches only its suffix.
    iamResource: ref.fullArn ? id : `${base}${ref.tail}${SUFFIX_PATTERN}`,
    location: base,
    arnPrefix: `${base}${ref.name}`,
    byArn: ref.location !== undefined,
  };
}

/** Every distinct secret id, in first-seen order. */
export function distinctSecretIds(ids: Iterable<string>): string[] {
  return [...new Set(ids)];
}
