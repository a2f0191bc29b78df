/**
 * `trigger`: ask the deployment to rotate, instead of running locally: by putting an `MCP Rotation Requested` event
 * on the bus, or, with `--state-machine`, by starting an execution of its state machine, which `--wait` follows to
 * its end. The request is checked with the Lambda's own rules first, so a typo fails here, not in the Lambda.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { loadConfigFile } from '../../lambda/config.ts';
import { DEFAULT_REQUEST_SOURCE, DETAIL_TYPE } from '../../lambda/constants.ts';
import { selectTargets } from '../../lambda/engine/targets.ts';
import { parseInvocation } from '../../lambda/invocation.ts';
import { executionName, startExecution, waitForExecution } from '../execution.ts';
import type { ExecutionEnd } from '../execution.ts';
import { EXIT, UsageError } from '../exit.ts';
import { printJson } from '../io.ts';
import type { Io } from '../io.ts';
import {
  addAwsOptions,
  configPath,
  createAwsClients,
  createSfnClient,
  parseTargetList,
  type AwsOptions,
} from '../options.ts';
import type { CommandContext } from './context.ts';
import { EXIT_CODES_HELP } from './engine-command.ts';

interface TriggerOptions extends AwsOptions {
  source: string;
  incident: string;
  reason: string;
  targets?: string[];
  dryRun?: boolean;
  stateMachine?: string;
  wait?: boolean;
  pollInterval: number;
}

/** A state machine's ARN, as `aws stepfunctions` and the console show it. */
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/;

function parsePollInterval(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new InvalidArgumentError('expected a positive number of seconds.');
  return seconds;
}

/** The run's counts, one line: what an operator waits for. */
function printEnd(io: Io, end: ExecutionEnd, executionArn: string, json: boolean | undefined): void {
  if (json) {
    printJson(io, { executionArn, ...end });
    return;
  }
  if (end.status !== 'SUCCEEDED') {
    io.err(`error: execution ${end.status}${end.error ? `: ${end.error}` : ''}${end.cause ? `: ${end.cause}` : ''}`);
    return;
  }
  const t = end.totals;
  const c = t?.counts;
  io.out(
    t && c
      ? `Run ${t.runId} SUCCEEDED: ${c.rotated} rotated, ${c.unchanged} unchanged, ${c.failed} failed, ${c.skipped} skipped over ${t.shards} shard(s)`
      : 'Execution SUCCEEDED',
  );
}

export function registerTrigger(program: Command, { io, setExitCode }: CommandContext): void {
  addAwsOptions(
    program
      .command('trigger')
      .description(`put an "${DETAIL_TYPE.rotationRequested}" event on the deployed bus: the Lambda rotates`)
      .requiredOption('--incident <id>', 'incident id: the rotation is forced and never rolled back')
      .requiredOption('--reason <text>', 'why; recorded in the run and its events')
      .option(
        '--targets <list>',
        'only these targets (checked against --config): serverId or teamspaceId/serverId, comma-separated',
        parseTargetList,
      )
      .option('--dry-run', 'ask the Lambda for a dry run (dryRun in the detail)')
      .option(
        '--source <source>',
        "Source of the request event: one of the deployment's requestSources (the rule ignores any other)",
        DEFAULT_REQUEST_SOURCE,
      )
      .addOption(
        new Option(
          '--state-machine <arn>',
          'start an execution of this state machine (orchestration stateMachine) instead of putting an event on the bus',
        ).env('STATE_MACHINE_ARN'),
      )
      .option('--wait', 'with --state-machine: wait for the execution to end and print the run summary')
      .option('--poll-interval <seconds>', 'with --wait: seconds between two status reads', parsePollInterval, 10),
  )
    .addHelpText(
      'after',
      [
        '',
        "Prints the EventBridge EventId; the results arrive as the Lambda's result events on the same bus.",
        'With --state-machine, prints the execution ARN; with --wait too, the run summary once the execution ended',
        '(exit code 1 when it failed, timed out or was aborted).',
        EXIT_CODES_HELP,
      ].join('\n'),
    )
    .action(async (options: TriggerOptions) => {
      const detail = {
        action: 'rotate',
        incidentId: options.incident,
        reason: options.reason,
        requestedBy: options.requestedBy,
        ...(options.targets && { targets: options.targets }),
        ...(options.dryRun && { dryRun: true }),
      };
      if (options.wait && options.stateMachine === undefined) {
        throw new UsageError(
          '--wait needs --state-machine <arn> (or STATE_MACHINE_ARN): a request put on the bus cannot be followed to its run',
        );
      }
      if (options.stateMachine !== undefined && !STATE_MACHINE_ARN.test(options.stateMachine)) {
        throw new UsageError(
          `--state-machine: "${options.stateMachine}" is not a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)`,
        );
      }
      // The Lambda's parser and target rule: a request the Lambda would reject is never sent.
      parseInvocation({ 'detail-type': DETAIL_TYPE.rotationRequested, source: options.source, detail });
      if (options.targets) selectTargets(await loadConfigFile(configPath(options)), options.targets);
      if (options.stateMachine !== undefined) {
        await triggerExecution(io, setExitCode, options, options.stateMachine, detail);
        return;
      }

      const clients = await createAwsClients(options);
      try {
        const response = await clients.events.send(
          new PutEventsCommand({
            Entries: [
              {
                EventBusName: options.bus,
                // Not --event-source: that is the rotator's own, and its rule never accepts a request from it.
                Source: options.source,
                DetailType: DETAIL_TYPE.rotationRequested,
                Detail: JSON.stringify(detail),
              },
            ],
          }),
        );
        const entry = response.Entries?.[0];
        if (response.FailedEntryCount || entry?.EventId === undefined) {
          io.err(
            `error: EventBridge bus "${options.bus}" refused the event: ${entry?.ErrorCode ?? 'no EventId returned'}`,
          );
          setExitCode(EXIT.failed);
          return;
        }
        if (options.json) printJson(io, { eventId: entry.EventId, busName: options.bus, detail });
        else io.out(`EventId: ${entry.EventId} (bus ${options.bus})`);
      } finally {
        clients.destroy();
      }
    });
}

/** Starts the execution (its input is the direct request the plan validates again) and, with --wait, follows it. */
async function triggerExecution(
  io: Io,
  setExitCode: (code: number) => void,
  options: TriggerOptions,
  stateMachineArn: string,
  request: Record<string, unknown>,
): Promise<void> {
  parseInvocation(request);
  const sfn = await createSfnClient(options);
  try {
    const executionArn = await startExecution(
      sfn,
      stateMachineArn,
      request,
      executionName(options.incident, new Date()),
    );
    if (!options.wait) {
      if (options.json) printJson(io, { executionArn, stateMachineArn, input: request });
      else io.out(`Execution: ${executionArn}`);
      return;
    }
    io.err(`started ${executionArn}; waiting for it to end`);
    const end = await waitForExecution(sfn, executionArn, options.pollInterval * 1000);
    printEnd(io, end, executionArn, options.json);
    if (end.status !== 'SUCCEEDED') setExitCode(EXIT.failed);
  } finally {
    sfn.destroy();
  }
}
