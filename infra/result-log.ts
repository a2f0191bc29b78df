/**
 * Optional queryable copy of the compliance record: the rotator's result events forwarded from the bus to a
 * CloudWatch Logs group, where Logs Insights can answer "which servers failed last week" without an archive replay.
 * The log group's resource policy lets only this rule write to it.
 */
import { ArnFormat, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Rule } from 'aws-cdk-lib/aws-events';
import type { IEventBus, IRuleTarget } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ROTATOR_NAME } from '../lambda/constants.ts';
import { RESULT_DETAIL_TYPES } from './request-access.ts';

export interface ResultLogProps {
  readonly eventBus: IEventBus;
  readonly eventSource: string;
  readonly retention: RetentionDays;
  readonly encryptionKey?: IKey;
}

export class ResultLog extends Construct {
  readonly logGroup: LogGroup;
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: ResultLogProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.logGroup = new LogGroup(this, 'LogGroup', {
      // EventBridge delivers to log groups under /aws/events/ only.
      logGroupName: `/aws/events/${Names.uniqueResourceName(this, { maxLength: 200, separator: '-' })}`,
      retention: props.retention,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(props.encryptionKey && { encryptionKey: props.encryptionKey }),
    });
    const logGroupArn = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      resourceName: this.logGroup.logGroupName,
    });
    const target: IRuleTarget = { bind: () => ({ arn: logGroupArn }) };
    this.rule = new Rule(this, 'Rule', {
      description: `${ROTATOR_NAME}: copies result events to CloudWatch Logs`,
      eventBus: props.eventBus,
      eventPattern: { source: [props.eventSource], detailType: [...RESULT_DETAIL_TYPES] },
      targets: [target],
    });
    Validations.of(this.rule).acknowledge({
      id: 'Serverless-EventBusDLQ',
      reason:
        'The log copy is a convenience for queries; the archive on the bus is the complete compliance record, and its events can be replayed into this log group.',
    });
    // A native AWS::Logs::ResourcePolicy (aws-events-targets' CloudWatchLogGroup would deploy a custom resource).
    this.logGroup.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('events.amazonaws.com'), new ServicePrincipal('delivery.logs.amazonaws.com')],
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.rule.ruleArn } },
      }),
    );
  }
}
