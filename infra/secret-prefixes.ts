/**
 * A bounded set of secret matchers for the configured secrets: each is one exact secret, or a common name prefix
 * of several (`mcp/ts0` for `mcp/ts001/srv01` … `mcp/ts099/srv30`). IAM grants and the secret-change rules are
 * built from them, so the stack stays the same size for 30 secrets or 9,000: IAM policies have size limits
 * (a role's inline policies 10,240 characters in all), event patterns too (2,048), and a template 500 resources.
 *
 * A prefix also covers secrets the configuration does not name; the handler matches a change event exactly and a
 * change of such a secret is an empty run. A prefix too short to say whose secrets it covers is refused.
 */
import { parseSecretRef } from '../lambda/secret-ref.ts';
import { SUFFIX_PATTERN } from './secret-references.ts';

/** At most this many matchers: up to this many distinct secrets are granted and matched one by one. */
export const MAX_SECRET_MATCHERS = 20;
/** A shorter prefix (`m`, `mc`, or none: the whole account) would cover secrets that are not the rotator's. */
export const MIN_SECRET_PREFIX_LENGTH = 3;

export interface SecretMatcher {
  /** `arn:…:secret:` of secrets named by ARN; undefined for names, which live where the stack is deployed. */
  readonly location: string | undefined;
  /** The exact secret name, or the name prefix. */
  readonly name: string;
  /** One secret (`name` is its name), or every secret whose name starts with `name`. */
  readonly exact: boolean;
  /** The configured ids it covers. */
  readonly secretIds: readonly string[];
  /** The complete ARN, when the one secret is named by exactly that. */
  readonly completeArn: string | undefined;
}

interface NamedSecret {
  location: string | undefined;
  name: string;
  ids: string[];
}

function commonPrefixLength(a: string, b: string): number {
  const max = Math.min(a.length, b.length);
  let i = 0;
  while (i < max && a[i] === b[i]) i += 1;
  return i;
}

/** The configured secrets, one entry per distinct (location, name), sorted so that common prefixes are adjacent. */
function namedSecrets(secretIds: readonly string[]): NamedSecret[] {
  const byKey = new Map<string, NamedSecret>();
  for (const id of secretIds) {
    const ref = parseSecretRef(id);
    const key = `${ref.location ?? ''}\n${ref.name}`;
    const entry = byKey.get(key) ?? { location: ref.location, name: ref.name, ids: [] };
    if (!entry.ids.includes(id)) entry.ids.push(id);
    byKey.set(key, entry);
  }
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, entry]) => entry);
}

/**
 * Derives at most `max` matchers (more only when the secrets live in more than `max` places). Sorted names are cut
 * into runs wherever neighbours share fewer than L characters, with L as large as the budget allows: the tightest
 * prefixes that fit, and each run's prefix is its common prefix. Throws when a prefix would be too short.
 */
export function deriveSecretMatchers(secretIds: readonly string[], max: number = MAX_SECRET_MATCHERS): SecretMatcher[] {
  const secrets = namedSecrets(secretIds);
  // The common prefix length of each neighbour pair; -1 between places, which no prefix may span.
  const links = secrets
    .slice(1)
    .map((secret, i) =>
      secret.location === secrets[i]!.location ? commonPrefixLength(secrets[i]!.name, secret.name) : -1,
    );
  const runsAt = (level: number) => 1 + links.filter((link) => link < level).length;
  const levels = [0, ...new Set(links.filter((link) => link >= 0).map((link) => link + 1))].sort((a, b) => a - b);
  const level = levels.filter((candidate) => runsAt(candidate) <= max).at(-1) ?? 0;

  const runs: NamedSecret[][] = [];
  secrets.forEach((secret, i) => {
    if (i === 0 || links[i - 1]! < level) runs.push([secret]);
    else runs.at(-1)!.push(secret);
  });
  return runs.map(toMatcher);
}

function toMatcher(run: NamedSecret[]): SecretMatcher {
  const first = run[0]!;
  const secretIds = run.flatMap((secret) => secret.ids);
  if (run.length === 1) {
    const completeArn = secretIds.length === 1 && parseSecretRef(secretIds[0]!).fullArn ? secretIds[0] : undefined;
    return { location: first.location, name: first.name, exact: true, secretIds, completeArn };
  }
  const name = first.name.slice(0, commonPrefixLength(first.name, run.at(-1)!.name));
  if (name.length < MIN_SECRET_PREFIX_LENGTH) {
    const examples = run.slice(0, 3).map((secret) => `"${secret.name}"`);
    throw new Error(
      `The ${run.length} configured secrets ${examples.join(', ')}${run.length > 3 ? ', …' : ''} share only the name ` +
        `prefix "${name}"${first.location ? ` in ${first.location}` : ''}: granting or matching it would cover ` +
        `secrets that are not the rotator's (at least ${MIN_SECRET_PREFIX_LENGTH} characters are required). ` +
        `Name the MCP credential secrets under a common path, such as "mcp/<team>/<server>".`,
    );
  }
  return { location: first.location, name, exact: false, secretIds, completeArn: undefined };
}

/** What every ARN the matcher covers starts with; `deployed` is the stack's `arn:…:secret:` for names. */
export function matcherArnPrefix(matcher: SecretMatcher, deployed: string): string {
  return `${matcher.location ?? deployed}${matcher.name}`;
}

/** The IAM resource: the complete ARN, the name with its six-character suffix, or the prefix and `*`. */
export function matcherIamResource(matcher: SecretMatcher, deployed: string): string {
  if (matcher.completeArn !== undefined) return matcher.completeArn;
  return `${matcherArnPrefix(matcher, deployed)}${matcher.exact ? SUFFIX_PATTERN : '*'}`;
}

/** For the synth report: `mcp/ts0* (2970 secrets)` or `mcp/github`. */
export function describeMatcher(matcher: SecretMatcher): string {
  const where = matcher.location ? ` in ${matcher.location}` : '';
  return matcher.exact
    ? `${matcher.name}${where}`
    : `${matcher.name}*${where} (${matcher.secretIds.length} configured secrets)`;
}
