/** Real-time clock and the Powertools logger behind the engine's Log port, with every line scrubbed of secrets. */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Redactor } from './engine/redactor.ts';
import type { Clock, Log } from './types/index.ts';

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, wake) =>
    new Promise((resolve) => {
      if (wake?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        wake?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      wake?.addEventListener('abort', done, { once: true });
    }),
};

/** Without a redactor (container-wide logging, before any secret is read) lines pass through unchanged. */
export function scrubbingLog(logger: Logger, redactor?: Redactor): Log {
  const level =
    (name: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, attributes?: Record<string, unknown>): void => {
      const text = redactor ? redactor.scrub(message) : message;
      if (attributes === undefined) logger[name](text);
      else logger[name](text, redactor ? redactor.scrubDeep(attributes) : attributes);
    };
  return { debug: level('debug'), info: level('info'), warn: level('warn'), error: level('error') };
}
