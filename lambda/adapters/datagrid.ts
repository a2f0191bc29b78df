/**
 * DatagridApi over HTTP (the transport is in http-transport.ts). Every response body is
 * validated before the engine sees it; retries follow retry-policy.ts, a rate limit is met through throttle-gate.ts,
 * and all waiting goes through the injected clock. Error messages are built here from the method, path, status and
 * our own words: library messages are never passed on (they may echo headers), and a Datagrid error message is
 * included only after the API key and the Authorization value are scrubbed.
 */
import type { Dispatcher } from 'undici';
import * as z from 'zod/mini';
import { USER_AGENT } from '../version.ts';
import { Redactor } from '../engine/redactor.ts';
import { echo } from '../echo.ts';
import { DatagridError, DatagridInvalidAnswerError, DatagridOutcomeUnknownError, describeCause } from '../errors.ts';
import type { Clock, DatagridApi, ListedServer, Log, McpServer, RequestOptions } from '../types/index.ts';
import { ThrottleGate } from './throttle-gate.ts';
import { undiciTransport } from './http-transport.ts';
import type { HttpRequest, HttpResponse } from './http-transport.ts';
import { secretsCalls } from './datagrid-secrets.ts';
import { backoffMs, isAuthFailure, isRetryableResponse, isRetryableStatus, requestedWaitMs } from './retry-policy.ts';

export interface DatagridClientOptions {
  /** e.g. https://api.datagrid.com/v1 (may contain a path). */
  baseUrl: string;
  /** Per HTTP attempt, headers and body. */
  requestTimeoutMs: number;
  /** Per logical request, retries included. */
  maxAttempts: number;
  /** All waiting goes through clock.sleep; deadlines are measured with clock.now. */
  clock: Clock;
  /** Jitter source. @default Math.random */
  random?: () => number;
  /**
   * An undici Dispatcher to send through (tests pass a MockAgent). @default the keep-alive undici Pool of the base
   * URL's origin, shared by every client with the same limits (http-transport.ts, poolFor)
   */
  dispatcher?: Dispatcher;
  /** Receives retry warnings (never a secret). */
  log?: Log;
}

// ---------- Response schemas (the `mcp_server` object: every key is always present) ----------

const metadataSchema = z.looseObject({
  requires_oauth: z.optional(z.boolean()),
  oauth_configured: z.optional(z.boolean()),
  // null: no tools yet / never synced (a server registered before its first re-sync finished).
  tool_count: z.optional(z.nullable(z.int())),
  last_synced_at: z.optional(z.nullable(z.string())),
});

const mcpServerSchema = z.object({
  object: z.literal('mcp_server'),
  id: z.string(),
  name: z.string(),
  base_url: z.string(),
  // The PATCH body documents `"http"` or null; the official client types it string. Accept both.
  transport: z.nullable(z.string()),
  status: z.string(),
  icon_url: z.nullable(z.string()),
  protocol_version: z.nullable(z.string()),
  authorization_secret_id: z.nullable(z.string()),
  metadata: z.nullable(metadataSchema),
  created_at: z.string(),
  updated_at: z.string(),
});

/**
 * The list is checked only as far as finding the targets needs: its shape and each entry's `id`. An entry is
 * validated whole only when a target is looked up in it (server-directory.ts), so one odd neighbour that no target
 * names cannot fail the teamspace.
 */
const mcpServerListSchema = z.object({ object: z.literal('list'), data: z.array(z.unknown()) });
const listEntryIdSchema = z.looseObject({ id: z.string() });

// ---------- The client ----------

type DatagridErrorCode = ConstructorParameters<typeof DatagridError>[0];

/** A 2xx body is read whole; larger than this is not a Datagrid answer (30 servers per teamspace at most). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** Longer Datagrid error messages are left out rather than cut, so a cut can never split a scrubbed value. */
const MAX_ERROR_TEXT_LENGTH = 300;

export interface Call<T> {
  method: HttpRequest['method'];
  /** Path below the base URL, server id encoded; also names the request in messages. */
  path: string;
  teamspaceId: string | undefined;
  /** Set for calls about one server, so a 404 means that server does not exist. */
  serverId: string | undefined;
  body: string | undefined;
  /** Values Datagrid's error text must not repeat. */
  secrets: string[];
  parse: (json: unknown) => ParseResult<T>;
  /** Statuses that answer this call for good: not retried, DATAGRID_REJECTED (a 409 "still referenced"). */
  finalStatuses?: readonly number[];
}

/** Sends one logical request with the client's retry, timeout, throttle and redaction rules. */
export type Perform = <T>(call: Call<T>, requestOptions: RequestOptions | undefined) => Promise<T>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problem: string };

interface Failure {
  code: DatagridErrorCode;
  status: number | undefined;
  /** What went wrong, safe to show. */
  cause: string;
  retryable: boolean;
  /** A 2xx whose body was not the object asked for (DatagridInvalidAnswerError). */
  invalidAnswer?: boolean;
  /** `x-should-retry: false` stopped a retry the status allowed. */
  declinedByServer: boolean;
  /** The wait the server asked for, when sane. */
  requestedWaitMs: number | undefined;
  /** The request may have reached Datagrid but its answer was lost (cut, timed out, or not a valid answer). */
  unanswered?: boolean;
}

type AttemptResult<T> = { ok: true; value: T } | { ok: false; failure: Failure };

/** What one client's requests share: the transport, the limits, the clock, the API key and the rate-limit gate. */
interface ClientContext {
  baseUrl: string;
  transport: ReturnType<typeof undiciTransport>;
  clock: Clock;
  log: Log | undefined;
  random: () => number;
  maxAttempts: number;
  requestTimeoutMs: number;
  apiKey: string;
  /** One gate per client: every request of a run meets Datagrid's rate limit together (throttle-gate.ts). */
  gate: ThrottleGate;
}

export function createDatagridApiFactory(
  options: DatagridClientOptions,
): (apiKey: string) => DatagridApi & Required<Pick<DatagridApi, 'secrets'>> {
  checkLimits(options);
  const transport = undiciTransport(options.dispatcher, {
    timeoutMs: options.requestTimeoutMs,
    maxResponseBytes: MAX_BODY_BYTES,
  });
  const shared = {
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    transport,
    clock: options.clock,
    log: options.log,
    random: options.random ?? Math.random,
    maxAttempts: options.maxAttempts,
    requestTimeoutMs: options.requestTimeoutMs,
  };
  return (apiKey: string) => {
    const ctx: ClientContext = { ...shared, apiKey, gate: new ThrottleGate(options.clock) };
    const perform: Perform = (call, requestOptions) => performCall(ctx, call, requestOptions);
    return {
      ...serverCalls(perform),
      // Delivery `secretReference`: the secrets API and the PATCH of a reference (adapters/datagrid-secrets.ts).
      secrets: secretsCalls(perform, parseServer),
    };
  };
}

function checkLimits(options: DatagridClientOptions): void {
  if (!Number.isInteger(options.maxAttempts) || options.maxAttempts < 1) {
    throw new RangeError(`maxAttempts: expected an integer >= 1, got ${options.maxAttempts}`);
  }
  if (!(options.requestTimeoutMs > 0)) {
    throw new RangeError(`requestTimeoutMs: expected a number > 0, got ${options.requestTimeoutMs}`);
  }
}

/** The MCP server calls of the DatagridApi port. */
function serverCalls(perform: Perform): Pick<DatagridApi, 'listServers' | 'getServer' | 'updateAuthorization'> {
  return {
    listServers(teamspaceId, requestOptions) {
      return perform(
        {
          method: 'GET',
          path: '/organization/mcp-servers',
          teamspaceId,
          serverId: undefined,
          body: undefined,
          secrets: [],
          parse: parseServerList,
        },
        requestOptions,
      );
    },
    getServer(teamspaceId, serverId, requestOptions) {
      return perform(
        {
          method: 'GET',
          path: serverPath(serverId),
          teamspaceId,
          serverId,
          body: undefined,
          secrets: [],
          parse: (json) => parseServer(json, serverId),
        },
        requestOptions,
      );
    },
    updateAuthorization(teamspaceId, serverId, authorization, requestOptions) {
      return perform(
        {
          method: 'PATCH',
          path: serverPath(serverId),
          teamspaceId,
          serverId,
          body: JSON.stringify({ authorization }),
          secrets: [authorization, credentialOf(authorization)],
          parse: (json) => parseServer(json, serverId),
        },
        requestOptions,
      );
    },
  };
}

/** One logical request: attempts through the rate-limit gate, retried per retry-policy.ts until the deadline. */
async function performCall<T>(
  ctx: ClientContext,
  call: Call<T>,
  requestOptions: RequestOptions | undefined,
): Promise<T> {
  const label = `${call.method} ${call.path}`;
  if (call.serverId !== undefined && !isAddressableServerId(call.serverId)) {
    throw new DatagridError(
      'DATAGRID_REJECTED',
      `${label} not sent: serverId must be a non-empty id other than "." and "..", got ${JSON.stringify(call.serverId)}`,
      { attempts: 0 },
    );
  }
  const { clock, gate } = ctx;
  // A write whose answer any attempt lost may have landed: the caller must not assume it was not sent.
  let unanswered = false;
  for (let attempt = 1; ; attempt += 1) {
    requestOptions?.onAttempt?.();
    const ticket = await gate.acquire(attempt > 1);
    let result: AttemptResult<T> | undefined;
    try {
      result = await attemptOnce(ctx, call);
    } finally {
      // attemptOnce turns every failure into a result; the finally only guards the gate against a bug.
      gate.release(ticket, throttledFor(result));
    }
    if (result.ok) return result.value;
    const { failure } = result;
    unanswered ||= failure.unanswered === true;

    const fail = (note = '') => failureError(call, failure, { attempt, unanswered, note });
    if (!failure.retryable) throw fail(failure.declinedByServer ? ' (the server said not to retry)' : '');
    if (attempt >= ctx.maxAttempts) throw fail();
    const waitMs = failure.requestedWaitMs ?? backoffMs(attempt, ctx.random);
    const { deadlineAt } = requestOptions ?? {};
    if (deadlineAt !== undefined && clock.now() + waitMs + ctx.requestTimeoutMs > deadlineAt) {
      throw fail(' (not retried: no time for another attempt before the deadline)');
    }
    ctx.log?.warn('Datagrid request failed; retrying', {
      request: label,
      attempt,
      status: failure.status,
      cause: failure.cause,
      waitMs: Math.round(waitMs),
    });
    await clock.sleep(waitMs);
  }
}

/** The error a request ends with: a PATCH whose answer an attempt lost may have been applied. */
function failureError(
  call: Call<unknown>,
  failure: Failure,
  { attempt, unanswered, note }: { attempt: number; unanswered: boolean; note: string },
): DatagridError {
  const message = `${call.method} ${call.path} failed after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${failure.cause}${note}`;
  const details = { status: failure.status, attempts: attempt };
  if (call.method === 'PATCH' && unanswered) {
    return new DatagridOutcomeUnknownError(
      `${message} (an answer was lost: the change may have been applied)`,
      details,
    );
  }
  return failure.invalidAnswer
    ? new DatagridInvalidAnswerError(message, details)
    : new DatagridError(failure.code, message, details);
}

async function attemptOnce<T>(ctx: ClientContext, call: Call<T>): Promise<AttemptResult<T>> {
  const { requestTimeoutMs } = ctx;
  const controller = new AbortController();
  let timedOut = false;
  // The global setTimeout (not AbortSignal.timeout) so that fake-timer tests control it too.
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, requestTimeoutMs);
  try {
    const response = await ctx.transport({
      url: `${ctx.baseUrl}${call.path}`,
      method: call.method,
      headers: headersFor(ctx.apiKey, call),
      body: call.body,
      signal: controller.signal,
    });
    return await interpret(ctx, call, response);
  } catch (error) {
    if (timedOut) {
      return {
        ok: false,
        failure: { ...transient(`no complete response within ${requestTimeoutMs} ms`), unanswered: true },
      };
    }
    return { ok: false, failure: connectionFailure(error) };
  } finally {
    clearTimeout(timer);
  }
}

function headersFor(apiKey: string, call: Call<unknown>): Record<string, string> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${apiKey}`,
    accept: 'application/json',
    'user-agent': USER_AGENT,
  };
  if (call.teamspaceId !== undefined) headers['datagrid-teamspace'] = call.teamspaceId;
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  return headers;
}

/** A response as the call's answer, or as a failure saying whether and when to retry. */
async function interpret<T>(ctx: ClientContext, call: Call<T>, response: HttpResponse): Promise<AttemptResult<T>> {
  const { statusCode: status, headers, body } = response;
  if (status >= 200 && status < 300) {
    const text = await readText(body, MAX_BODY_BYTES);
    const parsed = parseJson(text, call.parse);
    // A 2xx that is not our object (a proxy's page, another server's record) is transient, and it says nothing
    // of whether a write landed.
    return parsed.ok
      ? parsed
      : { ok: false, failure: { ...transient(parsed.problem, status), invalidAnswer: true, unanswered: true } };
  }

  const code = codeForStatus(status, call);
  let cause = `HTTP ${status}`;
  if (code === 'DATAGRID_REJECTED') {
    const detail = datagridMessage(await readText(body, MAX_ERROR_BODY_BYTES), [ctx.apiKey, ...call.secrets]);
    if (detail !== undefined) cause += `: ${detail}`;
  } else {
    // A connection is kept alive only once the body is consumed; its outcome does not matter here.
    await body.dump().catch(() => undefined);
    if (code === 'DATAGRID_AUTH_FAILED') cause += ': Datagrid refused the API key';
    if (code === 'SERVER_NOT_FOUND') cause += `: no MCP server ${call.serverId} in ${teamspaceName(call)}`;
  }
  const shouldRetry = firstHeader(headers['x-should-retry']);
  const retryable = !call.finalStatuses?.includes(status) && isRetryableResponse(status, shouldRetry);
  return {
    ok: false,
    failure: {
      code,
      status,
      cause,
      retryable,
      declinedByServer: !retryable && isRetryableStatus(status),
      requestedWaitMs: retryable
        ? requestedWaitMs(firstHeader(headers['retry-after-ms']), firstHeader(headers['retry-after']), ctx.clock.now())
        : undefined,
    },
  };
}

// ---------- Helpers ----------

function serverPath(serverId: string): string {
  return `/organization/mcp-servers/${encodeURIComponent(serverId)}`;
}

/**
 * URL parsing resolves a `.` or `..` segment (encoded or not) away, and an empty one addresses the list: such an id
 * would silently read or change another resource.
 */
function isAddressableServerId(serverId: string): boolean {
  return serverId !== '' && serverId !== '.' && serverId !== '..';
}

/** The credential inside an Authorization value (`Bearer <token>` → `<token>`), which Datagrid might echo alone. */
function credentialOf(authorization: string): string {
  const match = /^\S+\s+(.+)$/s.exec(authorization);
  return match?.[1] ?? authorization;
}

function teamspaceName(call: Call<unknown>): string {
  return call.teamspaceId === undefined ? "the API key's default teamspace" : `teamspace ${call.teamspaceId}`;
}

function codeForStatus(status: number, call: Call<unknown>): DatagridErrorCode {
  if (isAuthFailure(status)) return 'DATAGRID_AUTH_FAILED';
  // A 404 on the list names no server: the base URL or the teamspace is wrong, which retrying will not fix.
  if (status === 404) return call.serverId === undefined ? 'DATAGRID_REJECTED' : 'SERVER_NOT_FOUND';
  if (call.finalStatuses?.includes(status)) return 'DATAGRID_REJECTED';
  if (status >= 400 && status < 500 && !isRetryableStatus(status)) return 'DATAGRID_REJECTED';
  return 'DATAGRID_UNAVAILABLE';
}

/** For the gate: the wait a 429 asked for (0 when it named none), undefined for any other outcome. */
function throttledFor(result: AttemptResult<unknown> | undefined): number | undefined {
  if (result === undefined || result.ok || result.failure.status !== 429) return undefined;
  return result.failure.requestedWaitMs ?? 0;
}

function transient(cause: string, status?: number): Failure {
  return {
    code: 'DATAGRID_UNAVAILABLE',
    status,
    cause,
    retryable: true,
    declinedByServer: false,
    requestedWaitMs: undefined,
  };
}

function connectionFailure(error: unknown): Failure {
  // An invalid argument (a header value undici refuses) fails the same way every time.
  const code = (error as { code?: unknown } | null)?.code;
  const invalidArgument = typeof code === 'string' && INVALID_ARGUMENT_CODES.has(code);
  const neverSent = invalidArgument || (typeof code === 'string' && NOT_CONNECTED_CODES.has(code));
  return {
    ...transient(`connection error: ${describeCause(error)}`),
    retryable: !invalidArgument,
    unanswered: !neverSent,
  };
}

/** The request never left: no connection was made. */
const NOT_CONNECTED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT']);

const INVALID_ARGUMENT_CODES = new Set([
  'UND_ERR_INVALID_ARG',
  'ERR_INVALID_CHAR',
  'ERR_HTTP_INVALID_HEADER_VALUE',
  'ERR_INVALID_HTTP_TOKEN',
]);

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

async function readText(body: HttpResponse['body'], maxBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) return undefined; // leaving the loop destroys the stream
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson<T>(text: string | undefined, parse: (json: unknown) => ParseResult<T>): ParseResult<T> {
  if (text === undefined) return { ok: false, problem: 'the response body was too large' };
  let json: unknown;
  try {
    // An empty body (a 204 to a DELETE) parses as undefined; calls expecting an object reject that.
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    return { ok: false, problem: 'the response was not a valid mcp_server: the body is not JSON' };
  }
  return parse(json);
}

/** A valid `mcp_server`, and the one asked for: the record of another server is no answer to the question. */
function parseServer(json: unknown, serverId: string): ParseResult<McpServer> {
  const parsed = validate(mcpServerSchema, json, 'a valid mcp_server', (server) => server);
  if (parsed.ok && parsed.value.id !== serverId) {
    return {
      ok: false,
      problem: `the response was the record of MCP server ${echo(parsed.value.id)}, not of ${echo(serverId)}`,
    };
  }
  return parsed;
}

/** Each entry with a string id, validated whole; entries without one cannot be a target and are left out. */
function parseServerList(json: unknown): ParseResult<ListedServer[]> {
  const list = validate(mcpServerListSchema, json, 'an mcp_server list', (value) => value.data);
  if (!list.ok) return list;
  const entries: ListedServer[] = [];
  for (const item of list.value) {
    const withId = z.safeParse(listEntryIdSchema, item);
    if (!withId.success) continue;
    const server = validate(mcpServerSchema, item, 'a valid mcp_server', (value) => value);
    entries.push(server.ok ? server.value : { id: withId.data.id, invalid: server.problem });
  }
  return { ok: true, value: entries };
}

function validate<S extends z.ZodMiniType, T>(
  schema: S,
  json: unknown,
  expected: string,
  pick: (value: z.infer<S>) => T,
): ParseResult<T> {
  const result = z.safeParse(schema, json);
  if (result.success) return { ok: true, value: pick(result.data) };
  return { ok: false, problem: `the response was not ${expected}: ${describeIssues(result.error.issues)}` };
}

/** Where the body differs from the schema: paths and expected types only, never a value from the body. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 3).map((issue) => {
    const where = issue.path.length === 0 ? 'body' : issue.path.map(String).join('.');
    if (issue.code === 'invalid_type') return `${where}: expected ${issue.expected}`;
    if (issue.code === 'invalid_value')
      return `${where}: expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
    return `${where}: ${issue.code}`;
  });
  return shown.join('; ') + (issues.length > shown.length ? `; and ${issues.length - shown.length} more` : '');
}

/**
 * Datagrid's own error text from a JSON error body (`message`, `error.message`, `error` or `detail`), scrubbed of the
 * values sent with the request, on one line; undefined when there is none or it is too long to show whole.
 */
function datagridMessage(text: string | undefined, secrets: readonly string[]): string | undefined {
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (json === null || typeof json !== 'object') return undefined;
  const body = json as { message?: unknown; error?: unknown; detail?: unknown };
  const nested = body.error !== null && typeof body.error === 'object' ? (body.error as { message?: unknown }) : {};
  const message = [body.message, nested.message, body.error, body.detail].find((m) => typeof m === 'string');
  if (typeof message !== 'string') return undefined;

  const redactor = new Redactor();
  for (const secret of secrets) redactor.add(secret);
  // Scrubbed before and after folding onto one line: folding could join or split a value's whitespace.
  const scrubbed = redactor.scrub(
    redactor
      .scrub(message)
      .replace(/[\p{Cc}\s]+/gu, ' ')
      .trim(),
  );
  return scrubbed.length > 0 && scrubbed.length <= MAX_ERROR_TEXT_LENGTH ? scrubbed : undefined;
}
