/**
 * The one reading of a Secrets Manager secret id: a name, a complete ARN (`…:secret:NAME-AbCdEf`) or a partial ARN
 * (`…:secret:NAME`). The handler (which secret an event names), the Secrets Manager adapter (which answer belongs
 * to which id) and the CDK construct (what IAM grants and the rules match) all use it, so they cannot disagree.
 * Pure: no SDK, no CDK.
 */

export interface SecretRef {
  /** The id exactly as written. */
  readonly id: string;
  /** The secret's name: the id itself, or the ARN's resource part without the random suffix. */
  readonly name: string;
  /** The ARN's resource part as written (for a complete ARN, name plus suffix); the id itself for a name. */
  readonly tail: string;
  /** An ARN ending in `-` and six characters: the suffix Secrets Manager appends to every secret's name. */
  readonly fullArn: boolean;
  /** `arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:` when the id is an ARN. */
  readonly location: string | undefined;
  readonly partition: string | undefined;
  readonly region: string | undefined;
  readonly account: string | undefined;
}

const SECRET_ARN = /^(arn:([^:]+):secretsmanager:([^:]*):([^:]*):secret:)(.+)$/;
/** Secrets Manager appends "-" and 6 random characters to a secret's name in its complete ARN. */
const RANDOM_SUFFIX = /^(.+)-[A-Za-z0-9]{6}$/;

export function parseSecretRef(id: string): SecretRef {
  const arn = SECRET_ARN.exec(id);
  if (!arn) {
    return {
      id,
      name: id,
      tail: id,
      fullArn: false,
      location: undefined,
      partition: undefined,
      region: undefined,
      account: undefined,
    };
  }
  const [, location, partition, region, account, tail] = arn;
  const suffixed = RANDOM_SUFFIX.exec(tail!);
  return {
    id,
    name: suffixed ? suffixed[1]! : tail!,
    tail: tail!,
    fullArn: suffixed !== null,
    location,
    partition,
    region,
    account,
  };
}

/**
 * Do two ids (names or ARNs) name the same secret? A name matches an ARN of that name (a bare name resolves in the
 * reader's own account and region, which an ARN of another place can still be: the caller filters by place). Two
 * ARNs match only in the same partition, region and account: two complete ARNs must be equal (a secret deleted and
 * re-created under its name gets a new suffix), a partial ARN matches any ARN of its name.
 */
export function sameSecret(a: string, b: string): boolean {
  if (a === b) return true;
  const left = parseSecretRef(a);
  const right = parseSecretRef(b);
  if (left.location === undefined && right.location === undefined) return false;
  if (left.location === undefined || right.location === undefined) {
    const [name, arn] = left.location === undefined ? [left, right] : [right, left];
    // `tail`: a partial ARN of a name that itself ends in "-" and six characters reads like a complete ARN.
    return name.id === arn.name || name.id === arn.tail;
  }
  if (left.location !== right.location) return false;
  if (left.fullArn && right.fullArn) return false;
  const [partial, other] = left.fullArn ? [right, left] : [left, right];
  return partial.tail === other.name || partial.tail === other.tail;
}
