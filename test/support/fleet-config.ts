/**
 * A fleet configuration as a large organization would write it: `teamspaces` teamspaces of `serversPerTeamspace`
 * MCP servers (Datagrid allows 30 a teamspace), one secret per server named `mcp/tsNNN/srvNN`.
 */
export interface FleetShape {
  teamspaces: number;
  serversPerTeamspace: number;
}

export const teamspaceId = (t: number) => `ts${String(t + 1).padStart(3, '0')}`;
export const serverId = (s: number) => `srv${String(s + 1).padStart(2, '0')}`;

export function fleetTargets({ teamspaces, serversPerTeamspace }: FleetShape) {
  return Array.from({ length: teamspaces * serversPerTeamspace }, (_, i) => {
    const ts = teamspaceId(Math.floor(i / serversPerTeamspace));
    const srv = serverId(i % serversPerTeamspace);
    return { serverId: `${ts}_${srv}`, teamspaceId: ts, secretId: `mcp/${ts}/${srv}` };
  });
}

export function fleetConfig(shape: FleetShape, extra: Record<string, unknown> = {}) {
  return {
    datagrid: { apiKeySecretId: 'datagrid/api-key' },
    concurrency: { global: 8, perTeamspace: 4, haltAfterFailures: 3 },
    ...extra,
    targets: fleetTargets(shape),
  };
}
