import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import { createDatagridApiFactory } from '../../../lambda/adapters/datagrid.ts';
import type { DatagridClientOptions } from '../../../lambda/adapters/datagrid.ts';
import { USER_AGENT } from '../../../lambda/version.ts';
import { DatagridError, DatagridInvalidAnswerError, DatagridOutcomeUnknownError } from '../../../lambda/errors.ts';
import type { Clock, McpServer, RequestOptions } from '../../../lambda/types/index.ts';
import { CapturingLog } from '../../support/fakes.ts';
import { mcpServerFixture } from '../../support/mcp-server-fixture.ts';
import { useMockDatagrid } from '../../support/mock-datagrid.ts';

const ORIGIN = 'https://api.datagrid.test';
const BASE_URL = `${ORIGIN}/v1`;
const API_KEY = 'canary-dg-api-key-3c9e7b51';
const TOKEN = 'canary-mcp-token-a41f09d2';
const AUTHORIZATION = `Bearer ${TOKEN}`;
const SERVER_PATH = '/v1/organization/mcp-servers/srv_1';
const LIST_PATH = '/v1/organization/mcp-servers';

/**
 * srv_1 with a protocol version and both OAuth flags in its metadata, so the round trips show every optional field
 * passes through the client's validation.
 */
const server = (fields: Partial<McpServer> = {}): McpServer =>
  mcpServerFixture('srv_1', {
    protocol_version: '2025-06-18',
    metadata: { requires_oauth: false, oauth_configured: false, tool_count: 3, last_synced_at: '2025-01-01T00:00:00Z' },
    ...fields,
  });

// dg.clock records waits instead of waiting and moves time on by them, so deadlines can be asserted exactly.
const dg = useMockDatagrid(ORIGIN);
let log: CapturingLog;

beforeEach(() => {
  log = new CapturingLog();
});

function api(overrides: Partial<DatagridClientOptions> = {}) {
  return createDatagridApiFactory({
    baseUrl: BASE_URL,
    requestTimeoutMs: 1_000,
    maxAttempts: 4,
    clock: dg.clock,
    random: () => 0.5,
    dispatcher: dg.agent,
    log,
    ...overrides,
  })(API_KEY);
}

/** Replies once with `status`; `headers` are response headers. */
function replyOnce(
  path: string,
  status: number,
  data: unknown = {},
  headers: Record<string, string> = {},
  method = 'GET',
) {
  dg.pool
    .intercept({ path, method })
    .reply(status, typeof data === 'string' ? data : JSON.stringify(data), { headers });
}

interface Captured {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
}

function capture(path: string, method: string, data: unknown): Captured[] {
  const seen: Captured[] = [];
  dg.pool.intercept({ path, method }).reply((opts) => {
    const headers = Object.fromEntries(
      Object.entries(opts.headers as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
    );
    seen.push({ method: opts.method, path: opts.path, headers, body: opts.body as string | undefined });
    return { statusCode: 200, data: JSON.stringify(data) };
  });
  return seen;
}

async function failure(promise: Promise<unknown>): Promise<DatagridError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DatagridError);
  return error as DatagridError;
}

function counting(extra: RequestOptions = {}): RequestOptions & { count: () => number } {
  let attempts = 0;
  return {
    ...extra,
    onAttempt: () => {
      attempts += 1;
    },
    count: () => attempts,
  };
}

describe('requests', () => {
  it('GETs one server with the API key, teamspace, Accept and User-Agent headers, and no Content-Type', async () => {
    const seen = capture(SERVER_PATH, 'GET', server());
    await expect(api().getServer('ts_1', 'srv_1')).resolves.toEqual(server());
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers).toMatchObject({
      authorization: `Bearer ${API_KEY}`,
      'datagrid-teamspace': 'ts_1',
      accept: 'application/json',
      'user-agent': USER_AGENT,
    });
    expect(seen[0]!.headers).not.toHaveProperty('content-type');
    expect(seen[0]!.body ?? '').toBe('');
  });

  it('leaves Datagrid-Teamspace out when no teamspace is given (the key default teamspace)', async () => {
    const seen = capture(SERVER_PATH, 'GET', server());
    await api().getServer(undefined, 'srv_1');
    expect(seen[0]!.headers).not.toHaveProperty('datagrid-teamspace');
  });

  it('PATCHes exactly {"authorization": value} as JSON and returns the updated server', async () => {
    const updated = server({ authorization_secret_id: 'sec_2' });
    const seen = capture(SERVER_PATH, 'PATCH', updated);
    await expect(api().updateAuthorization('ts_1', 'srv_1', AUTHORIZATION)).resolves.toEqual(updated);
    expect(seen[0]!.method).toBe('PATCH');
    expect(seen[0]!.body).toBe(JSON.stringify({ authorization: AUTHORIZATION }));
    expect(seen[0]!.headers).toMatchObject({
      'content-type': 'application/json',
      authorization: `Bearer ${API_KEY}`,
      'datagrid-teamspace': 'ts_1',
    });
  });

  it('URL-encodes the server id as one path segment', async () => {
    capture('/v1/organization/mcp-servers/srv%2F1%20%3F%23', 'GET', server({ id: 'srv/1 ?#' }));
    await expect(api().getServer(undefined, 'srv/1 ?#')).resolves.toMatchObject({ id: 'srv/1 ?#' });
  });

  it.each(['', '.', '..'])('refuses server id %j, which URL parsing would turn into another path', async (id) => {
    const options = counting();
    const error = await failure(api().getServer(undefined, id, options));
    expect(error.code).toBe('DATAGRID_REJECTED');
    expect(error.attempts).toBe(0);
    expect(options.count()).toBe(0);
  });

  it('accepts a base URL with a trailing slash', async () => {
    capture(SERVER_PATH, 'GET', server());
    await expect(api({ baseUrl: `${BASE_URL}/` }).getServer(undefined, 'srv_1')).resolves.toEqual(server());
  });

  it('lists the servers of a teamspace from {object: "list", data}', async () => {
    const seen = capture(LIST_PATH, 'GET', {
      object: 'list',
      data: [server(), server({ id: 'srv_2', metadata: null })],
    });
    const servers = await api().listServers('ts_1');
    expect(servers.map((s) => s.id)).toEqual(['srv_1', 'srv_2']);
    expect(servers[1]).toEqual(server({ id: 'srv_2', metadata: null }));
    expect(seen[0]!.headers['datagrid-teamspace']).toBe('ts_1');
  });
});

describe('response validation', () => {
  it('tolerates extra top-level keys and keeps unknown metadata keys', async () => {
    const body = { ...server(), future_field: 1, metadata: { tool_count: 2, last_error: 'none' } };
    replyOnce(SERVER_PATH, 200, body);
    const result = await api().getServer(undefined, 'srv_1');
    expect(result.metadata).toEqual({ tool_count: 2, last_error: 'none' });
    expect(result.status).toBe('active');
  });

  it('treats a non-JSON 2xx body as transient: retried, then DATAGRID_UNAVAILABLE', async () => {
    replyOnce(SERVER_PATH, 200, '<html>Bad gateway</html>');
    replyOnce(SERVER_PATH, 200, '<html>Bad gateway</html>');
    const error = await failure(api({ maxAttempts: 2 }).getServer(undefined, 'srv_1'));
    expect(error.code).toBe('DATAGRID_UNAVAILABLE');
    expect(error.attempts).toBe(2);
    expect(error.message).toContain('the response was not a valid mcp_server');
  });

  it('recovers when a malformed body is followed by a valid one', async () => {
    replyOnce(SERVER_PATH, 200, '');
    replyOnce(SERVER_PATH, 200, server());
    await expect(api().getServer(undefined, 'srv_1')).resolves.toEqual(server());
  });

  it.each([
    ['a missing key', { ...server(), metadata: undefined }, 'metadata: expected object'],
    ['a wrong object type', server({ object: 'secret' as 'mcp_server' }), 'object: expected "mcp_server"'],
    [
      'a non-integer tool_count',
      server({ metadata: { tool_count: 'many' as unknown as number } }),
      'metadata.tool_count',
    ],
  ])('names the field when a 2xx body has %s', async (_, body, expected) => {
    replyOnce(SERVER_PATH, 200, body);
    const error = await failure(api({ maxAttempts: 1 }).getServer(undefined, 'srv_1'));
    expect(error.code).toBe('DATAGRID_UNAVAILABLE');
    expect(error.message).toContain('the response was not a valid mcp_server');
    expect(error.message).toContain(expected);
  });

  it('lists an entry that is not a valid mcp_server by its id and problem, and leaves out one without an id', async () => {
    replyOnce(LIST_PATH, 200, { object: 'list', data: [server(), { id: 'srv_2', status: 7 }, { name: 'no id' }, 42] });
    const listed = await api({ maxAttempts: 1 }).listServers(undefined);
    expect(listed).toHaveLength(2);
    expect(listed[0]).toEqual(server());
    expect(listed[1]).toMatchObject({ id: 'srv_2', invalid: expect.stringContaining('not a valid mcp_server') });
  });

  it('still rejects a list body that is not {object: "list", data: [...]}', async () => {
    replyOnce(LIST_PATH, 200, { object: 'list', data: {} });
    const error = await failure(api({ maxAttempts: 1 }).listServers(undefined));
    expect(error).toBeInstanceOf(DatagridInvalidAnswerError);
    expect(error.message).toContain('data: expected array');
  });

  it.each([
    ['tool_count', { tool_count: null, last_synced_at: '2025-01-01T00:00:00Z' }],
    ['last_synced_at', { tool_count: 0, last_synced_at: null }],
  ])('accepts null %s (no tools yet / never synced) in GET, PATCH and list answers', async (_, metadata) => {
    const body = server({ metadata });
    replyOnce(SERVER_PATH, 200, body);
    replyOnce(SERVER_PATH, 200, body, {}, 'PATCH');
    replyOnce(LIST_PATH, 200, { object: 'list', data: [body] });
    const client = api({ maxAttempts: 1 });
    await expect(client.getServer(undefined, 'srv_1')).resolves.toEqual(body);
    await expect(client.updateAuthorization(undefined, 'srv_1', AUTHORIZATION)).resolves.toEqual(body);
    await expect(client.listServers(undefined)).resolves.toEqual([body]);
  });

  it.each(['GET', 'PATCH'])(
    'treats a %s answer holding another server as an invalid answer naming both ids',
    async (method) => {
      replyOnce(SERVER_PATH, 200, server({ id: 'srv_other' }), {}, method);
      const client = api({ maxAttempts: 1 });
      const error = await failure(
        method === 'GET'
          ? client.getServer(undefined, 'srv_1')
          : client.updateAuthorization(undefined, 'srv_1', AUTHORIZATION),
      );
      // After a PATCH an invalid answer leaves the write's outcome unknown: the engine reads the server next.
      expect(error).toBeInstanceOf(method === 'GET' ? DatagridInvalidAnswerError : DatagridOutcomeUnknownError);
      expect(error.code).toBe('DATAGRID_UNAVAILABLE');
      expect(error.message).toContain('the response was the record of MCP server "srv_other", not of "srv_1"');
    },
  );

  it('names a huge foreign id by its length only', async () => {
    replyOnce(SERVER_PATH, 200, server({ id: 'x'.repeat(100_000) }));
    const error = await failure(api({ maxAttempts: 1 }).getServer(undefined, 'srv_1'));
    expect(error.message).toContain('(a string of 100000 characters)');
    expect(error.message.length).toBeLessThan(500);
  });

  it('marks a body that is not JSON as an invalid answer, and after a PATCH as an unknown outcome', async () => {
    replyOnce(SERVER_PATH, 200, 'not json', {}, 'GET');
    expect(await failure(api({ maxAttempts: 1 }).getServer(undefined, 'srv_1'))).toBeInstanceOf(
      DatagridInvalidAnswerError,
    );
    replyOnce(SERVER_PATH, 200, 'not json', {}, 'PATCH');
    const error = await failure(api({ maxAttempts: 1 }).updateAuthorization(undefined, 'srv_1', AUTHORIZATION));
    expect(error).toBeInstanceOf(DatagridOutcomeUnknownError);
  });
});

describe('status mapping', () => {
  it.each([
    [400, 'DATAGRID_REJECTED', 1],
    [401, 'DATAGRID_AUTH_FAILED', 1],
    [403, 'DATAGRID_AUTH_FAILED', 1],
    [404, 'SERVER_NOT_FOUND', 1],
    [405, 'DATAGRID_REJECTED', 1],
    [422, 'DATAGRID_REJECTED', 1],
    [408, 'DATAGRID_UNAVAILABLE', 2],
    [409, 'DATAGRID_UNAVAILABLE', 2],
    [429, 'DATAGRID_UNAVAILABLE', 2],
    [500, 'DATAGRID_UNAVAILABLE', 2],
    [502, 'DATAGRID_UNAVAILABLE', 2],
    [503, 'DATAGRID_UNAVAILABLE', 2],
  ])('HTTP %i becomes %s after %i attempt(s)', async (status, code, attempts) => {
    for (let i = 0; i < attempts; i += 1) replyOnce(SERVER_PATH, status, {}, {}, 'PATCH');
    const error = await failure(api({ maxAttempts: 2 }).updateAuthorization('ts_1', 'srv_1', AUTHORIZATION));
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.attempts).toBe(attempts);
    expect(error.message).toContain(`PATCH /organization/mcp-servers/srv_1 failed after ${attempts} attempt`);
    expect(error.message).toContain(`HTTP ${status}`);
  });

  it('says which server was not found and in which teamspace', async () => {
    replyOnce(SERVER_PATH, 404);
    const error = await failure(api().getServer('ts_1', 'srv_1'));
    expect(error.message).toContain('no MCP server srv_1 in teamspace ts_1');
  });

  it('maps a 404 on the list (no server named) to DATAGRID_REJECTED, not SERVER_NOT_FOUND', async () => {
    replyOnce(LIST_PATH, 404);
    const error = await failure(api().listServers('ts_x'));
    expect(error.code).toBe('DATAGRID_REJECTED');
  });

  it('words exhausted retries like "PATCH /organization/mcp-servers/srv_1 failed after 4 attempts: HTTP 503"', async () => {
    for (let i = 0; i < 4; i += 1) replyOnce(SERVER_PATH, 503, {}, {}, 'PATCH');
    const error = await failure(api().updateAuthorization(undefined, 'srv_1', AUTHORIZATION));
    expect(error.message).toBe('PATCH /organization/mcp-servers/srv_1 failed after 4 attempts: HTTP 503');
  });

  it("includes Datagrid's short error message on a rejection", async () => {
    replyOnce(
      SERVER_PATH,
      422,
      { type: 'validation_error', message: 'authorization: too long', param: 'authorization' },
      {},
      'PATCH',
    );
    const error = await failure(api().updateAuthorization(undefined, 'srv_1', AUTHORIZATION));
    expect(error.message).toBe(
      'PATCH /organization/mcp-servers/srv_1 failed after 1 attempt: HTTP 422: authorization: too long',
    );
  });

  it.each([
    ['the Authorization value', { message: `bad header "${AUTHORIZATION}"` }],
    ['the bare token', { error: { message: `token ${TOKEN} was refused by the MCP server` } }],
    ['the API key', { detail: `key ${API_KEY} may not update this server` }],
    ['a JSON-escaped copy', { error: `value ${JSON.stringify(AUTHORIZATION)} rejected` }],
  ])("scrubs %s out of Datagrid's error message", async (_, body) => {
    replyOnce(SERVER_PATH, 400, body, {}, 'PATCH');
    const error = await failure(api().updateAuthorization(undefined, 'srv_1', AUTHORIZATION));
    expect(error.code).toBe('DATAGRID_REJECTED');
    expect(error.message).toContain('[REDACTED]');
    expect(error.message).not.toContain(TOKEN);
    expect(error.message).not.toContain(API_KEY);
  });

  it("leaves out an error message too long to show whole (a cut could split a secret) and one that isn't JSON", async () => {
    replyOnce(SERVER_PATH, 400, { message: `${'x'.repeat(400)}` }, {}, 'PATCH');
    replyOnce(SERVER_PATH, 400, 'plain text error', {}, 'PATCH');
    const client = api();
    const long = await failure(client.updateAuthorization(undefined, 'srv_1', AUTHORIZATION));
    expect(long.message).toMatch(/HTTP 400$/);
    const text = await failure(client.updateAuthorization(undefined, 'srv_1', AUTHORIZATION));
    expect(text.message).toMatch(/HTTP 400$/);
  });
});

describe('retries', () => {
  it('waits Retry-After seconds on a 429', async () => {
    replyOnce(SERVER_PATH, 429, {}, { 'retry-after': '2' });
    replyOnce(SERVER_PATH, 200, server());
    await api().getServer(undefined, 'srv_1');
    expect(dg.clock.sleeps).toEqual([2000]);
  });

  it('waits until a Retry-After HTTP date, measured with the injected clock', async () => {
    dg.clock.time = Date.parse('2025-01-01T00:00:00Z');
    replyOnce(SERVER_PATH, 429, {}, { 'retry-after': 'Wed, 01 Jan 2025 00:00:03 GMT' });
    replyOnce(SERVER_PATH, 200, server());
    await api().getServer(undefined, 'srv_1');
    expect(dg.clock.sleeps).toEqual([3000]);
  });

  it('prefers retry-after-ms (milliseconds) over Retry-After', async () => {
    replyOnce(SERVER_PATH, 503, {}, { 'retry-after-ms': '1500', 'retry-after': '2' });
    replyOnce(SERVER_PATH, 200, server());
    await api().getServer(undefined, 'srv_1');
    expect(dg.clock.sleeps).toEqual([1500]);
  });

  it.each([['3600'], ['0'], ['-1'], ['soon'], ['Wed, 01 Jan 2020 00:00:00 GMT']])(
    'falls back to backoff when Retry-After is %j (not in (0, 60 s])',
    async (value) => {
      replyOnce(SERVER_PATH, 429, {}, { 'retry-after': value });
      replyOnce(SERVER_PATH, 200, server());
      await api().getServer(undefined, 'srv_1');
      expect(dg.clock.sleeps).toEqual([250]); // random 0.5 x 500 ms
    },
  );

  it('stops at once when x-should-retry: false comes with a 503', async () => {
    replyOnce(SERVER_PATH, 503, {}, { 'x-should-retry': 'false' });
    const options = counting();
    const error = await failure(api().getServer(undefined, 'srv_1', options));
    expect(error.code).toBe('DATAGRID_UNAVAILABLE');
    expect(error.attempts).toBe(1);
    expect(options.count()).toBe(1);
    expect(error.message).toContain('the server said not to retry');
  });

  it('retries a 400 when x-should-retry: true', async () => {
    replyOnce(SERVER_PATH, 400, {}, { 'x-should-retry': 'true' }, 'PATCH');
    replyOnce(SERVER_PATH, 200, server(), {}, 'PATCH');
    const options = counting();
    await expect(api().updateAuthorization(undefined, 'srv_1', AUTHORIZATION, options)).resolves.toEqual(server());
    expect(options.count()).toBe(2);
  });

  it.each([401, 403])('never retries %i, even with x-should-retry: true', async (status) => {
    replyOnce(SERVER_PATH, status, {}, { 'x-should-retry': 'true', 'retry-after': '1' }, 'PATCH');
    const options = counting();
    const error = await failure(api().updateAuthorization(undefined, 'srv_1', AUTHORIZATION, options));
    expect(error.code).toBe('DATAGRID_AUTH_FAILED');
    expect(error.attempts).toBe(1);
    expect(options.count()).toBe(1);
    expect(dg.clock.sleeps).toEqual([]);
  });

  it('backs off exponentially with full jitter, capped at 8 s', async () => {
    const draws = [0.999, 0.5, 0, 0.25, 0.999, 0.999];
    for (let i = 0; i < 7; i += 1) replyOnce(SERVER_PATH, 500);
    const error = await failure(api({ maxAttempts: 7, random: () => draws.shift()! }).getServer(undefined, 'srv_1'));
    expect(error.attempts).toBe(7);
    // Ceilings 500, 1000, 2000, 4000, 8000, 8000 ms, each scaled by the draw (0 allowed: full jitter).
    expect(dg.clock.sleeps).toEqual([499.5, 500, 0, 1000, 7992, 7992]);
    expect(draws).toEqual([]);
  });

  it('counts every attempt through onAttempt and DatagridError.attempts, and respects maxAttempts', async () => {
    for (let i = 0; i < 3; i += 1) replyOnce(SERVER_PATH, 502);
    const options = counting();
    const error = await failure(api({ maxAttempts: 3 }).getServer(undefined, 'srv_1', options));
    expect(options.count()).toBe(3);
    expect(error.attempts).toBe(3);
    expect(dg.clock.sleeps).toHaveLength(2);
  });

  it('succeeds on the last allowed attempt', async () => {
    for (let i = 0; i < 3; i += 1) replyOnce(SERVER_PATH, 503);
    replyOnce(SERVER_PATH, 200, server());
    const options = counting();
    await expect(api({ maxAttempts: 4 }).getServer(undefined, 'srv_1', options)).resolves.toEqual(server());
    expect(options.count()).toBe(4);
  });

  it('stops early when the deadline cannot fit the wait plus one more attempt', async () => {
    // Timeout 1000 ms, draws 1: waits 500, 1000, then 2000 would end at 1500 + 2000 + 1000 > 2500.
    for (let i = 0; i < 3; i += 1) replyOnce(SERVER_PATH, 503);
    const options = counting({ deadlineAt: dg.clock.time + 2_500 });
    const error = await failure(api({ maxAttempts: 10, random: () => 1 }).getServer(undefined, 'srv_1', options));
    expect(error.attempts).toBe(3);
    expect(options.count()).toBe(3);
    expect(dg.clock.sleeps).toEqual([500, 1000]);
    expect(error.code).toBe('DATAGRID_UNAVAILABLE');
    expect(error.message).toContain('deadline');
  });

  it('does not wait out a Retry-After that passes the deadline', async () => {
    replyOnce(SERVER_PATH, 429, {}, { 'retry-after': '30' });
    const error = await failure(api().getServer(undefined, 'srv_1', { deadlineAt: dg.clock.time + 10_000 }));
    expect(error.attempts).toBe(1);
    expect(dg.clock.sleeps).toEqual([]);
  });

  it('retries connection errors and names them without their message', async () => {
    dg.pool.intercept({ path: SERVER_PATH, method: 'GET' }).replyWithError(new Error(`reset while sending ${API_KEY}`));
    replyOnce(SERVER_PATH, 200, server());
    await expect(api().getServer(undefined, 'srv_1')).resolves.toEqual(server());
    expect(dg.clock.sleeps).toEqual([250]);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]!.attributes).toMatchObject({ request: 'GET /organization/mcp-servers/srv_1', attempt: 1 });
  });

  it('reports exhausted connection errors as DATAGRID_UNAVAILABLE', async () => {
    const reset = Object.assign(new Error('other side closed'), { name: 'SocketError', code: 'UND_ERR_SOCKET' });
    dg.pool.intercept({ path: SERVER_PATH, method: 'GET' }).replyWithError(reset).times(2);
    const error = await failure(api({ maxAttempts: 2 }).getServer(undefined, 'srv_1'));
    expect(error.code).toBe('DATAGRID_UNAVAILABLE');
    expect(error.status).toBeUndefined();
    expect(error.message).toBe(
      'GET /organization/mcp-servers/srv_1 failed after 2 attempts: connection error: SocketError (UND_ERR_SOCKET)',
    );
    expect(error.message).not.toContain('other side closed');
  });

  it('times out an attempt that gets no response in requestTimeoutMs and retries it', async () => {
    dg.pool.intercept({ path: SERVER_PATH, method: 'GET' }).reply(200, JSON.stringify(server())).delay(2_000);
    replyOnce(SERVER_PATH, 200, server());
    await expect(api({ requestTimeoutMs: 50 }).getServer(undefined, 'srv_1')).resolves.toEqual(server());
    expect(dg.clock.sleeps).toHaveLength(1);
  });

  it('reports a timed-out last attempt as DATAGRID_UNAVAILABLE', async () => {
    dg.pool.intercept({ path: SERVER_PATH, method: 'GET' }).reply(503, '').delay(2_000);
    const error = await failure(api({ requestTimeoutMs: 50, maxAttempts: 1 }).getServer(undefined, 'srv_1'));
    expect(error.code).toBe('DATAGRID_UNAVAILABLE');
    expect(error.message).toBe(
      'GET /organization/mcp-servers/srv_1 failed after 1 attempt: no complete response within 50 ms',
    );
  });
});

describe('secrets', () => {
  it('never puts the API key, the Authorization value or its token in an error message or a log line', async () => {
    const echo = { message: `${AUTHORIZATION} / ${API_KEY}`, error: { message: TOKEN }, detail: API_KEY };
    const statuses = [400, 401, 403, 404, 409, 422, 429, 500, 503];
    const messages: string[] = [];
    for (const status of statuses) {
      replyOnce(SERVER_PATH, status, echo, { 'x-should-retry': 'false' }, 'PATCH');
      messages.push((await failure(api().updateAuthorization('ts_1', 'srv_1', AUTHORIZATION))).message);
    }
    dg.pool
      .intercept({ path: SERVER_PATH, method: 'PATCH' })
      .replyWithError(new Error(`${AUTHORIZATION} ${API_KEY}`))
      .times(2);
    messages.push((await failure(api({ maxAttempts: 2 }).updateAuthorization('ts_1', 'srv_1', AUTHORIZATION))).message);
    replyOnce(SERVER_PATH, 200, { ...server(), object: AUTHORIZATION, status: API_KEY }, {}, 'PATCH');
    messages.push((await failure(api({ maxAttempts: 1 }).updateAuthorization('ts_1', 'srv_1', AUTHORIZATION))).message);

    const everything = JSON.stringify({ messages, log: log.lines });
    expect(messages).toHaveLength(statuses.length + 2);
    for (const canary of [API_KEY, TOKEN, AUTHORIZATION]) expect(everything).not.toContain(canary);
  });
});

describe('connection reuse', () => {
  it('reuses one keep-alive connection across factories, API keys and drained error responses', async () => {
    let connections = 0;
    let requests = 0;
    const http = createServer((req, res) => {
      requests += 1;
      // Every other response is a 503 whose body outgrows undici's buffer: unless the client drains it, the socket
      // stays busy and the retry needs a new connection.
      const ok = requests % 2 === 0;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? server() : { message: 'x'.repeat(100_000) }));
    });
    http.on('connection', () => {
      connections += 1;
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
      // undici frees a socket a moment after the response ends; real waits are never shorter than this one.
      const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
      const realClock: Clock = { now: () => 0, sleep: nextTurn };
      const options = { requestTimeoutMs: 5_000, maxAttempts: 2, clock: realClock, random: () => 0 };
      const first = createDatagridApiFactory({ ...options, baseUrl: `${origin}/v1` })('key-one');
      const second = createDatagridApiFactory({ ...options, baseUrl: `${origin}/v1/` })('key-two');
      await first.getServer(undefined, 'srv_1');
      await nextTurn();
      await second.getServer(undefined, 'srv_1');
      expect(requests).toBe(4);
      expect(connections).toBe(1);
    } finally {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
  });
});
