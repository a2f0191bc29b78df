import { describe, expect, it } from 'vitest';
import { EXIT, exitCodeOf } from '../../../cli/exit.ts';
import type { ErrorCode } from '../../../lambda/errors.ts';
import type { RotationOutcome, RunSummary } from '../../../lambda/types/results.ts';

function summary(outcome: RotationOutcome, code: ErrorCode | undefined, incidentId?: string): RunSummary {
  return {
    runId: 'run-1',
    action: 'rotate',
    trigger: incidentId === undefined ? 'manual' : 'incident',
    dryRun: code === 'DRY_RUN',
    ...(incidentId !== undefined && { incidentId }),
    startedAt: '2026-12-03T00:00:00.000Z',
    finishedAt: '2026-12-03T00:00:01.000Z',
    counts: { rotated: 0, unchanged: 0, failed: 0, skipped: 0, compliant: 0, noncompliant: 0, [outcome]: 1 },
    results: [
      {
        serverId: 'srv_1',
        secretId: 'mcp/srv_1',
        outcome,
        rolledBack: false,
        attempts: 0,
        durationMs: 0,
        ...(code !== undefined && { error: { code, message: 'm' } }),
      },
    ],
  };
}

describe('exitCodeOf', () => {
  it('is 1 for an incident that met a lease it could not wait out (failed LOCKED)', () => {
    expect(exitCodeOf(summary('failed', 'LOCKED', 'INC-1'))).toBe(EXIT.failed);
  });

  it('is 1 for an incident that left a target skipped for any reason but a dry run', () => {
    expect(exitCodeOf(summary('skipped', 'DEADLINE', 'INC-1'))).toBe(EXIT.failed);
    expect(exitCodeOf(summary('skipped', 'DRY_RUN', 'INC-1'))).toBe(EXIT.ok);
  });

  it('stays 0 for a scheduled or manual run that skipped a leased target', () => {
    expect(exitCodeOf(summary('skipped', 'LOCKED'))).toBe(EXIT.ok);
    expect(exitCodeOf(summary('rotated', undefined, 'INC-1'))).toBe(EXIT.ok);
  });
});
