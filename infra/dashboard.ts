/**
 * The operators' CloudWatch dashboard: what the runs did (rotations by outcome, audit compliance), whether they
 * fit the timeout, and what went wrong around them (dead letters, errors, throttles, alarms), so nobody has to read
 * the logs to see the state of the fleet.
 */
import { Aws, Duration } from 'aws-cdk-lib';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  GraphWidgetView,
  Metric,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ROTATOR_METRIC, ROTATOR_NAME } from '../lambda/constants.ts';

export interface RotatorDashboardProps {
  readonly function: IFunction;
  readonly timeout: Duration;
  readonly metricsNamespace: string;
  readonly metricsDimensions: Record<string, string>;
  readonly triggerDeadLetterQueue: IQueue;
  readonly failedInvocationQueue: IQueue;
  readonly alarms: IAlarm[];
  readonly dashboardName?: string;
}

const WIDTH = 12;
const HEIGHT = 6;

export function createRotatorDashboard(scope: Construct, props: RotatorDashboardProps): Dashboard {
  const rotator = (metricName: string, label: string, period = Duration.hours(1), statistic = 'Sum') =>
    new Metric({
      namespace: props.metricsNamespace,
      metricName,
      dimensionsMap: props.metricsDimensions,
      statistic,
      period,
      label,
    });
  const fn = (metricName: string, statistic: string, label: string) =>
    props.function.metric(metricName, { statistic, period: Duration.minutes(5), label });

  const dashboard = new Dashboard(scope, 'Dashboard', {
    ...(props.dashboardName && { dashboardName: props.dashboardName }),
    defaultInterval: Duration.days(14),
  });
  dashboard.addWidgets(
    new TextWidget({
      markdown: `# ${ROTATOR_NAME}\nEach alarm's description says what to do; the result events on the bus name each target's outcome and error code.`,
      width: 24,
      height: 2,
    }),
  );
  dashboard.addWidgets(
    new GraphWidget({
      title: 'Rotations by outcome (targets per hour)',
      view: GraphWidgetView.TIME_SERIES,
      stacked: true,
      width: WIDTH,
      height: HEIGHT,
      left: [
        rotator(ROTATOR_METRIC.rotationsSucceeded, 'rotated'),
        rotator(ROTATOR_METRIC.rotationsUnchanged, 'unchanged'),
        rotator(ROTATOR_METRIC.rotationsSkipped, 'skipped'),
        rotator(ROTATOR_METRIC.rotationsPlanned, 'planned (dry run)'),
        rotator(ROTATOR_METRIC.rotationsFailed, 'failed'),
      ],
    }),
    new GraphWidget({
      title: 'Audit compliance (targets per day)',
      stacked: true,
      width: WIDTH,
      height: HEIGHT,
      left: [
        rotator(ROTATOR_METRIC.auditCompliant, 'compliant', Duration.days(1)),
        rotator(ROTATOR_METRIC.auditNoncompliant, 'non-compliant', Duration.days(1)),
      ],
    }),
  );
  dashboard.addWidgets(
    new GraphWidget({
      title: 'Run duration against the timeout (ms)',
      width: WIDTH,
      height: HEIGHT,
      left: [
        fn('Duration', 'Maximum', 'function duration (max)'),
        rotator(ROTATOR_METRIC.runDurationMs, 'run duration (max)', Duration.minutes(5), 'Maximum'),
      ],
      leftAnnotations: [{ value: props.timeout.toMilliseconds(), label: 'timeout' }],
    }),
    new GraphWidget({
      title: 'Dead letters (messages waiting)',
      width: WIDTH,
      height: HEIGHT,
      left: [
        props.triggerDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          label: 'trigger dead-letter queue',
        }),
        props.failedInvocationQueue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          label: 'failed-invocation queue',
        }),
      ],
    }),
  );
  dashboard.addWidgets(
    new GraphWidget({
      title: 'Errors, throttles and dropped triggers',
      width: WIDTH,
      height: HEIGHT,
      left: [
        fn('Errors', 'Sum', 'errors'),
        fn('Throttles', 'Sum', 'throttles'),
        fn('AsyncEventsDropped', 'Sum', 'async events dropped'),
        fn('DestinationDeliveryFailures', 'Sum', 'destination delivery failures'),
      ],
      right: [fn('AsyncEventAge', 'Maximum', 'async event age (ms, max)')],
    }),
    new AlarmStatusWidget({ title: 'Alarms', alarms: props.alarms, width: WIDTH, height: HEIGHT }),
  );
  return dashboard;
}

/** The console address of a dashboard in the deploying region. */
export function dashboardUrl(dashboard: Dashboard): string {
  return `https://console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards/dashboard/${dashboard.dashboardName}`;
}
