/**
 * When the scheduled runs happen, and how they reach the function. Rotation runs in a fixed maintenance window
 * before the audit (a `rate()` schedule would start at deploy time, whatever the hour). Scheduled invocations go
 * through their own alias whose asynchronous invocations are never retried by Lambda: a retry would re-PATCH and
 * re-verify (and roll back) every target again within minutes, and the next scheduled run is the retry. Incident
 * and secret-change triggers invoke the function itself and keep their retries.
 */
import type { Duration } from 'aws-cdk-lib';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import type { IDestination, IFunction } from 'aws-cdk-lib/aws-lambda';
import { Alias } from 'aws-cdk-lib/aws-lambda';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

/** Daily at 04:00 UTC: the maintenance window, two hours before the audit checks the result. */
export const DEFAULT_ROTATION_SCHEDULE = ScheduleExpression.cron({ minute: '0', hour: '4' });
/** Daily at 06:00 UTC. */
export const DEFAULT_AUDIT_SCHEDULE = ScheduleExpression.cron({ minute: '0', hour: '6' });

/** The alias the schedules invoke. */
export const SCHEDULED_ALIAS_NAME = 'scheduled';

export function scheduledInvocationAlias(
  scope: Construct,
  fn: LambdaFunction,
  options: { onFailure: IDestination; maxEventAge: Duration },
): IFunction {
  return new Alias(scope, 'ScheduledAlias', {
    aliasName: SCHEDULED_ALIAS_NAME,
    version: fn.currentVersion,
    description: 'Scheduled runs: never retried by Lambda (the next schedule is the retry)',
    retryAttempts: 0,
    maxEventAge: options.maxEventAge,
    onFailure: options.onFailure,
  });
}
