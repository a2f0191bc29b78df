/** The run summary's counts. */
import type { AuditResult, RotationResult, RunCounts, RunSummary } from '../types/results.ts';

export function isAuditResult(result: RotationResult | AuditResult): result is AuditResult {
  return 'compliant' in result;
}

export function countResults(results: readonly (RotationResult | AuditResult)[]): RunCounts {
  const counts: RunCounts = { rotated: 0, unchanged: 0, failed: 0, skipped: 0, compliant: 0, noncompliant: 0 };
  for (const result of results) {
    if (isAuditResult(result)) counts[result.compliant ? 'compliant' : 'noncompliant'] += 1;
    else counts[result.outcome] += 1;
  }
  return counts;
}

/**
 * The rotation results that make a run a failure (the Lambda throws so it is retried and alarmed on; the CLI exits 1):
 * every failed target and, in an incident run, every target the incident did not rotate for a reason other than a dry
 * run (a lease held to the end, the deadline, a halt). An incident must never end quietly.
 */
export function failedRotations(summary: Pick<RunSummary, 'results' | 'incidentId'>): RotationResult[] {
  return summary.results.filter(
    (r): r is RotationResult =>
      !isAuditResult(r) &&
      (r.outcome === 'failed' ||
        (summary.incidentId !== undefined && r.outcome === 'skipped' && r.error?.code !== 'DRY_RUN')),
  );
}
