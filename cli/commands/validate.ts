/** `validate`: check a configuration file offline, one line per problem with its path. */
import type { Command } from 'commander';
import { loadConfigFile } from '../../lambda/config.ts';
import { ConfigError } from '../../lambda/errors.ts';
import { EXIT } from '../exit.ts';
import { printJson } from '../io.ts';
import { addConfigOptions, configPath, type ConfigOptions } from '../options.ts';
import type { CommandContext } from './context.ts';

export function registerValidate(program: Command, { io, setExitCode }: CommandContext): void {
  addConfigOptions(
    program
      .command('validate')
      .description('check a configuration file without calling AWS or Datagrid; exit 2 when it has problems'),
  ).action(async (options: ConfigOptions) => {
    const file = configPath(options);
    try {
      const config = await loadConfigFile(file);
      if (options.json) printJson(io, { valid: true, file, targets: config.targets.map((t) => t.key), problems: [] });
      else io.out(`OK: ${config.targets.length} target${config.targets.length === 1 ? '' : 's'} in ${file}`);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // Each issue is already `<path>: <what was expected>` (or a file-level problem such as invalid JSON).
      if (options.json) printJson(io, { valid: false, file, targets: [], problems: error.issues });
      else io.out([`Invalid rotation config ${file}:`, ...error.issues.map((issue) => `  ${issue}`)].join('\n'));
      setExitCode(EXIT.usage);
    }
  });
}
