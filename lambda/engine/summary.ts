/** The run summary's counts (contract section 6). */
import type { AuditResult, RotationResult, RunCounts } from '../types/results.ts';

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
