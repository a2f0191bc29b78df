/**
 * Turns the secret ids of the configuration (names or ARNs) into what IAM and EventBridge need: an ARN pattern to
 * grant on, and the name and ARN prefix Secrets Manager events carry.
 */
import { Aws } from 'aws-cdk-lib';

export interface SecretReference {
  /** The id exactly as the configuration names it. */
  readonly id: string;
  /** The secret's name, without the six-character suffix Secrets Manager appends to ARNs. */
  readonly name: string;
  /** IAM resource: the ARN itself when the configuration gives a complete one, else `…:secret:<name>-??????`. */
  readonly iamResource: string;
  /** What every ARN of this secret starts with, complete or partial: `arn:<partition>:…:secret:<name>`. */
  readonly arnPrefix: string;
}

/** Where a secret given by name lives. */
export interface ArnLocation {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** The deploying stack's partition, region and account (CloudFormation pseudo parameters). */
export const DEPLOYED_LOCATION: ArnLocation = { partition: Aws.PARTITION, region: Aws.REGION, account: Aws.ACCOUNT_ID };

const SECRET_ARN = /^arn:([^:]+):secretsmanager:([^:]+):([^:]+):secret:(.+)$/;
// A complete ARN ends with `-` and the six random characters Secrets Manager appends to the name.
const RANDOM_SUFFIX = /-[A-Za-z0-9]{6}$/;
// IAM's `?` matches exactly one character: the six of the suffix, and nothing longer.
const SUFFIX_PATTERN = '-??????';

export function resolveSecretReference(id: string, location: ArnLocation = DEPLOYED_LOCATION): SecretReference {
  const arn = SECRET_ARN.exec(id);
  if (arn) {
    const [, partition, region, account, resourceName] = arn as unknown as [string, string, string, string, string];
    const complete = RANDOM_SUFFIX.test(resourceName);
    const name = complete ? resourceName.replace(RANDOM_SUFFIX, '') : resourceName;
    return {
      id,
      name,
      // A partial ARN (no suffix) names one secret too; the pattern matches only its suffix.
      iamResource: complete ? id : `${id}${SUFFIX_PATTERN}`,
      arnPrefix: `arn:${partition}:secretsmanager:${region}:${account}:secret:${name}`,
    };
  }
  const base = `arn:${location.partition}:secretsmanager:${location.region}:${location.account}:secret:${id}`;
  return { id, name: id, iamResource: `${base}${SUFFIX_PATTERN}`, arnPrefix: base };
}

/** Every distinct secret id, in first-seen order. */
export function distinctSecretIds(ids: Iterable<string>): string[] {
  return [...new Set(ids)];
}
