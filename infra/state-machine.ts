/**
 * The Standard state machine that runs a fleet past one Lambda invocation's 15 minutes (orchestration
 * `stateMachine`): Plan -> an inline Map over the shards (whole teamspaces) -> Complete, the rotator's own function
 * as every task (lambda/fleet-steps.ts). JSONPath and an inline Map only: both run in the local interpreter the
 * tests execute this definition with (Distributed Map and JSONata do not).
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import {
  DefinitionBody,
  JsonPath,
  LogLevel,
  Map as MapState,
  StateMachine,
  StateMachineType,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ROTATOR_NAME } from '../lambda/constants.ts';
import type { RotatorConfig } from '../lambda/types/config.ts';

/** State names: what the console shows, and what the local tests map to the built handler. */
export const STATE = { plan: 'Plan', shards: 'Shards', shard: 'RotateShard', complete: 'Complete' } as const;

/**
 * Shards run at once: each holds at most `perTeamspace` Datagrid requests in flight (its global limit), so
 * together they stay within `concurrency.global` of the one organization's rate limit.
 */
export function mapConcurrency(config: RotatorConfig): number {
  return Math.max(1, Math.floor(config.concurrency.global / config.concurrency.perTeamspace));
}

/** Lambda's transient errors, retried with backoff by the state machine (never the rotator's own errors). */
const LAMBDA_TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
];

export interface RotationStateMachineProps {
  readonly function: IFunction;
  readonly config: RotatorConfig;
  readonly alarmTopic: ITopic;
  readonly tracing: boolean;
  readonly logRetention: RetentionDays;
}

export class RotationStateMachine extends Construct {
  readonly stateMachine: StateMachine;
  readonly logGroup: LogGroup;
  readonly maxConcurrency: number;
  readonly executionsFailedAlarm: Alarm;
  readonly executionsTimedOutAlarm: Alarm;

  constructor(scope: Construct, id: string, props: RotationStateMachineProps) {
    super(scope, id);
    this.maxConcurrency = mapConcurrency(props.config);
    const task = (stateId: string, payload: Record<string, unknown>) => {
      const invoke = new LambdaInvoke(this, stateId, {
        lambdaFunction: props.function,
        payload: TaskInput.fromObject(payload),
        // The task's result is the function's own answer: ids and counts only.
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
      });
      invoke.addRetry({
        errors: LAMBDA_TRANSIENT_ERRORS,
        interval: Duration.seconds(2),
        maxAttempts: 6,
        backoffRate: 2,
      });
      return invoke;
    };

    const plan = task(STATE.plan, { action: 'plan', event: JsonPath.entirePayload });
    const shard = task(STATE.shard, {
      action: 'shard',
      runId: JsonPath.stringAt('$.runId'),
      request: JsonPath.objectAt('$.request'),
      teamspaces: JsonPath.listAt('$.teamspaces'),
    });
    const shards = new MapState(this, STATE.shards, {
      itemsPath: '$.shards',
      maxConcurrency: this.maxConcurrency,
      itemSelector: {
        runId: JsonPath.stringAt('$.runId'),
        request: JsonPath.objectAt('$.request'),
        teamspaces: JsonPath.listAt('$$.Map.Item.Value.teamspaces'),
      },
      resultPath: '$.reports',
    });
    shards.itemProcessor(shard);
    const complete = task(STATE.complete, {
      action: 'complete',
      runId: JsonPath.stringAt('$.runId'),
      request: JsonPath.objectAt('$.request'),
      startedAt: JsonPath.stringAt('$.startedAt'),
      reports: JsonPath.listAt('$.reports'),
    });

    this.logGroup = new LogGroup(this, 'LogGroup', { retention: props.logRetention });
    this.stateMachine = new StateMachine(this, 'Resource', {
      comment: `${ROTATOR_NAME}: plan, rotate every shard of teamspaces, complete`,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(plan.next(shards).next(complete)),
      // Every shard may take a whole function timeout, MaxConcurrency at a time.
      timeout: Duration.hours(24),
      tracingEnabled: props.tracing,
      // Every state's transitions; payloads are ids and counts, still left out of the logs.
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: false },
    });
    this.acknowledge(props);

    const alarm = (alarmId: string, metric: ReturnType<StateMachine['metricFailed']>, description: string) => {
      const created = new Alarm(this, alarmId, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(new SnsAction(props.alarmTopic));
      return created;
    };
    const period = Duration.minutes(5);
    this.executionsFailedAlarm = alarm(
      'ExecutionsFailedAlarm',
      this.stateMachine.metricFailed({ period, statistic: 'Sum' }),
      'A rotation execution failed: a target failed, the API key was rejected, or a shard halted the run.',
    );
    this.executionsTimedOutAlarm = alarm(
      'ExecutionsTimedOutAlarm',
      this.stateMachine.metricTimedOut({ period, statistic: 'Sum' }),
      'A rotation execution timed out before every shard answered.',
    );
  }

  private acknowledge(props: RotationStateMachineProps): void {
    const role = this.stateMachine.role;
    const functionArn = Stack.of(this).getLogicalId(props.function.node.defaultChild as never);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${functionArn}.Arn>:*]`,
      reason:
        'Granted by the Lambda tasks: lambda:InvokeFunction on the rotator function and its qualified versions (`:*`), that function only.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CloudWatch Logs delivery (logs:CreateLogDelivery and related) and X-Ray segments support no resource-level permissions.',
    });
    if (!props.tracing) {
      for (const rule of ['AwsSolutions-SF2', 'Serverless-StepFunctionStateMachineXray']) {
        Validations.of(this.stateMachine).acknowledge({
          id: rule,
          reason:
            'X-Ray tracing follows the function (prop `tracing`, off by default): the run events and metrics trace each run.',
        });
      }
    }
  }
}
