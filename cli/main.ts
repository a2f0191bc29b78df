/**
 * The operator CLI (`datagrid-mcp-rotator`): validate, plan, rotate, audit and trigger, for incidents and audits,
 * with the operator's own AWS credentials and the same engine as the Lambda. `node cli/main.ts` runs it from source;
 * `bin/datagrid-mcp-rotator.js` runs the bundle (dist/cli.mjs).
 */
import { Command, CommanderError } from 'commander';
import { ROTATOR_NAME } from '../lambda/constants.ts';
import { ROTATOR_VERSION } from '../lambda/version.ts';
import { ConfigError, RequestError } from '../lambda/errors.ts';
import { registerAudit } from './commands/audit.ts';
import type { CommandContext } from './commands/context.ts';
import { EXIT_CODES_HELP } from './commands/engine-command.ts';
import { registerPlan } from './commands/plan.ts';
import { registerRotate } from './commands/rotate.ts';
import { registerTrigger } from './commands/trigger.ts';
import { registerValidate } from './commands/validate.ts';
import { EXIT, UsageError } from './exit.ts';
import { processIo, type Io } from './io.ts';

function buildProgram(context: CommandContext): Command {
  const program = new Command(ROTATOR_NAME)
    .description('Rotate, plan and audit Datagrid MCP server credentials kept in AWS Secrets Manager.')
    .version(ROTATOR_VERSION)
    .addHelpText('after', `\n${EXIT_CODES_HELP}\nEvery command takes --json for scripts.`)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.io.out(text),
      writeErr: (text) => context.io.err(text.replace(/\n$/, '')),
    });
  registerValidate(program, context);
  registerPlan(program, context);
  registerRotate(program, context);
  registerAudit(program, context);
  registerTrigger(program, context);
  // Subcommands inherit neither exitOverride nor the output settings from the program.
  for (const command of program.commands) command.exitOverride().configureOutput(program.configureOutput());
  return program;
}

/** One line, no stack: what an operator reads mid-incident. */
function oneLine(error: Error): string {
  if (error instanceof ConfigError && error.issues.length > 0) {
    const header = error.message.split('\n', 1)[0]!;
    return `${header} ${error.issues.join('; ')}`;
  }
  return error.message.replace(/\s*\n\s*/g, '; ');
}

function exitCodeForError(error: unknown, io: Io): number {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help or version asked for).
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof RequestError) {
    io.err(`error: ${oneLine(error)}`);
    return EXIT.usage;
  }
  // An AWS or network failure that stopped the run; the engine's messages are already scrubbed.
  io.err(`error: ${error instanceof Error ? `${error.name}: ${oneLine(error)}` : String(error)}`);
  return EXIT.failed;
}

/** Runs the CLI; resolves with the exit code. `argv` as in process.argv (node and script first). */
export async function runCli(argv: readonly string[], io: Io = processIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram({ io, setExitCode: (code) => (exitCode = code) });
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    return exitCodeForError(error, io);
  }
}

if (import.meta.main) process.exitCode = await runCli(process.argv);
