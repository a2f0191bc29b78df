/** What operators read and paste: progress lines, plan verdicts, and the audit report's CSV and Markdown. */
import { describe, expect, it } from 'vitest';
import {
  auditCsv,
  auditMarkdown,
  countsLine,
  planCountsLine,
  planVerdict,
  progressLine,
  rotationTable,
} from '../../../cli/render.ts';
import { exitCodeOf } from '../../../cli/exit.ts';
import { audit, rotation, summary } from '../../support/result-fixtures.ts';

describe('progressLine', () => {
  it('pads the counter to the total and shows outcome, target, status, tools and duration', () => {
    expect(progressLine(rotation(), 3, 12)).toBe('[ 3/12] rotated       ts_1/srv_3  active  tools 4 -> 4  812 ms');
  });

  it('names the error and a rollback of a failed target', () => {
    const line = progressLine(
      rotation({
        outcome: 'failed',
        status: 'error',
        rolledBack: true,
        error: { code: 'VERIFY_UNHEALTHY', message: 'status "error"' },
      }),
      1,
      1,
    );
    expect(line).toBe(
      '[1/1] failed        ts_1/srv_3  error  tools 4 -> 4  812 ms  rolled back  VERIFY_UNHEALTHY: status "error"',
    );
  });

  it('shows a target without a teamspace by its server id, and unknown tool counts as ?', () => {
    const line = progressLine(rotation({ teamspaceId: undefined, toolCount: undefined, status: undefined }), 1, 2);
    expect(line).toBe('[1/2] rotated       srv_3  -  tools 4 -> ?  812 ms');
  });

  it('shows a plan verdict with its reason instead of the dry run outcome', () => {
    const result = rotation({
      outcome: 'skipped',
      planReason: 'forced',
      error: { code: 'DRY_RUN', message: 'dry run: would rotate (forced)' },
    });
    expect(progressLine(result, 1, 1, { plan: true })).toBe('[1/1] would rotate  ts_1/srv_3  active  forced');
  });

  it('shows an audit verdict with its finding codes', () => {
    const result = audit({
      compliant: false,
      findings: [
        { code: 'CREDENTIAL_DRIFT', message: 'x' },
        { code: 'CREDENTIAL_TOO_OLD', message: 'y' },
      ],
    });
    expect(progressLine(result, 2, 2)).toBe(
      '[2/2] noncompliant  ts_1/srv_1  active  tools 3  age 4 d  CREDENTIAL_DRIFT, CREDENTIAL_TOO_OLD',
    );
  });
});

describe('planVerdict', () => {
  it.each([
    [rotation({ outcome: 'unchanged' }), 'unchanged', 'secret version already applied and server healthy'],
    [
      rotation({
        outcome: 'skipped',
        planReason: 'secret version changed (v1 -> v2)',
        error: { code: 'DRY_RUN', message: 'dry run: would rotate (secret version changed (v1 -> v2))' },
      }),
      'would rotate',
      'secret version changed (v1 -> v2)',
    ],
    [
      // The reason is a field: the message's wording is for people and may change.
      rotation({
        outcome: 'skipped',
        planReason: 'forced',
        error: { code: 'DRY_RUN', message: 'would rotate: forced' },
      }),
      'would rotate',
      'forced',
    ],
    [
      // A result without the field (recorded before it existed) still shows why, from its message.
      rotation({ outcome: 'skipped', error: { code: 'DRY_RUN', message: 'dry run: would rotate (forced)' } }),
      'would rotate',
      'dry run: would rotate (forced)',
    ],
    [
      rotation({ outcome: 'failed', error: { code: 'SECRET_NOT_FOUND', message: 'secret mcp/x not found' } }),
      'would fail',
      'SECRET_NOT_FOUND: secret mcp/x not found',
    ],
    [
      rotation({ outcome: 'skipped', error: { code: 'HALTED', message: 'run halted' } }),
      'skipped',
      'HALTED: run halted',
    ],
  ])('%#: %s', (result, verdict, reason) => {
    expect(planVerdict(result)).toEqual({ verdict, reason });
  });

  it('counts verdicts for the plan footer', () => {
    const plan = summary(
      [
        rotation({ outcome: 'unchanged' }),
        rotation({
          outcome: 'skipped',
          planReason: 'forced',
          error: { code: 'DRY_RUN', message: 'dry run: would rotate (forced)' },
        }),
      ],
      { action: 'rotate', dryRun: true },
    );
    expect(planCountsLine(plan)).toMatch(/^would rotate 1, unchanged 1, would fail 0, skipped 0 \(dry run /);
  });
});

describe('audit report', () => {
  const report = summary([
    audit(),
    audit({
      serverId: 'srv_2',
      serverName: 'jira | prod',
      compliant: false,
      findings: [
        { code: 'CREDENTIAL_DRIFT', message: 'current version "v3", applied "v2"' },
        { code: 'STATUS_UNHEALTHY', message: 'status error,\nnot active' },
      ],
    }),
  ]);

  it('CSV has a header row and quotes commas, quotes and line breaks', () => {
    const csv = auditCsv(report);
    const [header, first] = csv.split('\n');
    expect(header).toBe(
      'target,name,compliant,status,tools,applied version,current version,last rotated,age (days),findings',
    );
    expect(first).toBe('ts_1/srv_1,github,yes,active,3,v1,v1,2026-11-20T00:00:00.000Z,4,');
    expect(csv).toContain(
      'ts_1/srv_2,jira | prod,no,active,3,v1,v1,2026-11-20T00:00:00.000Z,4,' +
        '"CREDENTIAL_DRIFT: current version ""v3"", applied ""v2""; STATUS_UNHEALTHY: status error,\nnot active"',
    );
  });

  it('Markdown has a title, the run, a header and delimiter row, and escapes pipes and line breaks', () => {
    const lines = auditMarkdown(report).split('\n');
    expect(lines[0]).toBe('# Datagrid MCP credential audit');
    expect(lines).toContain('- Run: `6f1c0d6e-0000-4000-8000-000000000001`');
    expect(lines).toContain('- Requested by: alice');
    expect(lines).toContain('- Targets: 2 (compliant 1, noncompliant 1)');
    const header = lines.findIndex((line) => line.startsWith('| target'));
    expect(lines[header + 1]).toMatch(/^\| -+ \| -+ \| -+ \|/);
    const row = lines[header + 3]!;
    expect(row).toContain('jira \\| prod');
    expect(row).toContain('status error,<br>not active');
    // A row has exactly as many unescaped cell separators as the header.
    const separators = (line: string) => line.replace(/\\\|/g, '').split('|').length;
    expect(separators(row)).toBe(separators(lines[header]!));
  });

  it('a non-compliant target makes the exit code 1', () => {
    expect(exitCodeOf(report)).toBe(1);
    expect(exitCodeOf(summary([audit()]))).toBe(0);
  });
});

describe('rotation summary', () => {
  it('tabulates every target and counts outcomes', () => {
    const run = summary(
      [
        rotation(),
        rotation({ serverId: 'srv_4', outcome: 'failed', error: { code: 'VERIFY_TIMEOUT', message: 'still pending' } }),
      ],
      {
        action: 'rotate',
        incidentId: 'INC-7',
        trigger: 'incident',
        counts: { rotated: 1, unchanged: 0, failed: 1, skipped: 0, compliant: 0, noncompliant: 0 },
      },
    );
    const table = rotationTable(run);
    expect(table).toMatch(/│ ts_1\/srv_3 +│ +│ rotated +│ active +│ 4 -> 4 +│ no +│ 812 ms +│ +│/);
    expect(table).toMatch(/│ ts_1\/srv_4 .*│ failed .*│ VERIFY_TIMEOUT: still pending │/);
    expect(countsLine(run)).toBe(
      'rotated 1, unchanged 0, failed 1, skipped 0 (run 6f1c0d6e-0000-4000-8000-000000000001, incident INC-7)',
    );
    expect(exitCodeOf(run)).toBe(1);
  });
});
