/**
 * The handler's Powertools metrics: namespace and dimensions from the environment the construct sets, so the
 * construct's alarms watch exactly the series this function publishes.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DEFAULT_METRICS_NAMESPACE, METRICS_DEPLOYMENT_ENV, METRIC_DIMENSION, ROTATOR_NAME } from './constants.ts';

export function createRotatorMetrics(env: NodeJS.ProcessEnv): Metrics {
  const deployment = env[METRICS_DEPLOYMENT_ENV];
  return new Metrics({
    namespace: env.METRICS_NAMESPACE ?? DEFAULT_METRICS_NAMESPACE,
    serviceName: ROTATOR_NAME,
    // Without it (local runs, the CLI) the series is the shared `service` one.
    ...(deployment && { defaultDimensions: { [METRIC_DIMENSION.deployment]: deployment } }),
  });
}
