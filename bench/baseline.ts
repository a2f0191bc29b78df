/**
 * What a user would write instead of the rotator: the official `datagrid-ai` client PATCHing each server's
 * `authorization`, one after another or all at once with Promise.all. The Authorization values are handed over
 * ready-made (no Secrets Manager read), and nothing is verified, recorded or reported: the baseline does strictly
 * less work than the rotator.
 */
import Datagrid from 'datagrid-ai';
import type { BenchTarget } from './world.ts';

export interface BaselineResult {
  wallMs: number;
  ok: number;
  failed: number;
  /** Failure counts by error class, e.g. `{ RateLimitError: 480 }`. */
  failures: Record<string, number>;
}

function clientsByTeamspace(baseURL: string, apiKey: string, targets: readonly BenchTarget[]): Map<string, Datagrid> {
  const clients = new Map<string, Datagrid>();
  // The client's defaults (2 retries honouring Retry-After, 60 s timeout): what a user gets without tuning.
  for (const t of targets) {
    if (!clients.has(t.teamspaceId))
      clients.set(t.teamspaceId, new Datagrid({ baseURL, apiKey, teamspace: t.teamspaceId }));
  }
  return clients;
}

async function patchOne(clients: Map<string, Datagrid>, target: BenchTarget): Promise<string | undefined> {
  try {
    await clients
      .get(target.teamspaceId)!
      .organization.mcpServers.update(target.serverId, { authorization: target.authorization });
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.constructor.name : typeof error;
  }
}

function tally(outcomes: readonly (string | undefined)[], wallMs: number): BaselineResult {
  const failures: Record<string, number> = {};
  for (const o of outcomes) if (o !== undefined) failures[o] = (failures[o] ?? 0) + 1;
  const failed = outcomes.filter((o) => o !== undefined).length;
  return { wallMs, ok: outcomes.length - failed, failed, failures };
}

export async function sequentialLoop(
  baseURL: string,
  apiKey: string,
  targets: readonly BenchTarget[],
): Promise<BaselineResult> {
  const clients = clientsByTeamspace(baseURL, apiKey, targets);
  const started = performance.now();
  const outcomes: (string | undefined)[] = [];
  for (const target of targets) outcomes.push(await patchOne(clients, target));
  return tally(outcomes, performance.now() - started);
}

export async function promiseAllLoop(
  baseURL: string,
  apiKey: string,
  targets: readonly BenchTarget[],
): Promise<BaselineResult> {
  const clients = clientsByTeamspace(baseURL, apiKey, targets);
  const started = performance.now();
  const outcomes = await Promise.all(targets.map((t) => patchOne(clients, t)));
  return tally(outcomes, performance.now() - started);
}
