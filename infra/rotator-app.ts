/**
 * Builds the CDK app `cdk synth` runs (infra/app.ts) and the tests synthesize: the stack plus the cdk-nag packs
 * (AwsSolutions and Serverless), so every synth is also a security review.
 */
import { App, Validations } from 'aws-cdk-lib';
import type { AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_CONFIG_FILE } from '../lambda/constants.ts';
import { McpRotatorStack } from './stack.ts';

export const STACK_NAME = 'DatagridMcpRotator';
/** Context key naming the configuration file: `npx cdk deploy -c configFile=path/to/config.json`. */
export const CONFIG_FILE_CONTEXT = 'configFile';
export const EXAMPLE_CONFIG_FILE = 'rotation.config.example.json';

/**
 * The configuration file to deploy: the `configFile` context value, else `rotation.config.json` when it exists,
 * else the example. Relative paths are relative to `cwd` (where `cdk` runs, beside cdk.json).
 */
export function resolveConfigFile(contextValue: unknown, cwd: string = process.cwd()): string {
  if (typeof contextValue === 'string' && contextValue !== '') return resolve(cwd, contextValue);
  const own = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(own) ? own : resolve(cwd, EXAMPLE_CONFIG_FILE);
}

export interface RotatorApp {
  app: App;
  stack: McpRotatorStack;
  configFile: string;
}

export function createRotatorApp(props: AppProps = {}): RotatorApp {
  // app.ts synthesizes explicitly: no synth at process exit of an app whose construction failed half-way.
  const app = new App({ autoSynth: false, ...props });
  const configFile = resolveConfigFile(app.node.tryGetContext(CONFIG_FILE_CONTEXT));
  const stack = new McpRotatorStack(app, STACK_NAME, {
    description: 'datagrid-mcp-rotator: rotates Datagrid MCP server credentials from AWS Secrets Manager',
    rotator: { configFile },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { app, stack, configFile };
}
