/**
 * `McpCredentialRotator`: everything the rotator needs in one AWS account and region — the function, its schedules,
 * the results bus and its archive, the rules that trigger it, the state table, failure handling and alarms — with
 * least-privilege IAM derived from the validated configuration file.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import type { Archive, IEventBus } from 'aws-cdk-lib/aws-events';
import { LambdaFunction, SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import type { IRuleTarget } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke, StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import type { ScheduleTargetBaseProps } from 'aws-cdk-lib/aws-scheduler-targets';
import type { IScheduleTarget } from 'aws-cdk-lib/aws-scheduler';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { loadConfigFileSync } from '../lambda/config.ts';
import { DEFAULT_EVENT_SOURCE, DETAIL_TYPE, ROTATOR_NAME } from '../lambda/constants.ts';
import type { RotatorConfig } from '../lambda/types/config.ts';
import { BUNDLED_CONFIG_FILE_NAME, LAMBDA_HANDLER, rotatorCode } from './bundling.ts';
import { createSecretChangeRules, grantSecretAccess } from './secret-access.ts';
import type { SecretAccessTag } from './secret-access.ts';
import type { SecretMatcher } from './secret-prefixes.ts';
import type { SecretReference } from './secret-references.ts';
import { distinctSecretIds, resolveSecretReference } from './secret-references.ts';
import { sizeForTargets } from './sizing.ts';
import { chooseOrchestration } from './orchestration.ts';
import type { Orchestration } from './orchestration.ts';
import { RotationStateMachine, mapConcurrency } from './state-machine.ts';

import { DEFAULT_METRICS_NAMESPACE, ROTATOR_METRIC } from '../lambda/constants.ts';

// The metric names are the handler's; re-exported for users of the construct.
export { DEFAULT_METRICS_NAMESPACE, ROTATOR_METRIC };

/** The scheduled invocations' input (contract §4.1). */
export const ROTATE_SCHEDULE_INPUT = { action: 'rotate', trigger: 'schedule' } as const;
export const AUDIT_SCHEDULE_INPUT = { action: 'audit', trigger: 'schedule' } as const;

/** Where the handler finds its configuration in the deployed function (the asset is unpacked into /var/task). */
export const DEPLOYED_CONFIG_FILE = `/var/task/${BUNDLED_CONFIG_FILE_NAME}`;

export interface McpCredentialRotatorProps {
  /**
   * Path of the rotation configuration JSON (contract §3). It is validated at synth — an invalid file fails the
   * synth with the handler's own message — and shipped inside the function's asset as `rotation.config.json`.
   * The targets' `secretId`s and `datagrid.apiKeySecretId` decide which secrets the function may read.
   */
  readonly configFile: string;

  /**
   * Schedule of the rotation run (`{"action":"rotate","trigger":"schedule"}`).
   * @default ScheduleExpression.rate(Duration.days(1))
   */
  readonly rotationSchedule?: ScheduleExpression;

  /**
   * Schedule of the audit run (`{"action":"audit","trigger":"schedule"}`).
   * @default ScheduleExpression.cron({ minute: '0', hour: '6' }) — daily at 06:00 UTC
   */
  readonly auditSchedule?: ScheduleExpression;

  /**
   * Whether the two schedules are enabled (disable to deploy first and rotate by hand).
   * @default true
   */
  readonly schedulesEnabled?: boolean;

  /**
   * Existing EventBridge bus for the result events and `MCP Rotation Requested`.
   * @default - a new event bus is created
   */
  readonly eventBus?: IEventBus;

  /**
   * How long the archive of the results bus keeps events (the compliance record). An archive of a bus passed in
   * keeps only this rotator's events (`source` = `eventSource`).
   * @default Duration.days(365)
   */
  readonly archiveRetention?: Duration;

  /**
   * `Source` of the events the function emits (`EVENT_SOURCE`).
   * @default 'datagrid.mcp-rotator'
   */
  readonly eventSource?: string;

  /**
   * Existing state table (partition key `pk`, type String, no sort key).
   * @default - an on-demand table with point-in-time recovery and AWS-managed KMS encryption is created
   */
  readonly stateTable?: ITable;

  /**
   * Deletion protection of the created state table (losing it forgets which credential each server holds).
   * @default true
   */
  readonly stateTableDeletionProtection?: boolean;

  /**
   * What happens to the created state table when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly stateTableRemovalPolicy?: RemovalPolicy;

  /**
   * Customer managed KMS keys that encrypt the configured secrets. The function may use them for `kms:Decrypt`
   * only through Secrets Manager (`kms:ViaService`); each key's policy must also allow the function's role (a key
   * of another account always, a key of this account when its policy does not delegate to IAM).
   * @default - none: the secrets use the AWS managed key `aws/secretsmanager`, which needs no grant
   */
  readonly secretsEncryptionKeys?: IKey[];

  /**
   * Configured secrets as CDK objects (`Secret.fromSecretAttributes(..., { encryptionKey })`, or secrets of this
   * app): their encryption keys are granted like `secretsEncryptionKeys`. Reading them is granted from the
   * configuration's ids either way.
   * @default - none
   */
  readonly secrets?: ISecret[];

  /**
   * Attribute-based access: the read grant on the target secrets also requires this resource tag, so a secret
   * under a granted name prefix that lacks the tag stays unreadable. The Datagrid API key secret is exempt.
   * @default - the grant is on the secrets' names and common name prefixes only
   */
  readonly secretAccessTag?: SecretAccessTag;

  /**
   * Also start a run on CloudTrail's records of `RotationSucceeded`, `PutSecretValue` and
   * `UpdateSecretVersionStage`. Needs a trail; every such change also sends the native `Secret Label Updated`
   * event, which is always matched, so turning this on makes one change start up to three runs more.
   * @default false
   */
  readonly cloudTrailTriggers?: boolean;

  /**
   * SNS topic every alarm notifies. Its key policy, if it is KMS-encrypted, must let CloudWatch use the key.
   * @default - a new topic that accepts TLS publishing only (not KMS-encrypted: alarm messages hold no secret)
   */
  readonly alarmTopic?: ITopic;

  /**
   * CloudWatch namespace of the handler's metrics (passed to the function as `METRICS_NAMESPACE`).
   * @default 'DatagridMcpRotator'
   */
  readonly metricsNamespace?: string;

  /**
   * Function memory in MB.
   * @default - sized for the target count: 256 up to 25 targets, 512 up to 100, else 1024
   */
  readonly memorySize?: number;

  /**
   * Function timeout.
   * @default - sized for the target count and their verify timeouts (see infra/sizing.ts), at most 15 minutes
   */
  readonly timeout?: Duration;

  /**
   * Reserved concurrency. With 1, runs never overlap: a trigger that arrives during a run is throttled and Lambda
   * retries it (asynchronous invocations) until `maxEventAge`.
   * @default 1
   */
  readonly reservedConcurrentExecutions?: number;

  /**
   * Retries of a failed asynchronous invocation before it goes to `failedInvocationQueue` (0-2).
   * @default 2
   */
  readonly retryAttempts?: number;

  /**
   * Maximum age of an asynchronous invocation (schedules, rules), retries and throttling included.
   * @default Duration.hours(1)
   */
  readonly maxEventAge?: Duration;

  /**
   * Retention of the function's log group.
   * @default RetentionDays.ONE_YEAR
   */
  readonly logRetention?: RetentionDays;

  /**
   * Active X-Ray tracing of the function (and of the state machine, with `orchestration: 'stateMachine'`).
   * @default false
   */
  readonly tracing?: boolean;

  /**
   * What runs a scheduled or event-triggered run: one function invocation (`function`, at most 15 minutes), or a
   * Standard Step Functions state machine that plans the run, rotates its teamspaces in shards (one invocation
   * each) and completes it (`stateMachine`). Direct invocations of the function keep running in one invocation.
   * @default - `function` up to FUNCTION_ORCHESTRATION_MAX_TARGETS targets (1,000), else `stateMachine`
   */
  readonly orchestration?: Orchestration;
}

/** Alarms the construct creates, all notifying `alarmTopic`. */
export interface RotatorAlarms {
  /** The function ended in an error (a failed rotation target makes the handler throw). */
  readonly functionErrors: Alarm;
  /** `RotationsFailed` >= 1. */
  readonly rotationsFailed: Alarm;
  /** `AuditNoncompliant` >= 1. */
  readonly auditNoncompliant: Alarm;
  /** A schedule or rule could not deliver its event to the function. */
  readonly triggerDeadLetters: Alarm;
  /** An asynchronous invocation failed after its retries. */
  readonly failedInvocations: Alarm;
}

export class McpCredentialRotator extends Construct {
  /** The validated configuration the function ships with. */
  readonly config: RotatorConfig;
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  readonly eventBus: IEventBus;
  readonly archive: Archive;
  readonly stateTable: ITable;
  readonly alarmTopic: ITopic;
  readonly rotationSchedule: Schedule;
  readonly auditSchedule: Schedule;
  /** The role EventBridge Scheduler assumes to invoke the function and write to the dead-letter queue. */
  readonly schedulerRole: Role;
  /** Trigger deliveries that failed: schedules and rules that could not invoke the function. */
  readonly triggerDeadLetterQueue: Queue;
  /** Asynchronous invocations that failed after their retries (the on-failure destination). */
  readonly failedInvocationQueue: Queue;
  /** `MCP Rotation Requested` on the results bus: incident and manual rotations. */
  readonly rotationRequestedRule: Rule;
  /** Native `Secret Label Updated` events of the configured secrets, on the default bus. */
  readonly secretLabelUpdatedRules: Rule[];
  /** CloudTrail records of changes to the configured secrets, on the default bus (none unless `cloudTrailTriggers`). */
  readonly secretApiCallRules: Rule[];
  /** The target secrets' names and common name prefixes that the grants and the rules use. */
  readonly secretMatchers: SecretMatcher[];
  readonly alarms: RotatorAlarms;
  readonly orchestration: Orchestration;
  /** With `orchestration: 'stateMachine'`: the state machine the schedules and rules start. */
  readonly rotationStateMachine?: RotationStateMachine;
  /** The secrets the function may read: every target's and the Datagrid API key's. */
  readonly secrets: SecretReference[];

  constructor(scope: Construct, id: string, props: McpCredentialRotatorProps) {
    super(scope, id);
    // Throws ConfigError with the handler's message: a bad file never reaches a deployment.
    this.config = loadConfigFileSync(props.configFile);
    const targetSecretIds = distinctSecretIds(this.config.targets.map((target) => target.secretId));
    this.secrets = distinctSecretIds([...targetSecretIds, this.config.datagrid.apiKeySecretId]).map((secretId) =>
      resolveSecretReference(secretId),
    );
    const eventSource = props.eventSource ?? DEFAULT_EVENT_SOURCE;
    const metricsNamespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
    const maxEventAge = props.maxEventAge ?? Duration.hours(1);

    this.triggerDeadLetterQueue = this.deadLetterQueue('TriggerDeadLetterQueue');
    this.failedInvocationQueue = this.deadLetterQueue('FailedInvocationQueue');
    this.stateTable = props.stateTable ?? this.createStateTable(props);
    this.eventBus = props.eventBus ?? new EventBus(this, 'EventBus', { description: `${ROTATOR_NAME} results` });
    this.archive = this.eventBus.archive('Archive', {
      description: `${ROTATOR_NAME} compliance record`,
      retention: props.archiveRetention ?? Duration.days(365),
      // A bus of our own holds only rotator traffic (results and requests): keep all of it.
      eventPattern: props.eventBus ? { source: [eventSource] } : { account: [Stack.of(this).account] },
    });

    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${ROTATOR_NAME}: least privilege on the configured secrets, its bus and its table`,
    });
    this.logGroup.grantWrite(this.role);

    const size = sizeForTargets(this.config);
    this.orchestration = chooseOrchestration(this.config, props.orchestration);
    const viaStateMachine = this.orchestration === 'stateMachine';
    this.function = new NodejsFunction(this, 'Function', {
      description: 'Rotates Datagrid MCP server credentials from AWS Secrets Manager',
      code: rotatorCode(props.configFile),
      handler: LAMBDA_HANDLER,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? size.memoryMb,
      timeout: props.timeout ?? Duration.seconds(size.timeoutSeconds),
      // With the state machine, its shards run at once, with one slot left for the plan, completion or an incident.
      reservedConcurrentExecutions:
        props.reservedConcurrentExecutions ?? (viaStateMachine ? mapConcurrency(this.config) + 1 : 1),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel.INFO,
      systemLogLevelV2: SystemLogLevel.WARN,
      tracing: props.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      environment: {
        ROTATION_CONFIG_FILE: DEPLOYED_CONFIG_FILE,
        STATE_TABLE_NAME: this.stateTable.tableName,
        EVENT_BUS_NAME: this.eventBus.eventBusName,
        EVENT_SOURCE: eventSource,
        METRICS_NAMESPACE: metricsNamespace,
      },
      onFailure: new SqsDestination(this.failedInvocationQueue),
      retryAttempts: props.retryAttempts ?? 2,
      maxEventAge,
    });
    this.secretMatchers = grantSecretAccess(this, this.role, {
      targetSecretIds,
      apiKeySecretId: this.config.datagrid.apiKeySecretId,
      keys: props.secretsEncryptionKeys ?? [],
      secrets: props.secrets ?? [],
      tag: props.secretAccessTag,
    });
    this.grantLeastPrivilege(props.tracing ?? false);
    if (!props.tracing) {
      Validations.of(this.function).acknowledge({
        id: 'Serverless-LambdaTracing',
        reason:
          'X-Ray tracing is optional (prop `tracing`): the run summary, events and EMF metrics already trace each run.',
      });
    }
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Failed asynchronous invocations go to the on-failure destination (failedInvocationQueue), which AWS recommends over a function DLQ and which records the error too.',
    });

    this.schedulerRole = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `${ROTATOR_NAME}: lets EventBridge Scheduler invoke the rotator and write its dead letters`,
    });
    Validations.of(this.schedulerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.function.node.defaultChild as CfnFunction)}.Arn>:*]`,
      reason:
        'Granted by the scheduler target: lambda:InvokeFunction on the function and its qualified versions/aliases (`:*`), this function only.',
    });
    this.alarmTopic = props.alarmTopic ?? this.createAlarmTopic();
    if (viaStateMachine) {
      this.rotationStateMachine = new RotationStateMachine(this, 'StateMachine', {
        function: this.function,
        config: this.config,
        alarmTopic: this.alarmTopic,
        tracing: props.tracing ?? false,
        logRetention: props.logRetention ?? RetentionDays.ONE_YEAR,
      });
    }
    const machine = this.rotationStateMachine?.stateMachine;
    const scheduleTarget = (options: ScheduleTargetBaseProps): IScheduleTarget =>
      machine ? new StepFunctionsStartExecution(machine, options) : new LambdaInvoke(this.function, options);
    const scheduleEnabled = props.schedulesEnabled ?? true;
    this.rotationSchedule = this.schedule('RotationSchedule', {
      expression: props.rotationSchedule ?? ScheduleExpression.rate(Duration.days(1)),
      input: ROTATE_SCHEDULE_INPUT,
      description: `${ROTATOR_NAME}: scheduled rotation`,
      enabled: scheduleEnabled,
      maxEventAge,
      target: scheduleTarget,
    });
    this.auditSchedule = this.schedule('AuditSchedule', {
      expression: props.auditSchedule ?? ScheduleExpression.cron({ minute: '0', hour: '6' }),
      input: AUDIT_SCHEDULE_INPUT,
      description: `${ROTATOR_NAME}: scheduled audit`,
      enabled: scheduleEnabled,
      maxEventAge,
      target: scheduleTarget,
    });

    const ruleTargetProps = { deadLetterQueue: this.triggerDeadLetterQueue, retryAttempts: 4, maxEventAge };
    // A rule passes its event as the execution input: the plan step reads it like the function would.
    const ruleTarget: IRuleTarget = machine
      ? new SfnStateMachine(machine, ruleTargetProps)
      : new LambdaFunction(this.function, ruleTargetProps);
    this.rotationRequestedRule = new Rule(this, 'RotationRequestedRule', {
      description: `${ROTATOR_NAME}: incident and manual rotation requests`,
      eventBus: this.eventBus,
      eventPattern: { detailType: [DETAIL_TYPE.rotationRequested] },
      targets: [ruleTarget],
    });
    // Only the targets' secrets: a change of the Datagrid API key rotates nothing.
    const secretRules = createSecretChangeRules(this, {
      matchers: this.secretMatchers,
      cloudTrail: props.cloudTrailTriggers ?? false,
      target: ruleTarget,
    });
    this.secretLabelUpdatedRules = secretRules.labelUpdated;
    this.secretApiCallRules = secretRules.apiCall;

    this.alarms = this.createAlarms(metricsNamespace);
  }

  private deadLetterQueue(id: string): Queue {
    const queue = new Queue(this, id, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    for (const rule of ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy']) {
      Validations.of(queue).acknowledge({
        id: rule,
        reason:
          'This queue is itself a dead-letter queue (of the schedules, the rules or the async invocations); an alarm fires on its first message.',
      });
    }
    return queue;
  }

  private createStateTable(props: McpCredentialRotatorProps): Table {
    return new Table(this, 'StateTable', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      deletionProtection: props.stateTableDeletionProtection ?? true,
      removalPolicy: props.stateTableRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  private grantLeastPrivilege(tracing: boolean): void {
    this.role.addToPolicy(
      new PolicyStatement({
        sid: 'BatchReadSecrets',
        actions: ['secretsmanager:BatchGetSecretValue'],
        resources: ['*'],
      }),
    );
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'secretsmanager:BatchGetSecretValue supports no resource-level permissions; each secret it returns still needs GetSecretValue, which is granted only on the configured secrets.' +
        (tracing ? ' X-Ray PutTraceSegments/PutTelemetryRecords (tracing on) support none either.' : ''),
    });
    this.eventBus.grantPutEventsTo(this.role);
    // Exactly what lambda/adapters/state-dynamodb.ts sends (test/infra/construct.test.ts keeps the two in step).
    this.stateTable.grant(this.role, 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem');
    this.stateTable.encryptionKey?.grantEncryptDecrypt(this.role);
  }

  private schedule(
    id: string,
    options: {
      expression: ScheduleExpression;
      input: Record<string, string>;
      description: string;
      enabled: boolean;
      maxEventAge: Duration;
      target: (props: ScheduleTargetBaseProps) => IScheduleTarget;
    },
  ): Schedule {
    const schedule = new Schedule(this, id, {
      schedule: options.expression,
      description: options.description,
      enabled: options.enabled,
      target: options.target({
        role: this.schedulerRole,
        input: ScheduleTargetInput.fromObject(options.input),
        deadLetterQueue: this.triggerDeadLetterQueue,
        retryAttempts: 4,
        maxEventAge: options.maxEventAge,
      }),
    });
    return schedule;
  }

  private createAlarmTopic(): Topic {
    // Not KMS-encrypted: CloudWatch cannot publish to a topic under the AWS managed key, and alarm messages carry
    // alarm names and metric states only. Pass `alarmTopic` to use a topic under your own key.
    return new Topic(this, 'AlarmTopic', { displayName: `${ROTATOR_NAME} alarms`, enforceSSL: true });
  }

  private createAlarms(namespace: string): RotatorAlarms {
    const period = Duration.minutes(5);
    const rotatorMetric = (metricName: string): Metric =>
      new Metric({ namespace, metricName, dimensionsMap: { service: ROTATOR_NAME }, statistic: 'Sum', period });
    const alarm = (id: string, metric: IMetric, description: string): Alarm => {
      const created = new Alarm(this, id, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No data means no run or no message: not an alarm.
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(new SnsAction(this.alarmTopic));
      return created;
    };
    return {
      functionErrors: alarm(
        'FunctionErrorsAlarm',
        this.function.metricErrors({ period, statistic: 'Sum' }),
        'The rotator function ended in an error (a rotation target failed, or the run could not start).',
      ),
      rotationsFailed: alarm(
        'RotationsFailedAlarm',
        rotatorMetric(ROTATOR_METRIC.rotationsFailed),
        'At least one MCP server credential rotation failed; see the MCP Credential Rotation Result events.',
      ),
      auditNoncompliant: alarm(
        'AuditNoncompliantAlarm',
        rotatorMetric(ROTATOR_METRIC.auditNoncompliant),
        'The audit found at least one non-compliant MCP server; see the MCP Credential Audit Result events.',
      ),
      triggerDeadLetters: alarm(
        'TriggerDeadLettersAlarm',
        this.triggerDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        'A schedule or rule could not invoke the rotator: the trigger is in the dead-letter queue.',
      ),
      failedInvocations: alarm(
        'FailedInvocationsAlarm',
        this.failedInvocationQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        'A rotator invocation failed after its retries: the event is in the failed-invocation queue.',
      ),
    };
  }
}
