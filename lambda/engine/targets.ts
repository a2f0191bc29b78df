/** Which configured targets a request names. Unknown names reject the whole request before anything is read. */
import { echo } from '../echo.ts';
import { RequestError } from '../errors.ts';
import { sameSecret } from '../secret-ref.ts';
import type { ResolvedTarget, RotatorConfig } from '../types/index.ts';

/** A request may name 1000 targets: its error names the first few that are wrong. */
const MAX_PROBLEMS_SHOWN = 5;

/** `serverId` or `teamspaceId/serverId`; a bare serverId must name exactly one target. */
export function selectTargets(config: RotatorConfig, entries: readonly string[] | undefined): ResolvedTarget[] {
  if (entries === undefined) return config.targets;
  const chosen = new Set<ResolvedTarget>();
  const problems: string[] = [];
  for (const entry of entries) {
    const matches = config.targets.filter((t) => (entry.includes('/') ? t.key === entry : t.serverId === entry));
    if (matches.length === 0) problems.push(`${echo(entry)} is not a configured target`);
    else if (matches.length > 1)
      problems.push(`${echo(entry)} is ambiguous (${matches.map((t) => t.key).join(', ')}): use teamspaceId/serverId`);
    else chosen.add(matches[0]!);
  }
  if (problems.length > 0) {
    const more = problems.length > MAX_PROBLEMS_SHOWN ? `; and ${problems.length - MAX_PROBLEMS_SHOWN} more` : '';
    throw new RequestError(
      `Invalid targets: ${problems.slice(0, MAX_PROBLEMS_SHOWN).join('; ')}${more}. Expected entries "serverId" or "teamspaceId/serverId".`,
    );
  }
  // Keep configuration order: it is the order operators read in results.
  return config.targets.filter((t) => chosen.has(t));
}

/** Targets that read their credential from the secret an event names. */
export function targetsUsingSecret(config: RotatorConfig, secretRef: string): ResolvedTarget[] {
  return config.targets.filter((t) => sameSecret(t.secretId, secretRef));
}
