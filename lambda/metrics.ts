/**
 * The handler's Powertools metrics: namespace and dimensions from the environment the construct sets, so the
 * construct's alarms watch exactly the series this function publishes, and the values a run publishes.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  DEFAULT_METRICS_NAMESPACE,
  METRICS_DEPLOYMENT_ENV,
  METRIC_DIMENSION,
  ROTATOR_METRIC,
  ROTATOR_NAME,
} from './constants.ts';
import { isAuditResult } from './engine/summary.ts';
import type { RunSummary } from './types/results.ts';

export function createRotatorMetrics(env: NodeJS.ProcessEnv): Metrics {
  const deployment = env[METRICS_DEPLOYMENT_ENV];
  return new Metrics({
    namespace: env.METRICS_NAMESPACE ?? DEFAULT_METRICS_NAMESPACE,
    serviceName: ROTATOR_NAME,
    // Without it (local runs, the CLI) the series is the shared `service` one.
    ...(deployment && { defaultDimensions: { [METRIC_DIMENSION.deployment]: deployment } }),
  });
}

/**
 * Publishes the metrics of a run (with the state machine, of one shard's targets). A dry run's `DRY_RUN` targets
 * are `RotationsPlanned`, not `RotationsSkipped`: an operator asked for the plan, so `RotationsSkippedAlarm` must
 * not fire on it. A dry run's other skips (`DEADLINE`, `LOCKED`, `HALTED`) still count as skipped.
 */
export function publishRunMetrics(metrics: Metrics, summary: RunSummary): void {
  const { counts } = summary;
  if (summary.action === 'rotate') {
    const planned = summary.results.filter(
      (r) => !isAuditResult(r) && r.outcome === 'skipped' && r.error?.code === 'DRY_RUN',
    ).length;
    metrics.addMetric(ROTATOR_METRIC.rotationsSucceeded, MetricUnit.Count, counts.rotated);
    metrics.addMetric(ROTATOR_METRIC.rotationsUnchanged, MetricUnit.Count, counts.unchanged);
    metrics.addMetric(ROTATOR_METRIC.rotationsFailed, MetricUnit.Count, counts.failed);
    metrics.addMetric(ROTATOR_METRIC.rotationsSkipped, MetricUnit.Count, counts.skipped - planned);
    metrics.addMetric(ROTATOR_METRIC.rotationsPlanned, MetricUnit.Count, planned);
  } else {
    metrics.addMetric(ROTATOR_METRIC.auditCompliant, MetricUnit.Count, counts.compliant);
    metrics.addMetric(ROTATOR_METRIC.auditNoncompliant, MetricUnit.Count, counts.noncompliant);
  }
  metrics.addMetric(
    ROTATOR_METRIC.runDurationMs,
    MetricUnit.Milliseconds,
    Date.parse(summary.finishedAt) - Date.parse(summary.startedAt),
  );
  metrics.publishStoredMetrics();
}
