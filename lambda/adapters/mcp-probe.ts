/**
 * McpProbe with the official MCP TypeScript SDK's client (`@modelcontextprotocol/sdk`): it speaks the protocol
 * (JSON and SSE answers, sessions, protocol version negotiation) the way the MCP servers expect. The SDK is loaded
 * by a dynamic import() the first time a pre-flight runs, so esbuild puts it in a chunk of its own and runs without
 * pre-flight never load it (bundled into the handler it made the cold import about 1.5 times slower).
 *
 * What the probe sends where is decided here, not by the SDK: every request goes through `guardedFetch`, which
 * refuses any URL outside the base_url's origin (the Authorization value goes nowhere else) and refuses every 3xx
 * instead of following it (the SDK follows same-origin redirects by default). Error messages are built from what
 * this module saw (an HTTP status, a timeout, a refused redirect); SDK messages are never passed on, since they
 * may quote a response body.
 */
import { createHash } from 'node:crypto';
// Type-only imports: erased at build time, so the SDK stays out of the handler's own file.
import type * as ClientModule from '@modelcontextprotocol/sdk/client/index.js';
import type * as TransportModule from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isLoopbackHost } from '../config/schema.ts';
import { ROTATOR_NAME } from '../constants.ts';
import { ROTATOR_VERSION } from '../version.ts';
import { PreflightError, describeCause } from '../errors.ts';
import type { McpProbe, ToolListing } from '../types/index.ts';

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
  /** The fetch under the guard. @default globalThis.fetch */
  fetch?: FetchLike;
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
  const baseFetch = options.fetch ?? ((url, init) => fetch(url, init));
  return {
    async listTools(baseUrl, authorization, { timeoutMs }) {
      const url = checkedUrl(baseUrl);
      const observed: Observed = {};
      const guarded = guardedFetch(baseFetch, url.origin, observed);
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
        return await Promise.race([listAll(), timedOut]);
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
 * so the outcome is classified from the HTTP exchange, not from the SDK's error text.
 */
function guardedFetch(base: FetchLike, origin: string, observed: Observed): FetchLike {
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
    if (status === 401 || status === 403) observed.rejectedWith ??= status;
    else if (status >= 400 && (init?.method ?? 'GET').toUpperCase() === 'POST') observed.failedWith ??= status;
    return response;
  };
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
