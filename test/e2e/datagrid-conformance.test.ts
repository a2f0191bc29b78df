/**
 * The emulator judged by the official Datagrid client (datagrid-ai): where they disagree, the client wins.
 */
import Datagrid, {
  APIConnectionError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
} from 'datagrid-ai';
import type { ClientOptions } from 'datagrid-ai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDatagridEmulator } from '../../local/datagrid-emulator.ts';
import type { DatagridEmulator } from '../../local/datagrid-emulator.ts';
import { startMcpServer } from '../../local/mcp-server.ts';
import type { RunningMcpServer } from '../../local/mcp-server.ts';

const TOKEN = 'canary-mcp-token-7f3a9c';
const OTHER_TOKEN = 'canary-mcp-token-other-b81d';
const API_KEY = 'canary-dg-api-key-51e0';

let emulator: DatagridEmulator;
let mcp: RunningMcpServer;
let mcpFive: RunningMcpServer;
let teamspaceCounter = 0;

beforeAll(async () => {
  [emulator, mcp, mcpFive] = await Promise.all([
    startDatagridEmulator({ apiKeys: [API_KEY], inspection: true }),
    startMcpServer({ tools: 3, tokens: [TOKEN, OTHER_TOKEN] }),
    startMcpServer({ tools: 5, tokens: [TOKEN, OTHER_TOKEN] }),
  ]);
});

afterAll(async () => {
  await Promise.all([emulator?.close(), mcp?.close(), mcpFive?.close()]);
});

afterEach(() => {
  emulator.faults.clear();
});

/** Each test works in its own teamspace, so tests never see each other's servers. */
function freshTeamspace(): string {
  teamspaceCounter += 1;
  return `ts_conf_${teamspaceCounter}`;
}

function client(teamspace: string | null, overrides: ClientOptions = {}): Datagrid {
  return new Datagrid({ baseURL: emulator.url, apiKey: API_KEY, teamspace, maxRetries: 0, ...overrides });
}

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('MCP servers through the official client', () => {
  it('creates a server, re-syncs it with its Authorization and returns every documented key', async () => {
    const dg = client(freshTeamspace());
    const server = await dg.organization.mcpServers.create({
      name: 'GitHub',
      base_url: mcp.url,
      authorization: `Bearer ${TOKEN}`,
      icon_url: 'https://example.com/icon.png',
      protocol_version: '2025-06-18',
    });
    expect(Object.keys(server).sort()).toEqual(
      [
        'authorization_secret_id',
        'base_url',
        'created_at',
        'icon_url',
        'id',
        'metadata',
        'name',
        'object',
        'protocol_version',
        'status',
        'transport',
        'updated_at',
      ].sort(),
    );
    expect(server).toMatchObject({
      object: 'mcp_server',
      name: 'GitHub',
      base_url: mcp.url,
      transport: 'http',
      status: 'active',
      icon_url: 'https://example.com/icon.png',
      protocol_version: '2025-06-18',
      metadata: { tool_count: 3, requires_oauth: false, oauth_configured: false },
    });
    expect(server.authorization_secret_id).toEqual(expect.any(String));
    expect(server.metadata?.last_synced_at).toMatch(ISO_MS);
    expect(server.created_at).toMatch(ISO_MS);
    expect(JSON.stringify(server)).not.toContain(TOKEN);
    expect(emulator.servers.get(server.id)).toMatchObject({
      authorization: `Bearer ${TOKEN}`,
      authorizationSource: 'managed',
      managedSecretId: server.authorization_secret_id,
    });
  });

  it('lists and retrieves servers of the selected teamspace only', async () => {
    const teamspace = freshTeamspace();
    const dg = client(teamspace);
    const a = await dg.organization.mcpServers.create({ name: 'a', base_url: mcp.url });
    const b = await dg.organization.mcpServers.create({ name: 'b', base_url: mcp.url });
    const list = await dg.organization.mcpServers.list();
    expect(list.object).toBe('list');
    expect(list.data.map((s) => s.id)).toEqual([a.id, b.id]);
    expect(await dg.organization.mcpServers.retrieve(a.id)).toEqual(list.data[0]);

    const elsewhere = client(freshTeamspace());
    expect((await elsewhere.organization.mcpServers.list()).data).toEqual([]);
    await expect(elsewhere.organization.mcpServers.retrieve(a.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("uses the key's default teamspace when no Datagrid-Teamspace header is sent", async () => {
    const key = 'canary-dg-key-default-ts';
    emulator.apiKeys.add(key, { teamspace: 'ts_home' });
    const dg = client(null, { apiKey: key });
    const server = await dg.organization.mcpServers.create({ name: 'home', base_url: mcp.url });
    expect(emulator.servers.get(server.id)?.teamspace).toBe('ts_home');
    expect((await client('ts_home').organization.mcpServers.retrieve(server.id)).id).toBe(server.id);
  });

  it('updates every field; connectivity and auth fields re-sync the tools, the others do not', async () => {
    const dg = client(freshTeamspace());
    const created = await dg.organization.mcpServers.create({
      name: 'before',
      base_url: mcp.url,
      authorization: `Bearer ${TOKEN}`,
    });
    const renamed = await dg.organization.mcpServers.update(created.id, {
      name: 'after',
      icon_url: 'https://example.com/new.png',
      protocol_version: '2025-03-26',
      transport: 'http',
    });
    expect(renamed).toMatchObject({
      name: 'after',
      icon_url: 'https://example.com/new.png',
      protocol_version: '2025-03-26',
      transport: 'http',
    });
    expect(renamed.metadata?.last_synced_at).toBe(created.metadata?.last_synced_at);
    expect(emulator.servers.get(created.id)?.syncCount).toBe(1);

    const cleared = await dg.organization.mcpServers.update(created.id, {
      icon_url: null,
      protocol_version: null,
      transport: null,
    });
    expect(cleared).toMatchObject({ icon_url: null, protocol_version: null, transport: 'http' });

    const moved = await dg.organization.mcpServers.update(created.id, { base_url: mcpFive.url });
    expect(moved).toMatchObject({ base_url: mcpFive.url, status: 'active', metadata: { tool_count: 5 } });
    expect(moved.metadata!.last_synced_at! > created.metadata!.last_synced_at!).toBe(true);

    const rotated = await dg.organization.mcpServers.update(created.id, { authorization: `Bearer ${OTHER_TOKEN}` });
    expect(rotated.status).toBe('active');
    expect(rotated.authorization_secret_id).toBe(created.authorization_secret_id);
    expect(rotated.metadata!.last_synced_at! > moved.metadata!.last_synced_at!).toBe(true);
    expect(emulator.servers.get(created.id)).toMatchObject({
      authorization: `Bearer ${OTHER_TOKEN}`,
      authorizationHistory: [`Bearer ${TOKEN}`, `Bearer ${OTHER_TOKEN}`],
      syncCount: 3,
    });
  });

  it('clears authorization with null, deletes the managed secret and re-syncs without a header', async () => {
    const dg = client(freshTeamspace());
    const created = await dg.organization.mcpServers.create({
      name: 'x',
      base_url: mcp.url,
      authorization: `Bearer ${TOKEN}`,
    });
    const cleared = await dg.organization.mcpServers.update(created.id, { authorization: null });
    expect(cleared.authorization_secret_id).toBeNull();
    expect(cleared.status).toBe('error');
    expect(emulator.servers.get(created.id)).toMatchObject({
      authorization: null,
      authorizationSource: null,
      managedSecretId: null,
      lastSyncError: 'HTTP 401',
    });
  });

  it('points a server at a caller-managed secret, and lets authorization win when both are sent', async () => {
    const dg = client(freshTeamspace());
    const secret = await dg.secrets.create({ name: 'github-header', value: `Bearer ${OTHER_TOKEN}` });
    const created = await dg.organization.mcpServers.create({
      name: 'x',
      base_url: mcp.url,
      authorization: `Bearer ${TOKEN}`,
    });
    const managedId = created.authorization_secret_id!;

    const linked = await dg.organization.mcpServers.update(created.id, { authorization_secret_id: secret.id });
    expect(linked).toMatchObject({ authorization_secret_id: secret.id, status: 'active' });
    expect(emulator.servers.get(created.id)).toMatchObject({
      authorization: `Bearer ${OTHER_TOKEN}`,
      authorizationSource: 'caller',
      managedSecretId: null,
    });
    // The managed secret is gone; the caller's secret is untouched.
    await expect(dg.secrets.retrieve(managedId)).rejects.toBeInstanceOf(NotFoundError);
    expect((await dg.secrets.retrieve(secret.id)).id).toBe(secret.id);

    const both = await dg.organization.mcpServers.update(created.id, {
      authorization: `Bearer ${TOKEN}`,
      authorization_secret_id: secret.id,
    });
    expect(both.authorization_secret_id).not.toBe(secret.id);
    expect(emulator.servers.get(created.id)).toMatchObject({
      authorization: `Bearer ${TOKEN}`,
      authorizationSource: 'managed',
    });

    const unlinked = await dg.organization.mcpServers.update(created.id, { authorization_secret_id: null });
    expect(unlinked.authorization_secret_id).toBeNull();
  });

  it('deletes a server (and its managed secret)', async () => {
    const dg = client(freshTeamspace());
    const created = await dg.organization.mcpServers.create({
      name: 'x',
      base_url: mcp.url,
      authorization: `Bearer ${TOKEN}`,
    });
    await expect(dg.organization.mcpServers.delete(created.id)).resolves.toBeNull();
    await expect(dg.organization.mcpServers.retrieve(created.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(dg.organization.mcpServers.delete(created.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(dg.secrets.retrieve(created.authorization_secret_id!)).rejects.toBeInstanceOf(NotFoundError);
    expect(emulator.servers.get(created.id)).toBeUndefined();
  });

  it('holds at most 30 servers per teamspace', async () => {
    const dg = client(freshTeamspace());
    const created = await Promise.all(
      Array.from({ length: 30 }, (_, i) => dg.organization.mcpServers.create({ name: `s${i}`, base_url: mcp.url })),
    );
    const error = await dg.organization.mcpServers.create({ name: 's30', base_url: mcp.url }).catch((e) => e);
    expect(error).toBeInstanceOf(UnprocessableEntityError);
    expect(String(error.message)).toMatch(/30 MCP servers/);
    // Another teamspace has its own quota, and deleting frees a slot.
    await client(freshTeamspace()).organization.mcpServers.create({ name: 'other', base_url: mcp.url });
    await dg.organization.mcpServers.delete(created[0]!.id);
    await dg.organization.mcpServers.create({ name: 's30', base_url: mcp.url });
  });

  it.each([
    ['name', { name: 'n'.repeat(256) }],
    ['name', { name: '' }],
    ['icon_url', { icon_url: 'i'.repeat(1025) }],
    ['protocol_version', { protocol_version: 'p'.repeat(33) }],
    ['authorization', { authorization: 'a'.repeat(64_001) }],
    ['authorization', { authorization: `Bearer ${TOKEN}\r\nX-Injected: 1` }],
    ['transport', { transport: 'sse' }],
    ['base_url', { base_url: 'http://mcp.example.com/mcp' }],
    ['base_url', { base_url: 'not a url' }],
    ['authorization_secret_id', { authorization_secret_id: 'secret_missing' }],
  ])('rejects an invalid %s with 422 naming the field, never echoing the value', async (field, patch) => {
    const dg = client(freshTeamspace());
    const created = await dg.organization.mcpServers.create({ name: 'x', base_url: mcp.url });
    const error = await dg.organization.mcpServers.update(created.id, patch as never).catch((e) => e);
    expect(error).toBeInstanceOf(UnprocessableEntityError);
    expect(error.error).toMatchObject({ param: field });
    expect(error.message).toContain(field);
    expect(error.message).not.toContain(TOKEN);
    expect(await dg.organization.mcpServers.retrieve(created.id)).toEqual(created);
  });

  it('accepts limits exactly at the edge and http on loopback hosts', async () => {
    const dg = client(freshTeamspace());
    const created = await dg.organization.mcpServers.create({
      name: 'n'.repeat(255),
      base_url: mcp.url.replace('127.0.0.1', 'localhost'),
      icon_url: 'i'.repeat(1024),
      protocol_version: 'p'.repeat(32),
      authorization: `Bearer ${'a'.repeat(64_000 - 7)}`,
    });
    expect(created.name).toHaveLength(255);
    // The token is not one the MCP server accepts: stored, then refused upstream.
    expect(created.status).toBe('error');
  });

  it('requires name and base_url on create', async () => {
    const dg = client(freshTeamspace());
    await expect(dg.organization.mcpServers.create({ name: 'x' } as never)).rejects.toBeInstanceOf(
      UnprocessableEntityError,
    );
    await expect(dg.organization.mcpServers.create({ base_url: mcp.url } as never)).rejects.toBeInstanceOf(
      UnprocessableEntityError,
    );
  });

  it('answers 400 for a body that is not JSON', async () => {
    const response = await fetch(`${emulator.url}/organization/mcp-servers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ message: expect.stringContaining('JSON') });
  });
});

describe('secrets through the official client', () => {
  it('creates, retrieves, pages through and deletes secrets without ever returning a value', async () => {
    const dg = client(freshTeamspace());
    const created = [];
    for (let i = 0; i < 5; i += 1) {
      created.push(await dg.secrets.create({ name: `s${i}`, value: `canary-secret-value-${i}` }));
    }
    expect(created[0]).toEqual({
      id: expect.any(String),
      object: 'secret',
      name: 's0',
      created_at: expect.any(String),
    });
    expect(await dg.secrets.retrieve(created[2]!.id)).toEqual(created[2]);

    const first = await dg.secrets.list({ limit: 2 });
    expect(first.data.map((s) => s.name)).toEqual(['s0', 's1']);
    expect(first.hasNextPage()).toBe(true);
    const all = [];
    for await (const secret of dg.secrets.list({ limit: 2 })) all.push(secret.name);
    expect(all).toEqual(['s0', 's1', 's2', 's3', 's4']);
    const before = await dg.secrets.list({ before: created[4]!.id, limit: 2 });
    expect(before.data.map((s) => s.name)).toEqual(['s2', 's3']);

    await dg.secrets.delete(created[1]!.id);
    await expect(dg.secrets.retrieve(created[1]!.id)).rejects.toBeInstanceOf(NotFoundError);
    const remaining = [];
    for await (const secret of dg.secrets.list()) remaining.push(secret.name);
    expect(remaining).toEqual(['s0', 's2', 's3', 's4']);
    expect(JSON.stringify(await dg.secrets.list())).not.toContain('canary-secret-value');
  });

  it('refuses (409) to delete a secret a server still references, and deletes it once unreferenced', async () => {
    const dg = client(freshTeamspace());
    const secret = await dg.secrets.create({ name: 'in-use', value: `Bearer ${TOKEN}` });
    const server = await dg.organization.mcpServers.create({
      name: 'x',
      base_url: mcp.url,
      authorization_secret_id: secret.id,
    });
    await expect(dg.secrets.delete(secret.id)).rejects.toBeInstanceOf(ConflictError);
    expect((await dg.secrets.retrieve(secret.id)).id).toBe(secret.id);
    expect(emulator.servers.get(server.id)?.authorization).toBe(`Bearer ${TOKEN}`);

    await dg.organization.mcpServers.update(server.id, { authorization_secret_id: null });
    await dg.secrets.delete(secret.id);
    await expect(dg.secrets.retrieve(secret.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('keeps secrets per teamspace and validates the body', async () => {
    const dg = client(freshTeamspace());
    const secret = await dg.secrets.create({ name: 'a', value: 'canary-secret-value-x' });
    await expect(client(freshTeamspace()).secrets.retrieve(secret.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(dg.secrets.create({ name: 'a', value: '' })).rejects.toBeInstanceOf(UnprocessableEntityError);
    await expect(dg.secrets.list({ limit: 101 })).rejects.toBeInstanceOf(UnprocessableEntityError);
  });
});

describe('auth and errors as the official client classifies them', () => {
  it('answers 401 for a missing, unknown or revoked key, never echoing it', async () => {
    const missing = await fetch(`${emulator.url}/organization/mcp-servers`);
    expect(missing.status).toBe(401);

    const unknown = await client(null, { apiKey: 'canary-unknown-key' })
      .organization.mcpServers.list()
      .catch((e) => e);
    expect(unknown).toBeInstanceOf(AuthenticationError);
    expect(unknown.message).not.toContain('canary-unknown-key');

    const key = 'canary-key-to-revoke';
    emulator.apiKeys.add(key);
    const dg = client(null, { apiKey: key });
    await dg.organization.mcpServers.list();
    emulator.apiKeys.revoke(key);
    await expect(dg.organization.mcpServers.list()).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('answers 403 when the key may not use the requested teamspace', async () => {
    emulator.apiKeys.add('canary-scoped-key', { teamspace: 'ts_s1', teamspaces: ['ts_s1', 'ts_s2'] });
    const scoped = (teamspace: string) => client(teamspace, { apiKey: 'canary-scoped-key' });
    await scoped('ts_s2').organization.mcpServers.list();
    await expect(scoped('ts_forbidden').organization.mcpServers.list()).rejects.toBeInstanceOf(PermissionDeniedError);
  });

  it('answers 404 for an unknown server or route', async () => {
    const dg = client(freshTeamspace());
    const error = await dg.organization.mcpServers.retrieve('mcp_nope').catch((e) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toContain('mcp_nope');
    await expect(dg.get('/no/such/route')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('injects 429 with Retry-After / retry-after-ms, which the client raises or obeys', async () => {
    const dg = client(freshTeamspace());
    emulator.faults.add({ fault: { type: 'rate-limit', retryAfterSeconds: 7 }, times: 1 });
    const error = await dg.organization.mcpServers.list().catch((e) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.headers['retry-after']).toBe('7');

    const handle = emulator.faults.add({
      fault: { type: 'rate-limit', retryAfterMs: 20 },
      method: 'GET',
      path: '/organization/mcp-servers',
      times: 2,
    });
    const patient = client(freshTeamspace(), { maxRetries: 2 });
    await expect(patient.organization.mcpServers.list()).resolves.toMatchObject({ object: 'list' });
    expect(handle.hits).toBe(2);
    expect(handle.remaining).toBe(0);
  });

  it('injects error statuses, with extra headers such as x-should-retry', async () => {
    const dg = client(freshTeamspace());
    emulator.faults.add({ fault: { type: 'server-error', status: 502 }, times: 1 });
    await expect(dg.organization.mcpServers.list()).rejects.toBeInstanceOf(InternalServerError);
    emulator.faults.add({ fault: { type: 'server-error', status: 400 }, times: 1 });
    await expect(dg.organization.mcpServers.list()).rejects.toBeInstanceOf(BadRequestError);

    const noRetry = emulator.faults.add({
      fault: { type: 'server-error', status: 503, headers: { 'x-should-retry': 'false' } },
      times: 3,
    });
    const patient = client(freshTeamspace(), { maxRetries: 2 });
    await expect(patient.organization.mcpServers.list()).rejects.toBeInstanceOf(InternalServerError);
    expect(noRetry.hits).toBe(1);
  });

  it('drops the connection, before or after the write took effect', async () => {
    const teamspace = freshTeamspace();
    const dg = client(teamspace);
    const created = await dg.organization.mcpServers.create({ name: 'x', base_url: mcp.url });
    emulator.faults.add({
      fault: { type: 'drop-connection' },
      method: 'PATCH',
      path: '/organization/mcp-servers/*',
      times: 1,
    });
    await expect(dg.organization.mcpServers.update(created.id, { name: 'lost' })).rejects.toBeInstanceOf(
      APIConnectionError,
    );
    expect((await dg.organization.mcpServers.retrieve(created.id)).name).toBe('x');

    emulator.faults.add({ fault: { type: 'drop-connection', applied: true }, method: 'PATCH', times: 1 });
    await expect(dg.organization.mcpServers.update(created.id, { name: 'landed' })).rejects.toBeInstanceOf(
      APIConnectionError,
    );
    expect((await dg.organization.mcpServers.retrieve(created.id)).name).toBe('landed');
  });

  it('answers a malformed body the client cannot parse', async () => {
    const dg = client(freshTeamspace());
    emulator.faults.add({ fault: { type: 'malformed-body' }, times: 1 });
    await expect(dg.organization.mcpServers.list()).rejects.toThrow(/invalid json/i);
  });

  it('adds latency to matching requests only', async () => {
    const dg = client(freshTeamspace());
    emulator.faults.add({ fault: { type: 'latency', ms: 150 }, path: '/secrets', times: 1 });
    let started = performance.now();
    await dg.organization.mcpServers.list();
    expect(performance.now() - started).toBeLessThan(150);
    started = performance.now();
    await dg.secrets.list();
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('rate-limits globally with a token bucket answering 429 + Retry-After', async () => {
    const dg = client(freshTeamspace());
    emulator.faults.setRateLimit({ requestsPerSecond: 0.5, burst: 2 });
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => dg.organization.mcpServers.list()));
    const limited = results.filter((r) => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(limited).toHaveLength(2);
    const reason = (limited[0] as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(RateLimitError);
    expect(Number(reason.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // The client obeys retry-after-ms, so with retries a burst gets through.
    emulator.faults.setRateLimit({ requestsPerSecond: 50, burst: 1 });
    const patient = client(freshTeamspace(), { maxRetries: 5 });
    await Promise.all(Array.from({ length: 3 }, () => patient.organization.mcpServers.list()));
  });
});

describe('observability for tests', () => {
  it('logs method, path, teamspace, status and body keys, never a body value or credential', async () => {
    const teamspace = freshTeamspace();
    const dg = client(teamspace);
    emulator.requestLog.length = 0;
    const created = await dg.organization.mcpServers.create({
      name: 'x',
      base_url: mcp.url,
      authorization: `Bearer ${TOKEN}`,
    });
    await dg.organization.mcpServers.update(created.id, { authorization: `Bearer ${OTHER_TOKEN}` });
    await dg.organization.mcpServers.retrieve('mcp_missing').catch(() => undefined);
    for (const entry of emulator.requestLog) expect(entry.answeredAt).toBeGreaterThanOrEqual(entry.receivedAt);
    // The timings are the benchmark's; the rest of each entry is exact.
    expect(emulator.requestLog.map(({ receivedAt: _r, answeredAt: _a, ...entry }) => entry)).toEqual([
      {
        method: 'POST',
        path: '/organization/mcp-servers',
        query: '',
        teamspace,
        status: 200,
        bodyKeys: ['name', 'base_url', 'authorization'],
      },
      {
        method: 'PATCH',
        path: `/organization/mcp-servers/${created.id}`,
        query: '',
        teamspace,
        status: 200,
        bodyKeys: ['authorization'],
      },
      { method: 'GET', path: '/organization/mcp-servers/mcp_missing', query: '', teamspace, status: 404 },
    ]);
    const logged = JSON.stringify(emulator.requestLog);
    for (const canary of [TOKEN, OTHER_TOKEN, API_KEY]) expect(logged).not.toContain(canary);
  });

  it('serves GET /_emulator/servers only when inspection is enabled', async () => {
    const teamspace = freshTeamspace();
    const created = await client(teamspace).organization.mcpServers.create({
      name: 'x',
      base_url: mcp.url,
      authorization: `Bearer ${TOKEN}`,
    });
    const origin = new URL(emulator.url).origin;
    const response = await fetch(`${origin}/_emulator/servers?teamspace=${teamspace}`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: unknown[] };
    expect(body.data).toEqual([JSON.parse(JSON.stringify(emulator.servers.get(created.id)))]);
    expect(body.data[0]).toMatchObject({ authorization: `Bearer ${TOKEN}`, server: { id: created.id } });

    const closed = await startDatagridEmulator();
    try {
      const refused = await fetch(`${new URL(closed.url).origin}/_emulator/servers`);
      expect(refused.status).toBe(404);
    } finally {
      await closed.close();
    }
  });

  it('seeds servers through the JS API with the same rules', async () => {
    const teamspace = freshTeamspace();
    const server = await emulator.servers.create(
      { name: 'seeded', base_url: mcp.url, authorization: `Bearer ${TOKEN}` },
      teamspace,
    );
    expect(server).toMatchObject({ status: 'active', metadata: { tool_count: 3 } });
    expect((await client(teamspace).organization.mcpServers.retrieve(server.id)).name).toBe('seeded');
    await expect(emulator.servers.create({ name: 'x', base_url: 'http://example.com' })).rejects.toThrow(/base_url/);
  });
});
