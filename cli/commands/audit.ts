/** `audit`: the compliance report, as a table, JSON, CSV, or Markdown to attach to an audit ticket. */
import { Option, type Command } from 'commander';
import { runEngine, reportUndelivered } from '../engine-run.ts';
import { EXIT, exitCodeOf } from '../exit.ts';
import { printJson } from '../io.ts';
import { addEngineOptions, parseTargetList } from '../options.ts';
import { auditCsv, auditMarkdown, auditTable, countsLine } from '../render.ts';
import type { CommandContext } from './context.ts';
import { engineOptionsHelp, type EngineCommandOptions } from './engine-command.ts';

const FORMATS = ['table', 'json', 'csv', 'markdown'] as const;
type Format = (typeof FORMATS)[number];

export function registerAudit(program: Command, { io, setExitCode }: CommandContext): void {
  addEngineOptions(
    program
      .command('audit')
      .description('compliance report: does each server run the current, healthy, recently rotated credential')
      .option(
        '--targets <list>',
        'only these targets: serverId or teamspaceId/serverId, comma-separated',
        parseTargetList,
      )
      .addOption(new Option('--format <format>', 'report format').choices(FORMATS).default('table')),
  )
    .addHelpText('after', engineOptionsHelp('audit'))
    .action(async (options: EngineCommandOptions & { format: Format }) => {
      const outcome = await runEngine(
        options,
        { action: 'audit', ...(options.targets && { targets: options.targets }) },
        io,
      );
      const { summary } = outcome;
      const format: Format = options.json ? 'json' : options.format;
      if (format === 'json') printJson(io, summary);
      else if (format === 'csv') io.out(auditCsv(summary));
      else if (format === 'markdown') io.out(auditMarkdown(summary));
      else io.out(`${auditTable(summary)}\n${countsLine(summary)}`);
      const undelivered = reportUndelivered(outcome, options, io);
      setExitCode(undelivered ? EXIT.failed : exitCodeOf(summary));
    });
}
