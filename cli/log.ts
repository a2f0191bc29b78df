/**
 * The engine's Log port for a terminal: warnings and errors (and, with --verbose, everything) as one line each on
 * stderr, scrubbed by the run's redactor like the Lambda's log lines. stdout stays free for the report.
 */
import type { Redactor } from '../lambda/engine/redactor.ts';
import type { Log } from '../lambda/types/index.ts';

type Level = 'debug' | 'info' | 'warn' | 'error';

export function terminalLog(write: (line: string) => void, redactor: Redactor, verbose: boolean): Log {
  const level =
    (name: Level) =>
    (message: string, attributes?: Record<string, unknown>): void => {
      if (!verbose && (name === 'debug' || name === 'info')) return;
      const detail = attributes === undefined ? '' : ` ${JSON.stringify(redactor.scrubDeep(attributes))}`;
      write(`${name}: ${redactor.scrub(message)}${detail}`);
    };
  return { debug: level('debug'), info: level('info'), warn: level('warn'), error: level('error') };
}
