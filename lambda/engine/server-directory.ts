/**
 * Reads each teamspace's MCP servers once per run with the list call, not one GET per target. A rejected API key on
 * the first list halts the run before any other teamspace is asked.
 */
import { DatagridError, DatagridInvalidAnswerError, RotatorError } from '../errors.ts';
import type { DatagridApi, ListedServer, McpServer, RequestOptions, ResolvedTarget } from '../types/index.ts';
import pLimit from 'p-limit';

export type ServerLookup = (target: ResolvedTarget) => McpServer | Error;

export async function loadServers(
  api: DatagridApi,
  targets: readonly ResolvedTarget[],
  concurrency: number,
  request: RequestOptions,
): Promise<ServerLookup> {
  const teamspaces = [...new Set(targets.map((t) => t.teamspaceId))];
  const listed = new Map<string | undefined, ListedServer[] | Error>();
  const list = async (teamspaceId: string | undefined) => {
    try {
      listed.set(teamspaceId, await api.listServers(teamspaceId, request));
    } catch (error) {
      listed.set(teamspaceId, error instanceof Error ? error : new Error(String(error)));
    }
  };
  const [first, ...rest] = teamspaces;
  await list(first);
  const firstResult = listed.get(first);
  const authRejected = firstResult instanceof DatagridError && firstResult.code === 'DATAGRID_AUTH_FAILED';
  if (authRejected) for (const ts of rest) listed.set(ts, firstResult);
  else {
    const limit = pLimit(concurrency);
    await Promise.all(rest.map((ts) => limit(() => list(ts))));
  }
  return (target) => {
    const servers = listed.get(target.teamspaceId);
    if (servers === undefined) return new Error('teamspace was not listed');
    if (servers instanceof Error) return servers;
    const where =
      target.teamspaceId === undefined ? "the API key's default teamspace" : `teamspace ${target.teamspaceId}`;
    const records = servers.filter((s) => s.id === target.serverId);
    const [server] = records;
    if (server === undefined) {
      return new RotatorError('SERVER_NOT_FOUND', `MCP server ${target.serverId} does not exist in ${where}`);
    }
    const unusable = (problem: string) =>
      new DatagridInvalidAnswerError(
        `GET /organization/mcp-servers: unusable record of MCP server ${target.serverId} in ${where}: ${problem}`,
        { attempts: 1 },
      );
    if (records.length > 1) return unusable(`the list holds ${records.length} records with this id`);
    return 'invalid' in server ? unusable(server.invalid) : server;
  };
}
