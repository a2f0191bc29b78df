/**
 * `trigger`: ask the deployed Lambda to rotate, by putting an `MCP Rotation Requested` event on the bus, instead of
 * running locally. The request is checked with the Lambda's own rules first, so a typo fails here, not in the Lambda.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Command } from 'commander';
import { loadConfigFile } from '../../lambda/config.ts';
import { DEFAULT_REQUEST_SOURCE, DETAIL_TYPE } from '../../lambda/constants.ts';
import { selectTargets } from '../../lambda/engine/targets.ts';
import { parseInvocation } from '../../lambda/invocation.ts';
import { EXIT } from '../exit.ts';
import { printJson } from '../io.ts';
import { addAwsOptions, configPath, createAwsClients, parseTargetList, type AwsOptions } from '../options.ts';
import type { CommandContext } from './context.ts';
import { EXIT_CODES_HELP } from './engine-command.ts';

interface TriggerOptions extends AwsOptions {
  source: string;
  incident: string;
  reason: string;
  targets?: string[];
  dryRun?: boolean;
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
      ),
  )
    .addHelpText(
      'after',
      [
        '',
        "Prints the EventBridge EventId; the results arrive as the Lambda's result events on the same bus.",
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
      // The Lambda's parser and target rule: an event the Lambda would reject is never put on the bus.
      parseInvocation({ 'detail-type': DETAIL_TYPE.rotationRequested, source: options.source, detail });
      if (options.targets) selectTargets(await loadConfigFile(configPath(options)), options.targets);

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
