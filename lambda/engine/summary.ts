/** The run summary (contract section 6) and the events that report it (contract section 7). */
import { DETAIL_TYPE } from '../constants.ts';
import type { OutgoingEvent } from '../types/index.ts';
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

export function summaryEvents(summary: RunSummary): OutgoingEvent[] {
  const { results, ...runDetail } = summary;
  const context = {
    runId: summary.runId,
    trigger: summary.trigger,
    ...(summary.incidentId !== undefined && { incidentId: summary.incidentId }),
    ...(summary.reason !== undefined && { reason: summary.reason }),
  };
  const perTarget = results.map((result): OutgoingEvent =>
    isAuditResult(result)
      ? { detailType: DETAIL_TYPE.auditResult, detail: { ...result, runId: summary.runId } }
      : { detailType: DETAIL_TYPE.rotationResult, detail: { ...result, ...context } },
  );
  return [...perTarget, { detailType: DETAIL_TYPE.runCompleted, detail: { ...runDetail } }];
}
