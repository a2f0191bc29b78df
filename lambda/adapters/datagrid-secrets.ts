/**
 * Datagrid's secrets API (`POST /secrets`, `GET /secrets/{id}`, cursor-paged `GET /secrets`, `DELETE /secrets/{id}`)
 * and the PATCH that points a server at one, for delivery `secretReference`. Every call goes through the Datagrid
 * client's `perform` (datagrid.ts): the same retries, timeout, rate-limit gate and scrubbing of Datagrid's error text
 * as the server calls. The secret value travels only in the `POST /secrets` body and is named to the scrubber.
 *
 * A retried `POST /secrets` whose first answer was lost may leave a second secret of the same name: the engine
 * deletes every secret under the target's name prefix that no server references, under the target's lease
 * (engine/deliver-by-reference.ts), so such a duplicate does not outlive the run.
 */
import * as z from 'zod/mini';
import { DatagridError } from '../errors.ts';
import type { DatagridSecret, DatagridSecretsApi, McpServer } from '../types/index.ts';
import type { Call, ParseResult, Perform } from './datagrid.ts';

const secretSchema = z.object({
  id: z.string(),
  object: z.literal('secret'),
  name: z.string(),
  created_at: z.string(),
});
const secretPageSchema = z.object({
  data: z.array(secretSchema),
  has_more: z.optional(z.boolean()),
});

/** Datagrid's page size limit for `GET /secrets`. */
const PAGE_LIMIT = 100;
/** 100 pages of 100: far beyond what one teamspace holds; a cursor that never ends is not followed for ever. */
const MAX_PAGES = 100;

function parseWith<S extends z.ZodMiniType>(schema: S, expected: string) {
  return (json: unknown): ParseResult<z.infer<S>> => {
    const result = z.safeParse(schema, json);
    return result.success
      ? { ok: true, value: result.data }
      : { ok: false, problem: `the response was not ${expected}` };
  };
}

const parseSecret = parseWith(secretSchema, 'a valid secret');
const parsePage = parseWith(secretPageSchema, 'a valid secret list');
const parseNothing = (): ParseResult<undefined> => ({ ok: true, value: undefined });

const toSecret = ({ id, name, created_at }: z.infer<typeof secretSchema>): DatagridSecret => ({ id, name, created_at });

function secretPath(secretId: string): string {
  return `/secrets/${encodeURIComponent(secretId)}`;
}

/** The bare credential of an Authorization value (`Bearer <token>`), which Datagrid's error text might echo alone. */
function bareCredential(value: string): string {
  return /^\S+\s+(.+)$/s.exec(value)?.[1] ?? value;
}

export function secretsCalls(
  perform: Perform,
  parseServer: (json: unknown, serverId: string) => ParseResult<McpServer>,
): DatagridSecretsApi {
  const call = <T>(fields: Omit<Call<T>, 'serverId' | 'secrets' | 'body'> & Partial<Call<T>>): Call<T> => ({
    serverId: undefined,
    secrets: [],
    body: undefined,
    ...fields,
  });
  return {
    async create(teamspaceId, name, value, options) {
      const created = await perform(
        call({
          method: 'POST',
          path: '/secrets',
          teamspaceId,
          body: JSON.stringify({ name, value }),
          secrets: [value, bareCredential(value)],
          parse: parseSecret,
        }),
        options,
      );
      return toSecret(created);
    },
    async get(teamspaceId, secretId, options) {
      try {
        return toSecret(
          await perform(call({ method: 'GET', path: secretPath(secretId), teamspaceId, parse: parseSecret }), options),
        );
      } catch (error) {
        if (error instanceof DatagridError && error.status === 404) return undefined;
        throw error;
      }
    },
    async list(teamspaceId, options) {
      const all: DatagridSecret[] = [];
      let after: string | undefined;
      for (let page = 0; page < MAX_PAGES; page += 1) {
        const query = new URLSearchParams({ limit: String(PAGE_LIMIT), ...(after !== undefined && { after }) });
        const listed = await perform(
          call({ method: 'GET', path: `/secrets?${query.toString()}`, teamspaceId, parse: parsePage }),
          options,
        );
        all.push(...listed.data.map(toSecret));
        // Like the official client: the next page starts after the last id, until a page is empty.
        if (listed.data.length === 0 || listed.has_more === false) return all;
        after = listed.data[listed.data.length - 1]!.id;
      }
      throw new DatagridError('DATAGRID_UNAVAILABLE', `GET /secrets still paging after ${MAX_PAGES} pages`, {
        attempts: MAX_PAGES,
      });
    },
    async delete(teamspaceId, secretId, options) {
      try {
        await perform(
          call({
            method: 'DELETE',
            path: secretPath(secretId),
            teamspaceId,
            parse: parseNothing,
            finalStatuses: [409],
          }),
          options,
        );
        return 'deleted';
      } catch (error) {
        if (error instanceof DatagridError && error.status === 404) return 'missing';
        if (error instanceof DatagridError && error.status === 409) return 'referenced';
        throw error;
      }
    },
    reference(teamspaceId, serverId, secretId, options) {
      return perform(
        call({
          method: 'PATCH',
          path: `/organization/mcp-servers/${encodeURIComponent(serverId)}`,
          teamspaceId,
          serverId,
          body: JSON.stringify({ authorization_secret_id: secretId }),
          parse: (json) => parseServer(json, serverId),
        }),
        options,
      );
    },
  };
}
