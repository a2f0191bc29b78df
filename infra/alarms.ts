/**
 * The rotator's alarms. Each notifies the alarm topic when it fires and again when it clears. Missing data is
 * normal for event-like metrics (no failure, no message), except for the heartbeat: there, silence is the failure
 * (a schedule disabled or deleted, a function that never starts).
 */
import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ROTATOR_METRIC } from '../lambda/constants.ts';

/** Alarms the construct creates, all notifying `alarmTopic` (alarm and OK). */
export interface RotatorAlarms {
  /** The function ended in an error (a failed rotation target makes the handler throw). */
  readonly functionErrors: Alarm;
  /** `RotationsFailed` >= 1. */
  readonly rotationsFailed: Alarm;
  /** `RotationsSkipped` >= 1: a target was not rotated (`DEADLINE`, `LOCKED`, `HALTED`); dry runs do not count. */
  readonly rotationsSkipped: Alarm;
  /** `AuditNoncompliant` >= 1. */
  readonly auditNoncompliant: Alarm;
  /** No run (rotation or audit) completed within `heartbeatWindow`; missing data breaches. */
  readonly heartbeat: Alarm;
  /** A schedule or rule could not deliver its event to the function: a new message in the trigger dead-letter queue. */
  readonly triggerDeadLetters: Alarm;
  /** An asynchronous invocation failed after its retries: a new message in the failed-invocation queue. */
  readonly failedInvocations: Alarm;
  /** Lambda could not deliver a failed invocation to the failed-invocation queue: the record is lost. */
  readonly destinationDeliveryFailures: Alarm;
  /** The function was throttled (reserved concurrency exhausted). */
  readonly throttles: Alarm;
  /** A run took at least 90% of the function timeout: the next larger run may be cut off. */
  readonly durationNearTimeout: Alarm;
  /** An asynchronous event (schedule, incident, secret change) waited too long before a run took it. */
  readonly asyncEventAge: Alarm;
  /** Lambda gave up on an asynchronous event (too old, or out of retries); it went to the failed-invocation queue. */
  readonly asyncEventsDropped: Alarm;
}

export interface RotatorAlarmsProps {
  readonly function: IFunction;
  readonly timeout: Duration;
  readonly maxEventAge: Duration;
  readonly metricsNamespace: string;
  /** The dimensions the handler publishes its metrics with (`service`, `deployment`). */
  readonly metricsDimensions: Record<string, string>;
  readonly triggerDeadLetterQueue: IQueue;
  readonly failedInvocationQueue: IQueue;
  readonly topic: ITopic;
  readonly heartbeatWindow: Duration;
  /** With the schedules disabled nothing runs by design: the heartbeat alarm still evaluates but notifies nobody. */
  readonly schedulesEnabled: boolean;
}

const PERIOD = Duration.minutes(5);
/** Share of the timeout at which a run counts as near it. */
export const DURATION_ALARM_SHARE = 0.9;
/** An async event older than this (or half of `maxEventAge`, if less) has been waiting behind other runs. */
export const ASYNC_EVENT_AGE_LIMIT = Duration.minutes(5);

/** CloudWatch refuses an alarm whose evaluation range (periods x period) exceeds 7 days: 168 one-hour periods. */
export const HEARTBEAT_MAX_HOURS = 168;

/**
 * `heartbeatWindow` in whole hours (rounded up), the heartbeat alarm's number of one-hour periods. Throws at synth
 * for a window CloudWatch would refuse at deploy (over 7 days after rounding) or one that is not positive.
 */
export function heartbeatHours(window: Duration): number {
  const hours = window.toHours({ integral: false });
  const whole = Math.ceil(hours);
  if (!(hours > 0) || whole > HEARTBEAT_MAX_HOURS) {
    const given = `${window.toString()} (${Number(hours.toFixed(2))} hours)`;
    throw new Error(
      `Invalid heartbeatWindow: ${given} is outside the allowed range: more than 0 and at most ` +
        `${HEARTBEAT_MAX_HOURS} hours (7 days) once rounded up to whole hours, the longest range a CloudWatch alarm ` +
        'can evaluate.',
    );
  }
  return whole;
}

/** Every alarm of the set, for dashboards and composite alarms. */
export function alarmList(alarms: RotatorAlarms): Alarm[] {
  return Object.values<Alarm>({ ...alarms });
}

export function createRotatorAlarms(scope: Construct, props: RotatorAlarmsProps): RotatorAlarms {
  const fn = props.function;
  const action = new SnsAction(props.topic);
  const rotatorMetric = (metricName: string, statistic = 'Sum', period = PERIOD): Metric =>
    new Metric({
      namespace: props.metricsNamespace,
      metricName,
      dimensionsMap: props.metricsDimensions,
      statistic,
      period,
    });
  const alarm = (
    id: string,
    metric: IMetric,
    description: string,
    options: {
      threshold?: number;
      comparisonOperator?: ComparisonOperator;
      evaluationPeriods?: number;
      treatMissingData?: TreatMissingData;
      actionsEnabled?: boolean;
    } = {},
  ): Alarm => {
    const created = new Alarm(scope, id, {
      metric,
      threshold: options.threshold ?? 1,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      comparisonOperator: options.comparisonOperator ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No data means no run, no failure or no message: not an alarm (the heartbeat says otherwise).
      treatMissingData: options.treatMissingData ?? TreatMissingData.NOT_BREACHING,
      actionsEnabled: options.actionsEnabled ?? true,
      alarmDescription: description,
    });
    created.addAlarmAction(action);
    created.addOkAction(action);
    return created;
  };
  // NumberOfMessagesSent counts each new dead letter, so a second failure notifies again even while the first is
  // still in the queue (the depth, ApproximateNumberOfMessagesVisible, stays >= 1 and would not).
  const newDeadLetters = (queue: IQueue) => queue.metricNumberOfMessagesSent({ period: PERIOD, statistic: 'Sum' });
  const functionMetric = (metricName: string, statistic: string) =>
    fn.metric(metricName, { period: PERIOD, statistic });
  const heartbeatPeriods = heartbeatHours(props.heartbeatWindow);
  const asyncAgeLimitMs = Math.min(ASYNC_EVENT_AGE_LIMIT.toMilliseconds(), props.maxEventAge.toMilliseconds() / 2);

  return {
    functionErrors: alarm(
      'FunctionErrorsAlarm',
      fn.metricErrors({ period: PERIOD, statistic: 'Sum' }),
      'The rotator function ended in an error (a rotation target failed, or the run could not start). See the MCP Credential Rotation Result events and the function log.',
    ),
    rotationsFailed: alarm(
      'RotationsFailedAlarm',
      rotatorMetric(ROTATOR_METRIC.rotationsFailed),
      'At least one MCP server credential rotation failed; see the MCP Credential Rotation Result events.',
    ),
    rotationsSkipped: alarm(
      'RotationsSkippedAlarm',
      rotatorMetric(ROTATOR_METRIC.rotationsSkipped),
      "At least one target was skipped and not rotated (DEADLINE, LOCKED or HALTED; a dry run's DRY_RUN targets are RotationsPlanned and do not count); the error code is in its MCP Credential Rotation Result event.",
    ),
    auditNoncompliant: alarm(
      'AuditNoncompliantAlarm',
      rotatorMetric(ROTATOR_METRIC.auditNoncompliant),
      'The audit found at least one non-compliant MCP server; see the MCP Credential Audit Result events.',
    ),
    heartbeat: alarm(
      'HeartbeatAlarm',
      rotatorMetric(ROTATOR_METRIC.runDurationMs, 'SampleCount', Duration.hours(1)),
      `No rotation or audit run completed in ${heartbeatPeriods} hours: a schedule may be disabled or deleted, or the function never starts.`,
      {
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: heartbeatPeriods,
        treatMissingData: TreatMissingData.BREACHING,
        actionsEnabled: props.schedulesEnabled,
      },
    ),
    triggerDeadLetters: alarm(
      'TriggerDeadLettersAlarm',
      newDeadLetters(props.triggerDeadLetterQueue),
      'A schedule or rule could not invoke the rotator: the trigger is in the trigger dead-letter queue.',
    ),
    failedInvocations: alarm(
      'FailedInvocationsAlarm',
      newDeadLetters(props.failedInvocationQueue),
      'A rotator invocation failed after its retries: the event and the error are in the failed-invocation queue.',
    ),
    destinationDeliveryFailures: alarm(
      'DestinationDeliveryFailuresAlarm',
      functionMetric('DestinationDeliveryFailures', 'Sum'),
      'Lambda could not deliver a failed invocation to the failed-invocation queue: that record is lost. Check the queue policy and its KMS key.',
    ),
    throttles: alarm(
      'ThrottlesAlarm',
      functionMetric('Throttles', 'Sum'),
      'The rotator was throttled: more runs at once than its reserved concurrency. An incident may be waiting.',
    ),
    durationNearTimeout: alarm(
      'DurationNearTimeoutAlarm',
      functionMetric('Duration', 'Maximum'),
      `A run took at least ${DURATION_ALARM_SHARE * 100}% of the function timeout; targets may end DEADLINE. Raise the timeout or split the configuration.`,
      { threshold: Math.floor(props.timeout.toMilliseconds() * DURATION_ALARM_SHARE) },
    ),
    asyncEventAge: alarm(
      'AsyncEventAgeAlarm',
      functionMetric('AsyncEventAge', 'Maximum'),
      'A trigger (schedule, incident request or secret change) waited before a run took it: runs are queueing or throttled.',
      { threshold: asyncAgeLimitMs },
    ),
    asyncEventsDropped: alarm(
      'AsyncEventsDroppedAlarm',
      functionMetric('AsyncEventsDropped', 'Sum'),
      'Lambda gave up on a trigger (older than maxEventAge, or out of retries): an incident or rotation may never have run. The event is in the failed-invocation queue.',
    ),
  };
}
