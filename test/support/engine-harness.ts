/** Builds a RotatorConfig and a wired engine over the in-memory fakes. */
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_DATAGRID,
  DEFAULT_TARGET_SETTINGS,
  LAMBDA_MAX_TIMEOUT_MS,
} from '../../lambda/constants.ts';
import { Redactor } from '../../lambda/engine/redactor.ts';
import { executeRun } from '../../lambda/engine/run.ts';
import type { McpProbe, ResolvedTarget, RotatorConfig } from '../../lambda/types/index.ts';
import type { RunRequest } from '../../lambda/types/results.ts';
import { CapturingLog, FakeClock, FakeDatagrid, FakeEvents, FakeSecrets, FakeState } from './fakes.ts';

export const API_KEY_SECRET = 'datagrid/api-key';

export function target(serverId: string, secretId: string, overrides: Partial<ResolvedTarget> = {}): ResolvedTarget {
  const teamspaceId = overrides.teamspaceId;
  return {
    key: teamspaceId ? `${teamspaceId}/${serverId}` : serverId,
    serverId,
    teamspaceId,
    secretId,
    jsonKey: undefined,
    ...structuredClone(DEFAULT_TARGET_SETTINGS),
    healthyStatuses: [...DEFAULT_TARGET_SETTINGS.healthyStatuses],
    pendingStatuses: [...DEFAULT_TARGET_SETTINGS.pendingStatuses],
    ...overrides,
  };
}

export function config(
  targets: ResolvedTarget[],
  concurrency: Partial<RotatorConfig['concurrency']> = {},
): RotatorConfig {
  return {
    datagrid: { ...DEFAULT_DATAGRID, apiKeySecretId: API_KEY_SECRET },
    concurrency: { ...DEFAULT_CONCURRENCY, ...concurrency },
    targets,
  };
}

export function request(fields: Partial<RunRequest> = {}): RunRequest {
  return { action: 'rotate', trigger: 'manual', force: false, dryRun: false, ...fields };
}

export class Harness {
  clock = new FakeClock();
  secrets = new FakeSecrets();
  datagrid = new FakeDatagrid();
  state = new FakeState();
  events = new FakeEvents();
  log = new CapturingLog();
  /** Pre-flight's MCP client; none by default. */
  mcpProbe: McpProbe | undefined;
  /** Remaining Lambda time at the start of each run. */
  remainingMs = LAMBDA_MAX_TIMEOUT_MS;
  runs = 0;
  /** What a Lambda retry keeps (event id or request id); undefined: each run owns its leases by its run id. */
  leaseOwner: string | undefined;
  progress: [string, number, number][] = [];
  /** Runs as a state machine shard of this run id (its halting tally shared through the state store). */
  shardOf: string | undefined;

  constructor() {
    this.secrets.put(API_KEY_SECRET, this.datagrid.validApiKey);
  }

  async run(cfg: RotatorConfig, req: RunRequest = request()) {
    this.runs += 1;
    const outcome = await executeRun(cfg, req, this.shardOf ?? `run-${this.runs}`, {
      secrets: this.secrets,
      datagrid: (key) => this.datagrid.api(key),
      state: this.state,
      events: this.events,
      ...(this.mcpProbe && { mcpProbe: this.mcpProbe }),
      clock: this.clock,
      log: this.log,
      redactor: new Redactor(),
      timing: { deadlineAt: this.clock.now() + this.remainingMs },
      ...(this.leaseOwner !== undefined && { leaseOwner: this.leaseOwner }),
      ...(this.shardOf !== undefined && { haltScope: 'run' as const }),
      onProgress: (result, finished, total) => this.progress.push([result.serverId, finished, total]),
    });
    return outcome.summary;
  }
}
