/**
 * The rotator's state machine as deployed, for running it locally with aws-local-stepfunctions: synthesizes the
 * construct (orchestration `stateMachine`) for a configuration file, in process and without bundling, and returns the
 * Amazon States Language definition with the function's ARN in place of its CloudFormation reference.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { StateMachine } from 'aws-local-stepfunctions';
import { McpCredentialRotator } from '../infra/mcp-credential-rotator.ts';

export const LOCAL_FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:rotator';

export type Definition = ConstructorParameters<typeof StateMachine>[0];

export interface SynthesizedMachine {
  definition: Definition;
  /** The Map's MaxConcurrency (shards at once). */
  maxConcurrency: number;
  /** The function's memory, MB: what each task's invocation is billed at. */
  memoryMb: number;
}

/** Resolves the only references the definition holds: the function's ARN, joined into strings. */
function resolveReferences(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'Fn::GetAtt' in value) return LOCAL_FUNCTION_ARN;
  if (value && typeof value === 'object' && 'Fn::Join' in value) {
    const [separator, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    return parts.map(resolveReferences).join(separator);
  }
  throw new Error(`unexpected reference in the definition: ${JSON.stringify(value)}`);
}

export function synthesizeStateMachine(configFile: string): SynthesizedMachine {
  // Asset bundling is skipped: the definition and the function's settings are what is read here.
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'LocalStateMachine');
  const rotator = new McpCredentialRotator(stack, 'Rotator', { configFile, orchestration: 'stateMachine' });
  const template = Template.fromStack(stack);
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const functionId = stack.getLogicalId(rotator.function.node.defaultChild as never);
  const fn = template.findResources('AWS::Lambda::Function')[functionId];
  const properties = machine?.Properties as { DefinitionString: unknown };
  return {
    definition: JSON.parse(resolveReferences(properties.DefinitionString)) as Definition,
    maxConcurrency: rotator.rotationStateMachine!.maxConcurrency,
    memoryMb: Number((fn?.Properties as { MemorySize?: number } | undefined)?.MemorySize),
  };
}
