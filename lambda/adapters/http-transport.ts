/**
 * The one HTTP client of the Datagrid adapter and of pre-flight: undici. Production, the CLI and the tests all send
 * through an undici Dispatcher: by default the shared keep-alive Pool of the request's origin (see poolFor), in tests
 * a MockAgent; pre-flight's fetch uses an Agent with the same guards (agentFor).
 *
 * undici is loaded with a dynamic import() (see loadUndici), not a static one: it is about 720 KB of bundled code,
 * which would make the Lambda's cold start about 1.5x that of a bundle of the three AWS SDK clients alone. The
 * Lambda bundle keeps it in a chunk beside handler.mjs; the handler starts loading it at the top of each run, so the
 * import overlaps the run's first AWS reads, which always come before the first Datagrid request.
 */
import type * as UndiciModule from 'undici';
import type { Agent, Dispatcher, Pool } from 'undici';

export interface HttpRequest {
  url: string;
  method: 'GET' | 'PATCH' | 'POST' | 'DELETE';
  headers: Record<string, string>;
  body: string | undefined;
  signal: AbortSignal;
}

export interface ResponseBody extends AsyncIterable<Buffer> {
  /** Reads and discards the rest (so the connection can be reused); an oversized rest closes it instead. */
  dump(): Promise<void>;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: ResponseBody;
}

export type HttpTransport = (request: HttpRequest) => Promise<HttpResponse>;

/** How the pool of an origin guards each connection and answer. */
export interface PoolLimits {
  /** Connecting (TCP and TLS), waiting for the response headers, and each pause between body chunks, ms. */
  timeoutMs: number;
  /** A response whose body is longer than this fails (before it is read, when Content-Length says so). */
  maxResponseBytes: number;
}

/**
 * An idle connection is closed after this, unless the server's Keep-Alive header asks for less. Below the idle
 * timeouts of common servers and load balancers (Node 5 s, ALB 60 s), so a request is not sent on a connection the
 * server is closing: a PATCH lost that way has an unknown outcome and costs a read.
 */
const KEEP_ALIVE_TIMEOUT_MS = 4_000;

type Undici = typeof UndiciModule.default;
let undici: Promise<Undici> | undefined;

/**
 * Starts loading undici once per process (later calls return the same load); a failed load is not kept, so the next
 * call tries again.
 */
export function loadUndici(): Promise<Undici> {
  if (!undici) {
    // undici is CommonJS: its exports are the namespace's default, in Node and in the esbuild bundle alike (the
    // bundle's namespace has no named exports).
    const load = import('undici').then((module) => module.default);
    undici = load;
    load.catch(() => {
      if (undici === load) undici = undefined;
    });
  }
  return undici;
}

/** For the top of a run: start the load now, and leave its failure to the first request that needs undici. */
export function preloadUndici(): void {
  loadUndici().catch(() => undefined);
}

/** What every dispatcher of the project guards: timeouts, keep-alive and the response size cap. */
function dispatcherOptions(limits: PoolLimits): Pool.Options {
  return {
    connect: { timeout: limits.timeoutMs },
    headersTimeout: limits.timeoutMs,
    bodyTimeout: limits.timeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    maxResponseSize: limits.maxResponseBytes,
  };
}

/** One dispatcher per key for the life of the container; a failed load is not kept, so the next use tries again. */
function sharedDispatcher<D>(cache: Map<string, Promise<D>>, key: string, create: (undici: Undici) => D): Promise<D> {
  let dispatcher = cache.get(key);
  if (!dispatcher) {
    dispatcher = loadUndici().then(create);
    cache.set(key, dispatcher);
    dispatcher.catch(() => cache.delete(key));
  }
  return dispatcher;
}

const pools = new Map<string, Promise<Pool>>();

/**
 * The keep-alive Pool of an origin, created once per Lambda container so warm invocations and every run's client
 * reuse its connections. Clients with other limits get a pool of their own.
 */
export function poolFor(origin: string, limits: PoolLimits): Promise<Pool> {
  const key = JSON.stringify([origin, limits.timeoutMs, limits.maxResponseBytes]);
  return sharedDispatcher(pools, key, ({ Pool }) => new Pool(origin, dispatcherOptions(limits)));
}

const agents = new Map<string, Promise<Agent>>();

/**
 * An Agent with the same guards for requests to many origins (pre-flight's MCP servers, one origin per server):
 * it keeps a pool per origin while the origin has connections and drops it afterwards.
 */
export function agentFor(limits: PoolLimits): Promise<Agent> {
  const key = JSON.stringify([limits.timeoutMs, limits.maxResponseBytes]);
  return sharedDispatcher(agents, key, ({ Agent }) => new Agent(dispatcherOptions(limits)));
}

/**
 * Sends through `dispatcher` (a MockAgent in tests, or any Dispatcher a caller supplies), or, without one, through
 * the shared pool of the request's origin with `limits`.
 */
export function undiciTransport(dispatcher: Dispatcher | undefined, limits: PoolLimits): HttpTransport {
  return async (request) => {
    const url = new URL(request.url);
    const client = dispatcher ?? (await poolFor(url.origin, limits));
    const response = await client.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: request.signal,
    });
    return { statusCode: response.statusCode, headers: response.headers, body: response.body };
  };
}
