/**
 * What `McpCredentialRotator` deploys, resource by resource and permission by permission (aws-cdk-lib/assertions),
 * with test/infra/fixtures/rotation.config.json: secrets named by name, by complete ARN and by partial ARN.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { Table, AttributeType } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Key } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../scripts/esbuild-options.ts';
import { ConfigError } from '../../lambda/errors.ts';
import type { RotatorFixture } from './helpers.ts';
import {
  INVALID_CONFIG,
  allStatements,
  asArray,
  deployed,
  roleStatements,
  rotatorStack,
  writeConfig,
} from './helpers.ts';
import { MAX_EVENT_PATTERN_LENGTH } from '../../infra/secret-events.ts';

const NAMED_SECRET_ARN = (name: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':secretsmanager:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:secret:${name}`,
    ],
  ],
});
const SALESFORCE_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:mcp/salesforce-AbCdEf';
const JIRA_PARTIAL_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:mcp/jira';

describe('McpCredentialRotator with its defaults', () => {
  let fx: RotatorFixture;
  beforeAll(() => {
    fx = rotatorStack();
  });

  describe('function', () => {
    it('is Node 24 on arm64 with handler.handler', () => {
      fx.template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'handler.handler',
      });
    });

    it('gets its config file, state table, results bus, event source and metrics namespace from the environment', () => {
      fx.template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: {
            ROTATION_CONFIG_FILE: '/var/task/rotation.config.json',
            STATE_TABLE_NAME: { Ref: fx.logicalId(fx.rotator.stateTable) },
            EVENT_BUS_NAME: { Ref: fx.logicalId(fx.rotator.eventBus) },
            EVENT_SOURCE: 'datagrid.mcp-rotator',
            METRICS_NAMESPACE: 'DatagridMcpRotator',
            METRICS_DEPLOYMENT: fx.rotator.deploymentName,
          },
        },
      });
    });

    it('is sized for the five targets: 256 MB, and one wave of the slowest target at worst (its change and its rollback) plus overhead', () => {
      // 60 s overhead + 2 × (120 s verify + 3 requests × (10 s × 4 attempts + 3.5 s backoff))
      fx.template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 256, Timeout: 561 });
    });

    it('reserves a concurrency of 4, so an incident never queues behind a running scheduled run', () => {
      fx.template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 4 });
    });

    it('logs JSON to its own log group kept for a year', () => {
      fx.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
      fx.template.hasResourceProperties('AWS::Lambda::Function', {
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: fx.logicalId(fx.rotator.logGroup) } },
      });
    });

    it('has no active tracing unless asked', () => {
      fx.template.hasResourceProperties('AWS::Lambda::Function', { TracingConfig: Match.absent() });
      fx.template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ ROTATOR_TRACING: Match.absent() }) },
      });
    });
  });

  describe('schedules', () => {
    const scheduleWith = (input: object) =>
      Object.values(fx.template.findResources('AWS::Scheduler::Schedule')).find(
        (schedule) => (schedule.Properties as { Target: { Input: string } }).Target.Input === JSON.stringify(input),
      ) as { Properties: Record<string, unknown> & { Target: Record<string, unknown> } } | undefined;

    it('rotates daily at 04:00 UTC, a maintenance window before the audit (never at deploy time), with {"action":"rotate","trigger":"schedule"}', () => {
      const rotation = scheduleWith({ action: 'rotate', trigger: 'schedule' });
      expect(rotation?.Properties.ScheduleExpression).toBe('cron(0 4 * * ? *)');
      expect(rotation?.Properties.ScheduleExpressionTimezone).toBe('Etc/UTC');
      expect(rotation?.Properties.State).toBe('ENABLED');
    });

    it('audits daily at 06:00 UTC with {"action":"audit","trigger":"schedule"}', () => {
      const audit = scheduleWith({ action: 'audit', trigger: 'schedule' });
      expect(audit?.Properties.ScheduleExpression).toBe('cron(0 6 * * ? *)');
      expect(audit?.Properties.ScheduleExpressionTimezone).toBe('Etc/UTC');
    });

    it('invoke the scheduled alias with a delivery retry policy and the trigger dead-letter queue', () => {
      fx.template.resourceCountIs('AWS::Scheduler::Schedule', 2);
      for (const input of [ROTATE, AUDIT]) {
        expect(scheduleWith(input)?.Properties.Target).toMatchObject({
          Arn: { Ref: fx.logicalId(fx.rotator.scheduledFunction) },
          RoleArn: { 'Fn::GetAtt': [fx.logicalId(fx.rotator.schedulerRole), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 3600 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [fx.logicalId(fx.rotator.triggerDeadLetterQueue), 'Arn'] } },
        });
      }
    });

    it('use a role that only invokes this function and writes dead letters', () => {
      const statements = roleStatements(fx.template, fx.logicalId(fx.rotator.schedulerRole));
      expect(statements.flatMap((s) => asArray(s.Action)).sort()).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
      const invoke = statements.find((s) => s.Action === 'lambda:InvokeFunction');
      expect(asArray(invoke?.Resource)).toEqual([{ Ref: fx.logicalId(fx.rotator.scheduledFunction) }]);
      fx.template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [
            Match.objectLike({
              Principal: { Service: 'scheduler.amazonaws.com' },
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            }),
          ],
        },
      });
    });
  });

  describe('results bus', () => {
    it('is created and archived for 365 days, all of its events', () => {
      fx.template.resourceCountIs('AWS::Events::EventBus', 1);
      fx.template.hasResourceProperties('AWS::Events::Archive', {
        SourceArn: { 'Fn::GetAtt': [fx.logicalId(fx.rotator.eventBus), 'Arn'] },
        RetentionDays: 365,
        EventPattern: { account: [{ Ref: 'AWS::AccountId' }] },
      });
    });

    it('carries MCP Rotation Requested from the request source only into the function', () => {
      fx.template.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: { Ref: fx.logicalId(fx.rotator.eventBus) },
        EventPattern: { source: ['datagrid.mcp-rotator.requests'], 'detail-type': ['MCP Rotation Requested'] },
        Targets: [ruleTarget(fx)],
      });
    });
  });

  describe('secret-change rules on the default bus', () => {
    const defaultBusRules = () =>
      Object.values(fx.template.findResources('AWS::Events::Rule', { Properties: { EventBusName: 'default' } })).map(
        (rule) => rule.Properties as { EventPattern: RulePattern; Targets: unknown[] },
      );
    it('match the native Secret Label Updated event moving AWSCURRENT of a configured target secret, by its name, in this account', () => {
      const rules = defaultBusRules();
      expect(rules).toHaveLength(1);
      expect(rules[0]?.EventPattern).toEqual({
        source: ['aws.secretsmanager'],
        'detail-type': ['Secret Label Updated'],
        account: [{ Ref: 'AWS::AccountId' }],
        // That event's `detail.name` is the friendly name: ARNs there could never match.
        detail: { labelUpdated: ['AWSCURRENT'], name: ['mcp/github', 'mcp/linear', 'mcp/jira', 'mcp/salesforce'] },
      });
      expect(rules[0]?.Targets).toEqual([ruleTarget(fx)]);
    });

    it('leave CloudTrail records out unless cloudTrailTriggers is on: one change starts one run', () => {
      expect(fx.rotator.secretApiCallRules).toEqual([]);
      expect(JSON.stringify(defaultBusRules())).not.toContain('CloudTrail');
    });

    it('leave the Datagrid API key secret out: changing it rotates nothing', () => {
      expect(JSON.stringify(defaultBusRules())).not.toContain('datagrid/api-key');
    });

    it('are the only rules on the default bus, and the function may be invoked by exactly the two rules', () => {
      expect(defaultBusRules()).toHaveLength(1);
      const permissions = Object.values(fx.template.findResources('AWS::Lambda::Permission'));
      expect(permissions).toHaveLength(2);
      for (const permission of permissions) {
        expect(permission.Properties).toMatchObject({
          Action: 'lambda:InvokeFunction',
          Principal: 'events.amazonaws.com',
          SourceArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] },
        });
      }
    });
  });

  describe('state table', () => {
    it('has partition key pk (String) only, on demand, with point-in-time recovery, encryption, deletion protection and TTL on expiresAt (run records)', () => {
      fx.template.hasResource('AWS::DynamoDB::Table', {
        Properties: {
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true },
          DeletionProtectionEnabled: true,
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        },
        DeletionPolicy: 'Retain',
      });
    });
  });

  describe('failure handling', () => {
    it('sends failed asynchronous invocations to the failed-invocation queue after 2 retries, within an hour', () => {
      fx.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: fx.logicalId(fx.rotator.function) },
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 3600,
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': [fx.logicalId(fx.rotator.failedInvocationQueue), 'Arn'] } },
        },
      });
    });

    it('encrypts both dead-letter queues and refuses them any request without TLS', () => {
      fx.template.resourceCountIs('AWS::SQS::Queue', 2);
      for (const queue of [fx.rotator.failedInvocationQueue, fx.rotator.triggerDeadLetterQueue]) {
        fx.template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
        fx.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: fx.logicalId(queue) }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
            ]),
          },
        });
      }
    });
  });

  describe('alarms', () => {
    const alarmOn = (metricName: string, extra: Record<string, unknown> = {}) =>
      fx.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metricName,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: fx.logicalId(fx.rotator.alarmTopic) }],
        OKActions: [{ Ref: fx.logicalId(fx.rotator.alarmTopic) }],
        ...extra,
      });

    it('fires on any function error', () => {
      alarmOn('Errors', {
        Namespace: 'AWS/Lambda',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fx.logicalId(fx.rotator.function) } }],
      });
    });

    it("fires on the rotator's RotationsFailed, RotationsSkipped and AuditNoncompliant >= 1 (namespace DatagridMcpRotator, service and deployment dimensions)", () => {
      for (const metric of ['RotationsFailed', 'RotationsSkipped', 'AuditNoncompliant']) {
        alarmOn(metric, {
          Namespace: 'DatagridMcpRotator',
          Dimensions: [
            { Name: 'deployment', Value: fx.rotator.deploymentName },
            { Name: 'service', Value: 'datagrid-mcp-rotator' },
          ],
          Statistic: 'Sum',
        });
      }
    });

    it('fires on every new message in either dead-letter queue (messages sent, not the depth, so a second one notifies again)', () => {
      for (const queue of [fx.rotator.failedInvocationQueue, fx.rotator.triggerDeadLetterQueue]) {
        alarmOn('NumberOfMessagesSent', {
          Namespace: 'AWS/SQS',
          Statistic: 'Sum',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [fx.logicalId(queue), 'QueueName'] } }],
        });
      }
      expect(JSON.stringify(fx.template.findResources('AWS::CloudWatch::Alarm'))).not.toContain(
        'ApproximateNumberOfMessagesVisible',
      );
    });

    it('notify a created topic that accepts TLS publishing only', () => {
      fx.template.resourceCountIs('AWS::SNS::Topic', 1);
      fx.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });
  });

  describe('IAM least privilege of the function', () => {
    const statements = () => roleStatements(fx.template, fx.logicalId(fx.rotator.role));
    const withAction = (action: string) => statements().filter((s) => asArray(s.Action).includes(action));

    it('reads the values of the configured secrets only, names resolved to their ARN pattern, and never describes one', () => {
      const reads = withAction('secretsmanager:GetSecretValue');
      expect(reads.map((s) => [s.Sid, s.Action, s.Condition])).toEqual([
        ['ReadTargetSecrets', 'secretsmanager:GetSecretValue', undefined],
        ['ReadDatagridApiKey', 'secretsmanager:GetSecretValue', undefined],
      ]);
      expect(asArray(reads[0]?.Resource)).toEqual(
        expect.arrayContaining([
          NAMED_SECRET_ARN('mcp/github-??????'),
          NAMED_SECRET_ARN('mcp/linear-??????'),
          SALESFORCE_ARN,
          `${JIRA_PARTIAL_ARN}-??????`,
        ]),
      );
      expect(asArray(reads[0]?.Resource)).toHaveLength(4);
      expect(reads[1]?.Resource).toEqual(NAMED_SECRET_ARN('datagrid/api-key-??????'));
      // Nothing calls DescribeSecret (the adapters' calls are checked below).
      expect(withAction('secretsmanager:DescribeSecret')).toEqual([]);
    });

    it('may call BatchGetSecretValue, which supports no resource restriction, and nothing else on *', () => {
      const onStar = statements().filter((s) => asArray(s.Resource).includes('*'));
      expect(onStar.map((s) => s.Action)).toEqual(['secretsmanager:BatchGetSecretValue']);
    });

    it('has no KMS permission when no key is given', () => {
      expect(
        statements()
          .flatMap((s) => asArray(s.Action))
          .filter((a) => a.startsWith('kms:')),
      ).toEqual([]);
    });

    it('puts events on the results bus only', () => {
      expect(withAction('events:PutEvents')).toEqual([
        expect.objectContaining({ Resource: { 'Fn::GetAtt': [fx.logicalId(fx.rotator.eventBus), 'Arn'] } }),
      ]);
    });

    it('reads and updates items of the state table only, and cannot delete, put or scan', () => {
      const dynamo = statements().filter((s) => asArray(s.Action).some((a) => a.startsWith('dynamodb:')));
      expect(dynamo).toHaveLength(1);
      expect(asArray(dynamo[0]?.Action).sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:UpdateItem']);
      expect(dynamo[0]?.Resource).toEqual({ 'Fn::GetAtt': [fx.logicalId(fx.rotator.stateTable), 'Arn'] });
    });

    it('writes only to its own log group, with no managed policy', () => {
      const logs = statements().filter((s) => asArray(s.Action).some((a) => a.startsWith('logs:')));
      expect(logs).toEqual([
        expect.objectContaining({
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [fx.logicalId(fx.rotator.logGroup), 'Arn'] },
        }),
      ]);
      fx.template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: Match.objectLike({
          Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
        }),
        ManagedPolicyArns: Match.absent(),
      });
    });

    it('is granted every AWS API call the Lambda adapters make', () => {
      const granted = new Set(statements().flatMap((s) => asArray(s.Action)));
      const called = sdkCallsOfAdapters();
      expect(called.length).toBeGreaterThanOrEqual(5);
      expect(called.filter((action) => !granted.has(action))).toEqual([]);
    });

    it('grants no * action anywhere in the template (the TLS-enforcing Deny statements aside)', () => {
      const allows = allStatements(fx.template).filter((s) => s.Effect === 'Allow');
      expect(allows.length).toBeGreaterThan(5);
      expect(allows.flatMap((s) => asArray(s.Action)).filter((action) => action.includes('*'))).toEqual([]);
    });
  });
});

const IAM_PREFIX: Record<string, string> = {
  'client-dynamodb': 'dynamodb',
  'client-secrets-manager': 'secretsmanager',
  'client-eventbridge': 'events',
};

/** `service:Action` for every `…Command` the adapters import from an AWS SDK client. */
function sdkCallsOfAdapters(): string[] {
  const dir = join(PROJECT_ROOT, 'lambda', 'adapters');
  const imports = /^import \{([^}]+)\} from '@aws-sdk\/(client-[a-z-]+)';$/gm;
  return readdirSync(dir)
    .filter((file) => file.endsWith('.ts'))
    .flatMap((file) =>
      [...readFileSync(join(dir, file), 'utf8').matchAll(imports)].flatMap(([, names, client]) =>
        (names ?? '')
          .split(',')
          .map((name) => name.trim())
          .filter((name) => name.endsWith('Command'))
          .map((name) => `${IAM_PREFIX[client ?? ''] ?? client}:${name.replace(/Command$/, '')}`),
      ),
    );
}

/** A rule's EventPattern as the template holds it. */
interface RulePattern {
  'detail-type': string[];
  detail: Record<string, unknown>;
  [key: string]: unknown;
}

const ROTATE = { action: 'rotate', trigger: 'schedule' };
const AUDIT = { action: 'audit', trigger: 'schedule' };

function ruleTarget(fx: RotatorFixture) {
  return {
    Id: 'Target0',
    Arn: { 'Fn::GetAtt': [fx.logicalId(fx.rotator.function), 'Arn'] },
    DeadLetterConfig: { Arn: { 'Fn::GetAtt': [fx.logicalId(fx.rotator.triggerDeadLetterQueue), 'Arn'] } },
    RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 3600 },
  };
}

describe('McpCredentialRotator with resources passed in and props set', () => {
  let fx: RotatorFixture;
  beforeAll(() => {
    fx = rotatorStack(
      {
        archiveRetention: Duration.days(30),
        eventSource: 'acme.rotator',
        metricsNamespace: 'Acme/Rotator',
        rotationSchedule: ScheduleExpression.rate(Duration.hours(12)),
        auditSchedule: ScheduleExpression.expression('cron(30 2 ? * MON *)'),
        schedulesEnabled: false,
        memorySize: 1024,
        timeout: Duration.minutes(10),
        reservedConcurrentExecutions: 2,
        retryAttempts: 0,
        maxEventAge: Duration.minutes(30),
        logRetention: RetentionDays.ONE_MONTH,
        tracing: true,
      },
      (stack) => ({
        eventBus: EventBus.fromEventBusName(stack, 'Bus', 'shared-bus'),
        stateTable: new Table(stack, 'SharedTable', {
          partitionKey: { name: 'pk', type: AttributeType.STRING },
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        alarmTopic: Topic.fromTopicArn(stack, 'Topic', 'arn:aws:sns:eu-west-1:111122223333:oncall'),
        secretsEncryptionKeys: [Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd')],
      }),
    );
  });

  it('uses the given bus: creates none, emits to it, and archives only its own events there for the given retention', () => {
    fx.template.resourceCountIs('AWS::Events::EventBus', 0);
    fx.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ EVENT_BUS_NAME: 'shared-bus', EVENT_SOURCE: 'acme.rotator' }) },
    });
    fx.template.hasResourceProperties('AWS::Events::Archive', {
      RetentionDays: 30,
      EventPattern: { source: ['acme.rotator'] },
    });
    fx.template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: 'shared-bus',
      EventPattern: { 'detail-type': ['MCP Rotation Requested'] },
    });
  });

  it('uses the given table and grants on it', () => {
    fx.template.resourceCountIs('AWS::DynamoDB::Table', 1);
    fx.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ STATE_TABLE_NAME: { Ref: fx.logicalId(fx.rotator.stateTable) } }) },
    });
    expect(fx.rotator.stateTable.node.id).toBe('SharedTable');
  });

  it('notifies the given topic and creates none', () => {
    fx.template.resourceCountIs('AWS::SNS::Topic', 0);
    for (const alarm of Object.values(fx.template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:111122223333:oncall']);
    }
  });

  it('alarms on the rotator metrics in the given namespace, which the function is told', () => {
    fx.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'RotationsFailed',
      Namespace: 'Acme/Rotator',
    });
    fx.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ METRICS_NAMESPACE: 'Acme/Rotator' }) },
    });
  });

  it('may decrypt with the given key only through Secrets Manager', () => {
    const kms = roleStatements(fx.template, fx.logicalId(fx.rotator.role)).filter((s) =>
      asArray(s.Action).some((a) => a.startsWith('kms:')),
    );
    expect(kms).toEqual([
      expect.objectContaining({
        Action: 'kms:Decrypt',
        Resource: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd',
        Condition: {
          StringEquals: {
            'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
          },
        },
      }),
    ]);
  });

  it('applies the sizing, concurrency, retry, log and tracing props', () => {
    fx.template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 1024,
      Timeout: 600,
      ReservedConcurrentExecutions: 2,
      TracingConfig: { Mode: 'Active' },
      // Powertools Tracer in the handler: SDK and HTTP calls as subsegments.
      Environment: { Variables: Match.objectLike({ ROTATOR_TRACING: 'true' }) },
    });
    fx.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 1800,
    });
    fx.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('applies the schedule props, disabled', () => {
    fx.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(12 hours)',
      State: 'DISABLED',
    });
    fx.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 2 ? * MON *)',
      State: 'DISABLED',
      Target: Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 1800 } }),
    });
  });

  it('still grants no * action, X-Ray included', () => {
    const allows = allStatements(fx.template).filter((s) => s.Effect === 'Allow');
    expect(allows.flatMap((s) => asArray(s.Action)).filter((action) => action.includes('*'))).toEqual([]);
  });
});

describe('McpCredentialRotator configuration handling', () => {
  it('fails with the handler’s ConfigError message when the config file is invalid', () => {
    let thrown: unknown;
    try {
      rotatorStack({ configFile: INVALID_CONFIG });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toMatch(new RegExp(`^Invalid rotation config ${INVALID_CONFIG}:`));
    expect((thrown as Error).message).toContain('datagrid.baseUrl');
  });

  it.each([
    ['a wildcard secretId, which would grant every matching secret', { secretId: 'mcp/*' }, {}, 'targets[0].secretId'],
    ['a "#" in an id', { teamspaceId: 'ts#1' }, {}, 'targets[0].teamspaceId'],
    [
      'a baseUrl with user info, which would ship a credential in the asset',
      {},
      { baseUrl: 'https://user:pass@api.datagrid.com/v1' },
      'datagrid.baseUrl',
    ],
    ['a wildcard apiKeySecretId', {}, { apiKeySecretId: 'datagrid/*' }, 'datagrid.apiKeySecretId'],
  ])('refuses to synthesize %s, naming the field', (_, target, datagrid, field) => {
    const configFile = writeConfig({
      datagrid: { apiKeySecretId: 'datagrid/api-key', ...datagrid },
      targets: [{ serverId: 'srv_1', secretId: 'mcp/one', ...target }],
    });
    expect(() => rotatorStack({ configFile })).toThrow(ConfigError);
    expect(() => rotatorStack({ configFile })).toThrow(new RegExp(`\\n${field.replace(/[.[\]]/g, '\\$&')}: `));
  });

  it('deletion protection of the created table can be turned off', () => {
    const { template } = rotatorStack({ stateTableDeletionProtection: false });
    template.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
  });

  it('grants and matches 60 secrets by their common name prefixes, reports them at synth, and sizes for 60 targets', () => {
    const secretIds = Array.from({ length: 60 }, (_, i) => `mcp/tenant-${String(i).padStart(3, '0')}/credential`);
    const configFile = writeConfig({
      datagrid: { apiKeySecretId: 'datagrid/api-key' },
      targets: secretIds.map((secretId, i) => ({ serverId: `srv_${i}`, secretId })),
    });
    const { rotator, template, stack } = rotatorStack({ configFile, cloudTrailTriggers: true });
    const prefixes = rotator.secretMatchers.map((m) => `${m.name}${m.exact ? '' : '*'}`);
    expect(prefixes).toEqual([
      'mcp/tenant-00*',
      'mcp/tenant-01*',
      'mcp/tenant-02*',
      'mcp/tenant-03*',
      'mcp/tenant-04*',
      'mcp/tenant-05*',
    ]);
    const read = roleStatements(template, stack.getLogicalId(rotator.role.node.defaultChild as never)).find(
      (s) => s.Sid === 'ReadTargetSecrets',
    );
    expect(asArray(read?.Resource)).toEqual(prefixes.map((p) => NAMED_SECRET_ARN(p)));
    expect(rotator.secretLabelUpdatedRules).toHaveLength(1);
    // Three ARN fields per prefix: the CloudTrail pattern needs a second rule to stay within the length limit.
    expect(rotator.secretApiCallRules).toHaveLength(2);
    const patterns = Object.values(
      template.findResources('AWS::Events::Rule', { Properties: { EventBusName: 'default' } }),
    ).map((rule) => (rule.Properties as { EventPattern: RulePattern }).EventPattern);
    expect(patterns).toHaveLength(3);
    for (const pattern of patterns) {
      expect(JSON.stringify(deployed(pattern)).length).toBeLessThanOrEqual(MAX_EVENT_PATTERN_LENGTH);
    }
    expect(patterns.find((p) => p['detail-type'][0] === 'Secret Label Updated')?.detail.name).toEqual(
      prefixes.map((p) => ({ prefix: p.replace(/\*$/, '') })),
    );
    Annotations.fromStack(stack).hasInfo(
      '/TestStack/Rotator',
      Match.stringLikeRegexp(
        '60 target secret\\(s\\) granted and matched as 6 name\\(s\\) or prefix\\(es\\): mcp/tenant-00\\* \\(10 configured secrets\\)',
      ),
    );
    expect(rotator.secrets).toHaveLength(61);
    // 60 targets, 8 at a time: 8 waves of 2 × (60 s + 40 s) exceed Lambda's 15 minutes.
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512, Timeout: 900 });
  });

  it('matches CloudTrail records too when cloudTrailTriggers is on: a name where the caller passes one, ARNs by prefix', () => {
    const { template } = rotatorStack({ cloudTrailTriggers: true });
    const arn = (name: string) => ({ prefix: NAMED_SECRET_ARN(name) });
    const localArns = [arn('mcp/github'), arn('mcp/linear')];
    const arns = [
      { prefix: JIRA_PARTIAL_ARN },
      { prefix: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:mcp/salesforce' },
    ];
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: 'default',
      EventPattern: {
        source: ['aws.secretsmanager'],
        'detail-type': ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'],
        account: [{ Ref: 'AWS::AccountId' }],
        detail: {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: ['RotationSucceeded', 'PutSecretValue', 'UpdateSecretVersionStage'],
          $or: [
            { requestParameters: { secretId: [...names(), ...localArns, ...arns] } },
            { additionalEventData: { SecretId: [...localArns, ...arns] } },
            { responseElements: { arn: [...localArns, ...arns] } },
          ],
        },
      },
    });
  });
});

const names = () => ['mcp/github', 'mcp/linear', 'mcp/jira', 'mcp/salesforce'];
