/**
 * What the operator CLI prints: live progress lines, the rotation and plan tables, and the audit report as a table,
 * CSV or Markdown. Pure functions of the engine's (already scrubbed) results: nothing here sees a secret.
 */
import Table from 'cli-table3';
import { stringify } from 'csv-stringify/sync';
import { markdownTable } from 'markdown-table';
import { targetKey } from '../lambda/config/resolve.ts';
import type { AuditResult, RotationResult, RunSummary } from '../lambda/types/results.ts';

type Result = RotationResult | AuditResult;

export const isAudit = (result: Result): result is AuditResult => 'compliant' in result;
export const isRotation = (result: Result): result is RotationResult => 'outcome' in result;

/** The name a target goes by in requests and in the configuration: `teamspaceId/serverId` or `serverId`. */
export function targetLabel(result: { serverId: string; teamspaceId?: string }): string {
  return targetKey(result.teamspaceId, result.serverId);
}

// ---------- plan ----------

export type PlanVerdict = 'would rotate' | 'unchanged' | 'would fail' | 'skipped';

/** What a dry-run result says the real run would do, and why. */
export function planVerdict(result: RotationResult): { verdict: PlanVerdict; reason: string } {
  if (result.outcome === 'unchanged') {
    return { verdict: 'unchanged', reason: 'secret version already applied and server healthy' };
  }
  if (result.outcome === 'skipped' && result.error?.code === 'DRY_RUN') {
    return { verdict: 'would rotate', reason: result.planReason ?? result.error.message };
  }
  const reason = result.error ? `${result.error.code}: ${result.error.message}` : '';
  return { verdict: result.outcome === 'failed' ? 'would fail' : 'skipped', reason };
}

/** The pre-flight outcome (read-only at the MCP server): `passed (4 tools)`, `failed`, `skipped (OAuth)`, or `off`. */
export function preflightText(result: RotationResult): string {
  switch (result.preflight) {
    case 'passed':
      return `passed (${result.preflightToolCount ?? '?'} tools)`;
    case 'skipped':
      return 'skipped (OAuth)';
    case 'failed':
      return 'failed';
    default:
      return 'off';
  }
}

// ---------- progress ----------

const OUTCOME_WIDTH = 'noncompliant'.length;

function toolsText(before: number | undefined, after: number | undefined): string | undefined {
  if (before === undefined && after === undefined) return undefined;
  return `tools ${before ?? '?'} -> ${after ?? '?'}`;
}

function rotationLineParts(result: RotationResult, plan: boolean): string[] {
  if (plan) {
    const { verdict, reason } = planVerdict(result);
    const preflight = result.preflight === undefined ? '' : `pre-flight ${preflightText(result)}`;
    return [verdict.padEnd(OUTCOME_WIDTH), targetLabel(result), result.status ?? '-', preflight, reason];
  }
  return [
    result.outcome.padEnd(OUTCOME_WIDTH),
    targetLabel(result),
    result.status ?? '-',
    toolsText(result.previousToolCount, result.toolCount) ?? '',
    `${result.durationMs} ms`,
    result.rolledBack ? 'rolled back' : '',
    result.error ? `${result.error.code}: ${result.error.message}` : '',
  ];
}

function auditLineParts(result: AuditResult): string[] {
  return [
    (result.compliant ? 'compliant' : 'noncompliant').padEnd(OUTCOME_WIDTH),
    targetLabel(result),
    result.status ?? '-',
    result.toolCount === undefined ? '' : `tools ${result.toolCount}`,
    result.credentialAgeDays === undefined ? '' : `age ${result.credentialAgeDays} d`,
    result.findings.map((f) => f.code).join(', '),
  ];
}

/** One line per finished target: `[ 3/12] rotated      ts_1/srv_3  active  tools 4 -> 4  812 ms`. */
export function progressLine(
  result: Result,
  finished: number,
  total: number,
  options: { plan?: boolean } = {},
): string {
  const counter = `[${String(finished).padStart(String(total).length)}/${total}]`;
  const parts = isAudit(result) ? auditLineParts(result) : rotationLineParts(result, options.plan ?? false);
  return `${counter} ${parts.filter((part) => part !== '').join('  ')}`.replace(/ +$/, '');
}

// ---------- tables ----------

/** The last column (error, reason, findings) wraps at this width, so a long message keeps the table readable. */
const LAST_COLUMN_WIDTH = 72;

function table(head: string[], rows: string[][]): string {
  const longest = Math.max(head.at(-1)!.length, ...rows.map((row) => row.at(-1)?.length ?? 0));
  const colWidths = head.map((_, i) =>
    i === head.length - 1 && longest > LAST_COLUMN_WIDTH ? LAST_COLUMN_WIDTH : null,
  );
  // No colours: output is pasted into tickets and piped to files.
  const out = new Table({ head, colWidths, wordWrap: true, style: { head: [], border: [] } });
  out.push(...rows);
  return out.toString();
}

const text = (value: string | number | undefined): string => (value === undefined ? '' : String(value));

export function countsLine(summary: RunSummary): string {
  const { counts } = summary;
  const parts =
    summary.action === 'audit'
      ? [`compliant ${counts.compliant}`, `noncompliant ${counts.noncompliant}`]
      : [
          `rotated ${counts.rotated}`,
          `unchanged ${counts.unchanged}`,
          `failed ${counts.failed}`,
          `skipped ${counts.skipped}`,
        ];
  const kind = summary.incidentId ? `incident ${summary.incidentId}` : summary.trigger;
  return `${parts.join(', ')} (run ${summary.runId}, ${kind}${summary.dryRun ? ', dry run' : ''})`;
}

export function rotationTable(summary: RunSummary): string {
  const rows = summary.results
    .filter(isRotation)
    .map((r) => [
      targetLabel(r),
      text(r.serverName),
      r.outcome,
      text(r.status),
      toolsText(r.previousToolCount, r.toolCount)?.replace(/^tools /, '') ?? '',
      r.rolledBack ? 'yes' : 'no',
      `${r.durationMs} ms`,
      r.error ? `${r.error.code}: ${r.error.message}` : '',
    ]);
  return table(['target', 'name', 'outcome', 'status', 'tools', 'rolled back', 'duration', 'error'], rows);
}

/** `would rotate 2, unchanged 1, would fail 0, skipped 0 (run ...)`. */
export function planCountsLine(summary: RunSummary): string {
  const counts: Record<PlanVerdict, number> = { 'would rotate': 0, unchanged: 0, 'would fail': 0, skipped: 0 };
  for (const result of summary.results.filter(isRotation)) counts[planVerdict(result).verdict] += 1;
  const parts = Object.entries(counts).map(([verdict, n]) => `${verdict} ${n}`);
  return `${parts.join(', ')} (dry run ${summary.runId}: nothing changed in Datagrid or the state table)`;
}

export function planTable(summary: RunSummary): string {
  const rows = summary.results.filter(isRotation).map((r) => {
    const { verdict, reason } = planVerdict(r);
    return [targetLabel(r), text(r.serverName), verdict, text(r.status), preflightText(r), reason];
  });
  return table(['target', 'name', 'plan', 'status', 'pre-flight', 'reason'], rows);
}

// ---------- audit report ----------

export const AUDIT_HEAD = [
  'target',
  'name',
  'compliant',
  'status',
  'tools',
  'applied version',
  'current version',
  'last rotated',
  'age (days)',
  'findings',
];

export function auditRow(r: AuditResult): string[] {
  return [
    targetLabel(r),
    text(r.serverName),
    r.compliant ? 'yes' : 'no',
    text(r.status),
    text(r.toolCount),
    text(r.appliedVersionId),
    text(r.currentVersionId),
    text(r.lastRotatedAt),
    text(r.credentialAgeDays),
    r.findings.map((f) => `${f.code}: ${f.message}`).join('; '),
  ];
}

export function auditTable(summary: RunSummary): string {
  return table(AUDIT_HEAD, summary.results.filter(isAudit).map(auditRow));
}

/** RFC 4180 CSV with a header row, one row per target. */
export function auditCsv(summary: RunSummary): string {
  return stringify([AUDIT_HEAD, ...summary.results.filter(isAudit).map(auditRow)]);
}

/** GitHub-flavoured Markdown cells cannot hold a pipe or a line break as such. */
function markdownCell(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

/** A report to attach to an audit ticket: what was checked, when, by whom, the verdicts, then the table. */
export function auditMarkdown(summary: RunSummary): string {
  const audits = summary.results.filter(isAudit);
  const lines = [
    '# Datagrid MCP credential audit',
    '',
    `- Run: \`${summary.runId}\``,
    `- Started: ${summary.startedAt}`,
    `- Finished: ${summary.finishedAt}`,
    ...(summary.requestedBy ? [`- Requested by: ${markdownCell(summary.requestedBy)}`] : []),
    `- Targets: ${audits.length} (compliant ${summary.counts.compliant}, noncompliant ${summary.counts.noncompliant})`,
    '',
    markdownTable([AUDIT_HEAD, ...audits.map((r) => auditRow(r).map(markdownCell))]),
    '',
  ];
  return lines.join('\n');
}
