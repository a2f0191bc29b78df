/** `rotate`: a rotation run in this process, with a progress line per finished target and the summary table. */
import type { Command } from 'commander';
import { runEngine, reportUndelivered } from '../engine-run.ts';
import { EXIT, exitCodeOf, UsageError } from '../exit.ts';
import { printJson } from '../io.ts';
import { addEngineOptions, parseTargetList } from '../options.ts';
import { countsLine, rotationTable } from '../render.ts';
import type { CommandContext } from './context.ts';
import { engineOptionsHelp, type EngineCommandOptions } from './engine-command.ts';

export function registerRotate(program: Command, { io, setExitCode }: CommandContext): void {
  addEngineOptions(
    program
      .command('rotate')
      .description('rotate now, in this process: PATCH, verify the re-sync, roll back on failure, emit events')
      .option(
        '--targets <list>',
        'only these targets: serverId or teamspaceId/serverId, comma-separated',
        parseTargetList,
      )
      .option('--force', 'rotate even when the secret version is already applied and the server healthy')
      .option('--incident <id>', 'incident rotation: forced, and the old credential is never restored (needs --reason)')
      .option('--reason <text>', 'why; recorded in the run and its events'),
  )
    .addHelpText('after', engineOptionsHelp('rotate'))
    .action(async (options: EngineCommandOptions) => {
      if (options.incident !== undefined && options.reason === undefined) {
        throw new UsageError('--incident needs --reason <text>: say why the credential is presumed compromised');
      }
      const outcome = await runEngine(
        options,
        {
          action: 'rotate',
          force: options.force ?? false,
          ...(options.targets && { targets: options.targets }),
          ...(options.incident !== undefined && { incidentId: options.incident }),
          ...(options.reason !== undefined && { reason: options.reason }),
        },
        io,
      );
      const { summary } = outcome;
      if (options.json) printJson(io, summary);
      else io.out(`${rotationTable(summary)}\n${countsLine(summary)}`);
      const undelivered = reportUndelivered(outcome, options, io);
      setExitCode(undelivered ? EXIT.failed : exitCodeOf(summary));
    });
}
