/** Real-time clock and the Powertools logger behind the engine's Log port, with every line scrubbed of secrets. */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Redactor } from './engine/redactor.ts';
import type { Clock, Log } from './types/index.ts';

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

export function scrubbingLog(logger: Logger, redactor: Redactor): Log {
  const level =
    (name: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, attributes?: Record<string, unknown>): void => {
      if (attributes === undefined) logger[name](redactor.scrub(message));
      else logger[name](redactor.scrub(message), redactor.scrubDeep(attributes));
    };
  return { debug: level('debug'), info: level('info'), warn: level('warn'), error: level('error') };
}
