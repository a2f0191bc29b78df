/** `plan`: a dry run; for each target, whether a rotation would rotate it and why. */
import type { Command } from 'commander';
import { engineOptionsHelp, type EngineCommandOptions } from './engine-command.ts';
import { runEngine, reportUndelivered } from '../engine-run.ts';
import { EXIT } from '../exit.ts';
import { printJson } from '../io.ts';
import { addEngineOptions, parseTargetList } from '../options.ts';
import { planCountsLine, planTable, planVerdict, isRotation } from '../render.ts';
import type { CommandContext } from './context.ts';

export function registerPlan(program: Command, { io, setExitCode }: CommandContext): void {
  addEngineOptions(
    program
      .command('plan')
      .description('dry run: for each target, would it rotate (and why), stay unchanged, or fail')
      .option(
        '--targets <list>',
        'only these targets: serverId or teamspaceId/serverId, comma-separated',
        parseTargetList,
      )
      .option('--force', 'plan a forced rotation (rotate even when the version is already applied)'),
  )
    .addHelpText('after', engineOptionsHelp('plan'))
    .action(async (options: EngineCommandOptions) => {
      const outcome = await runEngine(
        options,
        {
          action: 'rotate',
          dryRun: true,
          force: options.force ?? false,
          ...(options.targets && { targets: options.targets }),
        },
        io,
      );
      const { summary } = outcome;
      if (options.json) printJson(io, summary);
      else io.out(`${planTable(summary)}\n${planCountsLine(summary)}`);
      const wouldFail = summary.results.some((r) => isRotation(r) && planVerdict(r).verdict === 'would fail');
      setExitCode(wouldFail || reportUndelivered(outcome, options, io) ? EXIT.failed : EXIT.ok);
    });
}
