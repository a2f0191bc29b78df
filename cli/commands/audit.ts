/** `audit`: the compliance report, as a table, JSON, CSV, Markdown, or an HTML evidence page to file. */
import { Option, type Command } from 'commander';
import { access, constants, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ROTATOR_NAME } from '../../lambda/constants.ts';
import { ROTATOR_VERSION } from '../../lambda/version.ts';
import type { RunSummary } from '../../lambda/types/results.ts';
import { runEngine, reportUndelivered } from '../engine-run.ts';
import { awsIdentity, ConfigDigest, jsonEvidence } from '../evidence.ts';
import { EXIT, exitCodeOf, UsageError } from '../exit.ts';
import type { Io } from '../io.ts';
import { addEngineOptions, configPath, parseTargetList } from '../options.ts';
import { auditHtml } from '../render-html.ts';
import { auditCsv, auditMarkdown, auditTable, countsLine } from '../render.ts';
import type { CommandContext } from './context.ts';
import { engineOptionsHelp, type EngineCommandOptions } from './engine-command.ts';

const FORMATS = ['table', 'json', 'csv', 'markdown', 'html'] as const;
type Format = (typeof FORMATS)[number];

type AuditOptions = EngineCommandOptions & { format: Format; output?: string };

const HTML_HELP = [
  '',
  '--format html writes a self-contained evidence page (run, account, region, configuration SHA-256, charts, the',
  'per-server table and the SHA-256 of the JSON evidence) to --output; stdout gets a one-line summary, or with',
  '--json exactly the JSON evidence the page was made from (what --format json prints, and what was hashed).',
].join('\n');

/** Fails before the run (which emits events) when the report could not be written. */
async function checkOutput(format: Format, output: string | undefined): Promise<void> {
  if (output === undefined) {
    if (format === 'html') throw new UsageError('--format html needs --output <file>: the page is a file to keep');
    return;
  }
  try {
    await access(dirname(resolve(output)), constants.W_OK);
  } catch {
    throw new UsageError(`--output ${output}: its directory does not exist or is not writable`);
  }
}

async function htmlReport(summary: RunSummary, options: AuditOptions, config: ConfigDigest, io: Io): Promise<string> {
  await config.assertUnchanged();
  const evidence = jsonEvidence(summary);
  const identity = await awsIdentity(options.region);
  if (identity.accountError) io.err(`warning: the report names no AWS account: ${identity.accountError}`);
  const page = auditHtml(summary, {
    identity,
    config: { file: config.file, sha256: config.sha256 },
    evidence,
    generator: `${ROTATOR_NAME} ${ROTATOR_VERSION}`,
  });
  await writeFile(options.output!, page);
  if (options.json) return evidence.text;
  return `${countsLine(summary)}\nwrote ${options.output}: JSON evidence SHA-256 ${evidence.sha256}`;
}

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
      .addOption(new Option('--format <format>', 'report format').choices(FORMATS).default('table'))
      .option('--output <file>', 'write the report to this file instead of stdout (required for html)'),
  )
    .addHelpText('after', `${engineOptionsHelp('audit')}\n${HTML_HELP}`)
    .action(async (options: AuditOptions) => {
      // --json keeps meaning "JSON on stdout": for html, the page goes to --output and the JSON evidence to stdout.
      const format: Format = options.json && options.format !== 'html' ? 'json' : options.format;
      await checkOutput(format, options.output);
      const config = format === 'html' ? await ConfigDigest.of(configPath(options)) : undefined;
      const outcome = await runEngine(
        options,
        { action: 'audit', ...(options.targets && { targets: options.targets }) },
        io,
      );
      const { summary } = outcome;
      let report: string;
      if (format === 'html') report = await htmlReport(summary, options, config!, io);
      else if (format === 'json') report = jsonEvidence(summary).text;
      else if (format === 'csv') report = auditCsv(summary);
      else if (format === 'markdown') report = auditMarkdown(summary);
      else report = `${auditTable(summary)}\n${countsLine(summary)}`;
      if (options.output !== undefined && format !== 'html') await writeFile(options.output, report);
      else io.out(report);
      const undelivered = reportUndelivered(outcome, options, io);
      setExitCode(undelivered ? EXIT.failed : exitCodeOf(summary));
    });
}
