/**
 * Options shared by the commands, their defaults (the Lambda's environment variables, so an operator's shell set up
 * like the function behaves like it) and the AWS clients they lead to. AWS endpoints and credentials come from the
 * standard SDK environment (AWS_PROFILE, AWS_ENDPOINT_URL, ...), never from options.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { Option, type Command } from 'commander';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_CONFIG_FILE, DEFAULT_EVENT_BUS, DEFAULT_EVENT_SOURCE } from '../lambda/constants.ts';
import type { AwsClients } from '../lambda/wiring.ts';
import { UsageError } from './exit.ts';

export interface ConfigOptions {
  config: string;
  json?: boolean;
}

export interface AwsOptions extends ConfigOptions {
  bus: string;
  eventSource: string;
  region?: string;
  requestedBy: string;
}

export interface EngineOptions extends AwsOptions {
  table?: string;
  verbose?: boolean;
}

/** Who asked, for the run's `requestedBy`; containers without a passwd entry fall back to $USER. */
function osUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

export function addConfigOptions(command: Command): Command {
  return command
    .option('--config <file>', 'rotation configuration file', DEFAULT_CONFIG_FILE)
    .option('--json', 'print machine-readable JSON on stdout');
}

export function addAwsOptions(command: Command): Command {
  return addConfigOptions(command)
    .addOption(new Option('--bus <name>', 'EventBridge bus').env('EVENT_BUS_NAME').default(DEFAULT_EVENT_BUS))
    .addOption(
      new Option('--event-source <source>', 'Source of the events put on the bus')
        .env('EVENT_SOURCE')
        .default(DEFAULT_EVENT_SOURCE),
    )
    .option('--region <region>', 'AWS region (default: the SDK environment, e.g. AWS_REGION)')
    .option('--requested-by <name>', 'who asked, recorded in the run and its events', osUserName());
}

export function addEngineOptions(command: Command): Command {
  return addAwsOptions(command)
    .addOption(new Option('--table <name>', 'DynamoDB state table (required)').env('STATE_TABLE_NAME'))
    .option('--verbose', "print the engine's info log lines on stderr");
}

export function configPath(options: ConfigOptions): string {
  return resolve(options.config);
}

export function requireTable(options: EngineOptions): string {
  if (options.table === undefined || options.table === '') {
    throw new UsageError('no state table: pass --table <name> or set STATE_TABLE_NAME');
  }
  return options.table;
}

/** `a,b, c` -> ['a', 'b', 'c']; empty entries are dropped so a trailing comma is harmless. */
export function parseTargetList(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

export interface OwnedAwsClients extends AwsClients {
  destroy(): void;
}

const clientConfig = (options: AwsOptions) => (options.region === undefined ? {} : { region: options.region });

/** Without a region every call fails alike; say so once instead of once per target. */
async function requireRegion(client: { config: { region: () => Promise<string> } }, destroy: () => void) {
  try {
    await client.config.region();
  } catch {
    destroy();
    throw new UsageError('no AWS region: pass --region or set AWS_REGION (or a profile with a region)');
  }
}

export async function createAwsClients(options: AwsOptions): Promise<OwnedAwsClients> {
  const config = clientConfig(options);
  const clients = {
    secrets: new SecretsManagerClient(config),
    dynamo: new DynamoDBClient(config),
    events: new EventBridgeClient(config),
  };
  const destroy = () => Object.values(clients).forEach((client) => client.destroy());
  await requireRegion(clients.secrets, destroy);
  return { ...clients, destroy };
}

/** The Step Functions client of `trigger --state-machine`; the caller destroys it. */
export async function createSfnClient(options: AwsOptions): Promise<SFNClient> {
  const sfn = new SFNClient(clientConfig(options));
  await requireRegion(sfn, () => sfn.destroy());
  return sfn;
}
