/** The state table's partition key of a target. Shared by engine and adapter so both agree on it. */
export function statePk(teamspaceId: string | undefined, serverId: string): string {
  return `target#${teamspaceId ?? ''}#${serverId}`;
}

export const statePkFor = (target: { teamspaceId: string | undefined; serverId: string }): string =>
  statePk(target.teamspaceId, target.serverId);

/** The partition key of a run's record (its halting tally), beside the targets' items in the same table. */
export const runPk = (runId: string): string => `run#${runId}`;
