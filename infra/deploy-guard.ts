/**
 * A template that synthesizes but cannot be deployed. `cdk synth` from a fresh clone uses the example configuration
 * (its secrets and servers do not exist); deploying it would rotate nothing real and fail every run. CloudFormation
 * evaluates a template's Rules before it creates or changes any resource (the CDK's own bootstrap-version check
 * works the same way), so `cdk deploy` stops at the change set with the rule's message.
 */
import { Annotations, Aws, CfnRule, Fn } from 'aws-cdk-lib';
import type { Stack } from 'aws-cdk-lib';

export const DEPLOY_GUARD_ID = 'ExampleConfigurationIsNotDeployable';

export function blockDeployment(stack: Stack, message: string): CfnRule {
  Annotations.of(stack).addWarningV2('datagrid-mcp-rotator:example-configuration', message);
  return new CfnRule(stack, DEPLOY_GUARD_ID, {
    assertions: [
      {
        // Never true: no account id is this string. A pseudo parameter keeps the rule evaluated on every deploy.
        assert: Fn.conditionEquals(Aws.ACCOUNT_ID, 'example-configuration'),
        assertDescription: message,
      },
    ],
  });
}
