/**
 * McpProbe with the official MCP TypeScript SDK's client (`@modelcontextprotocol/sdk`): it speaks the protocol
 * (JSON and SSE answers, sessions, protocol version negotiation) the way the MCP servers expect. The SDK is loaded
 * by a dynamic import() the first time a pre-flight runs, so esbuild puts it in a chunk of its own and runs without
 * pre-flight never load it (bundled into the handler it made the cold import about 1.5 times slower).
 *
 * What the probe sends where is decided here, not by the SDK: every request goes through `guardedFetch`, which
 * refuses any URL outside the base_url's origin (the Authorization value goes nowhere else) and refuses every 3xx
 * instead of following it (the SDK follows same-origin redirects by default). Underneath is undici's fetch over the
 * project's dispatcher (http-transport.ts), with its timeouts and a response size cap. Error messages are built
 * from what this module saw (an HTTP status, a timeout, a refused redirect); SDK messages are never passed on,
 * since they may quote a response body.
 */
import { createHash } from 'node:crypto';
// Type-only imports: erased at build time, so the SDK stays out of the handler's own file.
import type * as ClientModule from '@modelcontextprotocol/sdk/client/index.js';
import type * as TransportModule from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { RequestInit as UndiciRequestInit } from 'undici';
import { isLoopbackHost } from '../config/schema.ts';
import { ROTATOR_NAME } from '../constants.ts';
import { ROTATOR_VERSION } from '../version.ts';
import { PreflightError, describeCause } from '../errors.ts';
import type { McpProbe, ToolListing } from '../types/index.ts';
import { agentFor, loadUndici } from './http-transport.ts';

/** A server that pages `tools/list` forever is not one we can check. */
const MAX_TOOL_PAGES = 100;

type Sdk = [typeof ClientModule, typeof TransportModule];

let sdk: Promise<Sdk> | undefined;
/** One load per container, on first use. */
const loadSdk = (): Promise<Sdk> =>
  (sdk ??= Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
  ]));

export interface McpProbeOptions {
  /**
   * The fetch under the guard. @default undici's fetch through the project's dispatcher (http-transport.ts,
   * agentFor): connect, header and body timeouts, and a response size cap
   */
  fetch?: FetchLike;
}

/** A tool list (names, descriptions, input schemas) is far below this; a larger answer fails the pre-flight. */
const MAX_PREFLIGHT_RESPONSE_BYTES = 4 * 1024 * 1024;

/**
 * undici's fetch (loaded on demand, like the SDK) over the shared Agent with the pre-flight's limits, rather than
 * Node's global fetch, which has no size cap and its own connection pool.
 */
function undiciFetch(timeoutMs: number): FetchLike {
  return async (url, init) => {
    const [{ fetch }, dispatcher] = await Promise.all([
      loadUndici(),
      agentFor({ timeoutMs, maxResponseBytes: MAX_PREFLIGHT_RESPONSE_BYTES }),
    ]);
    // The same WHATWG types twice: undici's own, and the copy @types/node declares the globals with.
    return fetch(url, { ...(init as UndiciRequestInit), dispatcher });
  };
}

/** What the guard saw, for classifying a failure without the SDK's words. */
interface Observed {
  /** The first 401/403 answer. */
  rejectedWith?: number;
  /** The first other non-2xx answer to a POST (the GET stream may answer 405 in stateless servers). */
  failedWith?: number;
  refused?: string;
}

export function createMcpProbe(options: McpProbeOptions = {}): McpProbe {
  return {
    async listTools(baseUrl, authorization, { timeoutMs }) {
      const url = checkedUrl(baseUrl);
      const observed: Observed = {};
      let cut: (error: PreflightError) => void = () => undefined;
      const answerCut = new Promise<never>((_, reject) => {
        cut = reject;
      });
      const guarded = guardedFetch(options.fetch ?? undiciFetch(timeoutMs), url.origin, observed, cut);
      const [{ Client }, { StreamableHTTPClientTransport }] = await loadSdk();
      const transport = new StreamableHTTPClientTransport(url, {
        fetch: guarded,
        requestInit: { headers: { authorization }, redirect: 'manual' },
      });
      const client = new Client({ name: ROTATOR_NAME, version: ROTATOR_VERSION }, { capabilities: {} });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new PreflightError('PREFLIGHT_FAILED', `no tool list from ${url.origin} within ${timeoutMs} ms`));
        }, timeoutMs);
      });
      const requestOptions = { timeout: timeoutMs };
      const listAll = async (): Promise<ToolListing> => {
        // connect() sends initialize and then notifications/initialized.
        await client.connect(transport, requestOptions);
        const names: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; ; page += 1) {
          if (page === MAX_TOOL_PAGES) {
            throw new PreflightError('PREFLIGHT_FAILED', `tools/list still paging after ${MAX_TOOL_PAGES} pages`);
          }
          const listed = await client.listTools(cursor === undefined ? undefined : { cursor }, requestOptions);
          names.push(...listed.tools.map((tool) => tool.name));
          cursor = listed.nextCursor;
          if (cursor === undefined) break;
        }
        return { toolCount: names.length, toolNamesSha256: sha256([...names].sort().join('\n')) };
      };
      try {
        return await Promise.race([listAll(), timedOut, answerCut]);
      } catch (error) {
        throw classify(error, observed, url.origin);
      } finally {
        clearTimeout(timer);
        // Closing aborts whatever is still in flight; a failure to close changes nothing about the outcome.
        await client.close().catch(() => undefined);
      }
    },
  };
}

/** The base_url as a URL the credential may go to: https unless loopback, no user info. */
function checkedUrl(baseUrl: string): URL {
  const url = URL.parse(baseUrl);
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new PreflightError('PREFLIGHT_FAILED', "the server's base_url is not an http(s) URL");
  }
  if (url.username !== '' || url.password !== '') {
    throw new PreflightError('PREFLIGHT_FAILED', "the server's base_url carries user info; not sending a credential");
  }
  if (url.protocol !== 'https:' && !isLoopbackHost(url.hostname)) {
    throw new PreflightError(
      'PREFLIGHT_FAILED',
      `the server's base_url (${url.origin}) is not https; the credential goes over https only (or to loopback)`,
    );
  }
  return url;
}

/**
 * Sends to `origin` only and never follows a redirect: a 3xx becomes an error. Records 401/403 and other failures
 * so the outcome is classified from the HTTP exchange, not from the SDK's error text. A POST's answer cut short
 * (over the size cap, or its connection lost) is reported to `onCut` at once: the SDK would wait for it until the
 * timeout.
 */
function guardedFetch(
  base: FetchLike,
  origin: string,
  observed: Observed,
  onCut: (error: PreflightError) => void,
): FetchLike {
  return async (input, init) => {
    const target = new URL(input instanceof URL ? input.href : input);
    if (target.origin !== origin) {
      observed.refused ??= `a request to another origin (${target.origin}) was refused`;
      throw new Error('request outside the MCP server origin refused');
    }
    const response = await base(target, { ...init, redirect: 'manual' });
    const { status } = response;
    if ((status >= 300 && status < 400) || response.type === 'opaqueredirect') {
      await response.body?.cancel().catch(() => undefined);
      observed.refused ??= `the MCP server answered HTTP ${status} (a redirect); redirects are never followed`;
      throw new Error('redirect refused');
    }
    const isPost = (init?.method ?? 'GET').toUpperCase() === 'POST';
    if (status === 401 || status === 403) observed.rejectedWith ??= status;
    else if (status >= 400 && isPost) observed.failedWith ??= status;
    if (!isPost || response.body === null) return response;
    return new Response(
      reportingErrors(response.body, (error) => onCut(cutError(error, origin))),
      response,
    );
  };
}

/** The same body, calling `onError` when reading it fails. */
function reportingErrors(
  body: ReadableStream<Uint8Array>,
  onError: (error: unknown) => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream({
    async pull(controller) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (error) {
        onError(error);
        controller.error(error);
        return;
      }
      if (chunk.done) controller.close();
      else controller.enqueue(chunk.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

function cutError(error: unknown, origin: string): PreflightError {
  if (codesOf(error).includes('UND_ERR_RES_EXCEEDED_MAX_SIZE')) {
    return new PreflightError(
      'PREFLIGHT_FAILED',
      `the MCP server at ${origin} answered with more than ${MAX_PREFLIGHT_RESPONSE_BYTES / (1024 * 1024)} MiB`,
    );
  }
  return new PreflightError('PREFLIGHT_FAILED', `the answer from ${origin} was cut: ${describeCause(causeOf(error))}`);
}

/** The `code`s of an error and its causes (fetch wraps undici's errors in a TypeError). */
function codesOf(error: unknown): unknown[] {
  const codes: unknown[] = [];
  for (let e = error; e instanceof Error && codes.length < 5; e = e.cause) codes.push((e as { code?: unknown }).code);
  return codes;
}

function classify(error: unknown, observed: Observed, origin: string): PreflightError {
  if (observed.rejectedWith !== undefined) {
    return new PreflightError(
      'PREFLIGHT_REJECTED',
      `the MCP server at ${origin} refused the new credential (HTTP ${observed.rejectedWith})`,
    );
  }
  if (error instanceof PreflightError) return error;
  if (observed.refused !== undefined) return new PreflightError('PREFLIGHT_FAILED', observed.refused);
  if (observed.failedWith !== undefined) {
    return new PreflightError('PREFLIGHT_FAILED', `the MCP server at ${origin} answered HTTP ${observed.failedWith}`);
  }
  return new PreflightError(
    'PREFLIGHT_FAILED',
    `could not list the tools at ${origin}: ${describeCause(causeOf(error))}`,
  );
}

/** fetch failures carry the network error (ECONNREFUSED, ...) as their cause. */
function causeOf(error: unknown): unknown {
  const cause = error instanceof Error ? error.cause : undefined;
  return cause instanceof Error ? cause : error;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
