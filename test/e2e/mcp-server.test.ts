/**
 * The emulator's tool re-sync against a real MCP server: a credential that works, one that was rotated away
 * upstream, and Datagrid's asynchronous mode (answer pending, finish in the background).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import Datagrid from 'datagrid-ai';
import type { McpServer } from 'datagrid-ai/resources/organization/mcp-servers';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDatagridEmulator } from '../../local/datagrid-emulator.ts';
import type { DatagridEmulator } from '../../local/datagrid-emulator.ts';
import { startMcpServer } from '../../local/mcp-server.ts';
import type { RunningMcpServer } from '../../local/mcp-server.ts';

const OLD_TOKEN = 'canary-old-token-19ad';
const NEW_TOKEN = 'canary-new-token-8c2e';

let emulator: DatagridEmulator;
let mcp: RunningMcpServer;
let dg: Datagrid;

beforeAll(async () => {
  [emulator, mcp] = await Promise.all([startDatagridEmulator(), startMcpServer({ tools: 4, tokens: [OLD_TOKEN] })]);
  dg = new Datagrid({ baseURL: emulator.url, apiKey: emulator.apiKey, teamspace: null, maxRetries: 0 });
});

afterAll(async () => {
  await Promise.all([emulator?.close(), mcp?.close()]);
});

afterEach(async () => {
  emulator.configure({
    mode: 'sync',
    asyncDelayMs: 0,
    statuses: { healthy: 'active', failed: 'error', pending: 'syncing' },
  });
  await emulator.idle();
  mcp.setTokens([OLD_TOKEN]);
  mcp.setToolCount(4);
});

/** Polls GET until the predicate holds, with a bounded number of tries instead of a fixed sleep. */
async function pollServer(id: string, done: (s: McpServer) => boolean, timeoutMs = 5_000): Promise<McpServer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const server = await dg.organization.mcpServers.retrieve(id);
    if (done(server)) return server;
    if (Date.now() > deadline) throw new Error(`server ${id} still ${server.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the local MCP server', () => {
  it('serves tool_1..tool_N to a real MCP client with a valid token and refuses others with 401', async () => {
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(mcp.url), {
        requestInit: { headers: { Authorization: `Bearer ${OLD_TOKEN}` } },
      }),
    );
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['tool_1', 'tool_2', 'tool_3', 'tool_4']);
    const result = await client.callTool({ name: 'tool_2', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'tool_2 called' }]);
    await client.close();

    const before = mcp.unauthorizedRequests;
    for (const authorization of [undefined, `Bearer ${NEW_TOKEN}`, OLD_TOKEN]) {
      const response = await fetch(mcp.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...(authorization ? { authorization } : {}),
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      expect(response.status).toBe(401);
    }
    expect(mcp.unauthorizedRequests).toBe(before + 3);
    expect(mcp.requests).toBeGreaterThan(mcp.unauthorizedRequests);
  });
});

describe('re-sync against a real MCP server', () => {
  it('goes active with the tool count when the credential works', async () => {
    const server = await dg.organization.mcpServers.create({
      name: 'good',
      base_url: mcp.url,
      authorization: `Bearer ${OLD_TOKEN}`,
    });
    expect(server).toMatchObject({ status: 'active', metadata: { tool_count: 4 } });

    mcp.setToolCount(7);
    const resynced = await dg.organization.mcpServers.update(server.id, { authorization: `Bearer ${OLD_TOKEN}` });
    expect(resynced).toMatchObject({ status: 'active', metadata: { tool_count: 7 } });
  });

  it('goes to the error status when the token was rotated upstream, and back once it is updated', async () => {
    const server = await dg.organization.mcpServers.create({
      name: 'rotated-upstream',
      base_url: mcp.url,
      authorization: `Bearer ${OLD_TOKEN}`,
    });
    expect(server.status).toBe('active');

    mcp.setTokens([NEW_TOKEN]);
    const stale = await dg.organization.mcpServers.update(server.id, { authorization: `Bearer ${OLD_TOKEN}` });
    expect(stale.status).toBe('error');
    // A failed re-sync does not move last_synced_at: it records the last sync that worked.
    expect(stale.metadata?.last_synced_at).toBe(server.metadata?.last_synced_at);
    expect(emulator.servers.get(server.id)?.lastSyncError).toBe('HTTP 401');

    const fixed = await dg.organization.mcpServers.update(server.id, { authorization: `Bearer ${NEW_TOKEN}` });
    expect(fixed).toMatchObject({ status: 'active', metadata: { tool_count: 4 } });
    expect(fixed.metadata!.last_synced_at! > server.metadata!.last_synced_at!).toBe(true);
    expect(emulator.servers.get(server.id)).toMatchObject({
      lastSyncError: null,
      authorization: `Bearer ${NEW_TOKEN}`,
    });
  });

  it('goes to the error status when the server cannot be reached', async () => {
    const gone = await startMcpServer();
    const url = gone.url;
    await gone.close();
    const server = await dg.organization.mcpServers.create({ name: 'unreachable', base_url: url });
    expect(server.status).toBe('error');
    expect(emulator.servers.get(server.id)?.lastSyncError).toBe('connection failed');
  });

  it('keeps last_synced_at strictly increasing, even for re-syncs within one millisecond', async () => {
    const server = await dg.organization.mcpServers.create({
      name: 'fast',
      base_url: mcp.url,
      authorization: `Bearer ${OLD_TOKEN}`,
    });
    const stamps = [server.metadata!.last_synced_at!];
    for (let i = 0; i < 5; i += 1) {
      const updated = await dg.organization.mcpServers.update(server.id, { authorization: `Bearer ${OLD_TOKEN}` });
      stamps.push(updated.metadata!.last_synced_at!);
    }
    for (let i = 1; i < stamps.length; i += 1) expect(stamps[i]! > stamps[i - 1]!).toBe(true);
  });

  it('in async mode answers pending, then finishes the re-sync in the background', async () => {
    const server = await dg.organization.mcpServers.create({
      name: 'async',
      base_url: mcp.url,
      authorization: `Bearer ${OLD_TOKEN}`,
    });
    emulator.configure({ mode: 'async', asyncDelayMs: 200 });
    mcp.setTokens([NEW_TOKEN]);
    const pending = await dg.organization.mcpServers.update(server.id, { authorization: `Bearer ${NEW_TOKEN}` });
    expect(pending.status).toBe('syncing');
    expect((await dg.organization.mcpServers.retrieve(server.id)).status).toBe('syncing');

    const done = await pollServer(server.id, (s) => s.status !== 'syncing');
    expect(done).toMatchObject({ status: 'active', metadata: { tool_count: 4 } });
    expect(done.metadata!.last_synced_at! > server.metadata!.last_synced_at!).toBe(true);
  });

  it('uses the configured status vocabulary, and a later change supersedes an earlier background re-sync', async () => {
    emulator.configure({
      mode: 'async',
      asyncDelayMs: 20,
      statuses: { healthy: 'ready', failed: 'broken', pending: 'pending' },
    });
    const server = await dg.organization.mcpServers.create({
      name: 'vocabulary',
      base_url: mcp.url,
      authorization: `Bearer ${NEW_TOKEN}`,
    });
    expect(server.status).toBe('pending');
    expect((await pollServer(server.id, (s) => s.status !== 'pending')).status).toBe('broken');

    // The bad credential's re-sync is still scheduled when the good one arrives: only the last one counts.
    emulator.configure({ asyncDelayMs: 200 });
    const syncsBefore = emulator.servers.get(server.id)!.syncCount;
    await dg.organization.mcpServers.update(server.id, { authorization: `Bearer ${NEW_TOKEN}` });
    await dg.organization.mcpServers.update(server.id, { authorization: `Bearer ${OLD_TOKEN}` });
    await emulator.idle();
    const settled = await dg.organization.mcpServers.retrieve(server.id);
    expect(settled).toMatchObject({ status: 'ready', metadata: { tool_count: 4 } });
    expect(emulator.servers.get(server.id)).toMatchObject({ syncing: false, syncCount: syncsBefore + 1 });
  });
});
