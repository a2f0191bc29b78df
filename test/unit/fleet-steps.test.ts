/** The state machine steps' pure parts: planning shards, a shard's configuration, halting, totals, payload sizes. */
import { describe, expect, it } from 'vitest';
import { loadConfigFileSync } from '../../lambda/config.ts';
import {
  ApiKeyRejectedError,
  RunHaltedError,
  parseFleetStep,
  planRun,
  runTotals,
  shardConfig,
  shardReport,
} from '../../lambda/fleet-steps.ts';
import { RequestError } from '../../lambda/errors.ts';
import type { ErrorCode } from '../../lambda/errors.ts';
import type { RotationResult, RunSummary } from '../../lambda/types/results.ts';
import { fleetConfig } from '../support/fleet-config.ts';
import { writeConfig } from '../infra/helpers.ts';

/** Step Functions caps every state's input and output at 256 KB. */
const PAYLOAD_LIMIT_BYTES = 256 * 1024;
const NOW = new Date('2026-12-03T08:00:00Z');
const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
const config = (teamspaces: number, serversPerTeamspace: number) =>
  loadConfigFileSync(writeConfig(fleetConfig({ teamspaces, serversPerTeamspace })));

describe('planRun', () => {
  it('splits 10,020 targets into a shard per full teamspace, every payload far under 256 KB', () => {
    const plan = planRun(config(334, 30), { action: 'rotate', trigger: 'schedule' }, 'run-1', NOW);
    expect(plan.targets).toBe(10_020);
    expect(plan.shards).toHaveLength(334);
    expect(plan.shards[0]).toEqual({ teamspaces: ['ts001'], targets: 30 });
    expect(bytes(plan)).toBeLessThan(PAYLOAD_LIMIT_BYTES / 8);
    const reports = plan.shards.map((shard) => ({
      targets: shard.targets,
      counts: { rotated: 30, unchanged: 0, failed: 0, skipped: 0, compliant: 0, noncompliant: 0 },
    }));
    const completeInput = { action: 'complete', runId: plan.runId, request: plan.request, startedAt: '', reports };
    expect(bytes(completeInput)).toBeLessThan(PAYLOAD_LIMIT_BYTES / 4);
  });

  it('packs small teamspaces together, up to 30 targets a shard, in configuration order', () => {
    const plan = planRun(config(7, 10), { action: 'audit' }, 'run-2', NOW);
    expect(plan.shards).toEqual([
      { teamspaces: ['ts001', 'ts002', 'ts003'], targets: 30 },
      { teamspaces: ['ts004', 'ts005', 'ts006'], targets: 30 },
      { teamspaces: ['ts007'], targets: 10 },
    ]);
  });

  it('validates the event like a one-invocation run, naming what is wrong', () => {
    expect(() => planRun(config(1, 2), { action: 'rotate', targets: ['nope'] }, 'run-3', NOW)).toThrow(RequestError);
    expect(() => planRun(config(1, 2), { action: 'explode' }, 'run-3', NOW)).toThrow(/Rejected request: action/);
  });
});

describe('a shard', () => {
  it('runs its teamspaces only, with perTeamspace as its global limit', () => {
    const cfg = config(3, 4);
    const request = { action: 'rotate' as const, trigger: 'manual' as const, force: false, dryRun: false };
    const shard = shardConfig(cfg, request, ['ts002']);
    expect(shard.targets.map((t) => t.key)).toEqual(
      cfg.targets.filter((t) => t.teamspaceId === 'ts002').map((t) => t.key),
    );
    expect(shard.concurrency).toMatchObject({ global: 4, perTeamspace: 4 });
  });

  const summary = (codes: (ErrorCode | undefined)[]): RunSummary => ({
    runId: 'run-4',
    action: 'rotate',
    trigger: 'schedule',
    dryRun: false,
    startedAt: '',
    finishedAt: '',
    counts: { rotated: 0, unchanged: 0, failed: codes.length, skipped: 0, compliant: 0, noncompliant: 0 },
    results: codes.map((code): RotationResult => ({
      serverId: 's',
      secretId: 'm',
      outcome: 'failed',
      rolledBack: false,
      attempts: 1,
      durationMs: 1,
      ...(code && { error: { code, message: code } }),
    })),
  });

  it('reports failed targets as counts, but stops the execution on a rejected API key or a halt', () => {
    expect(shardReport(summary(['VERIFY_TIMEOUT']))).toEqual({
      targets: 1,
      counts: expect.objectContaining({ failed: 1 }),
    });
    expect(() => shardReport(summary(['DATAGRID_AUTH_FAILED', 'HALTED']))).toThrow(ApiKeyRejectedError);
    expect(() => shardReport(summary(['VERIFY_TIMEOUT', 'HALTED']))).toThrow(RunHaltedError);
  });
});

describe('runTotals', () => {
  it('adds every shard’s counts into the run summary', () => {
    const counts = (rotated: number, failed: number) => ({
      targets: rotated + failed,
      counts: { rotated, unchanged: 0, failed, skipped: 0, compliant: 0, noncompliant: 0 },
    });
    const request = {
      action: 'rotate' as const,
      trigger: 'incident' as const,
      force: true,
      dryRun: false,
      incidentId: 'INC-1',
    };
    expect(runTotals('run-5', request, 'start', [counts(3, 0), counts(2, 1)], NOW)).toEqual({
      runId: 'run-5',
      action: 'rotate',
      trigger: 'incident',
      dryRun: false,
      incidentId: 'INC-1',
      startedAt: 'start',
      finishedAt: NOW.toISOString(),
      counts: { rotated: 5, unchanged: 0, failed: 1, skipped: 0, compliant: 0, noncompliant: 0 },
      shards: 2,
    });
  });
});

describe('parseFleetStep', () => {
  it('leaves every other event to the usual parser, and rejects a malformed step naming the field', () => {
    expect(parseFleetStep({ action: 'rotate' })).toBeUndefined();
    expect(parseFleetStep({ 'detail-type': 'x' })).toBeUndefined();
    expect(() => parseFleetStep({ action: 'shard', runId: 'r', teamspaces: [] })).toThrow(
      /Rejected state machine step "shard": request: /,
    );
  });
});
