/**
 * A local Datagrid API (docs/architecture.md lists the Datagrid API facts relied on) on 127.0.0.1: API keys and teamspaces, MCP servers with
 * managed and caller-managed secrets, a real MCP tool re-sync, fault injection, and a request log.
 * The official `datagrid-ai` client is the judge of its wire format (test/e2e/datagrid-conformance.test.ts).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { FaultInjector } from './emulator/faults.ts';
import type { Fault, FaultPlan } from './emulator/faults.ts';
import { ApiError, DEFAULT_TEAMSPACE, EmulatorStore } from './emulator/store.ts';
import type { ApiKeySpec, EmulatedServer, McpServer, SyncSettings, SyncSettingsInput } from './emulator/store.ts';
import { checkPageQuery, checkSecretBody, checkServerBody } from './emulator/validation.ts';
import type { ServerFields } from './emulator/validation.ts';
import { closeServer, listen } from './net.ts';

export { ApiError, DEFAULT_TEAMSPACE, FaultInjector };
export type { ApiKeySpec, EmulatedServer, McpServer, SyncSettings, SyncSettingsInput };
export type { Fault, FaultHandle, FaultRule, RateLimit } from './emulator/faults.ts';
export type { StatusVocabulary } from './emulator/store.ts';
export type { ServerFields };

export const DEFAULT_API_KEY = 'dg-local-api-key';

export interface DatagridEmulatorOptions {
  /** API keys; a string gets the teamspace `ts_default`. @default [DEFAULT_API_KEY] */
  apiKeys?: Array<string | ApiKeySpec>;
  /** @default 0 (a free port) */
  port?: number;
  /** @default 'sync' */
  syncMode?: SyncSettings['mode'];
  /** @default 0 */
  asyncDelayMs?: number;
  /** @default { healthy: 'active', failed: 'error', pending: 'syncing' } */
  statuses?: SyncSettingsInput['statuses'];
  /** @default 5000 */
  syncTimeoutMs?: number;
  /** @default 'stable' */
  managedSecretIds?: SyncSettings['managedSecretIds'];
  /** @default 30 (Datagrid's documented limit) */
  maxServersPerTeamspace?: number;
  /** Serve `GET /_emulator/servers` (stored Authorization values included). Test-only. @default false */
  inspection?: boolean;
}

export interface RequestLogEntry {
  method: string;
  /** Path below the base URL, without `/v1` and the query, e.g. `/organization/mcp-servers/mcp_1`. */
  path: string;
  query: string;
  /** The teamspace the request acted in (or named, when it was refused before that was known). */
  teamspace: string | null;
  /** 0 when the connection was dropped. */
  status: number;
  /** Top-level keys of a JSON body, never the values. */
  bodyKeys?: string[];
  /** The injected fault or the rate limit that shaped the answer. */
  fault?: Fault['type'];
  /** `performance.now()` when the request arrived and when its answer was handed to the socket. */
  receivedAt: number;
  answeredAt?: number;
}

export interface DatagridEmulator {
  /** Base URL including `/v1`, for the official client's `baseURL` or the rotator's `datagrid.baseUrl`. */
  readonly url: string;
  /** The first configured API key. */
  readonly apiKey: string;
  readonly apiKeys: {
    /** Adds a key (or re-enables a revoked one). */
    add(key: string, options?: Omit<ApiKeySpec, 'key'>): void;
    /** Every later request with it answers 401. */
    revoke(key: string): void;
  };
  /** Test-only view of what is stored, Authorization values included. */
  readonly servers: {
    list(teamspace?: string): EmulatedServer[];
    get(serverId: string): EmulatedServer | undefined;
    /** Registers a server without HTTP, with the same rules and re-sync as `POST /organization/mcp-servers`. */
    create(input: ServerFields & { name: string; base_url: string }, teamspace?: string): Promise<McpServer>;
    /** Sets metadata keys only Datagrid writes, e.g. `{ requires_oauth: true }` for a server behind OAuth. */
    setMetadata(serverId: string, fields: Record<string, unknown>): void;
    /** Deletes a secret even while a server references it (the API answers 409), leaving the reference dangling. */
    dropSecret(secretId: string): void;
  };
  readonly faults: FaultInjector;
  /** Every API request, oldest first; `requestLog.length = 0` clears it. */
  readonly requestLog: RequestLogEntry[];
  /** API requests being answered now, and the most at once since the start or the last `resetPeak()`. */
  readonly inFlight: { readonly current: number; readonly peak: number; resetPeak(): void };
  readonly settings: Readonly<SyncSettings>;
  /** Changes the re-sync mode, delay, status vocabulary or limits at runtime. */
  configure(settings: SyncSettingsInput): void;
  /** Resolves when no background (async-mode) re-sync is pending. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export async function startDatagridEmulator(options: DatagridEmulatorOptions = {}): Promise<DatagridEmulator> {
  const store = new EmulatorStore({
    mode: options.syncMode,
    asyncDelayMs: options.asyncDelayMs,
    statuses: options.statuses,
    syncTimeoutMs: options.syncTimeoutMs,
    managedSecretIds: options.managedSecretIds,
    maxServersPerTeamspace: options.maxServersPerTeamspace,
  });
  const keySpecs = (options.apiKeys ?? [DEFAULT_API_KEY]).map((k) => (typeof k === 'string' ? { key: k } : k));
  if (keySpecs.length === 0) throw new Error('apiKeys: expected at least one key');
  for (const spec of keySpecs) store.addKey(spec);
  const faults = new FaultInjector();
  const requestLog: RequestLogEntry[] = [];

  const inFlight = { current: 0, peak: 0 };
  const http = createServer((req, res) => {
    inFlight.current += 1;
    inFlight.peak = Math.max(inFlight.peak, inFlight.current);
    res.once('close', () => (inFlight.current -= 1));
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, errorReply(new ApiError(500, 'server_error', 'Internal emulator error')));
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    if (url.pathname === '/_emulator/servers' && options.inspection === true && method === 'GET') {
      const teamspace = url.searchParams.get('teamspace') ?? undefined;
      send(res, { status: 200, body: { object: 'list', data: store.inspect(teamspace) } });
      return;
    }
    const path = url.pathname.startsWith('/v1/') ? url.pathname.slice(3) : null;
    const entry: RequestLogEntry = {
      method,
      path: path ?? url.pathname,
      query: url.search,
      teamspace: header(req, 'datagrid-teamspace') ?? null,
      status: 0,
      receivedAt: performance.now(),
    };
    res.once('finish', () => (entry.answeredAt = performance.now()));
    requestLog.push(entry);
    const plan: FaultPlan = path === null ? { latencyMs: 0 } : faults.plan(method, path);
    if (plan.latencyMs > 0) await delay(plan.latencyMs);
    if (plan.rateLimitedForMs !== undefined) {
      entry.fault = 'rate-limit';
      entry.status = 429;
      send(res, rateLimitReply(Math.ceil(plan.rateLimitedForMs / 1000), plan.rateLimitedForMs));
      return;
    }
    const fault = plan.fault;
    if (fault) entry.fault = fault.type;
    if (fault && fault.type !== 'rewrite-body' && !takesEffectFirst(fault)) {
      entry.status = injectFault(res, fault);
      return;
    }

    let reply: Reply;
    try {
      const raw = await readBody(req);
      const body = raw === '' ? undefined : parseJson(raw);
      if (body !== null && typeof body === 'object' && !Array.isArray(body)) entry.bodyKeys = Object.keys(body);
      if (path === null)
        throw new ApiError(404, 'not_found', `No route ${method} ${url.pathname}: the API is under /v1`);
      const teamspace = store.authenticate(header(req, 'authorization'), header(req, 'datagrid-teamspace'));
      entry.teamspace = teamspace;
      reply = await route(method, path, url.searchParams, body, teamspace);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      reply = errorReply(error);
    }
    if (fault?.type === 'rewrite-body') {
      if (reply.status < 300 && reply.body !== undefined)
        reply = { ...reply, body: fault.rewrite(structuredClone(reply.body)) };
    } else if (fault) {
      entry.status = injectFault(res, fault);
      return;
    }
    entry.status = reply.status;
    send(res, reply);
  }

  async function route(
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
    teamspace: string,
  ): Promise<Reply> {
    const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
    const [first, second, third, extra] = segments;
    if (first === 'organization' && second === 'mcp-servers' && extra === undefined) {
      if (third === undefined) {
        if (method === 'GET') return { status: 200, body: { object: 'list', data: store.listServers(teamspace) } };
        if (method === 'POST')
          return { status: 200, body: await store.createServer(teamspace, serverFields(body, 'create')) };
        return methodNotAllowed(method, path);
      }
      if (method === 'GET') return { status: 200, body: store.getServer(teamspace, third) };
      if (method === 'PATCH') {
        return { status: 200, body: await store.updateServer(teamspace, third, serverFields(body, 'update')) };
      }
      if (method === 'DELETE') {
        store.deleteServer(teamspace, third);
        return { status: 204 };
      }
      return methodNotAllowed(method, path);
    }
    if (first === 'secrets' && third === undefined) {
      if (second === undefined) {
        if (method === 'GET') {
          const page = checkPageQuery(query);
          if (!page.ok) throw new ApiError(422, 'validation_error', page.message, page.param);
          return { status: 200, body: store.listSecrets(teamspace, page.value) };
        }
        if (method === 'POST') {
          const fields = checkSecretBody(body);
          if (!fields.ok) throw new ApiError(422, 'validation_error', fields.message, fields.param);
          return { status: 200, body: store.createSecret(teamspace, fields.value) };
        }
        return methodNotAllowed(method, path);
      }
      if (method === 'GET') return { status: 200, body: store.getSecret(teamspace, second) };
      if (method === 'DELETE') {
        store.deleteSecret(teamspace, second);
        return { status: 204 };
      }
      return methodNotAllowed(method, path);
    }
    throw new ApiError(404, 'not_found', `No route ${method} ${path}`);
  }

  const port = await listen(http, options.port ?? 0);
  const [firstKey] = keySpecs;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    apiKey: firstKey!.key,
    apiKeys: {
      add: (key, spec) => store.addKey({ ...spec, key }),
      revoke: (key) => store.revokeKey(key),
    },
    servers: {
      list: (teamspace) => store.inspect(teamspace),
      get: (serverId) => store.inspectOne(serverId),
      create: async (input, teamspace = firstKey!.teamspace ?? DEFAULT_TEAMSPACE) => {
        const checked = checkServerBody(input, 'create');
        if (!checked.ok) throw new Error(checked.message);
        return store.createServer(teamspace, checked.value);
      },
      setMetadata: (serverId, fields) => store.setMetadata(serverId, fields),
      dropSecret: (secretId) => store.dropSecret(secretId),
    },
    faults,
    requestLog,
    inFlight: {
      get current() {
        return inFlight.current;
      },
      get peak() {
        return inFlight.peak;
      },
      resetPeak: () => (inFlight.peak = inFlight.current),
    },
    get settings() {
      return store.settings;
    },
    configure: (settings) => store.configure(settings),
    idle: () => store.idle(),
    close: async () => {
      await closeServer(http);
      await store.close();
    },
  };
}

function serverFields(body: unknown, mode: 'create' | 'update'): ServerFields {
  const checked = checkServerBody(body, mode);
  if (!checked.ok) throw new ApiError(422, 'validation_error', checked.message, checked.param);
  return checked.value;
}

function methodNotAllowed(method: string, path: string): never {
  throw new ApiError(405, 'method_not_allowed', `Method ${method} not allowed on ${path}`);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) reject(new ApiError(400, 'invalid_request_error', 'request body: larger than 1 MiB'));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new ApiError(400, 'invalid_request_error', 'request body: expected valid JSON');
  }
}

function errorReply(error: ApiError): Reply {
  const body: Record<string, unknown> = { type: error.type, message: error.message };
  if (error.param !== undefined) body.param = error.param;
  return { status: error.status, body };
}

function rateLimitReply(retryAfterSeconds: number | undefined, retryAfterMs: number | undefined): Reply {
  const headers: Record<string, string> = {};
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  if (retryAfterMs !== undefined) headers['retry-after-ms'] = String(retryAfterMs);
  return { status: 429, headers, body: { type: 'rate_limit_exceeded', message: 'Too many requests: slow down' } };
}

/** Whether the request is handled (and takes effect) before the fault shapes the answer. */
function takesEffectFirst(fault: Exclude<Fault, { type: 'latency' }>): boolean {
  if (fault.type === 'rate-limit') return false;
  if (fault.type === 'rewrite-body') return true;
  if (fault.type === 'malformed-body') return fault.applied !== false;
  return fault.applied === true;
}

/** Answers with the fault (or cuts the connection); returns the status to log (0: none). */
function injectFault(res: ServerResponse, fault: Exclude<Fault, { type: 'latency' | 'rewrite-body' }>): number {
  switch (fault.type) {
    case 'rate-limit':
      send(res, rateLimitReply(fault.retryAfterSeconds, fault.retryAfterMs));
      return 429;
    case 'server-error': {
      const status = fault.status ?? 503;
      send(res, {
        status,
        headers: fault.headers ?? {},
        body: { type: status >= 500 ? 'server_error' : 'injected_error', message: `Injected ${status}` },
      });
      return status;
    }
    case 'drop-connection':
      res.socket?.destroy();
      return 0;
    case 'malformed-body': {
      const status = fault.status ?? 200;
      res.writeHead(status, { 'content-type': 'application/json' }).end('{"object": "mcp_server", "id": ');
      return status;
    }
  }
}

function send(res: ServerResponse, reply: Reply): void {
  if (reply.status === 204 || reply.body === undefined) {
    res.writeHead(reply.status, reply.headers).end();
    return;
  }
  const text = JSON.stringify(reply.body);
  res
    .writeHead(reply.status, {
      ...reply.headers,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(text)),
    })
    .end(text);
}
