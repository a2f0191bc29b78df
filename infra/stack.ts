/** The deployable stack: one `McpCredentialRotator` and the outputs an operator needs. */
import { CfnOutput, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { McpCredentialRotator } from './mcp-credential-rotator.ts';
import type { McpCredentialRotatorProps } from './mcp-credential-rotator.ts';

export interface McpRotatorStackProps extends StackProps {
  /** Everything the rotator construct takes; `configFile` is required. */
  readonly rotator: McpCredentialRotatorProps;
}

export class McpRotatorStack extends Stack {
  readonly rotator: McpCredentialRotator;

  constructor(scope: Construct, id: string, props: McpRotatorStackProps) {
    super(scope, id, props);
    this.rotator = new McpCredentialRotator(this, 'Rotator', props.rotator);
    new CfnOutput(this, 'FunctionName', { value: this.rotator.function.functionName });
    new CfnOutput(this, 'EventBusName', {
      value: this.rotator.eventBus.eventBusName,
      description: 'Send "MCP Rotation Requested" events here; results arrive here too',
    });
    new CfnOutput(this, 'StateTableName', { value: this.rotator.stateTable.tableName });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.rotator.alarmTopic.topicArn,
      description: 'Subscribe to receive the alarms',
    });
    new CfnOutput(this, 'DashboardUrl', {
      value: this.rotator.dashboardUrl,
      description: 'The CloudWatch dashboard of the rotator',
    });
    const machine = this.rotator.rotationStateMachine?.stateMachine;
    if (machine) {
      new CfnOutput(this, 'StateMachineArn', {
        value: machine.stateMachineArn,
        description: 'The rotation state machine (trigger --state-machine, or STATE_MACHINE_ARN)',
      });
    }
    new CfnOutput(this, 'RequestSources', {
      value: this.rotator.requestSources.join(','),
      description: 'Sources whose "MCP Rotation Requested" events start a run (trigger --source)',
    });
  }
}
