/**
 * `McpCredentialRotator`: everything the rotator needs in one AWS account and region — the function, its schedules,
 * the results bus and its archive, the rules that trigger it, the state table, failure handling and alarms — with
 * least-privilege IAM derived from the validated configuration file.
 */
import { Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { Dashboard } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Archive, EventBus, Rule } from 'aws-cdk-lib/aws-events';
import type { IEventBus, IRuleTarget } from 'aws-cdk-lib/aws-events';
import { LambdaFunction, SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import { Grant, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
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
import { Schedule, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import type { IScheduleTarget, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke, StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import type { ScheduleTargetBaseProps } from 'aws-cdk-lib/aws-scheduler-targets';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { loadConfigFileSync } from '../lambda/config.ts';
import {
  DEFAULT_EVENT_SOURCE,
  DETAIL_TYPE,
  METRICS_DEPLOYMENT_ENV,
  METRIC_DIMENSION,
  ROTATOR_NAME,
} from '../lambda/constants.ts';
import { TRACING_ENV } from '../lambda/tracing.ts';
import type { RotatorConfig } from '../lambda/types/config.ts';
import { alarmList, createRotatorAlarms } from './alarms.ts';
import type { RotatorAlarms } from './alarms.ts';
import { BUNDLED_CONFIG_FILE_NAME, LAMBDA_HANDLER, rotatorCode } from './bundling.ts';
import { createRotatorDashboard, dashboardUrl } from './dashboard.ts';
import { allowRotatorServicesToUseKey } from './encryption.ts';
import {
  DEFAULT_REQUEST_SOURCES,
  RESULT_DETAIL_TYPES,
  checkRequestSources,
  putEventsConditions,
  putEventsStatement,
  rotationRequestedPattern,
} from './request-access.ts';
import { ResultLog } from './result-log.ts';
import { DEFAULT_AUDIT_SCHEDULE, DEFAULT_ROTATION_SCHEDULE, scheduledInvocationAlias } from './schedules.ts';
import { createSecretChangeRules, grantSecretAccess } from './secret-access.ts';
import type { SecretAccessTag } from './secret-access.ts';
import type { SecretMatcher } from './secret-prefixes.ts';
import type { SecretReference } from './secret-references.ts';
import { distinctSecretIds, resolveSecretReference } from './secret-references.ts';
import { sizeForTargets } from './sizing.ts';
import { chooseOrchestration } from './orchestration.ts';
import type { Orchestration } from './orchestration.ts';
import { RotationStateMachine, mapConcurrency } from './state-machine.ts';

import { DEFAULT_METRICS_NAMESPACE, ROTATOR_METRIC, RUN_RECORD_EXPIRES_AT } from '../lambda/constants.ts';

// The metric names are the handler's; re-exported for users of the construct.
export { DEFAULT_METRICS_NAMESPACE, ROTATOR_METRIC };
export type { RotatorAlarms };

/** The scheduled invocations' input. */
export const ROTATE_SCHEDULE_INPUT = { action: 'rotate', trigger: 'schedule' } as const;
export const AUDIT_SCHEDULE_INPUT = { action: 'audit', trigger: 'schedule' } as const;

/** Where the handler finds its configuration in the deployed function (the asset is unpacked into /var/task). */
export const DEPLOYED_CONFIG_FILE = `/var/task/${BUNDLED_CONFIG_FILE_NAME}`;

export interface McpCredentialRotatorProps {
  /**
   * Path of the rotation configuration JSON. It is validated at synth — an invalid file fails the
   * synth with the handler's own message — and shipped inside the function's asset as `rotation.config.json`.
   * The targets' `secretId`s and `datagrid.apiKeySecretId` decide which secrets the function may read.
   */
  readonly configFile: string;

  /**
   * Schedule of the rotation run (`{"action":"rotate","trigger":"schedule"}`). Use a `cron()` maintenance window:
   * a `rate()` schedule starts at deploy time. Scheduled runs are never retried by Lambda (the next run is the retry).
   * @default ScheduleExpression.cron({ minute: '0', hour: '4' }) — daily at 04:00 UTC, before the audit
   */
  readonly rotationSchedule?: ScheduleExpression;

  /**
   * Schedule of the audit run (`{"action":"audit","trigger":"schedule"}`).
   * @default ScheduleExpression.cron({ minute: '0', hour: '6' }) — daily at 06:00 UTC
   */
  readonly auditSchedule?: ScheduleExpression;

  /**
   * Whether the two schedules are enabled. Disable them for the first deploy, run `plan`, then enable them.
   * While disabled, the heartbeat alarm notifies nobody.
   * @default true
   */
  readonly schedulesEnabled?: boolean;

  /**
   * `source` values whose `MCP Rotation Requested` events start a run; any other source is ignored by the rule.
   * Must not contain `eventSource`. `grantRequestRotation` lets a principal send exactly these.
   * @default ['datagrid.mcp-rotator.requests'] — what the CLI's `trigger` sends
   */
  readonly requestSources?: string[];

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
   * What happens to the archive (the compliance record) when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly archiveRemovalPolicy?: RemovalPolicy;

  /**
   * Also copy every result event (rotation and audit results, run summaries) into a CloudWatch Logs group under
   * `/aws/events/`, kept for `logRetention`: queryable evidence with Logs Insights.
   * @default false
   */
  readonly resultLog?: boolean;

  /**
   * `Source` of the events the function emits (`EVENT_SOURCE`). The function may put events on the bus with this
   * source and its three result detail-types only.
   * @default 'datagrid.mcp-rotator'
   */
  readonly eventSource?: string;

  /**
   * Customer managed KMS key for everything the construct creates that stores data: the state table, both
   * dead-letter queues, the alarm topic, the function's log group, the archive and the result log. The key policy
   * must let CloudWatch, EventBridge and CloudWatch Logs use it; for a key defined in the same app the construct
   * adds those statements itself.
   * @default - AWS managed or owned keys (the topic is not encrypted: alarm messages hold no secret)
   */
  readonly encryptionKey?: IKey;

  /**
   * Existing state table (partition key `pk`, type String, no sort key). With orchestration `stateMachine`, enable
   * its TTL on the attribute `expiresAt`: each run leaves one small record (`run#<runId>`) that expires after 2 days.
   * @default - an on-demand table with point-in-time recovery and KMS encryption (AWS managed, or `encryptionKey`)
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
   * Value of the `deployment` dimension on every rotator metric (passed as `METRICS_DEPLOYMENT`), so the alarms of
   * two rotators in one account and region watch only their own runs.
   * @default - a name unique to this construct in its app (`Names.uniqueResourceName`)
   */
  readonly deploymentName?: string;

  /**
   * The heartbeat alarm fires when no run (rotation or audit) completed for this long; missing data counts as
   * breaching. Rounded up to whole hours; keep it longer than the longest gap between two scheduled runs. Must be
   * more than 0 and at most 7 days (168 hours) once rounded, the longest range a CloudWatch alarm can evaluate: the
   * construct throws otherwise.
   * @default Duration.hours(26)
   */
  readonly heartbeatWindow?: Duration;

  /**
   * Name of the CloudWatch dashboard.
   * @default - generated by CloudFormation
   */
  readonly dashboardName?: string;

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
   * Reserved concurrency. Runs may overlap: each target's lease in the state table keeps two runs off one target,
   * so an incident never waits behind a 15-minute scheduled run for a free slot (with 1 it would be throttled,
   * retried with back-off and possibly dropped).
   * @default 4
   */
  readonly reservedConcurrentExecutions?: number;

  /**
   * Retries of a failed asynchronous invocation from a rule (incident or manual request, secret change) before it
   * goes to `failedInvocationQueue` (0-2). Scheduled invocations are never retried by Lambda.
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
   * Active X-Ray tracing of the function, with Powertools Tracer (`ROTATOR_TRACING=true`): every AWS SDK call and
   * every HTTP request to Datagrid and the MCP servers appears as a subsegment (and of the state machine, with
   * `orchestration: 'stateMachine'`).
   * @default false
   */
  readonly tracing?: boolean;

  /**
   * What runs a scheduled or event-triggered run: one function invocation (`function`, at most 15 minutes), or a
   * Standard Step Functions state machine that plans the run, rotates its teamspaces in shards (one invocation
   * each) and completes it (`stateMachine`). Direct invocations of the function keep running in one invocation.
   * @default - `function` up to FUNCTION_ORCHESTRATION_MAX_TARGETS targets (500), else `stateMachine`
   */
  readonly orchestration?: Orchestration;

  /**
   * VPC to run the function in. The function needs outbound HTTPS to the Datagrid API, to the AWS APIs it calls
   * (Secrets Manager, DynamoDB, EventBridge; through a NAT gateway or VPC endpoints) and, with `preflight`, to every
   * target's MCP server.
   * @default - not in a VPC
   */
  readonly vpc?: IVpc;

  /**
   * Subnets of `vpc` for the function (private subnets with egress).
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: SubnetSelection;

  /**
   * Security groups of the function in `vpc`.
   * @default - a new security group allowing all outbound traffic
   */
  readonly securityGroups?: ISecurityGroup[];
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
  /** What the schedules invoke: an alias of the function whose asynchronous invocations Lambda never retries. */
  readonly scheduledFunction: IFunction;
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
  /** The operators' dashboard; its console address is `dashboardUrl`. */
  readonly dashboard: Dashboard;
  /** The result events copied to CloudWatch Logs, when `resultLog` is on. */
  readonly resultLog?: ResultLog;
  /** The `source` values whose `MCP Rotation Requested` events start a run. */
  readonly requestSources: string[];
  /** The `deployment` dimension of this rotator's metrics. */
  readonly deploymentName: string;
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
    this.requestSources = checkRequestSources(props.requestSources ?? DEFAULT_REQUEST_SOURCES, eventSource);
    const metricsNamespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
    this.deploymentName = props.deploymentName ?? Names.uniqueResourceName(this, { maxLength: 200, separator: '-' });
    const maxEventAge = props.maxEventAge ?? Duration.hours(1);
    const encryptionKey = props.encryptionKey;
    if (encryptionKey) allowRotatorServicesToUseKey(encryptionKey);

    this.triggerDeadLetterQueue = this.deadLetterQueue('TriggerDeadLetterQueue', encryptionKey);
    this.failedInvocationQueue = this.deadLetterQueue('FailedInvocationQueue', encryptionKey);
    this.stateTable = props.stateTable ?? this.createStateTable(props);
    this.eventBus = props.eventBus ?? new EventBus(this, 'EventBus', { description: `${ROTATOR_NAME} results` });
    // Scoped under the bus as `eventBus.archive()` would (same logical id), which drops `kmsKey`.
    this.archive = new Archive(this.eventBus, 'Archive', {
      sourceEventBus: this.eventBus,
      description: `${ROTATOR_NAME} compliance record`,
      retention: props.archiveRetention ?? Duration.days(365),
      // A bus of our own holds only rotator traffic (results and requests): keep all of it.
      eventPattern: props.eventBus ? { source: [eventSource] } : { account: [Stack.of(this).account] },
      ...(encryptionKey && { kmsKey: encryptionKey }),
    });
    // The compliance record outlives the stack unless the owner says otherwise; a bus of our own stays with its
    // archive, so deleting the stack never has to delete a bus that still has one.
    const archiveRemovalPolicy = props.archiveRemovalPolicy ?? RemovalPolicy.RETAIN;
    this.archive.applyRemovalPolicy(archiveRemovalPolicy);
    if (!props.eventBus) this.eventBus.applyRemovalPolicy(archiveRemovalPolicy);

    const logRetention = props.logRetention ?? RetentionDays.ONE_YEAR;
    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(encryptionKey && { encryptionKey }),
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${ROTATOR_NAME}: least privilege on the configured secrets, its bus and its table`,
    });
    this.logGroup.grantWrite(this.role);

    const size = sizeForTargets(this.config);
    const timeout = props.timeout ?? Duration.seconds(size.timeoutSeconds);
    const failureDestination = new SqsDestination(this.failedInvocationQueue);
    this.orchestration = chooseOrchestration(this.config, props.orchestration);
    const viaStateMachine = this.orchestration === 'stateMachine';
    this.function = new NodejsFunction(this, 'Function', {
      description: 'Rotates Datagrid MCP server credentials from AWS Secrets Manager',
      code: rotatorCode(props.configFile),
      handler: LAMBDA_HANDLER,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? size.memoryMb,
      timeout,
      // Incidents never queue behind a routine run (the per-target leases keep runs apart); with the state machine
      // its shards run at once, with one slot left for the plan, the completion or an incident.
      reservedConcurrentExecutions:
        props.reservedConcurrentExecutions ?? (viaStateMachine ? mapConcurrency(this.config) + 1 : 4),
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
        [METRICS_DEPLOYMENT_ENV]: this.deploymentName,
        // Powertools Tracer: SDK calls and HTTP requests as subsegments of the Lambda trace.
        ...(props.tracing && { [TRACING_ENV]: 'true' }),
      },
      onFailure: failureDestination,
      retryAttempts: props.retryAttempts ?? 2,
      maxEventAge,
      // Old versions go with the alias update: the configuration they carry is history, not a rollback path.
      currentVersionOptions: { removalPolicy: RemovalPolicy.DESTROY },
      ...(props.vpc && { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups: props.securityGroups }),
    });
    this.scheduledFunction = scheduledInvocationAlias(this, this.function, {
      onFailure: failureDestination,
      maxEventAge,
    });
    this.secretMatchers = grantSecretAccess(this, this.role, {
      targetSecretIds,
      apiKeySecretId: this.config.datagrid.apiKeySecretId,
      keys: props.secretsEncryptionKeys ?? [],
      secrets: props.secrets ?? [],
      tag: props.secretAccessTag,
    });
    this.grantLeastPrivilege(props.tracing ?? false, eventSource);
    if (props.vpc) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason:
          'With `vpc` set, Lambda needs to create and delete its network interfaces; the AWS managed policy is the documented minimum and holds no data access.',
      });
    }
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
    // Scheduler writes its dead letters with this role: under a customer managed key it must be able to encrypt.
    encryptionKey?.grant(this.schedulerRole, 'kms:GenerateDataKey', 'kms:Decrypt');
    this.alarmTopic = props.alarmTopic ?? this.createAlarmTopic(encryptionKey);
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
    // Scheduled runs go to the alias that Lambda never retries: the next schedule is the retry.
    const scheduleTarget = (options: ScheduleTargetBaseProps): IScheduleTarget =>
      machine ? new StepFunctionsStartExecution(machine, options) : new LambdaInvoke(this.scheduledFunction, options);
    const scheduleEnabled = props.schedulesEnabled ?? true;
    this.rotationSchedule = this.schedule('RotationSchedule', {
      expression: props.rotationSchedule ?? DEFAULT_ROTATION_SCHEDULE,
      input: ROTATE_SCHEDULE_INPUT,
      description: `${ROTATOR_NAME}: scheduled rotation`,
      enabled: scheduleEnabled,
      maxEventAge,
      target: scheduleTarget,
    });
    this.auditSchedule = this.schedule('AuditSchedule', {
      expression: props.auditSchedule ?? DEFAULT_AUDIT_SCHEDULE,
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
      // Only the request sources: anyone else who may put events on a shared bus cannot force incident runs.
      eventPattern: rotationRequestedPattern(this.requestSources),
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

    const observed = {
      function: this.function,
      timeout,
      metricsNamespace,
      metricsDimensions: {
        [METRIC_DIMENSION.service]: ROTATOR_NAME,
        [METRIC_DIMENSION.deployment]: this.deploymentName,
      },
      triggerDeadLetterQueue: this.triggerDeadLetterQueue,
      failedInvocationQueue: this.failedInvocationQueue,
    };
    this.alarms = createRotatorAlarms(this, {
      ...observed,
      maxEventAge,
      topic: this.alarmTopic,
      heartbeatWindow: props.heartbeatWindow ?? Duration.hours(26),
      schedulesEnabled: scheduleEnabled,
    });
    this.dashboard = createRotatorDashboard(this, {
      ...observed,
      alarms: alarmList(this.alarms),
      ...(props.dashboardName && { dashboardName: props.dashboardName }),
    });
    if (props.resultLog) {
      this.resultLog = new ResultLog(this, 'ResultLog', {
        eventBus: this.eventBus,
        eventSource,
        retention: logRetention,
        ...(encryptionKey && { encryptionKey }),
      });
    }
  }

  /** The console address of the dashboard. */
  get dashboardUrl(): string {
    return dashboardUrl(this.dashboard);
  }

  /**
   * Lets `grantee` request runs: `events:PutEvents` on the bus for `MCP Rotation Requested` events whose `source` is
   * one of `requestSources`, and nothing else (no other detail-type, no result events in the rotator's name).
   */
  grantRequestRotation(grantee: IGrantable): Grant {
    return Grant.addToPrincipal({
      grantee,
      actions: ['events:PutEvents'],
      resourceArns: [this.eventBus.eventBusArn],
      conditions: putEventsConditions(this.requestSources, [DETAIL_TYPE.rotationRequested]),
    });
  }

  private deadLetterQueue(id: string, key: IKey | undefined): Queue {
    const queue = new Queue(this, id, {
      ...(key
        ? { encryption: QueueEncryption.KMS, encryptionMasterKey: key }
        : { encryption: QueueEncryption.SQS_MANAGED }),
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
      // Removes the run records a state machine run's shards share for haltAfterFailures; target items have none.
      timeToLiveAttribute: RUN_RECORD_EXPIRES_AT,
      ...(props.encryptionKey
        ? { encryption: TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: TableEncryption.AWS_MANAGED }),
      deletionProtection: props.stateTableDeletionProtection ?? true,
      removalPolicy: props.stateTableRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  private grantLeastPrivilege(tracing: boolean, eventSource: string): void {
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
    // Its own results under its own source only: never an `MCP Rotation Requested`, never another app's source.
    this.role.addToPolicy(putEventsStatement(this.eventBus, [eventSource], RESULT_DETAIL_TYPES, 'PutResultEvents'));
    // Exactly what lambda/adapters/state-dynamodb.ts sends (test/infra/construct.test.ts keeps the two in step).
    this.stateTable.grant(this.role, 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem');
    this.stateTable.encryptionKey?.grantEncryptDecrypt(this.role);
    if (this.stateTable.encryptionKey || this.failedInvocationQueue.encryptionMasterKey) {
      for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
        Validations.of(this.role).acknowledge({
          id: `AwsSolutions-IAM5[Action::${action}]`,
          reason:
            'The standard CDK grants for writing a KMS-encrypted SQS queue and reading/writing a KMS-encrypted DynamoDB table, on that one customer managed key only.',
        });
      }
    }
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

  private createAlarmTopic(key: IKey | undefined): Topic {
    // Without `encryptionKey` not KMS-encrypted: CloudWatch cannot publish to a topic under the AWS managed key, and
    // alarm messages carry alarm names and metric states only.
    return new Topic(this, 'AlarmTopic', {
      displayName: `${ROTATOR_NAME} alarms`,
      enforceSSL: true,
      ...(key && { masterKey: key }),
    });
  }
}
