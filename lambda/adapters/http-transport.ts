/**
 * The one HTTP exchange the Datagrid adapter needs: send a request, get status, headers and a streamed body.
 *
 * By default it runs on Node's own `http`/`https` with one keep-alive agent per origin: the AWS SDK already loads
 * those modules, so the Datagrid client adds nothing to the Lambda's cold start (bundling undici's client cost about
 * 40% of the bundle's import time). An undici Dispatcher can be passed instead (tests pass a MockAgent); it is used
 * through its own `request` method, so undici is never imported here.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Dispatcher } from 'undici';

export interface HttpRequest {
  url: string;
  method: 'GET' | 'PATCH';
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

/** A body longer than this is not drained for reuse of its connection: the connection is closed instead. */
const MAX_DRAIN_BYTES = 1024 * 1024;

const agents = new Map<string, HttpAgent>();

/**
 * The keep-alive agent of an origin, created once per Lambda container so warm invocations and every run's client
 * reuse its connections.
 */
export function agentFor(origin: string): HttpAgent {
  let agent = agents.get(origin);
  if (!agent) {
    agent = origin.startsWith('https:') ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    agents.set(origin, agent);
  }
  return agent;
}

function bodyOf(response: IncomingMessage): ResponseBody {
  return {
    [Symbol.asyncIterator]: () => response[Symbol.asyncIterator]() as AsyncIterator<Buffer>,
    async dump() {
      let size = 0;
      for await (const chunk of response as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_DRAIN_BYTES) return; // leaving the loop destroys the response and its socket
      }
    },
  };
}

/** Node's http/https client with the keep-alive agent of the request's origin. */
export const nodeHttpTransport: HttpTransport = (request) =>
  new Promise((resolve, reject) => {
    const url = new URL(request.url);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string> = { ...request.headers };
    if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
    // Throws synchronously on a header value Node refuses (a control character): the caller treats that as final.
    const req = send(url, { method: request.method, headers, agent: agentFor(url.origin), signal: request.signal });
    // Errors after the response arrived reach its body's reader; rejecting a settled promise then is a no-op.
    req.on('error', reject);
    req.once('response', (response) => {
      // An abort while nobody reads the body must not become an unhandled 'error' event.
      response.on('error', () => undefined);
      resolve({ statusCode: response.statusCode ?? 0, headers: response.headers, body: bodyOf(response) });
    });
    req.end(request.body);
  });

/** An undici Dispatcher (a MockAgent in tests, or any Agent a caller supplies). */
export function dispatcherTransport(dispatcher: Dispatcher): HttpTransport {
  return async (request) => {
    const url = new URL(request.url);
    const response = await dispatcher.request({
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
