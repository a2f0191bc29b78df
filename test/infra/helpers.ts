/** Shared set-up of the infra suites: fixtures, the CDK context of cdk.json, and a stack holding the construct. */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { McpCredentialRotator } from '../../infra/mcp-credential-rotator.ts';
import type { McpCredentialRotatorProps } from '../../infra/mcp-credential-rotator.ts';
import { PROJECT_ROOT } from '../../scripts/esbuild-options.ts';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const FIXTURE_CONFIG = join(FIXTURES, 'rotation.config.json');
export const INVALID_CONFIG = join(FIXTURES, 'invalid.config.json');
export const EXAMPLE_CONFIG = join(PROJECT_ROOT, 'rotation.config.example.json');

/** The feature flags `cdk` passes the app from cdk.json, so in-process synths match the CLI's. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/** Skips asset bundling: template tests need the resources, not the bundle (the synth suite checks the bundle). */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

export function writeConfig(config: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rotator-config-')), 'rotation.config.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

export interface RotatorFixture {
  stack: Stack;
  rotator: McpCredentialRotator;
  template: Template;
  /** The logical id CloudFormation knows a construct's resource by. */
  logicalId(construct: { node: { defaultChild?: unknown } }): string;
}

export function rotatorStack(
  props: Partial<McpCredentialRotatorProps> = {},
  build?: (stack: Stack) => Partial<McpCredentialRotatorProps>,
): RotatorFixture {
  const app = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
  const stack = new Stack(app, 'TestStack');
  const rotator = new McpCredentialRotator(stack, 'Rotator', {
    configFile: FIXTURE_CONFIG,
    ...props,
    ...build?.(stack),
  });
  return {
    stack,
    rotator,
    template: Template.fromStack(stack),
    logicalId: (construct) => stack.getLogicalId(construct.node.defaultChild as never),
  };
}

export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
  Sid?: string;
}

export const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Every statement of the AWS::IAM::Policy resources attached to a role. */
export function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy') as Record<
    string,
    { Properties: { Roles: unknown[]; PolicyDocument: { Statement: Statement[] } } }
  >;
  return Object.values(policies)
    .filter((policy) => JSON.stringify(policy.Properties.Roles) === JSON.stringify([{ Ref: roleLogicalId }]))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

/** Every statement of every policy document in the template (IAM, queue, topic and bus policies, trust policies). */
export function allStatements(template: Template): Statement[] {
  const found: Statement[] = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    const record = value as Record<string, unknown>;
    if (Array.isArray(record.Statement)) found.push(...(record.Statement as Statement[]));
    Object.values(record).forEach(visit);
  };
  visit(template.toJSON());
  return found;
}

// Longer than any real partition, region and account.
const LONG_PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws-us-gov',
  'AWS::Region': 'ap-southeast-7',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com.cn',
};
const LONG_RESOURCE_ARN = `arn:aws-us-gov:service:ap-southeast-7:123456789012:resource/${'x'.repeat(64)}`;

/**
 * A template value as CloudFormation would deploy it in a long-named partition and region: pseudo parameters and
 * joins resolved, any other reference replaced by an ARN longer than a real one. For measuring sizes.
 */
export function deployed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(deployed);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  if (typeof record.Ref === 'string') return LONG_PSEUDO[record.Ref] ?? LONG_RESOURCE_ARN;
  if ('Fn::GetAtt' in record) return LONG_RESOURCE_ARN;
  if (Array.isArray(record['Fn::Join'])) {
    const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
    return parts.map(deployed).join(separator);
  }
  return Object.fromEntries(Object.entries(record).map(([key, inner]) => [key, deployed(inner)]));
}
