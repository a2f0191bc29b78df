/**
 * A real MCP server (Streamable HTTP, stateless) on 127.0.0.1 that demands `Authorization: Bearer <token>`.
 * Tests change the accepted tokens and the number of tools at runtime to play an upstream credential rotation
 * or a server that lost its tools.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { closeServer, listen } from './net.ts';

export interface McpServerOptions {
  /** Number of tools (`tool_1`..`tool_N`). @default 3 */
  tools?: number;
  /** Accepted bearer tokens (the part after `Bearer `). @default ['local-mcp-token'] */
  tokens?: string[];
  /** @default 0 (a free port) */
  port?: number;
}

export interface RunningMcpServer {
  /** The MCP endpoint, e.g. `http://127.0.0.1:41234/mcp`. */
  readonly url: string;
  /** The tokens accepted right now. */
  readonly tokens: readonly string[];
  /** The number of tools listed right now. */
  readonly toolCount: number;
  /** HTTP requests received so far (authorized or not). */
  readonly requests: number;
  /** Requests refused with 401 so far. */
  readonly unauthorizedRequests: number;
  /** Replaces the accepted tokens: the old ones stop working at once (an upstream rotation). */
  setTokens(tokens: string[]): void;
  setToolCount(n: number): void;
  close(): Promise<void>;
}

export const DEFAULT_MCP_TOKEN = 'local-mcp-token';
const MCP_PATH = '/mcp';

export async function startMcpServer(options: McpServerOptions = {}): Promise<RunningMcpServer> {
  let tokens = new Set(options.tokens ?? [DEFAULT_MCP_TOKEN]);
  let toolCount = checkToolCount(options.tools ?? 3);
  let requests = 0;
  let unauthorizedRequests = 0;

  const http = createServer((req, res) => {
    requests += 1;
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null }));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path !== MCP_PATH) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found' }));
      return;
    }
    if (!isAuthorized(req.headers.authorization)) {
      unauthorizedRequests += 1;
      res
        .writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' })
        .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Unauthorized' }, id: null }));
      return;
    }
    // Stateless mode has no session to stream to, so only POST carries messages (the SDK's stateless example).
    if (req.method !== 'POST') {
      res
        .writeHead(405, { allow: 'POST', 'content-type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed' }, id: null }));
      return;
    }
    // One server and transport per request: the SDK's recommended shape for stateless mode.
    const server = buildServer(toolCount);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  }

  function isAuthorized(header: string | undefined): boolean {
    const match = /^Bearer (.+)$/.exec(header ?? '');
    return match !== null && tokens.has(match[1]!);
  }

  const port = await listen(http, options.port ?? 0);

  return {
    url: `http://127.0.0.1:${port}${MCP_PATH}`,
    get tokens() {
      return [...tokens];
    },
    get toolCount() {
      return toolCount;
    },
    get requests() {
      return requests;
    },
    get unauthorizedRequests() {
      return unauthorizedRequests;
    },
    setTokens(next) {
      tokens = new Set(next);
    },
    setToolCount(n) {
      toolCount = checkToolCount(n);
    },
    close: () => closeServer(http),
  };
}

function buildServer(toolCount: number): McpServer {
  const server = new McpServer({ name: 'local-mcp-server', version: '1.0.0' });
  for (let i = 1; i <= toolCount; i += 1) {
    const name = `tool_${i}`;
    server.registerTool(name, { description: `Test tool ${i}` }, () => ({
      content: [{ type: 'text', text: `${name} called` }],
    }));
  }
  return server;
}

function checkToolCount(n: number): number {
  if (!Number.isInteger(n) || n < 0) throw new Error(`tools must be a non-negative integer, got ${n}`);
  return n;
}
