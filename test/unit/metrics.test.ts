/** The handler's EMF metrics carry the deployment dimension the construct's alarms watch. */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ROTATOR_METRIC } from '../../lambda/constants.ts';
import { createRotatorMetrics } from '../../lambda/metrics.ts';

interface EmfLine {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
  [key: string]: unknown;
}

/** Publishes one metric and returns the EMF document Powertools printed. */
function publishOne(env: NodeJS.ProcessEnv): EmfLine {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  const metrics = createRotatorMetrics(env);
  metrics.addMetric(ROTATOR_METRIC.rotationsFailed, MetricUnit.Count, 1);
  metrics.publishStoredMetrics();
  vi.restoreAllMocks();
  const emf = lines.map((line) => JSON.parse(line) as EmfLine).find((doc) => doc._aws !== undefined);
  if (!emf) throw new Error(`no EMF line in ${JSON.stringify(lines)}`);
  return emf;
}

describe('createRotatorMetrics', () => {
  afterEach(() => vi.restoreAllMocks());

  it('adds the deployment dimension from METRICS_DEPLOYMENT to every metric', () => {
    const emf = publishOne({ METRICS_NAMESPACE: 'Acme/Rotator', METRICS_DEPLOYMENT: 'prod-eu' });
    expect(emf._aws.CloudWatchMetrics[0]?.Namespace).toBe('Acme/Rotator');
    expect(emf._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'deployment']]);
    expect(emf).toMatchObject({ service: 'datagrid-mcp-rotator', deployment: 'prod-eu', RotationsFailed: 1 });
  });

  it('publishes the service dimension alone when no deployment is named (local runs)', () => {
    const emf = publishOne({});
    expect(emf._aws.CloudWatchMetrics[0]?.Namespace).toBe('DatagridMcpRotator');
    expect(emf._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
    expect(emf).not.toHaveProperty('deployment');
  });
});
