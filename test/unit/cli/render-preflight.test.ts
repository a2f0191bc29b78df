/** The plan shows each target's pre-flight outcome, so an operator sees a credential the MCP server refuses first. */
import { describe, expect, it } from 'vitest';
import { planTable, preflightText, progressLine } from '../../../cli/render.ts';
import type { RotationResult, RunSummary } from '../../../lambda/types/results.ts';

const dryRun = (fields: Partial<RotationResult>): RotationResult => ({
  serverId: 'srv_1',
  teamspaceId: 'ts_1',
  serverName: 'github',
  secretId: 'mcp/github',
  outcome: 'skipped',
  rolledBack: false,
  status: 'active',
  attempts: 0,
  durationMs: 40,
  planReason: 'never rotated by this rotator',
  error: { code: 'DRY_RUN', message: 'dry run: would rotate (never rotated by this rotator)' },
  ...fields,
});

const plan = (results: RotationResult[]): RunSummary => ({
  runId: 'r',
  action: 'rotate',
  trigger: 'manual',
  dryRun: true,
  startedAt: '2026-12-03T00:00:00.000Z',
  finishedAt: '2026-12-03T00:00:01.000Z',
  counts: { rotated: 0, unchanged: 0, failed: 1, skipped: 1, compliant: 0, noncompliant: 0 },
  results,
});

describe('pre-flight in the plan', () => {
  it('names each outcome', () => {
    expect(preflightText(dryRun({ preflight: 'passed', preflightToolCount: 4 }))).toBe('passed (4 tools)');
    expect(preflightText(dryRun({ preflight: 'skipped' }))).toBe('skipped (OAuth)');
    expect(preflightText(dryRun({ preflight: 'failed' }))).toBe('failed');
    expect(preflightText(dryRun({}))).toBe('off');
  });

  it('progress line and table show it next to the verdict', () => {
    const passed = dryRun({ preflight: 'passed', preflightToolCount: 4 });
    const rejected = dryRun({
      serverId: 'srv_2',
      outcome: 'failed',
      preflight: 'failed',
      error: {
        code: 'PREFLIGHT_REJECTED',
        message: 'pre-flight: the MCP server refused the new credential (HTTP 401)',
      },
    });
    expect(progressLine(passed, 1, 2, { plan: true })).toBe(
      '[1/2] would rotate  ts_1/srv_1  active  pre-flight passed (4 tools)  never rotated by this rotator',
    );
    expect(progressLine(rejected, 2, 2, { plan: true })).toMatch(
      /^\[2\/2\] would fail +ts_1\/srv_2 +active +pre-flight failed +PREFLIGHT_REJECTED: pre-flight: the MCP server refused/,
    );
    const table = planTable(plan([passed, rejected]));
    expect(table).toMatch(/│ pre-flight +│/);
    expect(table).toMatch(/│ ts_1\/srv_1 +│ github +│ would rotate +│ active +│ passed \(4 tools\) +│/);
    expect(table).toMatch(/│ ts_1\/srv_2 +│ github +│ would fail +│ active +│ failed +│ PREFLIGHT_REJECTED/);
  });
});
