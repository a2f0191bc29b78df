/**
 * The handler's EMF metrics carry the deployment dimension the construct's alarms watch, and a run publishes its
 * counts by outcome, a dry run's planned targets apart from the skipped ones.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ROTATOR_METRIC } from '../../lambda/constants.ts';
import { countResults } from '../../lambda/engine/summary.ts';
import type { ErrorCode } from '../../lambda/errors.ts';
import { createRotatorMetrics, publishRunMetrics } from '../../lambda/metrics.ts';
import type { RotationResult, RunSummary } from '../../lambda/types/results.ts';
import { audit, rotation, summary } from '../support/result-fixtures.ts';

interface EmfLine {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  [key: string]: unknown;
}

/** Runs `publish` on the metrics of `env` and returns the EMF document Powertools printed. */
function emfOf(env: NodeJS.ProcessEnv, publish: (metrics: Metrics) => void): EmfLine {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  publish(createRotatorMetrics(env));
  vi.restoreAllMocks();
  const emf = lines.map((line) => JSON.parse(line) as EmfLine).find((doc) => doc._aws !== undefined);
  if (!emf) throw new Error(`no EMF line in ${JSON.stringify(lines)}`);
  return emf;
}

/** Publishes one metric and returns the EMF document. */
const publishOne = (env: NodeJS.ProcessEnv): EmfLine =>
  emfOf(env, (metrics) => {
    metrics.addMetric(ROTATOR_METRIC.rotationsFailed, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  });

/** The metric values of a run's EMF document, by name. */
function runMetrics(run: RunSummary): Record<string, unknown> {
  const emf = emfOf({}, (metrics) => publishRunMetrics(metrics, run));
  const names = emf._aws.CloudWatchMetrics.flatMap((m) => m.Metrics);
  return Object.fromEntries(names.map(({ Name }) => [Name, emf[Name]]));
}

const skipped = (code: ErrorCode): RotationResult =>
  rotation({ outcome: 'skipped', error: { code, message: `${code} message` } });
const rotateRun = (results: RotationResult[], dryRun: boolean): RunSummary =>
  summary(results, { action: 'rotate', dryRun, counts: countResults(results) });

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

describe('publishRunMetrics', () => {
  afterEach(() => vi.restoreAllMocks());

  it("publishes a dry run's DRY_RUN targets as RotationsPlanned, not RotationsSkipped, so the skipped alarm stays quiet", () => {
    const run = rotateRun([skipped('DRY_RUN'), skipped('DRY_RUN'), rotation({ outcome: 'unchanged' })], true);
    expect(runMetrics(run)).toEqual({
      RotationsSucceeded: 0,
      RotationsUnchanged: 1,
      RotationsFailed: 0,
      RotationsSkipped: 0,
      RotationsPlanned: 2,
      RunDurationMs: 2000,
    });
  });

  it("still counts a dry run's other skips (DEADLINE, LOCKED, HALTED) as RotationsSkipped", () => {
    const run = rotateRun([skipped('DRY_RUN'), skipped('LOCKED'), skipped('DEADLINE'), skipped('HALTED')], true);
    expect(runMetrics(run)).toMatchObject({ RotationsSkipped: 3, RotationsPlanned: 1 });
  });

  it('counts every outcome of a rotation run, with RotationsPlanned 0', () => {
    const run = rotateRun(
      [rotation(), rotation(), rotation({ outcome: 'unchanged' }), rotation({ outcome: 'failed' }), skipped('LOCKED')],
      false,
    );
    expect(runMetrics(run)).toEqual({
      RotationsSucceeded: 2,
      RotationsUnchanged: 1,
      RotationsFailed: 1,
      RotationsSkipped: 1,
      RotationsPlanned: 0,
      RunDurationMs: 2000,
    });
  });

  it('publishes only the audit counts and the duration for an audit run', () => {
    const results = [audit(), audit({ compliant: false }), audit({ compliant: false })];
    expect(runMetrics(summary(results, { counts: countResults(results) }))).toEqual({
      AuditCompliant: 1,
      AuditNoncompliant: 2,
      RunDurationMs: 2000,
    });
  });
});
