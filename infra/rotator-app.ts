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
import { blockDeployment } from './deploy-guard.ts';
import { McpRotatorStack } from './stack.ts';

export const STACK_NAME = 'DatagridMcpRotator';
/** Context key naming the configuration file: `npx cdk deploy -c configFile=path/to/config.json`. */
export const CONFIG_FILE_CONTEXT = 'configFile';
/** Context key for the first deploy: `npx cdk deploy -c schedulesEnabled=false`. */
export const SCHEDULES_ENABLED_CONTEXT = 'schedulesEnabled';
export const EXAMPLE_CONFIG_FILE = 'rotation.config.example.json';

export const EXAMPLE_NOT_DEPLOYABLE =
  `No configuration given: synthesized with ${EXAMPLE_CONFIG_FILE}, which cannot be deployed. ` +
  `Write ${DEFAULT_CONFIG_FILE} or pass -c ${CONFIG_FILE_CONTEXT}=path/to/config.json.`;

export interface ResolvedConfigFile {
  path: string;
  /** True when nothing named a configuration and the example stands in: synth works, deploy is blocked. */
  example: boolean;
}

/**
 * The configuration file to deploy: the `configFile` context value, else `rotation.config.json` when it exists,
 * else the example (for synth only). Relative paths are relative to `cwd` (where `cdk` runs, beside cdk.json).
 */
export function resolveConfigFile(contextValue: unknown, cwd: string = process.cwd()): ResolvedConfigFile {
  if (typeof contextValue === 'string' && contextValue !== '') {
    return { path: resolve(cwd, contextValue), example: false };
  }
  const own = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(own) ? { path: own, example: false } : { path: resolve(cwd, EXAMPLE_CONFIG_FILE), example: true };
}

/** `-c schedulesEnabled=false` arrives as a string; anything but `false` keeps the construct's default. */
function schedulesEnabledFromContext(value: unknown): boolean | undefined {
  if (value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  return undefined;
}

export interface RotatorApp {
  app: App;
  stack: McpRotatorStack;
  configFile: string;
}

/** `cwd`: where relative configuration paths and `rotation.config.json` are looked up (where `cdk` runs). */
export function createRotatorApp(props: AppProps = {}, cwd: string = process.cwd()): RotatorApp {
  // app.ts synthesizes explicitly: no synth at process exit of an app whose construction failed half-way.
  const app = new App({ autoSynth: false, ...props });
  const configFile = resolveConfigFile(app.node.tryGetContext(CONFIG_FILE_CONTEXT), cwd);
  const schedulesEnabled = schedulesEnabledFromContext(app.node.tryGetContext(SCHEDULES_ENABLED_CONTEXT));
  const stack = new McpRotatorStack(app, STACK_NAME, {
    description: 'datagrid-mcp-rotator: rotates Datagrid MCP server credentials from AWS Secrets Manager',
    rotator: { configFile: configFile.path, ...(schedulesEnabled !== undefined && { schedulesEnabled }) },
  });
  if (configFile.example) blockDeployment(stack, EXAMPLE_NOT_DEPLOYABLE);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return { app, stack, configFile: configFile.path };
}
