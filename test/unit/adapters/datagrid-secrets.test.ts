/**
 * The Datagrid client's secrets calls (delivery `secretReference`) through undici's MockAgent: the same retry,
 * redaction and validation rules as the server calls, a 409 that is final, cursor paging, and a PATCH body that
 * holds the reference and nothing else.
 */
import { describe, expect, it } from 'vitest';
import { createDatagridApiFactory } from '../../../lambda/adapters/datagrid.ts';
import { DatagridError } from '../../../lambda/errors.ts';
import { mcpServerFixture } from '../../support/mcp-server-fixture.ts';
import { useMockDatagrid } from '../../support/mock-datagrid.ts';

const ORIGIN = 'https://api.datagrid.test';
const API_KEY = 'canary-dg-api-key-5d1e';
const TOKEN = 'canary-mcp-token-77c2e9';
const VALUE = `Bearer ${TOKEN}`;
const secret = (id: string, name = `mcp-rotator/ts/srv_1/${id}`) => ({
  id,
  object: 'secret',
  name,
  created_at: '2026-12-01T00:00:00Z',
});

const dg = useMockDatagrid(ORIGIN);

const secrets = () =>
  createDatagridApiFactory({
    baseUrl: `${ORIGIN}/v1`,
    requestTimeoutMs: 1_000,
    maxAttempts: 3,
    clock: dg.clock,
    random: () => 0.5,
    dispatcher: dg.agent,
  })(API_KEY).secrets;

describe('Datagrid secrets calls', () => {
  it('POST /secrets sends name and value with the teamspace header, retries a 503, and returns the secret', async () => {
    const bodies: unknown[] = [];
    const capture = (opts: { body?: unknown; headers?: unknown }) => {
      bodies.push({ body: JSON.parse(String(opts.body)), headers: opts.headers });
    };
    dg.pool.intercept({ path: '/v1/secrets', method: 'POST' }).reply(503, (o) => (capture(o), '{}'));
    dg.pool
      .intercept({ path: '/v1/secrets', method: 'POST' })
      .reply(200, (o) => (capture(o), JSON.stringify(secret('sec_1'))));

    const created = await secrets().create('ts', 'mcp-rotator/ts/srv_1/v1', VALUE);

    expect(created).toEqual({ id: 'sec_1', name: 'mcp-rotator/ts/srv_1/sec_1', created_at: '2026-12-01T00:00:00Z' });
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toMatchObject({
      body: { name: 'mcp-rotator/ts/srv_1/v1', value: VALUE },
      headers: { 'datagrid-teamspace': 'ts', authorization: `Bearer ${API_KEY}` },
    });
  });

  it("scrubs the value (and the bare token) from Datagrid's error text", async () => {
    dg.pool
      .intercept({ path: '/v1/secrets', method: 'POST' })
      .reply(422, { message: `value "${VALUE}" rejected; token ${TOKEN} invalid` });
    const error = await secrets()
      .create('ts', 'n', VALUE)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatagridError);
    expect((error as DatagridError).code).toBe('DATAGRID_REJECTED');
    expect((error as Error).message).toContain('rejected');
    expect((error as Error).message).not.toContain(TOKEN);
  });

  it('GET /secrets/{id}: the secret, or undefined when Datagrid says 404', async () => {
    dg.pool.intercept({ path: '/v1/secrets/sec_1' }).reply(200, secret('sec_1'));
    dg.pool.intercept({ path: '/v1/secrets/sec_2' }).reply(404, { message: 'not found' });
    expect(await secrets().get('ts', 'sec_1')).toMatchObject({ id: 'sec_1' });
    expect(await secrets().get('ts', 'sec_2')).toBeUndefined();
  });

  it('lists every page, following the last id with `after`', async () => {
    dg.pool
      .intercept({ path: '/v1/secrets?limit=100' })
      .reply(200, { data: [secret('a'), secret('b')], has_more: true });
    dg.pool.intercept({ path: '/v1/secrets?limit=100&after=b' }).reply(200, { data: [secret('c')] });
    dg.pool.intercept({ path: '/v1/secrets?limit=100&after=c' }).reply(200, { data: [] });
    expect((await secrets().list('ts')).map((s) => s.id)).toEqual(['a', 'b', 'c']);
  });

  it('a list answer that is not a secret list is retried, then fails without quoting the body', async () => {
    for (let i = 0; i < 3; i += 1)
      dg.pool.intercept({ path: '/v1/secrets?limit=100' }).reply(200, { data: [{ id: 1 }] });
    const error = await secrets()
      .list('ts')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DATAGRID_UNAVAILABLE', attempts: 3 });
    expect((error as Error).message).toMatch(/not a valid secret list/);
  });

  it('DELETE: 204 is deleted, 404 is missing, 409 is referenced and final (one attempt)', async () => {
    dg.pool.intercept({ path: '/v1/secrets/a', method: 'DELETE' }).reply(204, '');
    dg.pool.intercept({ path: '/v1/secrets/b', method: 'DELETE' }).reply(404, { message: 'gone' });
    dg.pool.intercept({ path: '/v1/secrets/c', method: 'DELETE' }).reply(409, { message: 'in use' });
    const api = secrets();
    expect(await api.delete('ts', 'a')).toBe('deleted');
    expect(await api.delete('ts', 'b')).toBe('missing');
    let attempts = 0;
    expect(await api.delete('ts', 'c', { onAttempt: () => (attempts += 1) })).toBe('referenced');
    expect(attempts).toBe(1);
  });

  it('reference: PATCH with only authorization_secret_id, and the server record validated', async () => {
    let body: unknown;
    dg.pool
      .intercept({ path: '/v1/organization/mcp-servers/srv_1', method: 'PATCH' })
      .reply(200, (opts) => ((body = JSON.parse(opts.body as string)), JSON.stringify(mcpServerFixture('srv_1'))));
    const updated = await secrets().reference('ts', 'srv_1', 'sec_9');
    expect(body).toEqual({ authorization_secret_id: 'sec_9' });
    expect(updated.id).toBe('srv_1');
  });
});
