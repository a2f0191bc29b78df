/** The PATCH of a server, whose answer may be lost without the change being lost (engine/lost-answer.ts). */
import { DatagridOutcomeUnknownError } from '../errors.ts';
import type { McpServer, RequestOptions, ResolvedTarget } from '../types/index.ts';
import type { ResultError } from '../types/results.ts';
import type { RunContext } from './context.ts';
import { signOfChange } from './lost-answer.ts';
import { errorOf } from './result-error.ts';

export type Sent = { updated: McpServer; lostAnswer?: string } | { failed: ResultError };

/**
 * A PATCH of the server (`patch`: the value, or a secret reference). When its answer was lost the change may have
 * landed anyway: the server is read, and if it shows the change, verification and rollback go on as if it had
 * answered (`lostAnswer` then says so for the result).
 */
export async function sendPatch(
  ctx: RunContext,
  target: ResolvedTarget,
  before: McpServer,
  requestOptions: RequestOptions,
  patch: () => Promise<McpServer>,
): Promise<Sent> {
  const { api, redactor } = ctx;
  try {
    return { updated: await patch() };
  } catch (error) {
    if (!(error instanceof DatagridOutcomeUnknownError)) return { failed: errorOf(error, redactor) };
    const lost = redactor.scrub(error.message);
    let after: McpServer;
    try {
      after = await api.getServer(target.teamspaceId, target.serverId, requestOptions);
    } catch (readError) {
      return {
        failed: {
          code: error.code,
          message:
            `${lost}; the server could not be read afterwards (${errorOf(readError, redactor).message}): ` +
            'the credential may have changed, and it was neither verified nor rolled back',
        },
      };
    }
    const sign = signOfChange(before, after, target);
    if (sign === undefined) {
      return {
        failed: {
          code: error.code,
          message:
            `${lost}; the server read afterwards shows no sign of the change (authorization_secret_id, ` +
            'last_synced_at and updated_at unchanged), but the credential may still change if the request arrives late',
        },
      };
    }
    return {
      updated: after,
      lostAnswer: `the PATCH answer was lost (${lost}), but the server shows it landed (${sign}): the credential may have changed`,
    };
  }
}
