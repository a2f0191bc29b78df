/**
 * The pre-flight MCP client against real MCP servers over real sockets: the repo's local server (which demands its
 * bearer token), a paging server built on the SDK, and plain HTTP servers that redirect, hang or refuse.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createMcpProbe } from '../../../lambda/adapters/mcp-probe.ts';
import { PreflightError } from '../../../lambda/errors.ts';
import { startMcpServer } from '../../../local/mcp-server.ts';
import { closeServer, freePort, listen } from '../../../local/net.ts';

const TOKEN = 'probe-test-token-4f1c';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  const port = await listen(server, 0);
  closers.push(() => closeServer(server));
  return `http://127.0.0.1:${port}`;
}

/** An MCP server built on the SDK (stateless, POST only) whose tools/list answers with `list(cursor)`. */
function sdkServer(
  list: (cursor: string | undefined) => {
    tools: { name: string; description?: string; inputSchema: { type: 'object' } }[];
    nextCursor?: string;
  },
): Promise<string> {
  return httpServer((req, res) => {
    if (req.method !== 'POST') return void res.writeHead(405).end();
    const server = new Server({ name: 'test', version: '1.0.0' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, (request) => list(request.params?.cursor));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void server.close());
    void server.connect(transport).then(() => transport.handleRequest(req, res));
  });
}

async function preflightError(promise: Promise<unknown>): Promise<PreflightError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PreflightError);
  return error as PreflightError;
}

describe('MCP probe (pre-flight client)', () => {
  it('lists the tools of a real MCP server with the credential it accepts', async () => {
    const mcp = await startMcpServer({ tools: 4, tokens: [TOKEN] });
    closers.push(() => mcp.close());
    const listing = await createMcpProbe().listTools(mcp.url, `Bearer ${TOKEN}`, { timeoutMs: 5000 });
    expect(listing.toolCount).toBe(4);
    expect(listing.toolNamesSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(mcp.unauthorizedRequests).toBe(0);
  });

  it('hashes the sorted tool names, so the same set hashes alike and another set does not', async () => {
    const a = await startMcpServer({ tools: 3, tokens: [TOKEN] });
    const b = await startMcpServer({ tools: 3, tokens: [TOKEN] });
    const c = await startMcpServer({ tools: 2, tokens: [TOKEN] });
    closers.push(
      () => a.close(),
      () => b.close(),
      () => c.close(),
    );
    const probe = createMcpProbe();
    const [la, lb, lc] = await Promise.all(
      [a, b, c].map((s) => probe.listTools(s.url, `Bearer ${TOKEN}`, { timeoutMs: 5000 })),
    );
    expect(la!.toolNamesSha256).toBe(lb!.toolNamesSha256);
    expect(lc!.toolNamesSha256).not.toBe(la!.toolNamesSha256);
  });

  it('a credential the server refuses (401) is PREFLIGHT_REJECTED, and the message names no value', async () => {
    const mcp = await startMcpServer({ tools: 3, tokens: ['the-right-one'] });
    closers.push(() => mcp.close());
    const error = await preflightError(createMcpProbe().listTools(mcp.url, `Bearer ${TOKEN}`, { timeoutMs: 5000 }));
    expect(error.code).toBe('PREFLIGHT_REJECTED');
    expect(error.message).toContain('HTTP 401');
    expect(error.message).not.toContain(TOKEN);
    expect(mcp.unauthorizedRequests).toBeGreaterThan(0);
  });

  it('a 403 is PREFLIGHT_REJECTED too', async () => {
    const url = await httpServer((_req, res) => res.writeHead(403).end());
    const error = await preflightError(createMcpProbe().listTools(`${url}/mcp`, 'Bearer x-1234', { timeoutMs: 5000 }));
    expect(error.code).toBe('PREFLIGHT_REJECTED');
  });

  it('reads every page of tools/list', async () => {
    const pages = [['a', 'b'], ['c'], ['d', 'e']];
    const url = await sdkServer((cursor) => {
      const page = Number(cursor ?? '0');
      return {
        tools: pages[page]!.map((name) => ({ name, inputSchema: { type: 'object' as const } })),
        ...(page + 1 < pages.length && { nextCursor: String(page + 1) }),
      };
    });
    const listing = await createMcpProbe().listTools(`${url}/mcp`, 'Bearer x-1234', { timeoutMs: 5000 });
    expect(listing.toolCount).toBe(5);
  });

  it('an answer over the size cap (4 MiB) is PREFLIGHT_FAILED at once: it goes through the project undici dispatcher', async () => {
    const description = 'x'.repeat(5 * 1024 * 1024);
    const url = await sdkServer(() => ({ tools: [{ name: 'big', description, inputSchema: { type: 'object' } }] }));
    const started = Date.now();
    const error = await preflightError(createMcpProbe().listTools(`${url}/mcp`, 'Bearer x-1234', { timeoutMs: 5000 }));
    expect(error.code).toBe('PREFLIGHT_FAILED');
    expect(error.message).toBe(`the MCP server at ${url} answered with more than 4 MiB`);
    // At once, not when the pre-flight's time is up (Node's global fetch, with no cap, would have read it all).
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('never follows a redirect, not even within the origin', async () => {
    let redirected = 0;
    const mcp = await startMcpServer({ tools: 3, tokens: [TOKEN] });
    closers.push(() => mcp.close());
    const url = await httpServer((req, res) => {
      if (req.url === '/moved') redirected += 1;
      res.writeHead(307, { location: '/moved' }).end();
    });
    const error = await preflightError(
      createMcpProbe().listTools(`${url}/mcp`, `Bearer ${TOKEN}`, { timeoutMs: 5000 }),
    );
    expect(error.code).toBe('PREFLIGHT_FAILED');
    expect(error.message).toMatch(/redirect/);
    expect(redirected).toBe(0);
  });

  it('sends nothing to a non-loopback http base_url, nor to one with user info', async () => {
    const sent: unknown[] = [];
    const probe = createMcpProbe({ fetch: (url) => (sent.push(url), Promise.reject(new Error('no'))) });
    const plain = await preflightError(
      probe.listTools('http://mcp.example.com/mcp', 'Bearer x-1', { timeoutMs: 1000 }),
    );
    expect(plain.message).toMatch(/not https/);
    const userInfo = await preflightError(
      probe.listTools('https://u:p@mcp.example.com/mcp', 'Bearer x-1', { timeoutMs: 1000 }),
    );
    expect(userInfo.code).toBe('PREFLIGHT_FAILED');
    expect(sent).toEqual([]);
  });

  it('a refused connection and a server that never answers are PREFLIGHT_FAILED, the latter within the timeout', async () => {
    const port = await freePort();
    const refused = await preflightError(
      createMcpProbe().listTools(`http://127.0.0.1:${port}/mcp`, 'Bearer x-1234', { timeoutMs: 5000 }),
    );
    expect(refused.code).toBe('PREFLIGHT_FAILED');

    const url = await httpServer(() => undefined); // accepts and never answers
    const started = Date.now();
    const hung = await preflightError(createMcpProbe().listTools(`${url}/mcp`, 'Bearer x-1234', { timeoutMs: 300 }));
    expect(hung.code).toBe('PREFLIGHT_FAILED');
    expect(hung.message).toMatch(/within 300 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a server that is not MCP (HTTP 404 to the POST) is PREFLIGHT_FAILED naming the status', async () => {
    const url = await httpServer((_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('nope'));
    const error = await preflightError(createMcpProbe().listTools(`${url}/mcp`, 'Bearer x-1234', { timeoutMs: 5000 }));
    expect(error.code).toBe('PREFLIGHT_FAILED');
    expect(error.message).toContain('HTTP 404');
  });
});
