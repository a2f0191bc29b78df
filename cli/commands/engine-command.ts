/** What plan, rotate and audit share: their options and the help text about where they run and what they emit. */
import type { EngineOptions } from '../options.ts';

export interface EngineCommandOptions extends EngineOptions {
  targets?: string[];
  force?: boolean;
  incident?: string;
  reason?: string;
}

export const EXIT_CODES_HELP =
  'Exit codes: 0 success, 1 a target failed or is non-compliant, 2 usage or configuration error.';

export function engineOptionsHelp(command: 'plan' | 'rotate' | 'audit'): string {
  const writes =
    command === 'rotate'
      ? 'It reads and writes the state table and puts the same result events on the bus as the Lambda\n' +
        '(one per target and one per run): the audit trail does not depend on where a rotation ran.'
      : `Like the Lambda's ${command === 'plan' ? 'dry run' : 'audit'}, it changes nothing in Datagrid or the state table and ` +
        'puts its result events on the bus.';
  return [
    '',
    'Runs the rotation engine in this process with your AWS credentials (the standard SDK environment:',
    'AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...) and the Datagrid API key secret named in the config.',
    writes,
    'Progress lines go to stderr; the report (or --json) goes to stdout.',
    EXIT_CODES_HELP,
  ].join('\n');
}
