/** Rotation and audit results and run summaries as the engine returns them, for tests of what renders them. */
import type { AuditResult, RotationResult, RunSummary } from '../../lambda/types/results.ts';

export const rotation = (fields: Partial<RotationResult> = {}): RotationResult => ({
  serverId: 'srv_3',
  teamspaceId: 'ts_1',
  secretId: 'mcp/github',
  outcome: 'rotated',
  rolledBack: false,
  status: 'active',
  previousToolCount: 4,
  toolCount: 4,
  attempts: 2,
  durationMs: 812,
  ...fields,
});

export const audit = (fields: Partial<AuditResult> = {}): AuditResult => ({
  serverId: 'srv_1',
  teamspaceId: 'ts_1',
  serverName: 'github',
  secretId: 'mcp/github',
  compliant: true,
  findings: [],
  status: 'active',
  toolCount: 3,
  appliedVersionId: 'v1',
  currentVersionId: 'v1',
  lastRotatedAt: '2026-11-20T00:00:00.000Z',
  credentialAgeDays: 4,
  ...fields,
});

export const summary = (results: RunSummary['results'], fields: Partial<RunSummary> = {}): RunSummary => ({
  runId: '6f1c0d6e-0000-4000-8000-000000000001',
  action: 'audit',
  trigger: 'manual',
  dryRun: false,
  requestedBy: 'alice',
  startedAt: '2026-11-24T10:00:00.000Z',
  finishedAt: '2026-11-24T10:00:02.000Z',
  counts: { rotated: 0, unchanged: 0, failed: 0, skipped: 0, compliant: 1, noncompliant: 1 },
  results,
  ...fields,
});
