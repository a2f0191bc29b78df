/**
 * What an enterprise platform team signs off on, beyond least privilege: incidents that never queue behind routine
 * runs, scheduled runs Lambda never retries, alarms that catch silence and noise, metrics two deployments never
 * share, who may put what on the bus, the compliance record, the enterprise options and the dashboard.
 */
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SecurityGroup, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { McpCredentialRotator } from '../../infra/mcp-credential-rotator.ts';
import { createRotatorMetrics } from '../../lambda/metrics.ts';
import type { RotatorFixture } from './helpers.ts';
import { FIXTURE_CONFIG, SKIP_BUNDLING, asArray, cdkJsonContext, roleStatements, rotatorStack } from './helpers.ts';

/** A stack to add constructs to before its template is taken (rotatorStack synthesizes at once). */
function openStack(): Stack {
  return new Stack(new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } }), 'Open');
}

type Resource = { Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
type AlarmProps = {
  MetricName: string;
  Namespace: string;
  Statistic?: string;
  Threshold: number;
  ComparisonOperator: string;
  EvaluationPeriods: number;
  Period: number;
  TreatMissingData: string;
  ActionsEnabled: boolean;
  AlarmActions: unknown[];
  OKActions: unknown[];
  Dimensions: { Name: string; Value: unknown }[];
};

function alarms(fx: RotatorFixture): AlarmProps[] {
  return Object.values(fx.template.findResources('AWS::CloudWatch::Alarm')).map(
    (alarm) => (alarm as Resource).Properties as AlarmProps,
  );
}

function alarmOn(fx: RotatorFixture, metricName: string): AlarmProps {
  const found = alarms(fx).filter((alarm) => alarm.MetricName === metricName);
  expect(found, `one alarm on ${metricName}`).toHaveLength(1);
  return found[0]!;
}

describe('with its defaults', () => {
  let fx: RotatorFixture;
  beforeAll(() => {
    fx = rotatorStack();
  });

  describe('incidents never queue behind routine runs', () => {
    it('alarms when an asynchronous trigger waited 5 minutes or more (AsyncEventAge, maximum)', () => {
      expect(alarmOn(fx, 'AsyncEventAge')).toMatchObject({
        Namespace: 'AWS/Lambda',
        Statistic: 'Maximum',
        Threshold: 300_000,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fx.logicalId(fx.rotator.function) } }],
      });
    });

    it('alarms when Lambda gives up on any asynchronous trigger (AsyncEventsDropped)', () => {
      expect(alarmOn(fx, 'AsyncEventsDropped')).toMatchObject({ Statistic: 'Sum', Threshold: 1 });
    });
  });

  describe('scheduled runs are not retried by Lambda; rule-triggered runs are', () => {
    const invokeConfigs = () =>
      Object.values(fx.template.findResources('AWS::Lambda::EventInvokeConfig')).map(
        (config) => (config as Resource).Properties,
      );

    it('the schedules invoke an alias of the current version whose async invocations get 0 retries', () => {
      fx.template.hasResourceProperties('AWS::Lambda::Alias', {
        Name: 'scheduled',
        FunctionName: { Ref: fx.logicalId(fx.rotator.function) },
      });
      const aliasConfig = invokeConfigs().find((config) => config.Qualifier !== '$LATEST');
      expect(aliasConfig).toMatchObject({
        MaximumRetryAttempts: 0,
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': [fx.logicalId(fx.rotator.failedInvocationQueue), 'Arn'] } },
        },
      });
      expect(JSON.stringify(aliasConfig?.Qualifier)).toContain(fx.logicalId(fx.rotator.scheduledFunction));
      for (const schedule of Object.values(fx.template.findResources('AWS::Scheduler::Schedule'))) {
        expect((schedule as Resource).Properties.Target).toMatchObject({
          Arn: { Ref: fx.logicalId(fx.rotator.scheduledFunction) },
        });
      }
    });

    it('incident requests and secret changes invoke the unqualified function, which keeps 2 retries', () => {
      expect(invokeConfigs().find((config) => config.Qualifier === '$LATEST')).toMatchObject({
        MaximumRetryAttempts: 2,
      });
      const rules = Object.values(fx.template.findResources('AWS::Events::Rule')).map(
        (rule) => (rule as Resource).Properties as { Targets: { Arn: unknown }[] },
      );
      // The request rule and the native secret-change rule (CloudTrail rules are opt-in).
      expect(rules.length).toBeGreaterThanOrEqual(2);
      for (const rule of rules) {
        expect(rule.Targets[0]?.Arn).toEqual({ 'Fn::GetAtt': [fx.logicalId(fx.rotator.function), 'Arn'] });
      }
    });
  });

  describe('alarms catch silence and noise', () => {
    it('every alarm notifies the topic when it fires and when it clears', () => {
      const topic = { Ref: fx.logicalId(fx.rotator.alarmTopic) };
      expect(alarms(fx).length).toBe(12);
      for (const alarm of alarms(fx)) {
        expect(alarm.AlarmActions, alarm.MetricName).toEqual([topic]);
        expect(alarm.OKActions, alarm.MetricName).toEqual([topic]);
      }
    });

    it('a heartbeat fires when no run completed in 26 hours, missing data breaching (a disabled or deleted schedule)', () => {
      expect(alarmOn(fx, 'RunDurationMs')).toMatchObject({
        Namespace: 'DatagridMcpRotator',
        Statistic: 'SampleCount',
        Period: 3600,
        EvaluationPeriods: 26,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
        ActionsEnabled: true,
      });
    });

    it('alarms on destination delivery failures and throttles', () => {
      for (const metric of ['DestinationDeliveryFailures', 'Throttles']) {
        expect(alarmOn(fx, metric)).toMatchObject({ Namespace: 'AWS/Lambda', Statistic: 'Sum', Threshold: 1 });
      }
    });

    it('alarms when a run takes 90% of the timeout (561 s here)', () => {
      expect(alarmOn(fx, 'Duration')).toMatchObject({
        Namespace: 'AWS/Lambda',
        Statistic: 'Maximum',
        Threshold: 504_900,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    });

    it('alarms on a skipped target (a DEADLINE skip rotates nothing), not on the targets a dry run planned', () => {
      expect(alarmOn(fx, 'RotationsSkipped')).toMatchObject({ Statistic: 'Sum', Threshold: 1 });
      expect(alarms(fx).filter((alarm) => alarm.MetricName === 'RotationsPlanned')).toEqual([]);
    });

    it('every alarm but the heartbeat treats missing data as OK', () => {
      for (const alarm of alarms(fx).filter((a) => a.MetricName !== 'RunDurationMs')) {
        expect(alarm.TreatMissingData, alarm.MetricName).toBe('notBreaching');
      }
    });
  });

  describe('metrics per deployment', () => {
    it('the handler, run with the environment the function gets, publishes exactly the dimensions the alarms watch', () => {
      const fnResource = Object.values(fx.template.findResources('AWS::Lambda::Function'))[0] as Resource;
      const env = (fnResource.Properties.Environment as { Variables: Record<string, string> }).Variables;
      const lines: string[] = [];
      vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      });
      const metrics = createRotatorMetrics({
        METRICS_NAMESPACE: env.METRICS_NAMESPACE,
        METRICS_DEPLOYMENT: env.METRICS_DEPLOYMENT,
      });
      metrics.addMetric('RotationsFailed', MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
      vi.restoreAllMocks();
      const emf = JSON.parse(lines.find((line) => line.includes('_aws')) ?? '{}') as Record<string, unknown> & {
        _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };
      };
      const published = Object.fromEntries(
        (emf._aws.CloudWatchMetrics[0]?.Dimensions[0] ?? []).map((name) => [name, emf[name]]),
      );
      const alarm = alarmOn(fx, 'RotationsFailed');
      expect(alarm.Namespace).toBe(emf._aws.CloudWatchMetrics[0]?.Namespace);
      expect(Object.fromEntries(alarm.Dimensions.map((d) => [d.Name, d.Value]))).toEqual(published);
      expect(published.deployment).toBe(fx.rotator.deploymentName);
    });

    it('two rotators in one account get different deployment dimensions, and their alarms watch only their own', () => {
      const stack = openStack();
      const first = new McpCredentialRotator(stack, 'Blue', { configFile: FIXTURE_CONFIG });
      const second = new McpCredentialRotator(stack, 'Green', { configFile: FIXTURE_CONFIG });
      expect(first.deploymentName).not.toBe(second.deploymentName);
      const template = Template.fromStack(stack);
      const deploymentsOf = (alarmsOf: McpCredentialRotator) =>
        Object.values(alarmsOf.alarms)
          .map((alarm) => stack.resolve((alarm.node.defaultChild as { dimensions?: unknown }).dimensions))
          .filter((dims): dims is { name: string; value: string }[] => Array.isArray(dims))
          .flatMap((dims) => dims.filter((d) => d.name === 'deployment').map((d) => d.value));
      expect(new Set(deploymentsOf(first))).toEqual(new Set([first.deploymentName]));
      expect(new Set(deploymentsOf(second))).toEqual(new Set([second.deploymentName]));
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ METRICS_DEPLOYMENT: second.deploymentName }) },
      });
    });
  });

  describe('who may put what on the bus', () => {
    it('the function may put only its three result detail-types under its own source', () => {
      const puts = roleStatements(fx.template, fx.logicalId(fx.rotator.role)).filter((s) =>
        asArray(s.Action).includes('events:PutEvents'),
      );
      expect(puts).toEqual([
        expect.objectContaining({
          Resource: { 'Fn::GetAtt': [fx.logicalId(fx.rotator.eventBus), 'Arn'] },
          Condition: {
            StringEquals: {
              'events:source': ['datagrid.mcp-rotator'],
              'events:detail-type': [
                'MCP Credential Rotation Result',
                'MCP Credential Audit Result',
                'MCP Rotation Run Completed',
              ],
            },
          },
        }),
      ]);
    });

    it('grantRequestRotation lets a principal send MCP Rotation Requested with a request source, and nothing else', () => {
      const stack = openStack();
      const rotator = new McpCredentialRotator(stack, 'Rotator', {
        configFile: FIXTURE_CONFIG,
        requestSources: ['acme.oncall', 'acme.soar'],
      });
      const oncall = new Role(stack, 'Oncall', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
      rotator.grantRequestRotation(oncall);
      const template = Template.fromStack(stack);
      const logicalId = (construct: { node: { defaultChild?: unknown } }) =>
        stack.getLogicalId(construct.node.defaultChild as never);
      const statements = roleStatements(template, logicalId(oncall));
      expect(statements).toEqual([
        expect.objectContaining({
          Effect: 'Allow',
          Action: 'events:PutEvents',
          Resource: { 'Fn::GetAtt': [logicalId(rotator.eventBus), 'Arn'] },
          Condition: {
            StringEquals: {
              'events:source': ['acme.oncall', 'acme.soar'],
              'events:detail-type': ['MCP Rotation Requested'],
            },
          },
        }),
      ]);
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { source: ['acme.oncall', 'acme.soar'], 'detail-type': ['MCP Rotation Requested'] },
      });
    });

    it.each([
      [[], /at least one source/],
      [['datagrid.mcp-rotator'], /rotator's own eventSource/],
      [['aws.secretsmanager'], /reserved for AWS services/],
      [[' '], /a source is empty/],
    ])('rejects requestSources %j', (requestSources, message) => {
      expect(() => rotatorStack({ requestSources })).toThrow(message);
    });
  });

  describe('the compliance record', () => {
    it('the archive, and the bus it archives, are retained when they leave the stack', () => {
      const archive = Object.values(fx.template.findResources('AWS::Events::Archive'))[0] as Resource;
      expect(archive.DeletionPolicy).toBe('Retain');
      expect(archive.UpdateReplacePolicy).toBe('Retain');
      const bus = Object.values(fx.template.findResources('AWS::Events::EventBus'))[0] as Resource;
      expect(bus.DeletionPolicy).toBe('Retain');
    });

    it('no result log unless asked', () => {
      expect(fx.rotator.resultLog).toBeUndefined();
      fx.template.resourceCountIs('AWS::Logs::ResourcePolicy', 0);
    });
  });

  describe('dashboard', () => {
    it('shows outcomes, compliance, duration against the timeout, dead letters, errors, throttles and the alarms', () => {
      const dashboards = Object.values(fx.template.findResources('AWS::CloudWatch::Dashboard'));
      expect(dashboards).toHaveLength(1);
      const body = JSON.stringify(fx.stack.resolve((dashboards[0] as Resource).Properties.DashboardBody));
      for (const expected of [
        'RotationsSucceeded',
        'RotationsUnchanged',
        'RotationsSkipped',
        'RotationsPlanned',
        'RotationsFailed',
        'AuditCompliant',
        'AuditNoncompliant',
        'RunDurationMs',
        'ApproximateNumberOfMessagesVisible',
        'Throttles',
        'Errors',
        'AsyncEventsDropped',
        'timeout',
        '561000',
        fx.rotator.deploymentName,
      ]) {
        expect(body, expected).toContain(expected);
      }
      for (const alarm of Object.keys(fx.template.findResources('AWS::CloudWatch::Alarm'))) {
        expect(body, alarm).toContain(alarm);
      }
    });

    it('has a console address', () => {
      expect(fx.stack.resolve(fx.rotator.dashboardUrl)).toEqual({
        'Fn::Join': [
          '',
          [
            'https://console.aws.amazon.com/cloudwatch/home?region=',
            { Ref: 'AWS::Region' },
            '#dashboards/dashboard/',
            { Ref: fx.logicalId(fx.rotator.dashboard) },
          ],
        ],
      });
    });
  });
});

describe('with the schedules disabled (first deploy)', () => {
  it('keeps the heartbeat alarm but silences its actions: nothing runs by design', () => {
    const fx = rotatorStack({ schedulesEnabled: false });
    expect(alarmOn(fx, 'RunDurationMs').ActionsEnabled).toBe(false);
    expect(alarmOn(fx, 'RotationsFailed').ActionsEnabled).toBe(true);
  });
});

describe('the heartbeat window', () => {
  it.each([
    [Duration.days(7), 168],
    [Duration.minutes(167 * 60 + 1), 168],
    [Duration.minutes(90), 2],
    [Duration.seconds(1), 1],
  ])('a heartbeat window of %s is rounded up to %i one-hour periods', (heartbeatWindow, periods) => {
    const fx = rotatorStack({ heartbeatWindow });
    const heartbeat = alarmOn(fx, 'RunDurationMs');
    expect(heartbeat.Period).toBe(3600);
    expect(heartbeat.EvaluationPeriods).toBe(periods);
  });

  // CloudWatch refuses an alarm that evaluates more than 7 days: caught at synth, not at deploy.
  it.each([
    [Duration.days(8), /Invalid heartbeatWindow: Duration\.days\(8\) \(192 hours\) is outside the allowed range/],
    [
      Duration.minutes(168 * 60 + 1),
      /Invalid heartbeatWindow: Duration\.minutes\(10081\) \(168\.02 hours\) is outside/,
    ],
    [Duration.hours(0), /Invalid heartbeatWindow: Duration\.hours\(0\) \(0 hours\)/],
  ])('rejects a heartbeat window of %s, naming the allowed range', (heartbeatWindow, message) => {
    expect(() => rotatorStack({ heartbeatWindow })).toThrow(message);
    expect(() => rotatorStack({ heartbeatWindow })).toThrow(
      'more than 0 and at most 168 hours (7 days) once rounded up to whole hours',
    );
  });
});

describe('with the enterprise options', () => {
  let fx: RotatorFixture;
  let key: Key;
  beforeAll(() => {
    fx = rotatorStack({ resultLog: true, archiveRemovalPolicy: RemovalPolicy.DESTROY }, (stack) => {
      key = new Key(stack, 'Cmk', { enableKeyRotation: true });
      const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2 });
      return {
        encryptionKey: key,
        vpc,
        vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups: [new SecurityGroup(stack, 'Egress', { vpc })],
      };
    });
  });
  const keyArn = () => ({ 'Fn::GetAtt': [fx.stack.getLogicalId(key.node.defaultChild as never), 'Arn'] });

  it('runs the function in the given VPC subnets and security groups', () => {
    fx.template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: {
        SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Egress'), 'GroupId'] }],
        SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('PrivateSubnet') }]),
      },
    });
  });

  it('encrypts the table, both queues, the topic, the log groups and the archive with the customer managed key', () => {
    fx.template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn() },
    });
    const queues = Object.values(fx.template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(2);
    for (const queue of queues) expect((queue as Resource).Properties.KmsMasterKeyId).toEqual(keyArn());
    fx.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: keyArn() });
    const logGroups = Object.values(fx.template.findResources('AWS::Logs::LogGroup'));
    expect(logGroups).toHaveLength(2);
    for (const group of logGroups) expect((group as Resource).Properties.KmsKeyId).toEqual(keyArn());
    fx.template.hasResourceProperties('AWS::Events::Archive', { KmsKeyIdentifier: keyArn() });
  });

  it('lets CloudWatch (alarms to the topic), EventBridge (dead letters, archive) and CloudWatch Logs use the key', () => {
    const keyPolicy = JSON.stringify(
      (fx.template.findResources('AWS::KMS::Key')[fx.stack.getLogicalId(key.node.defaultChild as never)] as Resource)
        .Properties.KeyPolicy,
    );
    for (const principal of ['cloudwatch.amazonaws.com', 'events.amazonaws.com', 'logs.']) {
      expect(keyPolicy, principal).toContain(principal);
    }
  });

  it('lets the scheduler role encrypt its dead letters with the key', () => {
    const kms = roleStatements(fx.template, fx.logicalId(fx.rotator.schedulerRole)).filter((s) =>
      asArray(s.Action).some((a) => a.startsWith('kms:')),
    );
    expect(kms).toEqual([
      expect.objectContaining({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: keyArn() }),
    ]);
  });

  it('the archive follows archiveRemovalPolicy', () => {
    const archive = Object.values(fx.template.findResources('AWS::Events::Archive'))[0] as Resource;
    expect(archive.DeletionPolicy).toBe('Delete');
  });

  it('copies the result events (only this source, only results) to a /aws/events/ log group that only this rule may write', () => {
    const resultLog = fx.rotator.resultLog!;
    const ruleId = fx.stack.getLogicalId(resultLog.rule.node.defaultChild as never);
    const logGroupId = fx.stack.getLogicalId(resultLog.logGroup.node.defaultChild as never);
    fx.template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: fx.logicalId(fx.rotator.eventBus) },
      EventPattern: {
        source: ['datagrid.mcp-rotator'],
        'detail-type': ['MCP Credential Rotation Result', 'MCP Credential Audit Result', 'MCP Rotation Run Completed'],
      },
    });
    const logGroup = fx.template.findResources('AWS::Logs::LogGroup')[logGroupId] as Resource;
    expect(logGroup.Properties.LogGroupName).toMatch(/^\/aws\/events\//);
    expect(logGroup.Properties.RetentionInDays).toBe(365);
    const policy = Object.values(fx.template.findResources('AWS::Logs::ResourcePolicy'))[0] as Resource;
    const document = JSON.parse(JSON.stringify(fx.stack.resolve(policy.Properties.PolicyDocument))) as unknown;
    expect(JSON.stringify(document)).toContain('events.amazonaws.com');
    expect(JSON.stringify(document)).toContain(ruleId);
  });
});
